//! The outbox end to end: where undelivered reports go, how `flush` and `report` send them
//! (oldest first, deleted only after a 2xx, kept on transient failures, moved to `rejected/` on
//! a final rejection), `flush --dry-run`, and two processes flushing one outbox at once.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use allstacks_cd::outbox::Saved;
use serde_json::json;

use crate::support::{
    Reply, ReservedPort, Server, TOKEN, assert_no_token, flush, job_payload, outbox_files,
    save_report, temp_path, tool, webhook,
};

fn job_ids(server: &Server) -> Vec<String> {
    server
        .received()
        .iter()
        .map(|r| r.json()["job_id"].as_str().expect("job_id").to_string())
        .collect()
}

/// Everything in `dir`, names only, sorted (claims and temp files included).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|e| {
            e.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn refused_then_the_server_comes_up_and_flush_delivers_exactly_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let port = ReservedPort::new();
    let out = tool(&[
        "report",
        "--strict",
        "--retries",
        "1",
        "--timeout",
        "5",
        "-vv",
    ])
    .with_job("d-down")
    .endpoint(&port.url())
    .env("ALLSTACKS_OUTBOX", &outbox)
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("gave up after 2 attempt(s)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
    let files = outbox_files(&outbox);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].1["payload"], job_payload("d-down"));
    assert_eq!(files[0].1["url"], json!(webhook(&port.url())));
    assert_no_token(&outbox);

    // The server comes up on that same port; flush needs only the token and the outbox.
    let server = Server::on(port.listen(), vec![Reply::status(201)]);
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = server.only();
    assert_eq!(got.method, "POST");
    assert_eq!(got.path, "/webhook/company/42/cicd_job");
    assert_eq!(got.json(), job_payload("d-down"));
    assert_eq!(
        got.header("authorization"),
        Some(&*format!("Bearer {TOKEN}"))
    );
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert!(
        out.stderr.contains("1 delivered, 0 rejected"),
        "{}",
        out.stderr
    );
    assert_eq!(
        listing(&outbox),
        Vec::<String>::new(),
        "nothing left, not even a claim"
    );

    // A second flush has nothing to send.
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("is empty"), "{}", out.stderr);
    assert_eq!(server.received().len(), 1, "delivered exactly once");
}

#[test]
fn the_default_outbox_is_the_state_dir_outside_ci_and_none_in_ci() {
    let port = ReservedPort::new();
    let conn = [
        ("ALLSTACKS_URL", port.url()),
        ("ALLSTACKS_COMPANY_ID", "42".into()),
        ("ALLSTACKS_TOKEN", TOKEN.into()),
        ("ALLSTACKS_SERVICE_ID", "7".into()),
        ("ALLSTACKS_RETRIES", "0".into()),
    ];
    let run = |extra: &[(&str, &Path)], ci: &[(&str, &str)]| {
        let mut t = tool(&["report", "-vv"]).with_job("d-where").envs(ci);
        for (k, v) in &conn {
            t = t.env(k, v);
        }
        for (k, v) in extra {
            t = t.env(k, v);
        }
        let out = t.run();
        assert_eq!(out.code, 0, "soft by default: {}", out.stderr);
        out
    };

    // $XDG_STATE_HOME/allstacks-cd/outbox
    let state = tempfile::tempdir().expect("tmp");
    let out = run(&[("XDG_STATE_HOME", state.path())], &[]);
    let dir = state.path().join("allstacks-cd/outbox");
    assert_eq!(outbox_files(&dir).len(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&dir.display().to_string()),
        "{}",
        out.stderr
    );
    assert_no_token(state.path());

    // else ~/.local/state/allstacks-cd/outbox
    let home = tempfile::tempdir().expect("tmp");
    run(&[("HOME", home.path())], &[]);
    assert_eq!(
        outbox_files(&home.path().join(".local/state/allstacks-cd/outbox")).len(),
        1
    );

    // In CI (a known provider, or any system that sets CI=true) only when set.
    for ci in [
        &[("GITLAB_CI", "true"), ("CI_PIPELINE_ID", "5")][..],
        &[("CI", "true")][..],
    ] {
        let home = tempfile::tempdir().expect("tmp");
        let out = run(&[("HOME", home.path())], ci);
        assert!(
            out.stderr.contains("not kept (set ALLSTACKS_OUTBOX"),
            "{ci:?}: {}",
            out.stderr
        );
        assert_eq!(listing(home.path()), Vec::<String>::new(), "{ci:?}");
        let kept = tempfile::tempdir().expect("tmp");
        run(&[("ALLSTACKS_OUTBOX", kept.path())], ci);
        assert_eq!(outbox_files(kept.path()).len(), 1, "{ci:?}");
    }
}

