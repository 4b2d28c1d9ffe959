//! The manual's links: every relative link and `#anchor` in README.md, the other top-level
//! Markdown files and docs/*.md must resolve (a moved section breaks a link here, not for a
//! reader); the relay's address inside the cluster is the one the manifests make; and the
//! routes example of docs/relay.md does what the page says, run through `serve --explain`.

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

/// The `n`th fenced block (0-based) of `lang` after `heading` in `text`.
fn fenced(text: &str, heading: &str, lang: &str, n: usize) -> String {
    let from = text
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading:?}"));
    let open = format!("```{lang}\n");
    let mut rest = &text[from..];
    for _ in 0..n {
        let at = rest.find(&open).expect("a fenced block");
        rest = &rest[at + open.len()..];
    }
    let start = rest.find(&open).expect("a fenced block") + open.len();
    let len = rest[start..].find("```").expect("the block's end");
    rest[start..start + len].to_string()
}

#[test]
fn the_relay_routes_example_does_what_the_page_says() {
    use crate::relay::explain::explain;
    use crate::relay::{deployment_status, senders};
    use crate::support::SHA;
    let page = std::fs::read_to_string(root().join("docs/relay.md")).expect("docs/relay.md");
    let example = fenced(&page, "## Routing", "toml", 0);
    assert!(example.contains("[[route]]"), "{example}");
    let run = |source: &str, body: &[u8], env: &[(&str, &str)]| {
        let out = explain(Some(&example), source, body, &[], env);
        assert_eq!(out.code, 0, "{example}\n{}", out.stderr);
        out
    };
    // With the default events: a production deployment to the production route...
    let prod = run(
        "github",
        &deployment_status(42, "success", "production", SHA),
        &[],
    );
    let job = prod.json();
    assert_eq!(job["service_id"], 7, "{}", prod.stderr);
    assert_eq!(job["job_type"], "Production Deploy");
    assert_eq!(
        job["optional"][0],
        serde_json::json!({"key": "team", "value": "web", "type": "string"})
    );
    // ...another environment to the catch-all, as the page's sample output shows it.
    let staging = run(
        "github",
        &deployment_status(42, "success", "staging", SHA),
        &[],
    );
    assert_eq!(staging.json()["service_id"], 8, "{}", staging.stderr);
    let sample = fenced(&page, "### Explain where a delivery goes", "", 0);
    let shown: Vec<&str> = sample
        .lines()
        .filter(|l| !l.starts_with('$') && *l != "...")
        .collect();
    assert!(shown.len() >= 6, "{sample}");
    for line in shown {
        assert!(
            staging.stderr.lines().any(|l| l == line),
            "the page shows {line:?}; serve --explain says:\n{}",
            staging.stderr
        );
    }
    // A Flux event that names no repository: the Flux route's repo_name and service.
    let mut flux: serde_json::Value =
        serde_json::from_slice(&senders::flux_event("ReconciliationSucceeded", "info"))
            .expect("json");
    flux["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("repo_name");
    let flux = run("flux", flux.to_string().as_bytes(), &[]);
    assert_eq!(flux.json()["service_id"], 9, "{}", flux.stderr);
    assert_eq!(flux.json()["repo_name"], "acme/platform");
    // The workflow route, with workflow runs reported as its comment says.
    let workflows = fenced(&page, "To route by workflow", "toml", 0);
    let events = [
        ("ALLSTACKS_GITHUB_EVENTS", "deployment_status,workflow_run"),
        ("ALLSTACKS_WORKFLOWS", "Deploy*"),
    ];
    assert!(workflows.contains("ALLSTACKS_GITHUB_EVENTS=deployment_status,workflow_run"));
    let body = senders::workflow_run("completed", "success", "Deploy web");
    let out = explain(Some(&workflows), "github", &body, &[], &events);
    assert_eq!(out.code, 0, "{workflows}\n{}", out.stderr);
    assert_eq!(out.json()["service_id"], 10, "{}", out.stderr);
    let out = explain(Some(&workflows), "github", &body, &[], &[]);
    assert_eq!(
        out.code, 2,
        "without workflow_run the start stops:\n{}",
        out.stderr
    );
}
