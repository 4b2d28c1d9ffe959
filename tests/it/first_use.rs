//! A new user's first hour (spec: first use, §1 and §3): `--dry-run` is never stopped by a
//! missing connection setting; `run` always runs the deploy, whatever its reporting flags say,
//! unless `--strict` finds the settings broken before it starts; a deploy ended by SIGINT or
//! SIGTERM is cancelled; an unknown value is a usage error; a connection failure names the host
//! and port; `--environments` matches an environment a script gives.

use serde_json::{Value, json};

use crate::support::{Received, Reply, SHA, Server, TOKEN, tool};

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

fn statuses(received: &[Received]) -> Vec<Value> {
    received
        .iter()
        .map(|r| r.json()["status"].clone())
        .collect()
}

#[test]
fn an_unknown_value_is_a_usage_error_like_an_unknown_flag() {
    let server = Server::start(vec![Reply::status(201)]);
    let cases: [&[&str]; 7] = [
        &["report", "--scope", "foo"],
        &["report", "--output", "yaml"],
        &["report", "--cancelled-as", "maybe"],
        &["flush", "--output", "yaml"],
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
