//! Provider detection through the real binary: each fixture env file under
//! `tests/fixtures/env/` is the whole environment of a `report --dry-run`; the payload and the
//! provenance lines on stderr are checked, and precedence over the provider.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::support::{Output, Reply, Server, has_line, tool};

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
    // Each directory's commit variables, in the order its provider reads them.
    let sha_vars: [(&str, &[&str], &str); 30] = [
        ("github", &["GITHUB_SHA"], "github-actions"),
        ("gitlab", &["CI_COMMIT_SHA"], "gitlab-ci"),
        ("jenkins", &["GIT_COMMIT"], "jenkins"),
        ("circleci", &["CIRCLE_SHA1"], "circleci"),
        ("bitbucket", &["BITBUCKET_COMMIT"], "bitbucket-pipelines"),
        ("azure", &["BUILD_SOURCEVERSION"], "azure-pipelines"),
        ("buildkite", &["BUILDKITE_COMMIT"], "buildkite"),
        ("travis", &["TRAVIS_COMMIT"], "travis-ci"),
        ("teamcity", &["BUILD_VCS_NUMBER"], "teamcity"),
        ("drone", &["DRONE_COMMIT_SHA", "DRONE_COMMIT"], "drone"),
        ("woodpecker", &["CI_COMMIT_SHA"], "woodpecker"),
        ("appveyor", &["APPVEYOR_REPO_COMMIT"], "appveyor"),
        (
            "aws-codebuild",
            &["CODEBUILD_RESOLVED_SOURCE_VERSION"],
            "aws-codebuild",
        ),
        (
            "bitrise",
            &["BITRISE_GIT_COMMIT", "GIT_CLONE_COMMIT_HASH"],
            "bitrise",
        ),
        (
            "buddy",
            &["BUDDY_RUN_COMMIT", "BUDDY_EXECUTION_REVISION"],
            "buddy",
        ),
        ("codefresh", &["CF_REVISION"], "codefresh"),
        (
            "bamboo",
            &[
                "bamboo_planRepository_1_revision",
                "bamboo_planRepository_revision",
            ],
            "bamboo",
        ),
        ("cirrus-ci", &["CIRRUS_CHANGE_IN_REPO"], "cirrus-ci"),
        (
            "cloudflare-pages",
            &["CF_PAGES_COMMIT_SHA"],
            "cloudflare-pages",
        ),
        ("netlify", &["COMMIT_REF"], "netlify"),
        ("vercel", &["VERCEL_GIT_COMMIT_SHA"], "vercel"),
        ("render", &["RENDER_GIT_COMMIT"], "render"),
        (
            "heroku",
            &[
                "HEROKU_TEST_RUN_COMMIT_VERSION",
                "HEROKU_SLUG_COMMIT",
                "SOURCE_VERSION",
            ],
            "heroku",
        ),
        ("semaphore", &["SEMAPHORE_GIT_SHA"], "semaphore"),
        ("vela", &["VELA_BUILD_COMMIT"], "vela"),
        ("harness", &["DRONE_COMMIT_SHA", "CI_COMMIT_SHA"], "harness"),
        ("screwdriver", &["SD_BUILD_SHA"], "screwdriver"),
        ("codeship", &["CI_COMMIT_ID"], "codeship"),
        (
            "jetbrains-space",
            &["JB_SPACE_GIT_REVISION"],
            "jetbrains-space",
        ),
        ("scrutinizer", &["SCRUTINIZER_SHA1"], "scrutinizer"),
    ];
    let mut seen = 0;
    for (dir, sha_keys, id) in sha_vars {
        for entry in std::fs::read_dir(root.join(dir)).expect("fixture dir") {
            let path = entry.expect("entry").path();
            let rel = format!(
                "{dir}/{}",
                path.file_name().and_then(|n| n.to_str()).expect("name")
            );
            let env: Vec<(String, String)> = fixture(&rel);
            let Some((sha_var, sha)) = sha_keys.iter().find_map(|key| {
                env.iter()
                    .find(|(k, v)| k == key && !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.clone()))
            }) else {
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
            has_line(&out, "commit_sha", &sha, &sha_var);
            assert_eq!(out.json()["commit_sha"], json!(sha), "{rel}");
            seen += 1;
        }
    }
    assert!(seen >= 60, "only {seen} fixtures ran");
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
                (
                    "job_id",
                    "acme/web#90",
                    "DRONE_REPO_OWNER, DRONE_REPO_NAME, DRONE_BUILD_NUMBER",
                ),
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
                (
                    "job_id",
                    "platform/billing#91",
                    "DRONE_GIT_HTTP_URL, DRONE_BUILD_NUMBER",
                ),
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
                (
                    "job_id",
                    "acme/web#12",
                    "CI_REPO_OWNER, CI_REPO_NAME, CI_PIPELINE_NUMBER",
                ),
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
                    "platform/billing#13-deploy",
                    "CI_REPO_CLONE_URL, CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME",
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

