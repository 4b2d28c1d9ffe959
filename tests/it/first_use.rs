//! A new user's first hour (spec: first use, §1 and §3): `--dry-run` is never stopped by a
//! missing connection setting; `run` always runs the deploy, whatever its reporting flags say,
//! unless `--strict` finds the settings broken before it starts; a deploy ended by SIGINT or
//! SIGTERM is cancelled; an unknown value is a usage error; a connection failure names the host
//! and port; `--environments` matches an environment a script gives.

use serde_json::{Value, json};

use crate::support::{Output, Received, Reply, ReservedPort, SHA, Server, TOKEN, signal, tool};

/// Arguments, variables, and what they should give.
type Case<'a, T> = (&'a [&'a str], &'a [(&'a str, &'a str)], T);

/// A job complete but for its connection.
fn job() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ALLSTACKS_SERVICE_ID", "7"),
        ("ALLSTACKS_COMMIT_SHA", SHA),
        ("ALLSTACKS_REPO_NAME", "acme/web"),
        ("ALLSTACKS_JOB_ID", "j-1"),
        ("ALLSTACKS_JOB_START_TIME", "1704018030"),
        ("ALLSTACKS_STATUS", "success"),
        ("ALLSTACKS_NO_CONTEXT", "true"),
    ]
}

fn statuses(received: &[Received]) -> Vec<Value> {
    received
        .iter()
        .map(|r| r.json()["status"].clone())
        .collect()
}

#[test]
fn dry_run_prints_the_payload_whatever_connection_setting_is_missing() {
    let partial: [&[(&str, &str)]; 5] = [
        &[],
        &[("ALLSTACKS_COMPANY_ID", "42")],
        &[("ALLSTACKS_COMPANY_ID", "42"), ("ALLSTACKS_TOKEN", TOKEN)],
        &[("ALLSTACKS_URL", "https://allstacks.example.com")],
        &[("ALLSTACKS_TOKEN", TOKEN)],
    ];
    for given in partial {
        for argv in [
            &["report", "--dry-run"][..],
            &["run", "--dry-run", "--", "true"],
        ] {
            let out = tool(argv).envs(&job()).envs(given).run();
            assert_eq!(out.code, 0, "{argv:?} {given:?}:\n{}", out.stderr);
            assert_eq!(out.json()["job_id"], json!("j-1"), "{argv:?} {given:?}");
            assert!(
                out.stderr.contains("(nothing is sent with --dry-run)"),
                "{argv:?} {given:?}: the missing setting is a warning:\n{}",
                out.stderr
            );
            assert!(!out.stderr.contains("error:"), "{}", out.stderr);
        }
    }
}

#[test]
fn dry_run_still_refuses_an_invalid_connection_value() {
    let cases = [
        ("ALLSTACKS_URL", "not a url", "is not a valid URL"),
        (
            "ALLSTACKS_COMPANY_ID",
            "4/2",
            "company id must be letters, digits, - or _, got \"4/2\" (from ALLSTACKS_COMPANY_ID)",
        ),
    ];
    for (var, value, want) in cases {
        let out = tool(&["report", "--dry-run"])
            .envs(&job())
            .env(var, value)
            .run();
        assert_eq!(out.code, 2, "{var}={value}: {}", out.stderr);
        assert!(out.stdout.is_empty(), "no payload for an invalid {var}");
        assert!(out.stderr.contains(want), "{var}: {}", out.stderr);
    }
}

