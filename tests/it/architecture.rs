//! docs/architecture.md's rules of the house, held against the code: every module stands in
//! one stage of its table, no module imports from a stage above its own, imports inside a
//! stage make no circle, and only `client` touches reqwest, only `git` touches git2.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Imports allowed to run up, as `(file, module)`: none.
const RUNS_UP: &[(&str, &str)] = &[];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The stage of each top-level module (`ci`, `client`, `lib`, ...), from the table under
/// "| stage | modules |": stage 1 is the ground.
fn stages() -> BTreeMap<String, u32> {
    let doc = std::fs::read_to_string(root().join("docs/architecture.md")).expect("doc");
    let mut stages = BTreeMap::new();
    let rows = doc
        .lines()
        .skip_while(|l| !l.trim().starts_with("| stage | modules |"))
        .skip(2)
        .take_while(|l| l.trim().starts_with('|'));
    for row in rows {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let stage: u32 = cells[1].split('.').next().unwrap_or("").parse().expect(row);
        for name in cells[2].split('`').skip(1).step_by(2) {
            let name = name.trim_end_matches('/').trim_end_matches(".rs");
            if root().join(format!("src/{name}.rs")).exists()
                || root().join("src").join(name).is_dir()
            {
                stages.insert(name.to_string(), stage);
            }
        }
    }
    assert!(stages.len() > 20, "no stage table found: {stages:?}");
    stages
}

/// Every `.rs` file under `src/`, as a path relative to it.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(
                path.strip_prefix(root().join("src"))
                    .expect("under src")
                    .to_path_buf(),
            );
        }
    }
}

/// A file's code without its comments and its tests (a `#[cfg(test)] mod tests { .. }` at the
/// end, or a file of tests); empty for a file of tests.
fn code(rel: &Path) -> String {
    let name = rel.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if ["tests.rs", "test_support.rs", "proptests.rs"].contains(&name) {
        return String::new();
    }
    let text = std::fs::read_to_string(root().join("src").join(rel)).expect("read");
    let text = text.split("#[cfg(test)]\nmod tests {").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level names a file takes from the crate: `crate::x` and `use crate::{x, y::z}`.
fn crate_names(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && (c.is_alphanumeric() || c == '_') => {
                        let end = group[i..]
                            .find(|c: char| !c.is_alphanumeric() && c != '_')
                            .map_or(group.len(), |e| i + e);
                        names.insert(group[i..end].to_string());
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let end = rest.find(|c: char| !c.is_alphanumeric() && c != '_');
            names.insert(rest[..end.unwrap_or(rest.len())].to_string());
        }
    }
    names
}

/// Module → the modules it imports, and the imports that run up, as `file -> module`.
fn imports(stages: &BTreeMap<String, u32>) -> (BTreeMap<String, BTreeSet<String>>, Vec<String>) {
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut up = Vec::new();
    for rel in files {
        let file = rel.to_string_lossy().into_owned();
        let module = file
            .split('/')
            .next()
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        let stage = *stages
            .get(&module)
            .unwrap_or_else(|| panic!("src/{file}: module {module} is in no stage of the table"));
        for name in crate_names(&code(&rel)) {
            // A name that is no module is an item of the crate root.
            let target = if stages.contains_key(&name) {
                name
            } else {
                "lib".into()
            };
            if target == module {
                continue;
            }
            if stages[&target] > stage && !RUNS_UP.contains(&(file.as_str(), target.as_str())) {
                up.push(format!("src/{file} -> {target}"));
            }
            graph.entry(module.clone()).or_default().insert(target);
        }
    }
    (graph, up)
}

#[test]
fn no_import_runs_up_to_a_higher_stage() {
    let stages = stages();
    let (_, up) = imports(&stages);
    assert!(up.is_empty(), "imports from a higher stage: {up:#?}");
}

#[test]
fn imports_make_no_circle() {
    let stages = stages();
    let (graph, _) = imports(&stages);
    // Depth-first: a module met again while it is still on the path closes a circle.
    fn visit(
        m: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) {
        if let Some(i) = path.iter().position(|p| p == m) {
            panic!(
                "a circle: {}",
                [&path[i..], &[m.to_string()]].concat().join(" -> ")
            );
        }
        if !done.insert(m.to_string()) {
            return;
        }
        path.push(m.to_string());
        for next in g.get(m).into_iter().flatten() {
            visit(next, g, path, done);
        }
        path.pop();
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        visit(m, &graph, &mut Vec::new(), &mut done);
    }
    assert!(done.len() > 20, "too few modules seen: {done:?}");
}

#[test]
fn only_client_touches_reqwest_and_only_git_touches_git2() {
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    for rel in files {
        let code = code(&rel);
        let file = rel.to_string_lossy();
        assert!(
            file == "client.rs" || !code.contains("reqwest::"),
            "src/{file} uses reqwest"
        );
        assert!(
            file == "git.rs" || !code.contains("git2::"),
            "src/{file} uses git2"
        );
    }
}