// The providers of spec/providers.md, one test per fixture: every detected field, its
// provenance line and the context fields.

#[test]
fn appveyor_through_the_binary() {
    check(
        "appveyor/push.env",
        &["--status", "ok"],
        &Expect {
            provider: "appveyor",
            lines: &[
                ("job_id", "16586877", "APPVEYOR_BUILD_ID"),
                (
                    "commit_sha",
                    "67c6a0621ed8e14252c9f1edecc85adeb41e60b2",
                    "APPVEYOR_REPO_COMMIT",
                ),
                (
                    "triggered_by",
                    "mona@example.com",
                    "APPVEYOR_REPO_COMMIT_AUTHOR_EMAIL",
                ),
                ("repo_name", "acme/web", "APPVEYOR_REPO_NAME"),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://ci.appveyor.com/project/acme/web/builds/16586877",
                ),
                (
                    "job_url",
                    "https://ci.appveyor.com/project/acme/web/build/job/223msqsfyu1vim73",
                ),
                ("branch", "main"),
            ],
        },
    );
}

#[test]
fn appveyor_pull_request_job_scope() {
    check(
        "appveyor/pull_request.env",
        &["--status", "ok", "--scope", "job"],
        &Expect {
            provider: "appveyor",
            lines: &[
                ("job_id", "v8xadmxjx5ys0fhw", "APPVEYOR_JOB_ID"),
                (
                    "commit_sha",
                    "ef2023102ad644dce35319c9c0d9a97b369aae19",
                    "APPVEYOR_REPO_COMMIT",
                ),
                ("repo_name", "acme/web", "APPVEYOR_REPO_NAME"),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://appveyor.example.com/project/acme/web-app/builds/16428432",
                ),
                (
                    "job_url",
                    "https://appveyor.example.com/project/acme/web-app/build/job/v8xadmxjx5ys0fhw",
                ),
                ("branch", "feature/login"),
            ],
        },
    );
}

/// `CODEBUILD_START_TIME` is epoch milliseconds; `CODEBUILD_BUILD_SUCCEEDING=1` is the status.
#[test]
fn codebuild_webhook_start_in_milliseconds_and_status() {
    check(
        "aws-codebuild/webhook.env",
        &[],
        &Expect {
            provider: "aws-codebuild",
            lines: &[
                (
                    "job_id",
                    "web-deploy:b1e6661e-e4f2-4156-9ab9-82a19e5b1c2d",
                    "CODEBUILD_BUILD_ID",
                ),
                ("status", "Succeeded", "CODEBUILD_BUILD_SUCCEEDING"),
                (
                    "commit_sha",
                    "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b",
                    "CODEBUILD_RESOLVED_SOURCE_VERSION",
                ),
                ("repo_name", "acme/web", "CODEBUILD_SOURCE_REPO_URL"),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "CODEBUILD_START_TIME",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://eu-west-1.console.aws.amazon.com/codebuild/home?region=eu-west-1#/builds/web-deploy:b1e6661e-e4f2-4156-9ab9-82a19e5b1c2d/view/new",
                ),
                ("branch", "main"),
                ("trigger_event", "PUSH"),
            ],
        },
    );
}