#[test]
fn flush_sends_oldest_first_and_keeps_what_still_fails() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![Reply::status(201), Reply::status(503)]);
    let url = webhook(&server.url());
    let paths: Vec<PathBuf> = ["s1", "s2", "s3"]
        .iter()
        .map(|id| save_report(dir.path(), &url, id))
        .collect();
    let out = flush(&["--strict", "--retries", "0", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(
        out.code, 1,
        "kept reports fail a strict flush: {}",
        out.stderr
    );
    assert_eq!(
        job_ids(&server),
        ["s1", "s2"],
        "oldest first; stops when the server fails"
    );
    assert!(
        out.stderr.contains("1 delivered, 0 rejected"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("2 kept"), "{}", out.stderr);
    let left = outbox_files(dir.path());
    assert_eq!(
        left.iter().map(|(p, _)| p.clone()).collect::<Vec<_>>(),
        paths[1..],
        "kept under their own names"
    );
    assert!(
        left[0].1["last_error"]
            .as_str()
            .unwrap()
            .contains("HTTP 503"),
        "{}",
        left[0].1
    );
    assert_eq!(
        left[1].1["last_error"],
        json!("could not connect"),
        "not tried"
    );
    assert_eq!(left[0].1["payload"], job_payload("s2"));
    assert_no_token(dir.path());

    let server = Server::start(vec![Reply::status(201)]);
    for path in &paths[1..] {
        let mut saved: Saved =
            serde_json::from_slice(&std::fs::read(path).expect("read")).expect("saved");
        saved.url = webhook(&server.url());
        std::fs::write(path, serde_json::to_vec(&saved).expect("json")).expect("write");
    }
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(job_ids(&server), ["s2", "s3"]);
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

#[test]
fn a_saved_report_rejected_on_flush_moves_to_rejected_with_the_message() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![
        Reply::status(201),
        Reply::status(400).body(format!("commit_sha: unknown commit (token {TOKEN})")),
        Reply::status(201),
    ]);
    let url = webhook(&server.url());
    let paths: Vec<PathBuf> = ["r1", "r2", "r3"]
        .iter()
        .map(|id| save_report(dir.path(), &url, id))
        .collect();
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(
        out.code, 1,
        "a rejection fails a strict flush: {}",
        out.stderr
    );
    assert_eq!(
        job_ids(&server),
        ["r1", "r2", "r3"],
        "a 400 is about one report: go on"
    );
    assert!(
        out.stderr
            .contains("the server rejected the job (HTTP 400); the server said: commit_sha: unknown commit (token ***)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("2 delivered, 1 rejected"),
        "{}",
        out.stderr
    );
    assert_eq!(listing(dir.path()), ["rejected"], "only rejected/ is left");
    let rejected = outbox_files(&dir.path().join("rejected"));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0.file_name(), paths[1].file_name());
    let saved = &rejected[0].1;
    assert_eq!(saved["payload"], job_payload("r2"));
    assert_eq!(
        saved["rejected"],
        json!(
            "the server rejected the job (HTTP 400); the server said: commit_sha: unknown commit (token ***)"
        )
    );
    assert_no_token(dir.path());

    // rejected/ is not flushed again.
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.received().len(), 3);
}

