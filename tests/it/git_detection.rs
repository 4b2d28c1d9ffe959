//! Git detection on repositories built from scratch: SHA-1 and SHA-256, remote URL shapes,
//! detached HEAD, packed refs.

use serde_json::json;

use crate::support::{Repo, tool};

fn dry_run(repo: &Repo) -> serde_json::Value {
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .dir(repo.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    out.json()
}

#[test]
fn sha1_and_sha256_heads() {
    for format in ["sha1", "sha256"] {
        let repo = Repo::new(format);
        repo.git(&[
            "remote",
            "add",
            "origin",
            "git@gitlab.example.com:group/sub/name.git",
        ]);
        let head = repo.head();
        assert_eq!(head.len(), if format == "sha1" { 40 } else { 64 });
        let p = dry_run(&repo);
        assert_eq!(p["commit_sha"], json!(head), "{format}");
        assert_eq!(p["repo_name"], json!("group/sub/name"), "{format}");
        assert_eq!(p["triggered_by"], json!("dev@example.com"), "{format}");
    }
}

#[test]
fn remote_url_shapes() {
    let cases = [
        ("https://github.com/acme/web.git", "acme/web"),
        (
            "https://ci:secret@gitlab.example.com/group/sub/name.git",
            "group/sub/name",
        ),
        (
            "ssh://git@gitlab.example.com:2222/group/sub/name.git",
            "group/sub/name",
        ),
        ("git@github.com:acme/web.git", "acme/web"),
        ("git@bitbucket.org:team/repo", "team/repo"),
    ];
    for (url, want) in cases {
        let repo = Repo::new("sha1");
        repo.git(&["remote", "add", "origin", url]);
        assert_eq!(dry_run(&repo)["repo_name"], json!(want), "{url}");
    }
}

#[test]
fn the_only_remote_is_used_when_there_is_no_origin() {
    let repo = Repo::new("sha1");
    repo.git(&[
        "remote",
        "add",
        "upstream",
        "https://github.com/acme/only.git",
    ]);
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .dir(repo.path())
        .run();
    assert_eq!(out.json()["repo_name"], json!("acme/only"));
    assert!(out.stderr.contains("git remote upstream"), "{}", out.stderr);
}

#[test]
fn detached_head_packed_refs_and_subdirectories() {
    let repo = Repo::new("sha1");
    repo.git(&["remote", "add", "origin", "https://github.com/acme/web.git"]);
    std::fs::write(repo.path().join("b"), "b").expect("write");
    repo.git(&["add", "b"]);
    repo.git(&["commit", "-q", "-m", "second"]);
    let first = repo.git(&["rev-parse", "HEAD~1"]);
    repo.git(&["checkout", "-q", "--detach", "HEAD~1"]);
    assert_eq!(dry_run(&repo)["commit_sha"], json!(first), "detached");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["pack-refs", "--all"]);
    let head = repo.head();
    assert_eq!(dry_run(&repo)["commit_sha"], json!(head), "packed");
    let sub = repo.path().join("deep/er");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .dir(&sub)
        .run();
    assert_eq!(out.json()["commit_sha"], json!(head), "from a subdirectory");
}

#[test]
fn no_user_email_falls_back_to_the_os_user() {
    let repo = Repo::new("sha1");
    repo.git(&["remote", "add", "origin", "https://github.com/acme/web.git"]);
    repo.git(&["config", "--unset", "user.email"]);
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .dir(repo.path())
        .run();
    assert_eq!(out.json()["triggered_by"], json!("tester"));
    assert!(out.stderr.contains("OS user"), "{}", out.stderr);
}