#[test]
fn an_unknown_value_is_a_usage_error_like_an_unknown_flag() {
    let server = Server::start(vec![Reply::status(201)]);
    let cases: [&[&str]; 8] = [
        &["report", "--scope", "foo"],
        &["report", "--output", "yaml"],
        &["report", "--cancelled-as", "maybe"],
        &["flush", "--output", "yaml"],
        &["check", "--scope", "foo"],
        &["backfill", "git-tags", "--output", "yaml"],
        &["backfill", "git-tags", "--cancelled-as", "maybe"],
        &["backfill", "git-tags", "--dry-run", "--output", "yaml"],
    ];
    for argv in cases {
        let out = tool(argv).server(&server).envs(&job()).run();
        assert_eq!(out.code, 2, "{argv:?}: {}", out.stderr);
        let value = argv.last().expect("value");
        assert!(
            out.stderr.contains(&format!(
                "error: invalid value '{value}' for '{}",
                argv[argv.len() - 2]
            )),
            "{argv:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("[possible values: "), "{}", out.stderr);
    }
    let out = tool(&["report", "--servce-id", "7"]).run();
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("tip: a similar argument exists: '--service-id'"),
        "{}",
        out.stderr
    );
    assert!(
        server.received().is_empty(),
        "nothing is sent on a usage error"
    );
    // The spellings the variables take are accepted as flags too.
    let out = tool(&[
        "report",
        "--status",
        "cancelled",
        "--cancelled-as",
        "On Hold",
        "--scope",
        "JOB",
        "--output",
        "JSON",
    ])
    .server(&server)
    .envs(&job())
    .env_remove("ALLSTACKS_STATUS")
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(statuses(&server.received()), [json!("On Hold")]);
    assert_eq!(
        serde_json::from_str::<Value>(&out.stdout).expect("--output JSON")["delivered"],
        json!(true)
    );
}

/// `sh -c` that leaves `mark`, then exits with `code`.
fn deploy(mark: &std::path::Path, code: i32) -> String {
    format!("touch '{}'; exit {code}", mark.display())
}

#[test]
fn run_runs_the_deploy_despite_a_mistyped_flag_and_exits_with_its_code() {
    let dir = tempfile::tempdir().expect("tmp");
    let mark = dir.path().join("ran");
    let script = deploy(&mark, 3);
    for argv in [
        vec!["run", "--servce-id", "9", "--", "sh", "-c", &script],
        vec!["run", "--servce-id", "9", "sh", "-c", &script],
        vec!["run", "--servce-id=9", "sh", "-c", &script],
    ] {
        let server = Server::start(vec![Reply::status(201)]);
        let out = tool(&argv).server(&server).envs(&job()).run();
        assert_eq!(
            out.code, 3,
            "{argv:?}: the command's own code\n{}",
            out.stderr
        );
        assert!(mark.exists(), "{argv:?}: the deploy did not run");
        std::fs::remove_file(&mark).expect("rm mark");
        assert!(
            out.stderr.contains(
                "allstacks-cd: error: unexpected argument '--servce-id' found; tip: a similar \
                 argument exists: '--service-id'; it was left out: the command runs"
            ),
            "{argv:?}: {}",
            out.stderr
        );
        // Reported with what was right: the service id of the variable, not the mistyped flag's.
        let p = server.only().json();
        assert_eq!(
            (&p["status"], &p["service_id"]),
            (&json!("Failed"), &json!(7))
        );
    }
}

#[test]
fn run_without_double_dash_takes_option_values_as_values() {
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&[
        "run",
        "--service-id",
        "9",
        "--job-type",
        "Production Deploy",
        "-v",
        "sh",
        "-c",
        "echo deployed \"$@\"",
        "sh",
        "--status",
        "x",
    ])
    .server(&server)
    .envs(&job())
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Everything from the command on is the command's, options included.
    assert_eq!(out.stdout, "deployed --status x\n");
    let p = server.only().json();
    assert_eq!(p["service_id"], json!(9));
    assert_eq!(p["job_type"], json!("Production Deploy"));
    assert_eq!(p["status"], json!("Succeeded"));
}

#[test]
fn run_runs_the_deploy_despite_unknown_values() {
    let dir = tempfile::tempdir().expect("tmp");
    let mark = dir.path().join("ran");
    let server = Server::start(vec![Reply::status(201)]);
    let script = deploy(&mark, 5);
    let out = tool(&[
        "run",
        "--scope",
        "stage",
        "--cancelled-as",
        "maybe",
        "--",
        "sh",
        "-c",
        &script,
    ])
    .server(&server)
    .envs(&job())
    .run();
    assert_eq!(out.code, 5, "{}", out.stderr);
    assert!(mark.exists(), "the deploy did not run");
    for flag in ["--scope <SCOPE>", "--cancelled-as <AS>"] {
        assert!(
            out.stderr.contains("error: invalid value") && out.stderr.contains(flag),
            "{flag}: {}",
            out.stderr
        );
    }
    assert_eq!(server.only().json()["status"], json!("Failed"));
}

#[test]
fn run_strict_checks_the_settings_before_running_anything() {
    let dir = tempfile::tempdir().expect("tmp");
    let mark = dir.path().join("ran");
    let script = deploy(&mark, 0);
    let server = Server::start(vec![Reply::status(201)]);
    let cases: [Case<&str>; 5] = [
        (
            &["--servce-id", "9"],
            &[],
            "unexpected argument '--servce-id'",
        ),
        (
            &["--scope", "stage"],
            &[],
            "invalid value 'stage' for '--scope",
        ),
        (&[], &[("ALLSTACKS_TOKEN", "")], "token is required"),
        (
            &["--service-id", "abc"],
            &[],
            "service_id must be a positive integer, got \"abc\" (from --service-id)",
        ),
        (
            &[],
            &[("ALLSTACKS_URL", "http://allstacks.example.com")],
            "uses plain http://",
        ),
    ];
    for (flags, envs, want) in cases {
        for strict in [&["--strict"][..], &[]] {
            let mut argv = vec!["run"];
            argv.extend_from_slice(strict);
            argv.extend_from_slice(flags);
            argv.extend(["--", "sh", "-c", &script]);
            let out = tool(&argv)
                .server(&server)
                .envs(&job())
                .envs(envs)
                .env(
                    "ALLSTACKS_STRICT",
                    if strict.is_empty() { "true" } else { "" },
                )
                .run();
            assert_eq!(out.code, 2, "{argv:?} {envs:?}: {}", out.stderr);
            assert!(!mark.exists(), "{argv:?} {envs:?}: the command ran");
            assert!(out.stderr.contains(want), "{argv:?}: {}", out.stderr);
        }
    }
    assert!(server.received().is_empty());
    // Settings that are right: the command runs and is reported.
    let out = tool(&["run", "--strict", "--", "sh", "-c", &script])
        .server(&server)
        .envs(&job())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(mark.exists());
    assert_eq!(server.only().json()["status"], json!("Succeeded"));
}