/// `codepipeline/NAME` is the `workflow`, never `triggered_by`; an S3 source is no repository.
#[test]
fn codebuild_codepipeline_is_a_workflow_not_a_user() {
    check(
        "aws-codebuild/codepipeline.env",
        &["--repo-name", "acme/web"],
        &Expect {
            provider: "aws-codebuild",
            lines: &[
                ("repo_name", "acme/web", "--repo-name"),
                (
                    "job_id",
                    "web-release-deploy:7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
                    "CODEBUILD_BUILD_ID",
                ),
                ("status", "Failed", "CODEBUILD_BUILD_SUCCEEDING"),
                (
                    "commit_sha",
                    "3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e",
                    "CODEBUILD_RESOLVED_SOURCE_VERSION",
                ),
                (
                    "job_start_time",
                    "1717232400 (2024-06-01T09:00:00Z)",
                    "CODEBUILD_START_TIME",
                ),
            ],
            context: &[("workflow", "web-release")],
        },
    );
}

#[test]
fn codebuild_codecommit_repository_and_user() {
    check(
        "aws-codebuild/codecommit.env",
        &["--status", "ok"],
        &Expect {
            provider: "aws-codebuild",
            lines: &[
                (
                    "job_id",
                    "billing-deploy:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                    "CODEBUILD_BUILD_ID",
                ),
                (
                    "commit_sha",
                    "4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d",
                    "CODEBUILD_RESOLVED_SOURCE_VERSION",
                ),
                ("triggered_by", "deployer", "CODEBUILD_INITIATOR"),
                ("repo_name", "billing", "CODEBUILD_SOURCE_REPO_URL"),
                (
                    "job_start_time",
                    "1717236000 (2024-06-01T10:00:00Z)",
                    "CODEBUILD_START_TIME",
                ),
            ],
            context: &[(
                "pipeline_url",
                "https://public-build.codebuild.example.com/project/billing-deploy/build/7",
            )],
        },
    );
}

#[test]
fn bitrise_through_the_binary() {
    check(
        "bitrise/push.env",
        &[],
        &Expect {
            provider: "bitrise",
            lines: &[
                (
                    "job_id",
                    "4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
                    "BITRISE_BUILD_SLUG",
                ),
                ("status", "Succeeded", "BITRISE_BUILD_STATUS"),
                (
                    "commit_sha",
                    "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b",
                    "GIT_CLONE_COMMIT_HASH",
                ),
                (
                    "triggered_by",
                    "mona@example.com",
                    "GIT_CLONE_COMMIT_AUTHOR_EMAIL",
                ),
                ("repo_name", "acme/mobile", "GIT_REPOSITORY_URL"),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "BITRISE_BUILD_TRIGGER_TIMESTAMP",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://app.bitrise.io/build/4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
                ),
                ("branch", "main"),
                ("workflow", "deploy"),
            ],
        },
    );
}

#[test]
fn buddy_through_the_binary() {
    check(
        "buddy/execution.env",
        &["--status", "ok"],
        &Expect {
            provider: "buddy",
            lines: &[
                ("job_id", "3-27", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
                (
                    "commit_sha",
                    "e5e13f8b7f8d5c6096a0501dc09b48eef05fea96",
                    "BUDDY_RUN_COMMIT",
                ),
                (
                    "triggered_by",
                    "mikebenson@buddy.works",
                    "BUDDY_INVOKER_EMAIL",
                ),
                ("repo_name", "buddyworks/my-project", "BUDDY_REPO_SLUG"),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "BUDDY_EXECUTION_START_DATE",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://app.buddy.works/myworkspace/my-project/pipelines/pipeline/3/execution/5d9dc42c422f5a268b389d08",
                ),
                ("branch", "main"),
                ("workflow", "Deploy to Production"),
            ],
        },
    );
}

