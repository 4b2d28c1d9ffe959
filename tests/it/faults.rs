//! Fault injection for one `report`: a server that keeps failing, never answers, rejects,
//! refuses the token, or answers with 10 MB; the plain-HTTP guard; and secret hygiene in every
//! file the tool writes. Each case is bounded by `--timeout` and asserts what the server
//! received, the exit code, the message and the files on disk. (503/503/201 and Retry-After
//! are in `delivery.rs`.)

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{
    Reply, Server, TOKEN, assert_no_token, job_payload, outbox_files, temp_path, tool,
};

#[test]
fn a_500_past_the_timeout_gives_up_in_time_and_is_saved_without_the_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let server = Server::start(vec![Reply::status(500).body("database is down")]);
    let started = Instant::now();
    let out = tool(&[
        "report",
        "--strict",
        "--timeout",
        "3",
        "--retries",
        "50",
        "-vv",
    ])
    .server(&server)
    .with_job("d-500")
    .env("ALLSTACKS_OUTBOX", &outbox)
    .run();
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let got = server.received();
    assert!(got.len() >= 2, "retried within the deadline: {}", got.len());
    assert!(got.iter().all(|r| r.json() == job_payload("d-500")));
    assert!(
        out.stderr.contains("deadline (--timeout)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("HTTP 500: database is down"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`allstacks-cd flush` re-sends it"),
        "{}",
        out.stderr
    );

    let files = outbox_files(&outbox);
    assert_eq!(files.len(), 1, "one file: {files:?}");
    let (path, saved) = &files[0];
    assert!(
        out.stderr.contains(&path.display().to_string()),
        "{}",
        out.stderr
    );
    // Exactly what was sent, for exactly that webhook.
    assert_eq!(saved["payload"], got[0].json());
    assert_eq!(
        saved["url"],
        json!(format!(
            "http://{}/webhook/company/42/cicd_job",
            server.addr()
        ))
    );
    assert_eq!(saved["version"], json!(1));
    assert!(
        saved["last_error"].as_str().unwrap().contains("HTTP 500"),
        "{saved}"
    );
    assert!(saved.get("token").is_none());
    assert_no_token(&outbox);
}

#[test]
fn a_server_that_never_answers_is_given_up_at_the_timeout_and_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let server = Server::start(vec![Reply::hang()]);
    let started = Instant::now();
    let out = tool(&["report", "--strict", "--timeout", "2", "-vv"])
        .server(&server)
        .with_job("d-hang")
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        took >= Duration::from_millis(1900),
        "gave up early: {took:?}"
    );
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert_eq!(
        server.received().len(),
        1,
        "the one attempt used the whole deadline"
    );
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
    let files = outbox_files(&outbox);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1["payload"], job_payload("d-hang"));
    assert_no_token(&outbox);
}

#[test]
fn a_400_or_422_is_final_shown_and_never_saved() {
    for status in [400, 422] {
        let dir = tempfile::tempdir().expect("tmp");
        let outbox = temp_path(&dir, "outbox");
        let server = Server::start(vec![
            Reply::status(status).body("{\"error\": \"service_id 7 is not a Custom CD service\"}"),
        ]);
        let out = tool(&["report", "--strict", "--output", "json", "-vv"])
            .server(&server)
            .with_job("d-4xx")
            .env("ALLSTACKS_OUTBOX", &outbox)
            .run();
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(server.received().len(), 1, "HTTP {status} is not retried");
        assert!(
            out.stderr.contains(&format!(
                "the server rejected the job (HTTP {status}); the server said: \
                 {{\"error\": \"service_id 7 is not a Custom CD service\"}}"
            )),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("saved to"), "{}", out.stderr);
        assert!(!outbox.exists(), "a rejected payload is not kept");
        assert_eq!(
            out.json(),
            json!({"job_id": "d-4xx", "status": "Succeeded", "delivered": false,
                   "attempts": 1, "http_status": status})
        );
    }
}

#[test]
fn an_invalid_job_is_never_sent_nor_saved() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["report", "--strict", "-vv", "--field", "n:integer=twelve"])
        .server(&server)
        .with_job("d-bad")
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("twelve"), "{}", out.stderr);
    assert!(server.received().is_empty());
    assert!(!outbox.exists());
}