#[test]
fn a_refused_token_on_flush_keeps_everything() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![Reply::status(401)]);
    let url = webhook(&server.url());
    for id in ["t1", "t2"] {
        save_report(dir.path(), &url, id);
    }
    let before = listing(dir.path());
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        job_ids(&server),
        ["t1"],
        "no retry, and the rest would fail the same way"
    );
    assert!(
        out.stderr
            .contains("the server refused the token (HTTP 401)"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("0 delivered, 0 rejected"),
        "{}",
        out.stderr
    );
    assert_eq!(
        listing(dir.path()),
        before,
        "kept, nothing moved to rejected/"
    );
    assert_no_token(dir.path());
}

#[test]
fn a_redirect_or_a_final_5xx_on_flush_keeps_the_report() {
    for reply in [
        Reply::status(301).header("Location", "https://elsewhere.example.com/"),
        Reply::status(501),
    ] {
        let dir = tempfile::tempdir().expect("tmp");
        let server = Server::start(vec![reply]);
        let url = webhook(&server.url());
        for id in ["k1", "k2"] {
            save_report(dir.path(), &url, id);
        }
        let before = listing(dir.path());
        let out = flush(&["--strict", "-vv"], &server.url())
            .env("ALLSTACKS_OUTBOX", dir.path())
            .run();
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert_eq!(
            job_ids(&server),
            ["k1"],
            "the rest would meet the same answer"
        );
        assert!(out.stderr.contains("0 rejected"), "{}", out.stderr);
        assert_eq!(listing(dir.path()), before, "kept, not moved to rejected/");
        assert_no_token(dir.path());
    }
}

#[test]
fn flush_dry_run_prints_the_payloads_and_sends_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![Reply::status(201)]);
    let url = webhook(&server.url());
    for id in ["p1", "p2"] {
        save_report(dir.path(), &url, id);
    }
    std::fs::write(dir.path().join("garbage.json"), "{not json").expect("write");
    let before = listing(dir.path());
    // No token needed to look.
    let out = tool(&["flush", "--dry-run", "-vv"])
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json(), json!([job_payload("p1"), job_payload("p2")]));
    assert!(out.stderr.contains("job p1"), "{}", out.stderr);
    assert!(
        out.stderr.contains("garbage.json is not a saved report"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("3 report(s)"), "{}", out.stderr);
    assert!(server.received().is_empty());
    assert_eq!(listing(dir.path()), before);
}