#[test]
fn buddy_repository_from_scm_url() {
    check(
        "buddy/legacy_scm_url.env",
        &["--status", "ok"],
        &Expect {
            provider: "buddy",
            lines: &[
                ("job_id", "12-4", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
                (
                    "commit_sha",
                    "f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d",
                    "BUDDY_EXECUTION_REVISION",
                ),
                ("repo_name", "acme/web", "BUDDY_SCM_URL"),
                (
                    "job_start_time",
                    "1717324200 (2024-06-02T10:30:00Z)",
                    "BUDDY_EXECUTION_START_DATE",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://app.buddy.works/acme/web/pipelines/pipeline/12/execution/6a0b1c2d3e4f5a6b7c8d9e0f",
                ),
                ("workflow", "Release"),
            ],
        },
    );
}

#[test]
fn codefresh_through_the_binary() {
    check(
        "codefresh/webhook.env",
        &["--status", "ok"],
        &Expect {
            provider: "codefresh",
            lines: &[
                ("job_id", "6658d2b0e4b0a1c2d3e4f5a6", "CF_BUILD_ID"),
                (
                    "commit_sha",
                    "7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c",
                    "CF_REVISION",
                ),
                ("triggered_by", "monalisa", "CF_BUILD_INITIATOR"),
                ("repo_name", "acme/web", "CF_REPO_OWNER, CF_REPO_NAME"),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "CF_BUILD_TIMESTAMP",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://g.codefresh.io/build/6658d2b0e4b0a1c2d3e4f5a6",
                ),
                ("branch", "main"),
                ("workflow", "web/deploy"),
                ("trigger_event", "webhook"),
            ],
        },
    );
}

#[test]
fn bamboo_plan_and_job_scope() {
    check(
        "bamboo/plan.env",
        &["--status", "ok", "--scope", "job"],
        &Expect {
            provider: "bamboo",
            lines: &[
                ("job_id", "WEB-REL-DEP-42", "bamboo_buildResultKey"),
                (
                    "commit_sha",
                    "8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d",
                    "bamboo_planRepository_1_revision",
                ),
                (
                    "triggered_by",
                    "jdoe",
                    "bamboo_ManualBuildTriggerReason_userName",
                ),
                (
                    "repo_name",
                    "acme/web",
                    "bamboo_planRepository_1_repositoryUrl",
                ),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "bamboo_buildTimeStamp",
                ),
            ],
            context: &[
                (
                    "job_url",
                    "https://bamboo.example.com/browse/WEB-REL-DEP-42",
                ),
                ("branch", "main"),
                ("workflow", "Web - Release"),
            ],
        },
    );
}

#[test]
fn bamboo_deployment() {
    check(
        "bamboo/deployment.env",
        &["--status", "ok"],
        &Expect {
            provider: "bamboo",
            lines: &[
                ("job_id", "WEB-REL-17", "bamboo_planKey, bamboo_buildNumber"),
                (
                    "commit_sha",
                    "9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e",
                    "bamboo_planRepository_revision",
                ),
                (
                    "repo_name",
                    "acme/web",
                    "bamboo_planRepository_repositoryUrl",
                ),
                (
                    "job_start_time",
                    "1717406130 (2024-06-03T09:15:30Z)",
                    "bamboo_buildTimeStamp",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://bamboo.example.com/deploy/viewDeploymentResult.action?deploymentResultId=9830401",
                ),
                ("branch", "main"),
                ("environment", "Production"),
                ("workflow", "Web"),
            ],
        },
    );
}

#[test]
fn cirrus_through_the_binary() {
    check(
        "cirrus-ci/push.env",
        &["--status", "ok"],
        &Expect {
            provider: "cirrus-ci",
            lines: &[
                ("job_id", "6123456789012345", "CIRRUS_BUILD_ID"),
                (
                    "commit_sha",
                    "0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f",
                    "CIRRUS_CHANGE_IN_REPO",
                ),
                ("repo_name", "acme/web", "CIRRUS_REPO_FULL_NAME"),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://cirrus-ci.com/build/6123456789012345",
                ),
                ("job_url", "https://cirrus-ci.com/task/5012345678901234"),
                ("branch", "main"),
                ("workflow", "deploy"),
            ],
        },
    );
}

