//! Help, version, usage errors.

use crate::support::{Reply, SHA, Server, tool};

#[test]
fn help_lists_every_flag_with_its_variable() {
    let out = tool(&["report", "--help"]).run();
    assert_eq!(out.code, 0);
    let pairs = [
        ("--url", "ALLSTACKS_URL"),
        ("--company-id", "ALLSTACKS_COMPANY_ID"),
        ("--token", "ALLSTACKS_TOKEN"),
        ("--token-file", "ALLSTACKS_TOKEN_FILE"),
        ("--service-id", "ALLSTACKS_SERVICE_ID"),
        ("--status", "ALLSTACKS_STATUS"),
        ("--job-id", "ALLSTACKS_JOB_ID"),
        ("--commit-sha", "ALLSTACKS_COMMIT_SHA"),
        ("--repo-id", "ALLSTACKS_REPO_ID"),
        ("--repo-name", "ALLSTACKS_REPO_NAME"),
        ("--triggered-by", "ALLSTACKS_TRIGGERED_BY"),
        ("--job-type", "ALLSTACKS_JOB_TYPE"),
        ("--job-start-time", "ALLSTACKS_JOB_START_TIME"),
        ("--job-duration", "ALLSTACKS_JOB_DURATION"),
        ("--scope", "ALLSTACKS_SCOPE"),
        ("--field", "ALLSTACKS_FIELDS"),
        ("--fields-json", "ALLSTACKS_FIELDS_JSON"),
        ("--no-context", "ALLSTACKS_NO_CONTEXT"),
        ("--cancelled-as", "ALLSTACKS_CANCELLED_AS"),
        ("--needs-json", "ALLSTACKS_NEEDS_JSON"),
        ("--strict", "ALLSTACKS_STRICT"),
        ("--timeout", "ALLSTACKS_TIMEOUT"),
        ("--retries", "ALLSTACKS_RETRIES"),
        ("--ca-cert", "ALLSTACKS_CA_CERT"),
        ("--allow-http", "ALLSTACKS_ALLOW_HTTP"),
        ("--outbox", "ALLSTACKS_OUTBOX"),
        ("--state-file", "ALLSTACKS_STATE_FILE"),
        ("--dry-run", "ALLSTACKS_DRY_RUN"),
        ("--output", "ALLSTACKS_OUTPUT"),
    ];
    // Wrapping depends on the width: compare on the text with whitespace folded.
    let flat = out.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for (flag, var) in pairs {
        let at = flat
            .find(&format!(" {flag} "))
            .unwrap_or_else(|| panic!("{flag} missing from --help:\n{}", out.stdout));
        let rest = &flat[at..];
        let env_at = rest
            .find("[env: ")
            .unwrap_or_else(|| panic!("{flag} names no variable"));
        assert!(
            rest[env_at + 6..].starts_with(var),
            "{flag} does not name {var}: {}",
            &rest[..env_at + 40]
        );
    }
}

#[test]
fn serve_help_says_retries_is_not_used_and_backfill_help_says_what_it_does() {
    // serve tries each queued job once per round (its attempts are kept on disk); backfill
    // retries each delivery in a row. One shared flag, two meanings: each help says its own.
    let flat = |args: &[&str]| {
        let out = tool(args).run();
        assert_eq!(out.code, 0);
        out.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let serve = flat(&["serve", "--help"]);
    assert!(
        serve.contains("--retries <N> Not used by serve: each queued job is tried once per round"),
        "{serve}"
    );
    let backfill = flat(&["backfill", "--help"]);
    assert!(
        backfill.contains("--retries <N> Extra attempts on transient failures, per delivery"),
        "{backfill}"
    );
}

#[test]
fn a_reader_that_has_gone_is_not_an_error() {
    // `allstacks-cd report --dry-run | head -1`, `... --output json | true`: stdout's reader
    // went away before anything was written. No panic (exit 101 before), no message, and the
    // command's own exit code.
    let job = [
        ("ALLSTACKS_JOB_ID", "deploy-1"),
        ("ALLSTACKS_COMMIT_SHA", SHA),
        ("ALLSTACKS_REPO_NAME", "acme/web"),
    ];
    let dry = tool(&["report", "--dry-run", "--status", "success"])
        .envs(&[
            ("ALLSTACKS_COMPANY_ID", "42"),
            ("ALLSTACKS_SERVICE_ID", "7"),
        ])
        .envs(&job)
        .reader_gone()
        .run();
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(!dry.stderr.contains("panicked"), "{}", dry.stderr);
    assert!(!dry.stderr.contains("stdout"), "{}", dry.stderr);
    let server = Server::start(vec![Reply::status(200)]);
    let sent = tool(&["report", "--status", "success", "--output", "json"])
        .server(&server)
        .envs(&job)
        .reader_gone()
        .run();
    assert_eq!(sent.code, 0, "{}", sent.stderr);
    assert!(!sent.stderr.contains("panicked"), "{}", sent.stderr);
    assert_eq!(server.received().len(), 1, "the report was still sent");
    for args in [&["man"][..], &["completions", "bash"]] {
        let out = tool(args).reader_gone().run();
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        assert!(out.stderr.is_empty(), "{args:?}: {}", out.stderr);
    }
}

#[test]
fn version_and_usage_errors() {
    let out = tool(&["--version"]).run();
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stdout.trim(),
        concat!("allstacks-cd ", env!("CARGO_PKG_VERSION"))
    );
    let out = tool(&["report", "--no-such-flag"]).run();
    assert_eq!(out.code, 2);
    let out = tool(&["run"]).run();
    assert_eq!(out.code, 2, "run needs a command");
}