#[test]
fn a_401_403_or_404_is_not_retried_explained_and_kept() {
    for (status, advice) in [
        (
            401,
            "the server refused the token (HTTP 401): check ALLSTACKS_TOKEN",
        ),
        (
            403,
            "the server refused the token (HTTP 403): check ALLSTACKS_TOKEN",
        ),
        (404, "check ALLSTACKS_URL and ALLSTACKS_COMPANY_ID"),
    ] {
        let dir = tempfile::tempdir().expect("tmp");
        let outbox = temp_path(&dir, "outbox");
        // A server that quotes the Authorization header back must not get it onto disk.
        let server = Server::start(vec![
            Reply::status(status).body(format!("bad credentials: Bearer {TOKEN}")),
        ]);
        let out = tool(&["report", "--strict", "--retries", "3", "-vv"])
            .server(&server)
            .with_job("d-auth")
            .env("ALLSTACKS_OUTBOX", &outbox)
            .run();
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(server.received().len(), 1, "HTTP {status} is not retried");
        assert!(out.stderr.contains(advice), "{}", out.stderr);
        assert!(
            out.stderr.contains("bad credentials: Bearer ***"),
            "{}",
            out.stderr
        );
        let files = outbox_files(&outbox);
        assert_eq!(
            files.len(),
            1,
            "HTTP {status}: a fixed token or URL can deliver it later"
        );
        assert_eq!(files[0].1["payload"], job_payload("d-auth"));
        assert!(
            files[0].1["last_error"]
                .as_str()
                .unwrap()
                .contains("Bearer ***"),
            "{}",
            files[0].1
        );
        assert_no_token(&outbox);
    }
}

#[test]
fn a_10_mb_success_body_is_read_only_in_part() {
    // Baseline: the same report with a small answer.
    let small = Server::start(vec![Reply::status(200).body("{\"id\": 1}")]);
    let (base, base_rss) = tool(&["report", "--strict", "--output", "json", "-vv"])
        .server(&small)
        .with_job("d-small")
        .run_measured();
    assert_eq!(base.code, 0, "{}", base.stderr);

    let huge = vec![b'a'; 10 * 1024 * 1024];
    let server = Server::start(vec![Reply::status(200).body(huge)]);
    let started = Instant::now();
    let (out, rss) = tool(&["report", "--strict", "--output", "json", "-vv"])
        .server(&server)
        .with_job("d-huge")
        .run_measured();
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(server.only().json(), job_payload("d-huge"));
    assert_eq!(
        out.json(),
        json!({"job_id": "d-huge", "status": "Succeeded", "delivered": true,
               "attempts": 1, "http_status": 200})
    );
    // -vv shows the body as read: 64 KiB of it, not 10 MB.
    let longest = longest_run(&out.stderr, 'a');
    assert_eq!(longest, 64 * 1024, "read up to 64 KiB");
    if let (Some(rss), Some(base_rss)) = (rss, base_rss) {
        let grew = rss.saturating_sub(base_rss);
        assert!(
            grew < 4 * 1024,
            "peak memory grew by {grew} KiB over the baseline {base_rss} KiB for a 10 MB answer"
        );
    }
}

#[test]
fn a_10_mb_rejection_shows_2_kib_of_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    // A multi-byte character straddles the 2 KiB mark: the cut must fall on a boundary.
    let mut body = "€".repeat(10 * 1024 * 1024 / 3).into_bytes();
    body.extend_from_slice(b"END");
    let server = Server::start(vec![Reply::status(400).body(body)]);
    let started = Instant::now();
    let (out, rss) = tool(&["report", "--strict", "-vv"])
        .server(&server)
        .with_job("d-huge-400")
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run_measured();
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(server.received().len(), 1);
    assert!(
        out.stderr
            .contains("the server rejected the job (HTTP 400); the server said: €")
    );
    // 2048 bytes is 682 whole characters of 3 bytes.
    assert_eq!(longest_run(&out.stderr, '€'), 682, "{}", &out.stderr[..200]);
    assert!(!out.stderr.contains("END"));
    assert!(!outbox.exists());
    if let Some(rss) = rss {
        assert!(rss < 32 * 1024, "peak memory {rss} KiB");
    }
}