/// Pages gives no repository (the checkout would) and no build id: the job id is SPEC.md's
/// `{first 12 of sha}-{start}`.
#[test]
fn cloudflare_pages_job_id_from_commit_and_start() {
    check(
        "cloudflare-pages/preview.env",
        &[
            "--status",
            "ok",
            "--job-start-time",
            "1717228800",
            "--repo-name",
            "acme/web",
        ],
        &Expect {
            provider: "cloudflare-pages",
            lines: &[
                ("repo_name", "acme/web", "--repo-name"),
                (
                    "job_id",
                    "1f2a3b4c5d6e-1717228800",
                    "commit_sha, job_start_time",
                ),
                (
                    "commit_sha",
                    "1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a",
                    "CF_PAGES_COMMIT_SHA",
                ),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "--job-start-time",
                ),
            ],
            context: &[
                ("pipeline_url", "https://5b243e66.web.pages.dev"),
                ("branch", "feature/login"),
            ],
        },
    );
}

/// Netlify's `CONTEXT` is the `environment`; the deploy's own URL is the link.
#[test]
fn netlify_context_is_the_environment() {
    check(
        "netlify/deploy_preview.env",
        &["--status", "ok"],
        &Expect {
            provider: "netlify",
            lines: &[
                ("job_id", "5b243e66dd6a547b4fee73ae", "DEPLOY_ID"),
                (
                    "commit_sha",
                    "2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b",
                    "COMMIT_REF",
                ),
                ("repo_name", "acme/web", "REPOSITORY_URL"),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://5b243e66dd6a547b4fee73ae--petsof.netlify.app",
                ),
                ("branch", "feature/login"),
                ("environment", "deploy-preview"),
            ],
        },
    );
}

#[test]
fn netlify_production_job_scope() {
    check(
        "netlify/production.env",
        &["--status", "ok", "--scope", "job"],
        &Expect {
            provider: "netlify",
            lines: &[
                ("job_id", "66a0b1c2d3e4f5a6b7c8d9e0", "BUILD_ID"),
                (
                    "commit_sha",
                    "3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c",
                    "COMMIT_REF",
                ),
                ("repo_name", "acme/web", "REPOSITORY_URL"),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://66a0b1c2d3e4f5a6b7c8d9e1--petsof.netlify.app",
                ),
                ("branch", "main"),
                ("environment", "production"),
            ],
        },
    );
}

#[test]
fn vercel_through_the_binary() {
    check(
        "vercel/production.env",
        &["--status", "ok"],
        &Expect {
            provider: "vercel",
            lines: &[
                (
                    "job_id",
                    "dpl_7Gw5ZMBpQA8h9GF832KGp7nwbuh3",
                    "VERCEL_DEPLOYMENT_ID",
                ),
                (
                    "commit_sha",
                    "4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d",
                    "VERCEL_GIT_COMMIT_SHA",
                ),
                ("triggered_by", "monalisa", "VERCEL_GIT_COMMIT_AUTHOR_LOGIN"),
                ("repo_id", "117716146", "VERCEL_GIT_REPO_ID"),
                (
                    "repo_name",
                    "acme/web",
                    "VERCEL_GIT_REPO_OWNER, VERCEL_GIT_REPO_SLUG",
                ),
            ],
            context: &[
                ("pipeline_url", "https://web-7q03y4pi5.vercel.app"),
                ("branch", "main"),
                ("environment", "production"),
            ],
        },
    );
}

#[test]
fn vercel_custom_environment() {
    check(
        "vercel/custom_environment.env",
        &["--status", "ok"],
        &Expect {
            provider: "vercel",
            lines: &[
                (
                    "job_id",
                    "dpl_2YxWvUtSrQpOnMlKjIhGfEdCbA98",
                    "VERCEL_DEPLOYMENT_ID",
                ),
                (
                    "commit_sha",
                    "5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e",
                    "VERCEL_GIT_COMMIT_SHA",
                ),
                ("triggered_by", "jdoe", "VERCEL_GIT_COMMIT_AUTHOR_LOGIN"),
                ("repo_id", "51515151", "VERCEL_GIT_REPO_ID"),
                (
                    "repo_name",
                    "acme/web",
                    "VERCEL_GIT_REPO_OWNER, VERCEL_GIT_REPO_SLUG",
                ),
            ],
            context: &[
                ("pipeline_url", "https://web-k2j4h5g6f.vercel.app"),
                ("branch", "staging"),
                ("environment", "staging"),
            ],
        },
    );
}

