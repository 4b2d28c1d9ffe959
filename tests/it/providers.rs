//! Provider detection through the real binary: each fixture env file under
//! `tests/fixtures/env/` is the whole environment of a `report --dry-run`; the payload and the
//! provenance lines on stderr are checked, and precedence over the provider.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::{Output, Reply, Server, tool};

fn fixture(rel: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/fixtures/env").join(rel))
        .unwrap_or_else(|e| panic!("{rel}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = if k == "GITHUB_EVENT_PATH" {
                root.join(v).to_string_lossy().into_owned()
            } else {
                v.to_string()
            };
            (k.to_string(), v)
        })
        .collect()
}

fn dry_run(rel: &str, args: &[&str], extra: &[(&str, &str)]) -> Output {
    let mut argv = vec!["report", "--dry-run"];
    argv.extend(args);
    let mut t = tool(&argv).env("ALLSTACKS_SERVICE_ID", "5");
    for (k, v) in fixture(rel) {
        t = t.env(&k, v);
    }
    t.envs(extra).run()
}

/// Asserts a provenance line `field  value  source` (columns separated by two spaces).
fn has_line(out: &Output, field: &str, value: &str, source: &str) {
    let found = out.stderr.lines().any(|l| {
        let cols: Vec<&str> = l
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        cols.len() >= 3 && cols[0] == field && cols[1] == value && cols[2..].join("  ") == source
    });
    assert!(
        found,
        "no line {field} | {value} | {source} in:\n{}",
        out.stderr
    );
}

/// What one fixture must yield through the binary.
struct Expect<'a> {
    /// The `ci_provider` id.
    provider: &'a str,
    /// `field  value  source` provenance lines. Every base field a provider can give that is
    /// not listed must be absent (`repo_id`, `triggered_by`, `repo_name`; no git in the temp
    /// dir) or, for `job_start_time`, fall back to now.
    lines: &'a [(&'a str, &'a str, &'a str)],
    /// The whole `optional` array after `ci_provider`, in order.
    context: &'a [(&'a str, &'a str)],
}