#[test]
fn report_flushes_its_own_servers_reports_first_one_attempt_each() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![Reply::status(201)]);
    let other = Server::start(vec![Reply::status(201)]);
    save_report(dir.path(), &webhook(&server.url()), "old-1");
    let elsewhere = save_report(dir.path(), &webhook(&other.url()), "old-other");
    save_report(dir.path(), &webhook(&server.url()), "old-2");
    let out = tool(&["report", "--strict", "-vv"])
        .server(&server)
        .with_job("new")
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(job_ids(&server), ["old-1", "old-2", "new"]);
    // The token is not sent to a server the report is not for; `flush` sends that one.
    assert!(other.received().is_empty());
    assert!(
        out.stderr.contains("for another webhook URL"),
        "{}",
        out.stderr
    );
    let left = outbox_files(dir.path());
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].0, elsewhere);
    // `flush` sends a saved report only to the endpoint configured now: this one stays, named.
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(other.received().is_empty());
    assert!(
        out.stderr.contains(&format!(
            "{} was saved for another webhook URL",
            elsewhere.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(outbox_files(dir.path()).len(), 1);
    // Configured for that endpoint, `flush` sends it.
    let out = flush(&["--strict", "-vv"], &other.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(job_ids(&other), ["old-other"]);
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

#[test]
fn run_flushes_the_outbox_too() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![Reply::status(201)]);
    save_report(dir.path(), &webhook(&server.url()), "old");
    let out = tool(&["run", "--strict", "-vv", "--", "true"])
        .server(&server)
        .with_job("wrapped")
        .env_remove("ALLSTACKS_STATUS")
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(job_ids(&server), ["old", "wrapped"]);
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

#[test]
fn a_dead_server_and_a_full_outbox_stay_within_one_timeout() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![Reply::hang()]);
    let url = webhook(&server.url());
    let saved: Vec<PathBuf> = ["h1", "h2"]
        .iter()
        .map(|id| save_report(dir.path(), &url, id))
        .collect();
    let started = Instant::now();
    let out = tool(&["report", "--strict", "--timeout", "4", "-vv"])
        .server(&server)
        .with_job("h-new")
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    let took = started.elapsed();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        took < Duration::from_millis(5500),
        "--timeout 4 took {took:?}"
    );
    // h1 had half the time and one attempt; the job itself had the rest.
    assert_eq!(job_ids(&server), ["h1", "h-new"]);
    let left = outbox_files(dir.path());
    assert_eq!(
        left.len(),
        3,
        "both saved reports kept, and the new one added"
    );
    assert_eq!(left[0].0, saved[0]);
    assert_eq!(left[1].0, saved[1]);
    assert_eq!(left[2].1["payload"], job_payload("h-new"));
    assert_no_token(dir.path());
}

#[test]
fn flush_applies_the_plain_http_guard_and_never_uses_a_proxy_for_plain_http() {
    let dir = tempfile::tempdir().expect("tmp");
    // Any request that went through a proxy would reach this one on 127.0.0.1.
    let proxy = Server::start(vec![Reply::status(201)]);
    // `.invalid` never resolves: a direct attempt leaves nothing but a failure here.
    let base = "http://allstacks.invalid";
    let path = save_report(dir.path(), &webhook(base), "plain");
    let out = flush(&["--strict", "-vv"], base)
        .env("ALLSTACKS_OUTBOX", dir.path())
        .env("HTTP_PROXY", proxy.url())
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("--allow-http"), "{}", out.stderr);
    assert!(proxy.received().is_empty());
    assert!(path.is_file(), "kept");

    let out = flush(
        &[
            "--strict",
            "--allow-http",
            "--retries",
            "0",
            "--timeout",
            "5",
            "-vv",
        ],
        base,
    )
    .env("ALLSTACKS_OUTBOX", dir.path())
    .env("HTTP_PROXY", proxy.url())
    .env("ALL_PROXY", proxy.url())
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("could not connect"), "{}", out.stderr);
    assert!(
        proxy.received().is_empty(),
        "the token never goes to a proxy in clear"
    );
    assert!(path.is_file(), "kept");
}

/// Ten saved reports, two `report`s flushing them at once: each saved report arrives exactly
/// once (the claim is a rename, which only one process can win).
#[test]
fn two_reports_flushing_one_outbox_deliver_each_saved_report_once() {
    for round in 0..2 {
        let dir = tempfile::tempdir().expect("tmp");
        // A little latency so that the two flushes overlap.
        let server = Server::start(vec![Reply::status(201).delay(Duration::from_millis(20))]);
        let url = webhook(&server.url());
        let saved: Vec<String> = (0..10).map(|i| format!("saved-{round}-{i}")).collect();
        for id in &saved {
            save_report(dir.path(), &url, id);
        }
        let runs: Vec<_> = ["own-a", "own-b"]
            .iter()
            .map(|own| {
                let t = tool(&["report", "--strict", "-vv"])
                    .server(&server)
                    .with_job(own)
                    .env("ALLSTACKS_OUTBOX", dir.path());
                std::thread::spawn(move || t.run())
            })
            .collect();
        for r in runs {
            let out = r.join().expect("report thread");
            assert_eq!(out.code, 0, "{}", out.stderr);
        }
        let mut got = job_ids(&server);
        got.sort();
        let mut want = saved.clone();
        want.extend(["own-a".to_string(), "own-b".to_string()]);
        want.sort();
        assert_eq!(got, want, "each exactly once");
        assert_eq!(listing(dir.path()), Vec::<String>::new());
    }
}