#[test]
fn render_through_the_binary() {
    check(
        "render/deploy.env",
        &["--status", "ok"],
        &Expect {
            provider: "render",
            lines: &[
                (
                    "job_id",
                    "srv-cq8o1a2j1k3c73b0abcd-7d9f8b6c5-x2x4z",
                    "RENDER_INSTANCE_ID",
                ),
                (
                    "commit_sha",
                    "6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
                    "RENDER_GIT_COMMIT",
                ),
                ("repo_name", "acme/web-api", "RENDER_GIT_REPO_SLUG"),
            ],
            context: &[("branch", "main"), ("workflow", "web-api")],
        },
    );
}

/// Heroku CI names no repository either.
#[test]
fn heroku_ci_through_the_binary() {
    check(
        "heroku/ci.env",
        &["--status", "ok", "--repo-name", "acme/web"],
        &Expect {
            provider: "heroku",
            lines: &[
                (
                    "job_id",
                    "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
                    "HEROKU_TEST_RUN_ID",
                ),
                (
                    "commit_sha",
                    "7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a",
                    "HEROKU_TEST_RUN_COMMIT_VERSION",
                ),
                ("repo_name", "acme/web", "--repo-name"),
            ],
            context: &[("branch", "main")],
        },
    );
}

/// Heroku never names the repository (a slug has no `.git`): `--repo-name` stands in.
#[test]
fn heroku_release_phase_with_dyno_metadata() {
    check(
        "heroku/release.env",
        &["--status", "ok", "--repo-name", "acme/web"],
        &Expect {
            provider: "heroku",
            lines: &[
                ("repo_name", "acme/web", "--repo-name"),
                (
                    "job_id",
                    "acme-web-v42",
                    "HEROKU_APP_NAME, HEROKU_RELEASE_VERSION",
                ),
                (
                    "commit_sha",
                    "8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b",
                    "HEROKU_SLUG_COMMIT",
                ),
                (
                    "job_start_time",
                    "1717228842 (2024-06-01T08:00:42Z)",
                    "HEROKU_RELEASE_CREATED_AT",
                ),
            ],
            context: &[("workflow", "acme-web")],
        },
    );
}

/// Without dyno metadata only the commit is known.
#[test]
fn heroku_release_phase_without_metadata() {
    check(
        "heroku/release_without_metadata.env",
        &[
            "--status",
            "ok",
            "--job-start-time",
            "2024-06-01T08:00:00Z",
            "--repo-name",
            "acme/web",
        ],
        &Expect {
            provider: "heroku",
            lines: &[
                ("repo_name", "acme/web", "--repo-name"),
                (
                    "job_id",
                    "9b0c1d2e3f4a-1717228800",
                    "commit_sha, job_start_time",
                ),
                (
                    "commit_sha",
                    "9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c",
                    "SOURCE_VERSION",
                ),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "--job-start-time",
                ),
            ],
            context: &[],
        },
    );
}

#[test]
fn semaphore_promotion_epilogue_job_scope() {
    check(
        "semaphore/promotion.env",
        &["--scope", "job"],
        &Expect {
            provider: "semaphore",
            lines: &[
                (
                    "job_id",
                    "a26d42cf-89ac-4c3f-9e2d-51bb231897bf",
                    "SEMAPHORE_JOB_ID",
                ),
                ("status", "Succeeded", "SEMAPHORE_JOB_RESULT"),
                (
                    "commit_sha",
                    "5c84719708b9b649b9ef3b56af214f38cee6acde",
                    "SEMAPHORE_GIT_SHA",
                ),
                ("triggered_by", "jane", "SEMAPHORE_PIPELINE_PROMOTED_BY"),
                ("repo_name", "acme/web", "SEMAPHORE_GIT_REPO_SLUG"),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "SEMAPHORE_JOB_CREATION_TIME",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://acme.semaphoreci.com/workflows/65ba7b3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                ),
                (
                    "job_url",
                    "https://acme.semaphoreci.com/jobs/a26d42cf-89ac-4c3f-9e2d-51bb231897bf",
                ),
                ("branch", "main"),
            ],
        },
    );
}