/// Runs `report --dry-run` on the fixture and checks every detected field, its provenance
/// line, the same value in the payload, and that nothing else was detected.
fn check(rel: &str, args: &[&str], want: &Expect) -> Output {
    let out = dry_run(rel, args, &[]);
    assert_eq!(out.code, 0, "{rel}: {}", out.stderr);
    has_line(&out, "provider", want.provider, "detected");
    let p = out.json();
    for (field, value, source) in want.lines {
        has_line(&out, field, value, source);
        let sent = &p[*field];
        match *field {
            "job_start_time" => {
                let epoch = value.split(' ').next().and_then(|v| v.parse::<i64>().ok());
                assert_eq!(sent.as_i64(), epoch, "{rel}: {field}");
            }
            _ => assert_eq!(sent, &json!(value), "{rel}: {field}"),
        }
    }
    let listed = |f: &str| want.lines.iter().any(|(field, _, _)| *field == f);
    for field in ["repo_id", "triggered_by", "repo_name"] {
        if !listed(field) {
            assert!(p.get(field).is_none(), "{rel}: {field} = {}", p[field]);
        }
    }
    if !listed("job_start_time") {
        assert!(
            out.stderr
                .lines()
                .any(|l| l.starts_with("job_start_time") && l.trim_end().ends_with("  now")),
            "{rel}: start should fall back to now:\n{}",
            out.stderr
        );
    }
    let optional: Vec<(String, String)> = p["optional"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| {
                    (
                        f["key"].as_str().unwrap_or_default().to_string(),
                        f["value"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut expected = vec![("ci_provider".to_string(), want.provider.to_string())];
    expected.extend(
        want.context
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    assert_eq!(optional, expected, "{rel}");
    out
}

#[test]
fn github_push_pipeline_scope() {
    let out = dry_run("github/push.env", &["--status", "success"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = out.json();
    assert_eq!(p["job_id"], json!("9876543210-2"));
    assert_eq!(
        p["commit_sha"],
        json!("a2e7da86cc392417b0d9f605b28038aae80b002f")
    );
    assert_eq!(p["repo_name"], json!("acme/web"));
    assert_eq!(p["repo_id"], json!("123456789"));
    assert_eq!(p["triggered_by"], json!("octocat@example.com"));
    has_line(&out, "provider", "github-actions", "detected");
    has_line(
        &out,
        "job_id",
        "9876543210-2",
        "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT",
    );
    has_line(
        &out,
        "commit_sha",
        "a2e7da86cc392417b0d9f605b28038aae80b002f",
        "GITHUB_SHA",
    );
    has_line(&out, "repo_id", "123456789", "GITHUB_REPOSITORY_ID");
    has_line(&out, "repo_name", "acme/web", "GITHUB_REPOSITORY");
    let optional = &p["optional"];
    let get = |k: &str| {
        optional
            .as_array()
            .and_then(|a| a.iter().find(|f| f["key"] == json!(k)))
            .map(|f| f["value"].clone())
    };
    assert_eq!(get("ci_provider"), Some(json!("github-actions")));
    assert_eq!(
        get("pipeline_url"),
        Some(json!("https://github.com/acme/web/actions/runs/9876543210"))
    );
    assert_eq!(get("branch"), Some(json!("main")));
    assert_eq!(get("workflow"), Some(json!("Deploy")));
    assert_eq!(get("run_attempt"), Some(json!("2")));
    assert_eq!(get("trigger_event"), Some(json!("push")));
    // No GITHUB_TOKEN: no API call, start falls back to now with a warning.
    assert!(out.stderr.contains("no start time known"), "{}", out.stderr);
}

#[test]
fn github_job_scope_adds_the_job() {
    let out = dry_run(
        "github/push.env",
        &["--status", "success", "--scope", "job"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["job_id"], json!("9876543210-2-deploy"));
}

#[test]
fn a_bad_github_event_file_is_a_warning() {
    let out = dry_run("github/bad_event.env", &["--status", "success"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    // On GitHub, warnings are annotations.
    assert!(
        out.stderr
            .contains("::warning title=allstacks-cd::ignoring GITHUB_EVENT_PATH:"),
        "{}",
        out.stderr
    );
    assert!(
        out.json()["triggered_by"].is_string(),
        "falls back to the actor"
    );
}

#[test]
fn gitlab_after_script_status_and_start_by_scope() {
    let out = dry_run("gitlab/after_script.env", &[], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = out.json();
    assert_eq!(p["status"], json!("Failed"));
    assert_eq!(p["job_id"], json!("1100000001"));
    assert_eq!(p["job_start_time"], json!(1717228800)); // 2024-06-01T08:00:00Z
    assert_eq!(p["repo_id"], json!("51515151"));
    assert_eq!(p["triggered_by"], json!("monalisa"));
    has_line(&out, "status", "Failed", "CI_JOB_STATUS");
    has_line(
        &out,
        "job_start_time",
        "1717228800 (2024-06-01T08:00:00Z)",
        "CI_PIPELINE_CREATED_AT",
    );

    let out = dry_run("gitlab/after_script.env", &["--scope", "job"], &[]);
    let p = out.json();
    assert_eq!(p["job_id"], json!("7700000001"));
    assert_eq!(p["job_start_time"], json!(1717229007)); // 08:03:27
    has_line(
        &out,
        "job_start_time",
        "1717229007 (2024-06-01T08:03:27Z)",
        "CI_JOB_STARTED_AT",
    );
}

#[test]
fn gitlab_ci_local_is_detected_despite_gitlab_ci_false() {
    let out = dry_run("gitlab/local.env", &["--status", "ok"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    has_line(&out, "provider", "gitlab-ci", "detected");
    assert_eq!(out.json()["triggered_by"], json!("local@example.com"));
}

#[test]
fn azure_start_time_and_status() {
    let out = dry_run("azure/azure_repos.env", &[], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = out.json();
    assert_eq!(p["status"], json!("Failed"));
    assert_eq!(p["job_start_time"], json!(1717228800));
    has_line(
        &out,
        "job_start_time",
        "1717228800 (2024-06-01T08:00:00Z)",
        "SYSTEM_PIPELINESTARTTIME",
    );
    has_line(
        &out,
        "commit_sha",
        "ab12cd34ef56ab78cd90ef12ab34cd56ef78ab90",
        "BUILD_SOURCEVERSION",
    );
}

/// Every fixture runs cleanly through the binary, with the provider's own sha variable.
#[test]
fn every_fixture_yields_a_valid_payload() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/env");
    let sha_vars = [
        ("github", "GITHUB_SHA", "github-actions"),
        ("gitlab", "CI_COMMIT_SHA", "gitlab-ci"),
        ("jenkins", "GIT_COMMIT", "jenkins"),
        ("circleci", "CIRCLE_SHA1", "circleci"),
        ("bitbucket", "BITBUCKET_COMMIT", "bitbucket-pipelines"),
        ("azure", "BUILD_SOURCEVERSION", "azure-pipelines"),
        ("buildkite", "BUILDKITE_COMMIT", "buildkite"),
        ("travis", "TRAVIS_COMMIT", "travis-ci"),
        ("teamcity", "BUILD_VCS_NUMBER", "teamcity"),
        ("drone", "DRONE_COMMIT_SHA", "drone"),
        ("woodpecker", "CI_COMMIT_SHA", "woodpecker"),
    ];
    let mut seen = 0;
    for (dir, sha_var, id) in sha_vars {
        for entry in std::fs::read_dir(root.join(dir)).expect("fixture dir") {
            let path = entry.expect("entry").path();
            let rel = format!(
                "{dir}/{}",
                path.file_name().and_then(|n| n.to_str()).expect("name")
            );
            let env: Vec<(String, String)> = fixture(&rel);
            let Some(sha) = env
                .iter()
                .find(|(k, _)| k == sha_var)
                .map(|(_, v)| v.clone())
            else {
                continue;
            };
            if sha.len() != 40 {
                continue; // e.g. Buildkite's "HEAD", resolved through git elsewhere
            }
            let out = dry_run(
                &rel,
                &["--status", "ok", "--repo-name", "fallback/repo"],
                &[],
            );
            assert_eq!(out.code, 0, "{rel}: {}", out.stderr);
            has_line(&out, "provider", id, "detected");
            has_line(&out, "commit_sha", &sha, sha_var);
            assert_eq!(out.json()["commit_sha"], json!(sha), "{rel}");
            seen += 1;
        }
    }
    assert!(seen >= 20, "only {seen} fixtures ran");
}

#[test]
fn variables_beat_the_provider_and_flags_beat_both() {
    let other = "0000000000000000000000000000000000000001";
    let flag = "0000000000000000000000000000000000000002";
    let out = dry_run(
        "github/push.env",
        &["--status", "ok", "--repo-id", "from-flag"],
        &[
            ("ALLSTACKS_COMMIT_SHA", other),
            ("ALLSTACKS_REPO_ID", "from-var"),
            ("ALLSTACKS_JOB_ID", "mine"),
        ],
    );
    let p = out.json();
    assert_eq!(p["commit_sha"], json!(other));
    assert_eq!(p["repo_id"], json!("from-flag"));
    assert_eq!(p["job_id"], json!("mine"));
    has_line(&out, "commit_sha", other, "ALLSTACKS_COMMIT_SHA");
    has_line(&out, "repo_id", "from-flag", "--repo-id");
    let out = dry_run(
        "github/push.env",
        &["--status", "ok", "--commit-sha", flag],
        &[("ALLSTACKS_COMMIT_SHA", other)],
    );
    assert_eq!(out.json()["commit_sha"], json!(flag));
}

#[test]
fn github_api_start_time_through_the_binary() {
    let api = Server::start(vec![Reply::status(200).body(
        r#"{"id": 9876543210, "run_started_at": "2024-06-01T08:00:00Z", "run_attempt": 2}"#,
    )]);
    let out = dry_run(
        "github/push.env",
        &["--status", "ok"],
        &[
            ("GITHUB_TOKEN", "ghs_apitoken123"),
            ("GITHUB_API_URL", &api.url()),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["job_start_time"], json!(1717228800));
    has_line(
        &out,
        "job_start_time",
        "1717228800 (2024-06-01T08:00:00Z)",
        "GitHub API run_started_at",
    );
    let req = api.only();
    assert_eq!(req.path, "/repos/acme/web/actions/runs/9876543210");
    assert_eq!(req.header("authorization"), Some("Bearer ghs_apitoken123"));

    // An API error is a warning; the start falls back.
    let api = Server::start(vec![Reply::status(500)]);
    let out = dry_run(
        "github/push.env",
        &["--status", "ok"],
        &[
            ("GITHUB_TOKEN", "ghs_apitoken123"),
            ("GITHUB_API_URL", &api.url()),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("could not read the start time from the GitHub API"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("ghs_apitoken123"));
}

// Fallbacks for providers already supported (spec/providers.md).

#[test]
fn jenkins_several_remotes_through_the_binary() {
    check(
        "jenkins/multiple_remotes.env",
        &["--status", "ok"],
        &Expect {
            provider: "jenkins",
            lines: &[
                ("job_id", "jenkins-deploy-web-77", "BUILD_TAG"),
                (
                    "commit_sha",
                    "2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e",
                    "GIT_COMMIT",
                ),
                ("repo_name", "acme/web", "GIT_URL_1"),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://jenkins.example.com/job/deploy-web/77/",
                ),
                ("branch", "main"),
                ("workflow", "deploy-web"),
            ],
        },
    );
}

#[test]
fn drone_repo_fallbacks_through_the_binary() {
    check(
        "drone/owner_name.env",
        &["--status", "ok"],
        &Expect {
            provider: "drone",
            lines: &[
                ("job_id", "90", "DRONE_BUILD_NUMBER"),
                (
                    "commit_sha",
                    "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d",
                    "DRONE_COMMIT_SHA",
                ),
                ("triggered_by", "monalisa", "DRONE_COMMIT_AUTHOR"),
                ("repo_name", "acme/web", "DRONE_REPO_OWNER, DRONE_REPO_NAME"),
                (
                    "job_start_time",
                    "1714660000 (2024-05-02T14:26:40Z)",
                    "DRONE_BUILD_STARTED",
                ),
            ],
            context: &[
                ("pipeline_url", "https://drone.example.com/acme/web/90"),
                ("branch", "main"),
                ("trigger_event", "push"),
            ],
        },
    );
    check(
        "drone/clone_url.env",
        &["--status", "ok"],
        &Expect {
            provider: "drone",
            lines: &[
                ("job_id", "91", "DRONE_BUILD_NUMBER"),
                (
                    "commit_sha",
                    "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
                    "DRONE_COMMIT_SHA",
                ),
                ("repo_name", "platform/billing", "DRONE_GIT_HTTP_URL"),
            ],
            context: &[("branch", "main"), ("trigger_event", "push")],
        },
    );
}

#[test]
fn woodpecker_repo_fallbacks_through_the_binary() {
    check(
        "woodpecker/owner_name.env",
        &["--status", "ok"],
        &Expect {
            provider: "woodpecker",
            lines: &[
                ("job_id", "12", "CI_PIPELINE_NUMBER"),
                (
                    "commit_sha",
                    "5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80",
                    "CI_COMMIT_SHA",
                ),
                ("repo_name", "acme/web", "CI_REPO_OWNER, CI_REPO_NAME"),
            ],
            context: &[
                ("branch", "main"),
                ("workflow", "deploy"),
                ("trigger_event", "push"),
            ],
        },
    );
    check(
        "woodpecker/clone_url.env",
        &["--status", "ok", "--scope", "job"],
        &Expect {
            provider: "woodpecker",
            lines: &[
                (
                    "job_id",
                    "13-deploy",
                    "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME",
                ),
                (
                    "commit_sha",
                    "6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091",
                    "CI_COMMIT_SHA",
                ),
                ("repo_name", "platform/billing", "CI_REPO_CLONE_URL"),
            ],
            context: &[
                ("branch", "main"),
                ("workflow", "deploy"),
                ("trigger_event", "push"),
            ],
        },
    );
}
