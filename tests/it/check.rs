//! `check`: one line per thing a first report can get wrong, found against a real server on
//! 127.0.0.1 that records the one GET it gets (never a job, never the token); exit 0 when all
//! is well, 1 when something is wrong.

use serde_json::json;

use crate::support::{
    Output, Reply, ReservedPort, SHA, Server, TOKEN, job_payload, save_report, tool, webhook,
};

/// The check line for `what`: `(mark, detail)`; panics when there is none.
fn line<'a>(out: &'a Output, what: &str) -> (&'a str, &'a str) {
    out.stderr
        .lines()
        .find_map(|l| {
            let mut parts = l.splitn(2, "  ");
            let mark = parts.next()?.trim();
            let rest = parts.next()?.trim_start();
            let (name, detail) = rest.split_once("  ")?;
            (name.trim() == what && ["ok", "warn", "FAIL", "skip"].contains(&mark))
                .then_some((mark, detail.trim()))
        })
        .unwrap_or_else(|| panic!("no `{what}` line in:\n{}", out.stderr))
}

fn summary(out: &Output) -> &str {
    out.stderr.lines().last().unwrap_or_default()
}

#[test]
fn all_is_well_one_get_that_is_not_a_job_and_the_job_on_stdout() {
    let server = Server::start(vec![Reply::status(405)]);
    let outbox = tempfile::tempdir().expect("tmp");
    let out = tool(&["check", "--status", "success"])
        .server(&server)
        .with_job("j-1")
        .env("ALLSTACKS_OUTBOX", outbox.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let base = server.url();
    assert_eq!(
        line(&out, "url"),
        ("ok", &*format!("{base} (from ALLSTACKS_URL)"))
    );
    assert_eq!(
        line(&out, "company"),
        ("ok", "42 (from ALLSTACKS_COMPANY_ID)")
    );
    let (mark, token) = line(&out, "token");
    assert_eq!(mark, "ok");
    assert!(
        token.starts_with(&format!(
            "set ({} characters, from ALLSTACKS_TOKEN; not shown)",
            TOKEN.len()
        )),
        "{token}"
    );
    assert!(
        token.contains("No endpoint proves a token valid without posting a job"),
        "{token}"
    );
    assert_eq!(
        line(&out, "dns"),
        ("ok", "127.0.0.1 is an address: nothing to resolve")
    );
    let (mark, tcp) = line(&out, "tcp");
    assert_eq!(mark, "ok");
    assert!(
        tcp.starts_with(&format!("connected to {}", server.addr())),
        "{tcp}"
    );
    assert_eq!(
        line(&out, "http"),
        (
            "ok",
            &*format!(
                "GET {} answered HTTP 405: the server answers at the webhook's path (a GET is \
                 not a job)",
                webhook(&base)
            )
        )
    );
    let (mark, ob) = line(&out, "outbox");
    assert_eq!(
        (mark, ob),
        (
            "ok",
            &*format!("{}: private, nothing waiting", outbox.path().display())
        )
    );
    assert_eq!(
        line(&out, "provider"),
        ("ok", "local: no CI system detected")
    );
    assert_eq!(
        line(&out, "job"),
        (
            "ok",
            &*format!("job j-1 (Succeeded) for {SHA}: its payload is on stdout")
        )
    );
    // The job a report would send, as --dry-run prints it.
    assert_eq!(out.json(), job_payload("j-1"));
    assert!(
        summary(&out).starts_with("allstacks-cd: check: all is well: "),
        "{}",
        out.stderr
    );
    // One GET on the webhook URL: no job, no token.
    let got = server.only();
    assert_eq!(
        (got.method.as_str(), got.path.as_str()),
        ("GET", "/webhook/company/42/cicd_job")
    );
    assert_eq!(got.header("authorization"), None);
    assert!(got.body.is_empty());
}

#[test]
fn nothing_configured_fails_each_setting_and_checks_no_network() {
    let out = tool(&["check"]).run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    for what in ["url", "company", "token"] {
        let (mark, detail) = line(&out, what);
        assert_eq!(mark, "FAIL", "{what}");
        assert!(
            detail.starts_with("not set: set ALLSTACKS_"),
            "{what}: {detail}"
        );
    }
    assert_eq!(
        line(&out, "network"),
        ("skip", "not checked: no webhook URL (see above)")
    );
    // No status given nor detected: worth saying, not a failure of its own.
    assert_eq!(line(&out, "status").0, "warn");
    assert!(
        summary(&out).starts_with("allstacks-cd: check: something is wrong: "),
        "{}",
        out.stderr
    );
}

#[test]
fn a_404_is_a_hint_about_the_company_and_a_refused_port_fails() {
    let server = Server::start(vec![Reply::status(404)]);
    let out = tool(&["check"]).server(&server).with_job("j").run();
    assert_eq!(out.code, 0, "any answer proves the path: {}", out.stderr);
    let (mark, http) = line(&out, "http");
    assert_eq!(mark, "warn");
    assert!(http.contains("answered HTTP 404"), "{http}");
    assert!(http.contains("check ALLSTACKS_COMPANY_ID"), "{http}");

    let port = ReservedPort::new();
    let out = tool(&["check"]).endpoint(&port.url()).with_job("j").run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let (mark, tcp) = line(&out, "tcp");
    assert_eq!(mark, "FAIL");
    assert!(
        tcp.starts_with(&format!("could not connect to 127.0.0.1:{}", port.port)),
        "{tcp}"
    );
    let (mark, http) = line(&out, "http");
    assert_eq!(mark, "FAIL");
    assert!(
        http.contains(&format!("could not connect to 127.0.0.1:{}", port.port)),
        "{http}"
    );
}

#[test]
fn a_token_of_another_service_or_in_quotes_fails_without_being_shown() {
    let server = Server::start(vec![Reply::status(405)]);
    let cases = [
        ("ghp_SECRETabcdef0123456789", "it looks like a GitHub token"),
        ("glpat-SECRETabcdef0123", "it looks like a GitLab token"),
        ("\"SECRETabcdef0123456789\"", "it is in quotes"),
    ];
    for (token, want) in cases {
        let out = tool(&["check"])
            .server(&server)
            .with_job("j")
            .env("ALLSTACKS_TOKEN", token)
            .run();
        assert_eq!(out.code, 1, "{}", out.stderr);
        let (mark, detail) = line(&out, "token");
        assert_eq!(mark, "FAIL");
        assert!(detail.contains(want), "{detail}");
        assert!(!out.stderr.contains("SECRET") && !out.stdout.contains("SECRET"));
    }
    // A refused token: the reason once, none of it shown.
    let out = tool(&["check"])
        .server(&server)
        .with_job("j")
        .env("ALLSTACKS_TOKEN", "two SECRET-words")
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(line(&out, "setting").0, "FAIL");
    assert_eq!(
        line(&out, "token"),
        ("FAIL", "refused (the error above says why)")
    );
    assert!(!out.stderr.contains("SECRET"), "{}", out.stderr);
}

#[test]
fn the_outbox_must_be_private_and_what_waits_in_it_is_counted() {
    use std::os::unix::fs::PermissionsExt;
    let server = Server::start(vec![Reply::status(405)]);
    let outbox = tempfile::tempdir().expect("tmp");
    save_report(outbox.path(), &webhook(&server.url()), "mine");
    save_report(
        outbox.path(),
        "https://old.example.com/webhook/company/42/cicd_job",
        "old",
    );
    let out = tool(&["check"])
        .server(&server)
        .with_job("j")
        .env("ALLSTACKS_OUTBOX", outbox.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let (mark, detail) = line(&out, "outbox");
    assert_eq!(mark, "warn");
    assert!(
        detail.ends_with(
            "private; 1 report(s) wait for `allstacks-cd flush`, 1 saved for another endpoint \
             (`flush --adopt`), 0 of another user (never sent)"
        ),
        "{detail}"
    );
    std::fs::set_permissions(outbox.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = tool(&["check"])
        .server(&server)
        .with_job("j")
        .env("ALLSTACKS_OUTBOX", outbox.path())
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let (mark, detail) = line(&out, "outbox");
    assert_eq!(mark, "FAIL");
    assert!(
        detail.contains("is writable by group or others (mode 777)"),
        "{detail}"
    );
    // Nothing was sent from it, and nothing moved.
    assert!(server.received().iter().all(|r| r.method == "GET"));
    assert_eq!(crate::support::outbox_files(outbox.path()).len(), 2);
}

/// A GitLab job that succeeded: everything a report needs but the connection.
const GITLAB_JOB: [(&str, &str); 6] = [
    ("GITLAB_CI", "true"),
    ("CI_COMMIT_SHA", SHA),
    ("CI_PROJECT_PATH", "acme/web"),
    ("CI_PIPELINE_ID", "77"),
    ("CI_PIPELINE_CREATED_AT", "2024-01-01T10:00:00Z"),
    ("CI_JOB_STATUS", "success"),
];

#[test]
fn the_ci_provider_and_a_job_that_would_not_be_valid() {
    let server = Server::start(vec![Reply::status(405)]);
    let out = tool(&["check", "--field", "n:integer=x"])
        .server(&server)
        .envs(&GITLAB_JOB)
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(line(&out, "provider"), ("ok", "gitlab-ci (detected)"));
    // In CI an outbox is kept only where asked.
    assert_eq!(line(&out, "outbox").0, "ok");
    let (mark, job) = line(&out, "job");
    assert_eq!(mark, "FAIL");
    assert!(job.contains("optional field \"n\""), "{job}");
    assert!(out.stdout.is_empty(), "no payload for an invalid job");
    // The status came from the provider: no stand-in.
    assert!(!out.stderr.contains("stand-in"), "{}", out.stderr);
    let valid = tool(&["check"]).server(&server).envs(&GITLAB_JOB).run();
    assert_eq!(valid.code, 0, "{}", valid.stderr);
    let p = valid.json();
    assert_eq!(
        (&p["job_id"], &p["status"]),
        (&json!("77"), &json!("Succeeded"))
    );
}