#[test]
fn semaphore_after_pipeline() {
    check(
        "semaphore/after_pipeline.env",
        &[],
        &Expect {
            provider: "semaphore",
            lines: &[
                (
                    "job_id",
                    "75cb8c4f-2d3e-4f60-9bac-1d2e3f4a5b6c",
                    "SEMAPHORE_WORKFLOW_ID",
                ),
                ("status", "Failed", "SEMAPHORE_PIPELINE_RESULT"),
                (
                    "commit_sha",
                    "1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e",
                    "SEMAPHORE_GIT_SHA",
                ),
                ("triggered_by", "octocat", "SEMAPHORE_WORKFLOW_TRIGGERED_BY"),
                ("repo_name", "acme/web", "SEMAPHORE_GIT_REPO_SLUG"),
                (
                    "job_start_time",
                    "1717229005 (2024-06-01T08:03:25Z)",
                    "SEMAPHORE_PIPELINE_STARTED_AT",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://acme.semaphoreci.com/workflows/75cb8c4f-2d3e-4f60-9bac-1d2e3f4a5b6c",
                ),
                (
                    "job_url",
                    "https://acme.semaphoreci.com/jobs/b37e53d0-9abd-4d50-af3e-62cc342908c0",
                ),
                ("branch", "feature/login"),
            ],
        },
    );
}

#[test]
fn vela_push_job_scope_starts_with_the_step() {
    check(
        "vela/push.env",
        &["--status", "ok", "--scope", "job"],
        &Expect {
            provider: "vela",
            lines: &[
                (
                    "job_id",
                    "octocat/hello-world#1",
                    "VELA_REPO_FULL_NAME, VELA_BUILD_NUMBER",
                ),
                (
                    "commit_sha",
                    "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
                    "VELA_BUILD_COMMIT",
                ),
                ("triggered_by", "NealColeman", "VELA_BUILD_SENDER"),
                ("repo_name", "octocat/hello-world", "VELA_REPO_FULL_NAME"),
                (
                    "job_start_time",
                    "1556730042 (2019-05-01T17:00:42Z)",
                    "VELA_STEP_STARTED",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://vela.example.com/octocat/hello-world/1",
                ),
                ("branch", "main"),
                ("trigger_event", "push"),
            ],
        },
    );
}

#[test]
fn vela_deployment() {
    check(
        "vela/deployment.env",
        &[],
        &Expect {
            provider: "vela",
            lines: &[
                (
                    "job_id",
                    "acme/web#12",
                    "VELA_REPO_FULL_NAME, VELA_BUILD_NUMBER",
                ),
                ("status", "Failed", "VELA_BUILD_STATUS"),
                (
                    "commit_sha",
                    "2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f",
                    "VELA_BUILD_COMMIT",
                ),
                ("triggered_by", "jane", "VELA_BUILD_SENDER"),
                ("repo_name", "acme/web", "VELA_REPO_FULL_NAME"),
                (
                    "job_start_time",
                    "1717228800 (2024-06-01T08:00:00Z)",
                    "VELA_BUILD_STARTED",
                ),
            ],
            context: &[
                ("pipeline_url", "https://vela.example.com/acme/web/12"),
                ("branch", "main"),
                ("environment", "production"),
                ("trigger_event", "deployment"),
            ],
        },
    );
}

