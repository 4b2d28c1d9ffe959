//! The manual's links: every relative link and `#anchor` in README.md, the other top-level
//! Markdown files and docs/*.md must resolve (a moved section breaks a link here, not for a
//! reader); and the relay's address inside the cluster is the one the manifests make.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, SECURITY.md, BENCHMARKS.md, ... and docs/*.md.
fn pages() -> Vec<PathBuf> {
    let mut pages = Vec::new();
    for dir in [root().to_path_buf(), root().join("docs")] {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "md") {
                pages.push(path);
            }
        }
    }
    pages.sort();
    pages
}

/// Lines outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
            continue;
        }
        if !inside {
            out.push(line);
        }
    }
    out
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces turned into `-`; a repeated heading gets `-1`, `-2`, ...
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for line in prose(text) {
        let Some(heading) = line.strip_prefix('#') else {
            continue;
        };
        let heading = heading.trim_start_matches('#');
        if !heading.starts_with(' ') {
            continue;
        }
        let slug: String = heading
            .trim()
            .chars()
            .flat_map(char::to_lowercase)
            .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let n = seen.entry(slug.clone()).or_insert(0);
        out.insert(if *n == 0 {
            slug.clone()
        } else {
            format!("{slug}-{n}")
        });
        *n += 1;
    }
    out
}

/// `[text](target)` link targets, code spans removed first.
fn links(line: &str) -> Vec<String> {
    let mut clean = String::new();
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            clean.push(c);
        }
    }
    let mut out = Vec::new();
    let mut rest = clean.as_str();
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or("");
        out.push(target.to_string());
        rest = &after[end..];
    }
    out
}

/// Broken links in `pages`, and how many relative links were checked.
fn broken_links(pages: &[PathBuf]) -> (Vec<String>, usize) {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages {
        let text = std::fs::read_to_string(page).expect("read page");
        for line in prose(&text) {
            for target in links(line) {
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                checked += 1;
                let (file, anchor) = match target.split_once('#') {
                    Some((file, anchor)) => (file, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let dest = if file.is_empty() {
                    page.clone()
                } else {
                    page.parent().expect("parent").join(file)
                };
                if !dest.exists() {
                    broken.push(format!("{}: {target} (no such file)", page.display()));
                    continue;
                }
                if let Some(anchor) = anchor {
                    let dest_text = std::fs::read_to_string(&dest).unwrap_or_default();
                    if !anchors(&dest_text).contains(anchor) {
                        broken.push(format!("{}: {target} (no such heading)", page.display()));
                    }
                }
            }
        }
    }
    (broken, checked)
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let pages = pages();
    assert!(
        pages.iter().any(|p| p.ends_with("docs/settings.md")),
        "docs/ is missing: {pages:?}"
    );
    let (broken, checked) = broken_links(&pages);
    assert!(
        checked > 15,
        "only {checked} links found: the parser is broken"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn a_broken_link_is_found() {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = dir.path().join("a.md");
    std::fs::write(dir.path().join("b.md"), "# B\n## Here\n").expect("write");
    std::fs::write(
        &a,
        "[ok](b.md#here) [`code`](b.md) [gone](c.md) [no](b.md#there) [self](#a) [web](https://x.y/z)\n# A\n```\n[in code](nowhere.md)\n```\n",
    )
    .expect("write");
    let (broken, checked) = broken_links(&[a]);
    assert_eq!(checked, 5);
    assert_eq!(broken.len(), 2, "{broken:?}");
    assert!(broken[0].ends_with("c.md (no such file)"), "{broken:?}");
    assert!(
        broken[1].ends_with("b.md#there (no such heading)"),
        "{broken:?}"
    );
}

#[test]
fn anchors_follow_github() {
    let text = "# Title\n## What can be stored twice, and why\n## `--job-id` and more\n## Title\n```\n# not a heading\n```\n";
    let got = anchors(text);
    let want: BTreeSet<String> = [
        "title",
        "what-can-be-stored-twice-and-why",
        "--job-id-and-more",
        "title-1",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(got, want);
}

/// The namespace `deploy/kubernetes/kustomization.yaml` puts the relay in.
fn manifest_namespace() -> String {
    let path = root().join("deploy/kubernetes/kustomization.yaml");
    let text = std::fs::read_to_string(path).expect("kustomization.yaml");
    text.lines()
        .find_map(|l| l.strip_prefix("namespace:"))
        .map(|ns| ns.trim().trim_matches('"').to_string())
        .expect("a namespace: line")
}

/// The namespaces in `http://allstacks-cd-relay.NAMESPACE.svc` addresses of `text`.
fn service_namespaces(text: &str) -> Vec<String> {
    let host = "allstacks-cd-relay.";
    text.match_indices(host)
        .filter_map(|(at, _)| {
            let rest = &text[at + host.len()..];
            let (ns, after) = rest.split_once('.')?;
            after.starts_with("svc").then(|| ns.to_string())
        })
        .collect()
}

#[test]
fn the_relay_s_address_in_the_cluster_uses_the_manifests_namespace() {
    let namespace = manifest_namespace();
    assert_eq!(
        service_namespaces(
            "http://allstacks-cd-relay.other.svc/flux and allstacks-cd-relay.service"
        ),
        ["other"]
    );
    let mut seen = 0;
    let mut wrong = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).expect("read page");
        for ns in service_namespaces(&text) {
            seen += 1;
            if ns != namespace {
                wrong.push(format!("{}: allstacks-cd-relay.{ns}.svc", page.display()));
            }
        }
    }
    assert!(
        seen >= 4,
        "only {seen} addresses found: the search is broken"
    );
    assert!(
        wrong.is_empty(),
        "the Service is in namespace {namespace:?} (deploy/kubernetes/kustomization.yaml):\n{}",
        wrong.join("\n")
    );
}
