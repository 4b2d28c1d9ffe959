//! Delivery: retries, Retry-After, final errors, deadlines, refused connections. Every case is
//! bounded in time by `--timeout` and by the test server's own limit.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{Reply, SHA, Server, tool};

fn job_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ALLSTACKS_COMMIT_SHA", SHA),
        ("ALLSTACKS_REPO_NAME", "acme/web"),
        ("ALLSTACKS_JOB_ID", "d-1"),
        ("ALLSTACKS_JOB_START_TIME", "1704018030"),
        ("ALLSTACKS_JOB_DURATION", "60"),
        ("ALLSTACKS_STATUS", "success"),
    ]
}

#[test]
fn retries_503_then_succeeds() {
    let server = Server::start(vec![
        Reply::status(503),
        Reply::status(503),
        Reply::status(201),
    ]);
    let out = tool(&["report", "--strict", "--output", "json", "-vv"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = server.received();
    assert_eq!(got.len(), 3);
    assert!(
        got.iter().all(|r| r.json() == got[0].json()),
        "the same body each time"
    );
    assert_eq!(out.json()["attempts"], json!(3));
    assert_eq!(
        out.stderr.matches("debug: attempt").count(),
        3,
        "{}",
        out.stderr
    );
}

#[test]
fn honours_retry_after_on_429() {
    let server = Server::start(vec![
        Reply::status(429).header("Retry-After", "2"),
        Reply::status(201),
    ]);
    let out = tool(&["report", "--strict"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = server.received();
    assert_eq!(got.len(), 2);
    let gap = got[1].at - got[0].at;
    assert!(gap >= Duration::from_millis(1900), "waited only {gap:?}");
    assert!(gap < Duration::from_secs(5), "waited {gap:?}");
}

#[test]
fn a_400_is_final_and_shows_the_message() {
    let server = Server::start(vec![Reply::status(400).body("commit_sha: unknown commit")]);
    let out = tool(&["report", "--strict"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(server.received().len(), 1, "no retry");
    assert!(
        out.stderr.contains(
            "the server rejected the job (HTTP 400); the server said: commit_sha: unknown commit"
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn a_401_says_the_token_was_refused() {
    let server = Server::start(vec![Reply::status(401)]);
    let out = tool(&["report", "--strict"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 1);
    assert_eq!(server.received().len(), 1);
    assert!(
        out.stderr
            .contains("the server refused the token (HTTP 401)"),
        "{}",
        out.stderr
    );
    // Soft by default: same failure, exit 0, a warning.
    let server = Server::start(vec![Reply::status(401)]);
    let out = tool(&["report"]).server(&server).envs(&job_env()).run();
    assert_eq!(out.code, 0);
    assert!(
        out.stderr.contains("warning: could not report job d-1"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_404_points_at_url_and_company() {
    let server = Server::start(vec![Reply::status(404)]);
    let out = tool(&["report", "--strict"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("check ALLSTACKS_URL and ALLSTACKS_COMPANY_ID"),
        "{}",
        out.stderr
    );
}

#[test]
fn refused_connection_is_retried_then_fails_in_time() {
    // Bind then drop: nothing listens on the port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let started = Instant::now();
    let out = tool(&[
        "report",
        "--strict",
        "--retries",
        "2",
        "--timeout",
        "10",
        "-v",
    ])
    .envs(&job_env())
    .envs(&[
        ("ALLSTACKS_URL", &format!("http://127.0.0.1:{port}")),
        ("ALLSTACKS_COMPANY_ID", "1"),
        ("ALLSTACKS_TOKEN", crate::support::TOKEN),
        ("ALLSTACKS_SERVICE_ID", "1"),
    ])
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("gave up after 3 attempt(s)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_server_slower_than_the_timeout_is_given_up_on_time() {
    let server = Server::start(vec![Reply::status(201).delay(Duration::from_secs(30))]);
    let started = Instant::now();
    let out = tool(&["report", "--strict", "--timeout", "2"])
        .server(&server)
        .envs(&job_env())
        .run();
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(
        out.stderr.contains("timed out") || out.stderr.contains("deadline"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_500_for_longer_than_the_timeout_gives_up_within_it() {
    let server = Server::start(vec![Reply::status(500)]);
    let started = Instant::now();
    let out = tool(&["report", "--strict", "--timeout", "3", "--retries", "50"])
        .server(&server)
        .envs(&job_env())
        .run();
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(server.received().len() >= 2, "retried within the deadline");
    assert!(out.stderr.contains("deadline"), "{}", out.stderr);
}
