//! `report`: the payload, every contract rule, precedence, status words, dry run.

use serde_json::json;

use crate::support::{Reply, Repo, SHA, Server, TOKEN, tool};

fn base_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ALLSTACKS_COMMIT_SHA", SHA),
        ("ALLSTACKS_REPO_ID", "12345"),
        ("ALLSTACKS_JOB_ID", "1"),
        ("ALLSTACKS_JOB_START_TIME", "1704018030"),
        ("ALLSTACKS_JOB_DURATION", "300"),
    ]
}

#[test]
fn posts_the_exact_payload_with_headers() {
    let server = Server::start(vec![Reply::status(201).body(r#"{"id": 9}"#)]);
    let out = tool(&[
        "report",
        "--status",
        "success",
        "--triggered-by",
        "testuser@org.com",
        "--job-type",
        "Production Deploy",
        "--field",
        "microservice=frontend",
        "--field",
        "microservice=backend",
        "--field",
        "lead_time:duration=20s",
        "--field",
        "float_key:float=20.5",
        "--field",
        "qa_approved_on:timestamp=2023-12-31T10:20:30Z",
        "--field",
        "replicas:integer=3",
    ])
    .server(&server)
    .envs(&base_env())
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout, "",
        "stdout stays empty without --dry-run/--output"
    );
    let req = server.only();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/webhook/company/42/cicd_job");
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.header("user-agent"),
        Some(concat!("allstacks-cd/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(
        req.json(),
        json!({
            "job_id": "1",
            "status": "Succeeded",
            "commit_sha": SHA,
            "triggered_by": "testuser@org.com",
            "repo_id": "12345",
            "service_id": 7,
            "job_start_time": 1704018030,
            "job_duration": 300,
            "job_type": "Production Deploy",
            "optional": [
                {"key": "microservice", "value": ["frontend", "backend"], "type": "string"},
                {"key": "lead_time", "value": 20, "type": "duration"},
                {"key": "float_key", "value": 20.5, "type": "float"},
                {"key": "qa_approved_on", "value": 1704018030, "type": "timestamp"},
                {"key": "replicas", "value": 3, "type": "integer"}
            ]
        })
    );
    assert!(
        out.stderr
            .contains("reported job 1 (Succeeded, from --status)"),
        "{}",
        out.stderr
    );
}

#[test]
fn dry_run_in_a_checkout_needs_only_a_service_id_and_status() {
    let repo = Repo::new("sha1");
    repo.git(&["remote", "add", "origin", "https://github.com/acme/web.git"]);
    let out = tool(&["report", "--dry-run", "--status", "success"])
        .env("ALLSTACKS_SERVICE_ID", "1")
        .dir(repo.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let payload = out.json();
    let head = repo.head();
    assert_eq!(payload["commit_sha"], json!(head));
    assert_eq!(payload["repo_name"], json!("acme/web"));
    assert_eq!(payload["triggered_by"], json!("dev@example.com"));
    assert_eq!(payload["status"], json!("Succeeded"));
    assert_eq!(payload["service_id"], json!(1));
    assert_eq!(payload["job_duration"], json!(0));
    let start = payload["job_start_time"].as_i64().expect("start");
    assert_eq!(payload["job_id"], json!(format!("{}-{start}", &head[..12])));
    assert!(
        payload.get("optional").is_none(),
        "no context fields outside CI"
    );
    // Provenance on stderr.
    for line in [
        format!("commit_sha      {head}  git HEAD"),
        "repo_name       acme/web  git remote origin".to_string(),
        "triggered_by    dev@example.com  git config user.email".to_string(),
        "service_id      1  ALLSTACKS_SERVICE_ID".to_string(),
        "status          Succeeded  --status".to_string(),
    ] {
        assert!(
            out.stderr.contains(&line),
            "missing {line:?} in:\n{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains("url is required"), "{}", out.stderr);
}

#[test]
fn flags_beat_variables() {
    let out = tool(&[
        "report",
        "--dry-run",
        "--service-id",
        "9",
        "--job-id",
        "flag",
    ])
    .envs(&base_env())
    .envs(&[
        ("ALLSTACKS_SERVICE_ID", "7"),
        ("ALLSTACKS_STATUS", "failed"),
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = out.json();
    assert_eq!(p["service_id"], json!(9));
    assert_eq!(p["job_id"], json!("flag"));
    assert_eq!(p["status"], json!("Failed"));
    assert!(out.stderr.contains("ALLSTACKS_STATUS"), "{}", out.stderr);
}

#[test]
fn empty_variables_count_as_unset() {
    let out = tool(&["report", "--dry-run", "--status", "ok"])
        .envs(&base_env())
        .envs(&[
            ("ALLSTACKS_SERVICE_ID", "3"),
            ("ALLSTACKS_JOB_TYPE", ""),
            ("ALLSTACKS_TRIGGERED_BY", ""),
        ])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = out.json();
    assert!(p.get("job_type").is_none());
    assert!(
        p.get("triggered_by").is_some(),
        "falls back to the OS user: {p}"
    );
    assert_eq!(p["triggered_by"], json!("tester"));
}

/// Every invalid input: exit 2 under --strict, a message naming field, rule and source, and
/// nothing sent.
#[test]
fn invalid_input_is_rejected_before_sending() {
    // (flags, variables, expected message)
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![],
            vec![("ALLSTACKS_COMMIT_SHA", "xyz")],
            "commit_sha must be a full 40- or 64-character hex SHA, got \"xyz\" (from ALLSTACKS_COMMIT_SHA)",
        ),
        (
            vec!["--commit-sha", "a2e7da86"],
            vec![],
            "(from --commit-sha)",
        ),
        (
            vec![],
            vec![("ALLSTACKS_SERVICE_ID", "abc")],
            "service_id must be a positive integer, got \"abc\" (from ALLSTACKS_SERVICE_ID)",
        ),
        (
            vec!["--status", "maybe"],
            vec![],
            "status \"maybe\" (from --status) is not a known status word; accepted: succeeded",
        ),
        (
            vec!["--job-duration", "5 minutes"],
            vec![],
            "job_duration: expected whole seconds or a duration such as 90s, 20m or 1h30m, got \"5 minutes\" (from --job-duration)",
        ),
        (
            vec![],
            vec![("ALLSTACKS_JOB_START_TIME", "yesterday")],
            "job_start_time: expected epoch seconds or an RFC 3339 time",
        ),
        (
            vec!["--field", "n:integer=1.5"],
            vec![],
            "optional field \"n\" of type integer (from --field): expected an integer, got \"1.5\"",
        ),
        (vec!["--field", "n:bool=1"], vec![], "unknown type \"bool\""),
        (
            vec!["--field", "n=a", "--field", "n:integer=1"],
            vec![],
            "is given two types",
        ),
        (
            vec![
                "--fields-json",
                r#"[{"key":"d","value":"1h","type":"duration"}]"#,
            ],
            vec![],
            "optional field \"d\" (element 1 of --fields-json): a duration value must be a whole number of seconds",
        ),
        (
            vec!["--field", "k=1"],
            vec![(
                "ALLSTACKS_FIELDS_JSON",
                r#"[{"key":"k","value":"2","type":"string"}]"#,
            )],
            "optional field \"k\" is set both in --field and in element 1 of ALLSTACKS_FIELDS_JSON",
        ),
        (
            vec![],
            vec![("ALLSTACKS_SCOPE", "stage")],
            "scope must be job or pipeline, got \"stage\" (from ALLSTACKS_SCOPE)",
        ),
        (
            vec!["--timeout", "soon"],
            vec![],
            "timeout must be a number of seconds",
        ),
    ];
    for (args, envs, want) in cases {
        let server = Server::start(vec![Reply::status(201)]);
        let mut argv = vec!["report", "--strict"];
        if !args.contains(&"--status") {
            argv.extend(["--status", "success"]);
        }
        argv.extend(args.iter().copied());
        let out = tool(&argv)
            .server(&server)
            .envs(&base_env())
            .envs(&envs)
            .run();
        assert_eq!(out.code, 2, "{args:?} {envs:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(want),
            "{args:?} {envs:?}: want {want:?} in\n{}",
            out.stderr
        );
        assert_eq!(server.received().len(), 0, "{args:?}: nothing may be sent");
    }
}

#[test]
fn invalid_input_without_strict_warns_and_exits_0() {
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["report", "--status", "success", "--service-id", "x"])
        .server(&server)
        .envs(&base_env())
        .run();
    assert_eq!(out.code, 0);
    assert!(
        out.stderr
            .contains("warning: not reported: service_id must be a positive integer"),
        "{}",
        out.stderr
    );
    assert_eq!(server.received().len(), 0);
    let dry = tool(&[
        "report",
        "--dry-run",
        "--status",
        "success",
        "--service-id",
        "x",
    ])
    .envs(&base_env())
    .run();
    assert_eq!(dry.code, 2, "--dry-run makes invalid input exit 2");
    assert_eq!(dry.stdout, "");
}

#[test]
fn field_limits() {
    let fields: Vec<String> = (0..21)
        .flat_map(|i| ["--field".to_string(), format!("k{i}=v")])
        .collect();
    let mut argv = vec!["report", "--dry-run", "--status", "ok", "--service-id", "1"];
    argv.extend(fields.iter().map(String::as_str));
    let out = tool(&argv).envs(&base_env()).run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("21 optional fields given"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("at most 20"), "{}", out.stderr);

    let values: String = (0..21).map(|i| format!("tags=v{i}\n")).collect();
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .envs(&base_env())
        .env("ALLSTACKS_FIELDS", &values)
        .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("optional field \"tags\" (from ALLSTACKS_FIELDS line 1) has 21 values"),
        "{}",
        out.stderr
    );

    // 20 fields and 20 values are fine.
    let values: String = (0..20).map(|i| format!("tags=v{i}\n")).collect();
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .envs(&base_env())
        .env("ALLSTACKS_FIELDS", &values)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json()["optional"][0]["value"].as_array().map(Vec::len),
        Some(20)
    );
}

#[test]
fn fields_from_variable_and_json_are_combined() {
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .envs(&base_env())
        .env("ALLSTACKS_FIELDS", "team=payments\n\nrisk:integer=2\n")
        .env(
            "ALLSTACKS_FIELDS_JSON",
            r#"[{"key":"approved","value":[1704018030],"type":"timestamp"}]"#,
        )
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json()["optional"],
        json!([
            {"key": "team", "value": "payments", "type": "string"},
            {"key": "risk", "value": 2, "type": "integer"},
            {"key": "approved", "value": 1704018030, "type": "timestamp"}
        ])
    );
}

#[test]
fn status_words_and_cancelled_as() {
    let cases = [
        (vec!["--status", "SUCCESS"], Some("Succeeded")),
        (vec!["--status", "timed_out"], Some("Failed")),
        (vec!["--status", "Waiting For Resource"], Some("On Hold")),
        (vec!["--status", "0"], Some("Succeeded")),
        (vec!["--status", "2"], Some("Failed")),
        (vec!["--status", "cancelled"], Some("Failed")),
        (
            vec!["--status", "aborted", "--cancelled-as", "on-hold"],
            Some("On Hold"),
        ),
        (vec!["--status", "canceled", "--cancelled-as", "skip"], None),
        (vec!["--status", "skipped"], None),
        (
            vec![
                "--needs-json",
                r#"{"a":{"result":"success"},"b":{"result":"failure"}}"#,
            ],
            Some("Failed"),
        ),
        (vec!["--needs-json", r#"{"a":{"result":"skipped"}}"#], None),
    ];
    for (args, want) in cases {
        let server = Server::start(vec![Reply::status(201)]);
        let mut argv = vec!["report"];
        argv.extend(args.iter().copied());
        let out = tool(&argv).server(&server).envs(&base_env()).run();
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        match want {
            Some(status) => assert_eq!(server.only().json()["status"], json!(status), "{args:?}"),
            None => {
                assert_eq!(
                    server.received().len(),
                    0,
                    "{args:?}: skipped sends nothing"
                );
                assert!(out.stderr.contains("nothing is sent"), "{}", out.stderr);
            }
        }
    }
}

#[test]
fn missing_status_asks_for_it() {
    let out = tool(&["report", "--dry-run", "--service-id", "1"])
        .envs(&base_env())
        .run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("status is required: pass --status"),
        "{}",
        out.stderr
    );
}

#[test]
fn missing_repo_and_commit_are_explained() {
    let out = tool(&["report", "--dry-run", "--service-id", "1", "--status", "ok"]).run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("commit_sha is required"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("repo_id or repo_name is required"),
        "{}",
        out.stderr
    );
}

#[test]
fn short_sha_and_ref_names_resolve_through_git() {
    let repo = Repo::new("sha1");
    let head = repo.head();
    for spec in [&head[..8], "main", "HEAD"] {
        let out = tool(&[
            "report",
            "--dry-run",
            "--service-id",
            "1",
            "--status",
            "ok",
            "--repo-name",
            "a/b",
        ])
        .env("ALLSTACKS_COMMIT_SHA", spec)
        .dir(repo.path())
        .run();
        assert_eq!(out.code, 0, "{spec}: {}", out.stderr);
        assert_eq!(out.json()["commit_sha"], json!(head), "{spec}");
        assert!(
            out.stderr.contains("resolved through git"),
            "{}",
            out.stderr
        );
    }
    let upper = SHA.to_ascii_uppercase();
    let out = tool(&[
        "report",
        "--dry-run",
        "--service-id",
        "1",
        "--status",
        "ok",
        "--repo-name",
        "a/b",
        "--commit-sha",
        &upper,
    ])
    .run();
    assert_eq!(out.json()["commit_sha"], json!(SHA), "sent lowercase");
}

#[test]
fn output_json_prints_one_line_result() {
    let server = Server::start(vec![Reply::status(202)]);
    let out = tool(&["report", "--status", "ok", "--output", "json"])
        .server(&server)
        .envs(&base_env())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json(),
        json!({"job_id": "1", "status": "Succeeded", "delivered": true, "attempts": 1, "http_status": 202})
    );
}

#[test]
fn a_url_with_the_webhook_path_needs_no_company_id() {
    let server = Server::start(vec![Reply::status(201)]);
    let url = format!("{}/webhook/company/77/cicd_job", server.url());
    let out = tool(&["report", "--status", "ok", "--service-id", "1"])
        .envs(&base_env())
        .envs(&[("ALLSTACKS_URL", &url), ("ALLSTACKS_TOKEN", TOKEN)])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.only().path, "/webhook/company/77/cicd_job");
}

#[test]
fn plain_http_to_another_host_is_refused_before_connecting() {
    let out = tool(&["report", "--status", "ok", "--service-id", "1", "--strict"])
        .envs(&base_env())
        .envs(&[
            ("ALLSTACKS_URL", "http://allstacks.invalid"),
            ("ALLSTACKS_COMPANY_ID", "1"),
            ("ALLSTACKS_TOKEN", TOKEN),
        ])
        .run();
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("plain http://"), "{}", out.stderr);
    assert!(out.stderr.contains("--allow-http"), "{}", out.stderr);
    assert!(!out.stderr.contains("could not connect"), "{}", out.stderr);
}