/// `run ARGS -- sh` whose shell becomes `sleep` and is sent `sig` by the test: to the process
/// itself, or (`group`) to the process group of `allstacks-cd` and its command, as CI runners
/// cancel a step. Returns the output and what the server received.
fn cancelled(sig: i32, args: &[&str], group: bool) -> (Output, Vec<Received>) {
    let dir = tempfile::tempdir().expect("tmp");
    let pid_file = dir.path().join("pid");
    let script = format!(
        "echo $$ > '{p}.tmp' && mv '{p}.tmp' '{p}' && exec sleep 30",
        p = pid_file.display()
    );
    let mut argv = vec!["run"];
    argv.extend_from_slice(args);
    argv.extend(["--", "sh", "-c", &script]);
    let server = Server::start(vec![Reply::status(201)]);
    let mut sent = false;
    let mut tool = tool(&argv).server(&server).envs(&job());
    if group {
        tool = tool.own_group();
    }
    let out = tool.run_with(|ours| {
        let Ok(text) = std::fs::read_to_string(&pid_file) else {
            return;
        };
        if !sent {
            let child: i32 = text.trim().parse().expect("pid");
            signal(if group { -(ours as i32) } else { child }, sig);
            sent = true;
        }
    });
    assert!(sent, "the command never started: {}", out.stderr);
    (out, server.received())
}

#[test]
fn a_deploy_ended_by_sigterm_or_sigint_is_cancelled() {
    let cases = [
        (
            libc::SIGTERM,
            &["--cancelled-as", "on-hold"][..],
            vec![json!("On Hold")],
        ),
        (
            libc::SIGINT,
            &["--cancelled-as", "on-hold"][..],
            vec![json!("On Hold")],
        ),
        // Today's rule for a cancelled job: Failed.
        (libc::SIGTERM, &[][..], vec![json!("Failed")]),
        (libc::SIGINT, &["--cancelled-as", "skip"][..], vec![]),
        // Other signals are failures, whatever --cancelled-as says.
        (
            libc::SIGKILL,
            &["--cancelled-as", "on-hold"][..],
            vec![json!("Failed")],
        ),
        (
            libc::SIGHUP,
            &["--cancelled-as", "on-hold"][..],
            vec![json!("Failed")],
        ),
    ];
    for (sig, args, want) in cases {
        let (out, received) = cancelled(sig, args, false);
        assert_eq!(out.code, 128 + sig, "signal {sig} {args:?}: {}", out.stderr);
        assert_eq!(
            statuses(&received),
            want,
            "signal {sig} {args:?}: {}",
            out.stderr
        );
    }
    let (out, received) = cancelled(libc::SIGTERM, &["-v", "--cancelled-as", "skip"], false);
    assert!(received.is_empty());
    assert!(
        out.stderr
            .contains("(from signal 15 of sh): nothing is sent"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_cancel_sent_to_the_whole_step_is_reported_as_cancelled() {
    let (out, received) = cancelled(libc::SIGTERM, &["--cancelled-as", "on-hold"], true);
    assert_eq!(out.code, 143, "{}", out.stderr);
    assert_eq!(statuses(&received), [json!("On Hold")], "{}", out.stderr);
}

#[test]
fn a_connection_failure_names_the_host_and_port_but_not_the_path() {
    let port = ReservedPort::new();
    let out = tool(&["report", "--retries", "0"])
        .endpoint(&port.url())
        .envs(&job())
        .run();
    assert_eq!(out.code, 0, "soft by default: {}", out.stderr);
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("could not report job"))
        .unwrap_or_else(|| panic!("no failure line:\n{}", out.stderr));
    assert!(
        line.contains(&format!("could not connect to 127.0.0.1:{}", port.port)),
        "{line}"
    );
    let reason = line.split("; saved to").next().unwrap_or(line);
    assert!(!reason.contains("/webhook/company/"), "{line}");
}

/// A GitLab deploy job to `staging`, with context fields.
fn gitlab_staging() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GITLAB_CI", "true"),
        ("CI_COMMIT_SHA", SHA),
        ("CI_PROJECT_PATH", "acme/web"),
        ("CI_PIPELINE_ID", "77"),
        ("CI_PIPELINE_CREATED_AT", "2024-01-01T10:00:00Z"),
        ("CI_ENVIRONMENT_NAME", "staging"),
        ("ALLSTACKS_SERVICE_ID", "7"),
    ]
}