#[test]
fn a_saved_file_that_is_not_a_report_is_moved_aside() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![Reply::status(201)]);
    std::fs::write(dir.path().join("0000-broken.json"), "{\"half\": ").expect("write");
    save_report(dir.path(), &webhook(&server.url()), "fine");
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(job_ids(&server), ["fine"]);
    assert_eq!(listing(dir.path()), ["rejected"]);
    assert_eq!(listing(&dir.path().join("rejected")), ["0000-broken.json"]);
}

#[test]
fn flush_output_json_counts_what_happened() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let out = tool(&["flush", "--output", "json"])
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["delivered"], json!(0));
    let server = Server::start(vec![Reply::status(201), Reply::status(400)]);
    save_report(&outbox, &webhook(&server.url()), "a");
    save_report(&outbox, &webhook(&server.url()), "b");
    let out = flush(&["--output", "json"], &server.url())
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "soft by default: {}", out.stderr);
    let result = out.json();
    assert_eq!(result["delivered"], json!(1));
    assert_eq!(result["rejected"], json!(1));
    assert_eq!(result["kept"], json!(0));
    assert_eq!(result["stuck"], json!(0));
    assert_eq!(job_ids(&server), vec!["a", "b"]);
}

#[test]
fn flush_adopt_sends_reports_saved_for_a_corrected_url_after_naming_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = Server::start(vec![Reply::status(201)]);
    // Saved while the URL had a typo (an old host, the wrong company), and one for now.
    let typo = "https://allstacks.example.con/webhook/company/42/cicd_job";
    let old_company = webhook(&server.url()).replace("/42/", "/41/");
    let first = save_report(dir.path(), typo, "typo");
    let second = save_report(dir.path(), &old_company, "old-company");
    save_report(dir.path(), &webhook(&server.url()), "current");
    // Never without the flag: only the current endpoint's report is sent.
    let out = flush(&["--strict"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(job_ids(&server), ["current"]);
    assert!(
        out.stderr
            .contains("`allstacks-cd flush --adopt` sends it there"),
        "{}",
        out.stderr
    );
    assert_eq!(outbox_files(dir.path()).len(), 2);
    // --dry-run says what --adopt would do, and sends nothing.
    let out = flush(&["--dry-run", "--adopt"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains(&format!("another endpoint ({typo}): sent with --adopt")),
        "{}",
        out.stderr
    );
    assert_eq!(job_ids(&server), ["current"]);
    // With --adopt each is named with the endpoint it was saved for, then sent here.
    let out = flush(&["--strict", "--adopt", "--output", "json"], &server.url())
        .env("ALLSTACKS_OUTBOX", dir.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut adopted = job_ids(&server);
    adopted.sort();
    assert_eq!(adopted, ["current", "old-company", "typo"]);
    for (path, url) in [(&first, typo), (&second, old_company.as_str())] {
        assert!(
            out.stderr.contains(&format!(
                "{} was saved for {url}: sending it to {} (--adopt)",
                path.display(),
                webhook(&server.url())
            )),
            "{}",
            out.stderr
        );
    }
    let stats: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    assert_eq!(
        (&stats["delivered"], &stats["other_endpoint"]),
        (&json!(2), &json!(0))
    );
    assert_eq!(listing(dir.path()), Vec::<String>::new());
    for r in server.received() {
        assert_eq!(r.path, "/webhook/company/42/cicd_job");
        assert_eq!(r.header("authorization"), Some(&*format!("Bearer {TOKEN}")));
    }
}