/// Harness sets `DRONE=true`, and is still reported as Harness.
#[test]
fn harness_is_not_drone_through_the_binary() {
    check(
        "harness/push.env",
        &["--scope", "job"],
        &Expect {
            provider: "harness",
            lines: &[
                (
                    "job_id",
                    "Zb4a9yQeS2uM3oXw1cD7Fg-deploy",
                    "HARNESS_EXECUTION_ID, HARNESS_STAGE_ID",
                ),
                ("status", "Succeeded", "DRONE_BUILD_STATUS"),
                (
                    "commit_sha",
                    "3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a",
                    "DRONE_COMMIT_SHA",
                ),
                (
                    "triggered_by",
                    "mona@example.com",
                    "DRONE_COMMIT_AUTHOR_EMAIL",
                ),
                ("repo_name", "acme/web", "DRONE_REPO"),
                (
                    "job_start_time",
                    "1717228860 (2024-06-01T08:01:00Z)",
                    "DRONE_STAGE_STARTED",
                ),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://app.harness.io/ng/account/kmpySmUISimoRrJL6NL73w/ci/orgs/default/projects/web/pipelines/web_release/executions/Zb4a9yQeS2uM3oXw1cD7Fg/pipeline",
                ),
                ("branch", "main"),
                ("workflow", "web_release"),
                ("trigger_event", "push"),
            ],
        },
    );
}

#[test]
fn screwdriver_event_and_build() {
    check(
        "screwdriver/main.env",
        &["--status", "ok"],
        &Expect {
            provider: "screwdriver",
            lines: &[
                ("job_id", "1234", "SD_EVENT_ID"),
                (
                    "commit_sha",
                    "b5a94cdabf23b21303a0e6d5be5e96bd6300847a",
                    "SD_BUILD_SHA",
                ),
                ("repo_name", "d2lam/myPipeline", "SD_PIPELINE_NAME"),
            ],
            context: &[
                (
                    "job_url",
                    "https://cd.screwdriver.cd/pipelines/259/builds/173",
                ),
                ("branch", "main"),
                ("workflow", "main"),
            ],
        },
    );
}

#[test]
fn codeship_through_the_binary() {
    check(
        "codeship/basic.env",
        &["--status", "ok"],
        &Expect {
            provider: "codeship",
            lines: &[
                (
                    "job_id",
                    "OndraM/ci-detector#17594878",
                    "CI_REPO_NAME, CI_BUILD_NUMBER",
                ),
                (
                    "commit_sha",
                    "26e646685c1e625939f6b2de0e5f30b59cc34d60",
                    "CI_COMMIT_ID",
                ),
                ("triggered_by", "ondrej@example.com", "CI_COMMITTER_EMAIL"),
                ("repo_name", "OndraM/ci-detector", "CI_REPO_NAME"),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://app.codeship.com/projects/169447/builds/17594878",
                ),
                ("branch", "main"),
            ],
        },
    );
}

#[test]
fn jetbrains_space_through_the_binary() {
    check(
        "jetbrains-space/push.env",
        &["--status", "ok"],
        &Expect {
            provider: "jetbrains-space",
            lines: &[
                (
                    "job_id",
                    "ACME-31",
                    "JB_SPACE_PROJECT_KEY, JB_SPACE_EXECUTION_NUMBER",
                ),
                (
                    "commit_sha",
                    "4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b",
                    "JB_SPACE_GIT_REVISION",
                ),
                (
                    "repo_name",
                    "acme/web",
                    "JB_SPACE_PROJECT_KEY, JB_SPACE_GIT_REPOSITORY_NAME",
                ),
            ],
            context: &[("branch", "main")],
        },
    );
}

#[test]
fn scrutinizer_through_the_binary() {
    check(
        "scrutinizer/inspection.env",
        &["--status", "ok"],
        &Expect {
            provider: "scrutinizer",
            lines: &[
                (
                    "job_id",
                    "8b4f7c21-3d5e-4a6b-9c0d-1e2f3a4b5c6d",
                    "SCRUTINIZER_INSPECTION_UUID",
                ),
                (
                    "commit_sha",
                    "5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c",
                    "SCRUTINIZER_SHA1",
                ),
                ("repo_name", "acme/web", "SCRUTINIZER_PROJECT"),
            ],
            context: &[
                (
                    "pipeline_url",
                    "https://scrutinizer-ci.com/g/acme/web/inspections/8b4f7c21-3d5e-4a6b-9c0d-1e2f3a4b5c6d",
                ),
                ("branch", "main"),
            ],
        },
    );
}