/// The `environment` optional fields of a payload.
fn environment_fields(p: &Value) -> Vec<Value> {
    p["optional"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|f| f["key"] == "environment")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn environments_match_an_environment_a_script_gives() {
    let field = |v: &str| json!({"key": "environment", "value": v, "type": "string"});
    let cases: [Case<Option<Value>>; 6] = [
        // The CI provider's environment, as before.
        (&[], &[], None),
        (&["--environments", "staging"], &[], Some(field("staging"))),
        // `--environment` replaces the provider's, for the field and the filter.
        (
            &["--environment", "production"],
            &[],
            Some(field("production")),
        ),
        (
            &["--environments", "prod*"],
            &[("ALLSTACKS_ENVIRONMENT", "production")],
            Some(field("production")),
        ),
        // A user field wins over both, as every user field does.
        (
            &[
                "--environments",
                "prod*",
                "--environment",
                "qa",
                "--field",
                "environment=production",
            ],
            &[],
            Some(field("production")),
        ),
        (
            &["--environments", "production"],
            &[("ALLSTACKS_ENVIRONMENT", "qa")],
            None,
        ),
    ];
    for (i, (args, envs, want)) in cases.into_iter().enumerate() {
        let server = Server::start(vec![Reply::status(201)]);
        let mut argv = vec!["report", "--status", "success"];
        argv.extend_from_slice(args);
        let out = tool(&argv)
            .endpoint(&server.url())
            .envs(&gitlab_staging())
            .envs(envs)
            .run();
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        let got = server.received();
        match (i, want) {
            (0, _) => assert_eq!(
                environment_fields(&got[0].json()),
                [field("staging")],
                "{}",
                out.stderr
            ),
            (_, Some(want)) => {
                assert_eq!(got.len(), 1, "{args:?} {envs:?}: {}", out.stderr);
                assert_eq!(environment_fields(&got[0].json()), [want], "{args:?}");
            }
            (_, None) => {
                assert!(got.is_empty(), "{args:?} {envs:?}");
                assert!(
                    out.stderr.contains(
                        "environment \"qa\" (from ALLSTACKS_ENVIRONMENT) is not one of \
                         --environments (production): nothing is sent"
                    ),
                    "{}",
                    out.stderr
                );
            }
        }
    }
    // A field given as a script knows it, outside any CI system.
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&[
        "report",
        "--environments",
        "prod*",
        "--field",
        "environment=preview",
    ])
    .server(&server)
    .envs(&job())
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(server.received().is_empty());
    assert!(
        out.stderr
            .contains("environment \"preview\" (from --field) is not one of --environments"),
        "{}",
        out.stderr
    );
}

#[test]
fn help_names_the_variables_a_command_reads_and_ends_with_examples() {
    let cases: [(&str, &[&str]); 6] = [
        ("report", &["ALLSTACKS_", "GITHUB_TOKEN"]),
        ("run", &["ALLSTACKS_", "SIGTERM", "--cancelled-as"]),
        (
            "start",
            &["ALLSTACKS_STATE_FILE", "ALLSTACKS_JOB_START_TIME"],
        ),
        ("flush", &["ALLSTACKS_OUTBOX", "--adopt"]),
        (
            "backfill",
            &[
                "GITHUB_TOKEN",
                "GITHUB_API_URL",
                "GITLAB_TOKEN",
                "GITLAB_API_URL",
            ],
        ),
        ("check", &["No endpoint proves a token valid"]),
    ];
    for (command, names) in cases {
        let out = tool(&[command, "--help"]).run();
        assert_eq!(out.code, 0, "{command}");
        let flat = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
        for name in names {
            assert!(
                flat.contains(name),
                "{command} --help lacks {name}:\n{}",
                out.stdout
            );
        }
        let examples = out
            .stdout
            .split("\nExamples:\n")
            .nth(1)
            .unwrap_or_else(|| panic!("{command} --help has no examples:\n{}", out.stdout));
        let lines: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
        assert!((2..=3).contains(&lines.len()), "{command}: {lines:?}");
        assert!(
            lines
                .iter()
                .all(|l| l.contains(&format!("allstacks-cd {command}"))),
            "{command}: {lines:?}"
        );
    }
    let out = tool(&["report", "--help"]).run();
    assert!(
        out.stdout.contains("docs/settings.md#status"),
        "--status points to the page with the words:\n{}",
        out.stdout
    );
}