#[test]
fn github_outputs_summary_and_mask() {
    let dir = tempfile::tempdir().expect("tmp");
    let output = dir.path().join("output");
    let summary = dir.path().join("summary");
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["report", "--status", "success"])
        .server(&server)
        .envs(&base_env())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The mask comes first, on stderr (the runner reads both streams).
    assert!(
        out.stderr.starts_with(&format!("::add-mask::{TOKEN}\n")),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr.matches(TOKEN).count(),
        1,
        "only the mask line carries it"
    );
    let text = std::fs::read_to_string(&output).expect("GITHUB_OUTPUT written");
    assert!(
        text.contains("job-id<<EOF_allstacks_cd\n1\nEOF_allstacks_cd\n"),
        "{text}"
    );
    assert!(
        text.contains("status<<EOF_allstacks_cd\nSucceeded\n"),
        "{text}"
    );
    assert!(text.contains(r#""service_id":7"#), "{text}");
    let md = std::fs::read_to_string(&summary).expect("summary written");
    // Values are shown as code (SPEC.md, Security rules: nothing in them is rendered).
    assert!(md.contains("| status | `Succeeded` |"), "{md}");
    assert!(md.contains("| delivery | `delivered` |"), "{md}");
    assert!(!md.contains(TOKEN));
}

#[test]
fn a_skipped_job_needs_no_connection_settings() {
    let out = tool(&[
        "report", "--strict", "--status", "skipped", "--output", "json",
    ])
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["status"], json!("skipped"));
    assert!(!out.stderr.contains("token is required"), "{}", out.stderr);
}

#[test]
fn dry_run_rejects_a_bad_url_but_only_warns_about_a_missing_one() {
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .envs(&base_env())
        .envs(&[
            ("ALLSTACKS_URL", "http://allstacks.invalid"),
            ("ALLSTACKS_COMPANY_ID", "1"),
        ])
        .run();
    assert_eq!(
        out.code, 2,
        "the plain-http guard is an error: {}",
        out.stderr
    );
    assert!(out.stderr.contains("--allow-http"), "{}", out.stderr);
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .envs(&base_env())
        .envs(&[
            ("ALLSTACKS_URL", "https://allstacks.example.com"),
            ("ALLSTACKS_COMPANY_ID", "a/b"),
        ])
        .run();
    assert_eq!(
        out.code, 2,
        "a malformed company id is an error: {}",
        out.stderr
    );
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .envs(&base_env())
        .env("ALLSTACKS_URL", "https://allstacks.example.com")
        .run();
    assert_eq!(
        out.code, 0,
        "a missing company id is a warning: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("company id is required"),
        "{}",
        out.stderr
    );
}