fn longest_run(text: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in text.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

#[test]
fn plain_http_to_another_host_never_reaches_the_network_unless_allowed() {
    // The "network" is a proxy on 127.0.0.1: had the guard let the request through, it would
    // arrive here rather than anywhere else.
    let proxy = Server::start(vec![Reply::status(201)]);
    let url = "http://allstacks.example.com";
    let out = tool(&["report", "--strict", "-vv"])
        .server(&proxy)
        .with_job("d-http")
        .env("ALLSTACKS_URL", url)
        .env("HTTP_PROXY", proxy.url())
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--allow-http"), "{}", out.stderr);
    assert!(proxy.received().is_empty(), "nothing was sent");

    // Allowed, it still never goes through a proxy: the proxy would read the token in clear
    // (SPEC.md, Security rules). `.invalid` never resolves, so nothing leaves this machine.
    let out = tool(&[
        "report",
        "--strict",
        "--allow-http",
        "--retries",
        "0",
        "--timeout",
        "5",
        "-vv",
    ])
    .server(&proxy)
    .with_job("d-http")
    .env("ALLSTACKS_URL", "http://allstacks.invalid")
    .env("HTTP_PROXY", proxy.url())
    .env("ALL_PROXY", proxy.url())
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
    assert!(
        proxy.received().is_empty(),
        "a plain-http request never goes through the proxy"
    );
}

#[test]
fn a_redirect_is_not_followed_and_the_token_stays() {
    let elsewhere = Server::start(vec![Reply::status(201)]);
    let server = Server::start(vec![
        Reply::status(307).header("Location", &format!("{}/steal", elsewhere.url())),
    ]);
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let out = tool(&["report", "--strict", "-vv"])
        .server(&server)
        .with_job("d-redirect")
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("redirected (HTTP 307)"),
        "{}",
        out.stderr
    );
    assert_eq!(server.received().len(), 1);
    assert!(
        elsewhere.received().is_empty(),
        "the redirect was not followed"
    );
    // The URL is wrong, not the report: kept for a flush once it is fixed.
    assert_eq!(outbox_files(&outbox).len(), 1);
}

#[test]
fn a_final_5xx_is_not_retried_but_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let server = Server::start(vec![Reply::status(501).body("not implemented")]);
    let out = tool(&["report", "--strict", "--retries", "3", "-vv"])
        .server(&server)
        .with_job("d-501")
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        server.received().len(),
        1,
        "only 408/429/500/502/503/504 are retried"
    );
    assert!(
        out.stderr
            .contains("the server answered HTTP 501; the server said: not implemented"),
        "{}",
        out.stderr
    );
    let files = outbox_files(&outbox);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1["payload"], job_payload("d-501"));
}

/// On GitHub: the mask comes first, and neither `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY` nor
/// the outbox holds the token, even when the server quotes it back.
#[test]
fn github_files_and_outbox_never_hold_the_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let output = temp_path(&dir, "output");
    let summary = temp_path(&dir, "summary");
    for (reply, code) in [
        (Reply::status(201).body(format!("stored, token {TOKEN}")), 0),
        (
            Reply::status(400).body(format!("bad job for token {TOKEN}")),
            1,
        ),
        (Reply::status(401).body(format!("unknown token {TOKEN}")), 1),
        (Reply::status(503).body(format!("busy; token {TOKEN}")), 1),
    ] {
        let server = Server::start(vec![reply]);
        let out = tool(&["report", "--strict", "--retries", "0", "-vv"])
            .server(&server)
            .with_job("gh-1")
            .envs(&[("GITHUB_ACTIONS", "true"), ("GITHUB_RUN_ID", "99")])
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("ALLSTACKS_OUTBOX", &outbox)
            .run();
        assert_eq!(out.code, code, "{}", out.stderr);
        assert!(
            out.stderr.starts_with(&format!("::add-mask::{TOKEN}\n")),
            "{}",
            out.stderr
        );
        assert_eq!(
            server.only().header("authorization"),
            Some(&*format!("Bearer {TOKEN}"))
        );
    }
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert_eq!(md.matches("| delivery |").count(), 4, "{md}");
    assert!(md.contains("bad job for token ***"), "{md}");
    assert_eq!(
        outbox_files(&outbox).len(),
        2,
        "the 401 and the 503 are kept"
    );
    for path in [&output, &summary, &outbox] {
        assert_no_token(path);
    }
}
