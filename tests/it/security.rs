//! SPEC.md's Security rules, each reproduced as the attack or the fault it guards against, on
//! 127.0.0.1, through the real binary. (Every run also checks that the token appears in no
//! output: see `support::Tool::run`.)
//!
//! A few tests need root (Linux namespaces, `mount`, `chown`): they are what reproduces the
//! fault (a container's PID 1, a read-only volume, another user's file), and CI runs as root.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use allstacks_cd::outbox::Claim;
use serde_json::json;

use crate::support::{
    Output, Reply, ReservedPort, SHA, Server, TOKEN, assert_no_token, flush, job_payload,
    outbox_files, save_report, temp_path, tool, webhook,
};

/// A private directory (mode 0700), as the tool itself creates them.
fn private_dir(parent: &tempfile::TempDir, name: &str) -> PathBuf {
    use std::os::unix::fs::DirBuilderExt;
    let dir = parent.path().join(name);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .expect("mkdir");
    dir
}

/// No line of stderr starts a workflow command other than the tool's own annotations.
fn no_injected_command(out: &Output, injected: &str) {
    for line in out.stderr.lines() {
        assert!(
            !line.trim_start().starts_with(injected),
            "a value started its own line {line:?} in:\n{}",
            out.stderr
        );
    }
    assert!(
        !out.stderr.contains('\u{1b}'),
        "a terminal escape reached the log:\n{}",
        out.stderr
    );
}

/// `report --dry-run --status ok ARGS` in a GitHub run whose start time is asked of the API at
/// `api` (with a GitHub token).
fn github_run(api: &str, args: &[&str]) -> crate::support::Tool {
    let mut all = vec!["report", "--dry-run", "--status", "ok"];
    all.extend_from_slice(args);
    tool(&all).envs(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/web"),
        ("GITHUB_RUN_ID", "42"),
        ("GITHUB_SHA", SHA),
        ("GITHUB_TOKEN", "ghs_apitoken123"),
        ("GITHUB_API_URL", api),
        ("ALLSTACKS_SERVICE_ID", "5"),
    ])
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn require_root(what: &str) {
    assert!(
        is_root(),
        "{what} needs root (Linux namespaces, mount, chown); run the tests as root, as CI does"
    );
}

// --- Credentials only in the token --------------------------------------------------------

#[test]
fn a_url_with_credentials_is_refused_and_never_shown() {
    let server = Server::start(vec![Reply::status(201)]);
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = temp_path(&dir, "outbox");
    let url = server.url().replace("http://", "http://deploy:hunter2-pw@");
    for (args, code) in [
        (&["report", "--dry-run", "-vv"][..], 2),
        (&["report", "--strict", "-vv"][..], 2),
        (&["report", "-vv"][..], 0),
    ] {
        let out = tool(args)
            .server(&server)
            .with_job("creds")
            .env("ALLSTACKS_URL", &url)
            .env("ALLSTACKS_OUTBOX", &outbox)
            .run();
        assert_eq!(out.code, code, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("contains a user name or password"),
            "{args:?}: {}",
            out.stderr
        );
        assert!(out.stderr.contains("ALLSTACKS_URL"), "{}", out.stderr);
        for secret in ["hunter2-pw", "deploy:"] {
            assert!(
                !out.stderr.contains(secret) && !out.stdout.contains(secret),
                "{args:?} printed {secret}:\n{}\n{}",
                out.stdout,
                out.stderr
            );
        }
    }
    assert!(server.received().is_empty(), "nothing was sent");
    assert!(!outbox.exists(), "nothing was saved");

    // A report saved by an older version for such a URL is listed without its credentials.
    let old = private_dir(&dir, "old-outbox");
    save_report(&old, &webhook(&url), "old-creds");
    let out = tool(&["flush", "--dry-run"])
        .env("ALLSTACKS_OUTBOX", &old)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("http://***@127.0.0.1"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2-pw"), "{}", out.stderr);

    // The same for the GitHub API: no request, a warning, the start falls back.
    let api = Server::start(vec![Reply::status(200).body("{}")]);
    let out = github_run(&api.url().replace("http://", "http://x:hunter2-api@"), &[]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(api.received().is_empty(), "no request to the API");
    assert!(
        out.stderr.contains("GITHUB_API_URL \"http://***@127.0.0.1"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("hunter2-api"), "{}", out.stderr);
}

// --- A token is one line ------------------------------------------------------------------

#[test]
fn a_token_that_is_not_one_line_is_refused_and_never_shown() {
    let server = Server::start(vec![Reply::status(201)]);
    for github in [false, true] {
        let out = tool(&["report", "--strict"])
            .server(&server)
            .with_job("bad-token")
            .env("ALLSTACKS_TOKEN", "first-part-abc\nsecond-part-xyz")
            .env("GITHUB_ACTIONS", if github { "true" } else { "false" })
            .run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains("has a line break inside"),
            "{}",
            out.stderr
        );
        assert!(!out.stderr.contains("token is required"), "{}", out.stderr);
        for part in ["first-part-abc", "second-part-xyz"] {
            assert!(!out.stderr.contains(part), "{part} shown:\n{}", out.stderr);
        }
    }
    // A token file may end with one newline; whitespace inside is refused.
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("token");
    std::fs::write(&file, "inner space-token-q\n").expect("write");
    let out = tool(&["report", "--strict"])
        .server(&server)
        .with_job("bad-token")
        .env_remove("ALLSTACKS_TOKEN")
        .env("ALLSTACKS_TOKEN_FILE", &file)
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("has whitespace inside"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("space-token-q"), "{}", out.stderr);
    // Not UTF-8: said so, not "token is required".
    use std::os::unix::ffi::OsStrExt;
    let out = tool(&["report", "--strict"])
        .server(&server)
        .with_job("bad-token")
        .env("ALLSTACKS_TOKEN", OsStr::from_bytes(b"tok-\xff\xfe-en"))
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("is not UTF-8"), "{}", out.stderr);
    assert!(!out.stderr.contains("token is required"), "{}", out.stderr);
    assert!(server.received().is_empty());

    // A good token file with one trailing newline works.
    std::fs::write(&file, format!("{TOKEN}\n")).expect("write");
    let out = tool(&["report", "--strict"])
        .server(&server)
        .with_job("good-token")
        .env_remove("ALLSTACKS_TOKEN")
        .env("ALLSTACKS_TOKEN_FILE", &file)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        server.only().header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

// --- Outbox names never collide -----------------------------------------------------------

#[test]
fn reports_from_thirty_pid_1_containers_sharing_one_outbox_are_all_saved() {
    require_root("a PID namespace per report (every container's process is PID 1)");
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = private_dir(&dir, "outbox");
    let port = ReservedPort::new();
    let runs: Vec<_> = (0..30)
        .map(|i| {
            let t = tool(&["report", "--retries", "0", "--timeout", "5"])
                .with_job(&format!("c-{i}"))
                .endpoint(&port.url())
                .env("ALLSTACKS_OUTBOX", &outbox)
                .under(&["unshare", "--pid", "--fork"]);
            std::thread::spawn(move || t.run())
        })
        .collect();
    let mut said_saved = Vec::new();
    for r in runs {
        let out = r.join().expect("report thread");
        assert_eq!(out.code, 0, "{}", out.stderr);
        let path = out
            .stderr
            .split("; saved to ")
            .nth(1)
            .and_then(|rest| rest.split(" (").next())
            .unwrap_or_else(|| panic!("not saved:\n{}", out.stderr))
            .to_string();
        said_saved.push(path);
    }
    let files = outbox_files(&outbox);
    let mut ids: Vec<String> = files
        .iter()
        .map(|(_, f)| f["payload"]["job_id"].as_str().expect("job_id").to_string())
        .collect();
    ids.sort();
    let mut want: Vec<String> = (0..30).map(|i| format!("c-{i}")).collect();
    want.sort();
    assert_eq!(ids, want, "every report saved once, none overwritten");
    for path in &said_saved {
        assert!(
            Path::new(path).is_file(),
            "said saved to {path}, but it is not"
        );
    }
    said_saved.sort();
    said_saved.dedup();
    assert_eq!(said_saved.len(), 30, "thirty different files");
    assert_no_token(&outbox);
}

// --- Every network call ends within its deadline ------------------------------------------

#[test]
fn a_github_api_that_drips_its_answer_is_cut_off_at_the_deadline() {
    let body = json!({"run_started_at": "2024-06-01T08:00:00Z", "pad": "x".repeat(40)});
    let api = Server::start(vec![
        Reply::status(200)
            .body(body.to_string())
            .drip(Duration::from_millis(300)),
    ]);
    let started = Instant::now();
    let out = github_run(&api.url(), &[]).run();
    let took = started.elapsed();
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The lookup has 5 s; the answer would take 30 s to drip.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(
        out.stderr
            .contains("could not read the start time from the GitHub API"),
        "{}",
        out.stderr
    );
    assert_eq!(api.received().len(), 1);
}

// --- The outbox is trusted only when it is ours -------------------------------------------

#[test]
fn flush_never_sends_a_planted_report_to_the_host_it_names() {
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = private_dir(&dir, "outbox");
    let planter = Server::start(vec![Reply::status(201)]);
    let ours = Server::start(vec![Reply::status(201)]);
    let planted = save_report(&outbox, &webhook(&planter.url()), "planted");
    let mine = save_report(&outbox, &webhook(&ours.url()), "mine");
    let out = flush(&["--strict", "-vv", "--output", "json"], &ours.url())
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        planter.received().is_empty(),
        "the token went to the planter"
    );
    assert_eq!(ours.only().json(), job_payload("mine"));
    assert!(!mine.exists());
    assert!(planted.is_file(), "left in place");
    assert!(
        out.stderr.contains(&format!(
            "{} was saved for another webhook URL",
            planted.display()
        )),
        "listed: {}",
        out.stderr
    );
    assert_eq!(out.json()["other_endpoint"], json!(1));
    assert_eq!(out.json()["delivered"], json!(1));

    // Without a configured endpoint, flush sends nothing at all.
    let out = tool(&["flush", "--strict"])
        .env("ALLSTACKS_TOKEN", TOKEN)
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("sent only to the endpoint configured now"),
        "{}",
        out.stderr
    );
    assert!(planter.received().is_empty());
}

#[test]
fn an_outbox_others_can_write_is_refused_and_another_users_file_is_skipped() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = private_dir(&dir, "outbox");
    let server = Server::start(vec![Reply::status(201)]);
    save_report(&outbox, &webhook(&server.url()), "w1");
    std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let flush = || {
        flush(&["--strict", "--output", "json"], &server.url())
            .env("ALLSTACKS_OUTBOX", &outbox)
            .run()
    };
    let out = flush();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "is writable by group or others (mode 777): anyone could plant reports in it. Run \
             `chmod 700 {}`",
            outbox.display()
        )),
        "{}",
        out.stderr
    );
    assert!(server.received().is_empty());

    // report does not save into it either, and says so.
    let port = ReservedPort::new();
    let out = tool(&["report", "--retries", "0"])
        .with_job("w2")
        .endpoint(&port.url())
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("NOT saved to the outbox"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("; saved to"), "{}", out.stderr);
    assert_eq!(outbox_files(&outbox).len(), 1);

    std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    require_root("a file owned by another user");
    let foreign = save_report(&outbox, &webhook(&server.url()), "theirs");
    std::os::unix::fs::chown(&foreign, Some(65534), Some(65534)).expect("chown");
    let out = flush();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(server.only().json(), job_payload("w1"));
    assert!(foreign.is_file(), "left alone");
    assert!(
        out.stderr.contains(&format!(
            "skipping {}: it belongs to another user",
            foreign.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["not_ours"], json!(1));
}

#[test]
fn report_never_sends_the_saved_reports_of_an_outbox_others_can_write() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = private_dir(&dir, "outbox");
    let server = Server::start(vec![Reply::status(201)]);
    // A report planted for the endpoint we report to, in an outbox anyone can write to: it
    // would go out with our token before our own job.
    let planted = save_report(&outbox, &webhook(&server.url()), "planted");
    std::fs::set_permissions(&outbox, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = tool(&["report"])
        .with_job("mine")
        .server(&server)
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        server.only().json(),
        job_payload("mine"),
        "only our own job"
    );
    assert!(planted.is_file(), "left alone");
    assert!(
        out.stderr.contains(&format!(
            "saved reports not sent: the outbox is not trusted: {} is writable by group or \
             others (mode 777)",
            outbox.display()
        )),
        "{}",
        out.stderr
    );

    // flush without --strict: an error, nothing sent, and the step goes on (exit 0).
    let out = flush(&["--output", "json"], &server.url())
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "allstacks-cd: error: the outbox is not trusted: {} is writable by group or others",
            outbox.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(server.received().len(), 1, "nothing more was sent");
}

#[test]
fn the_relay_worker_sends_nothing_from_a_queue_others_can_write() {
    use crate::relay::{Setup, post_deployment, wait_for};
    use std::os::unix::fs::PermissionsExt;
    let port = ReservedPort::new();
    let relay = Setup::new(&port.url()).start();
    let (status, answer) = post_deployment(&relay, 1);
    assert_eq!(status, 202, "{answer}");
    // Allstacks is down: the job waits in the queue. Meanwhile the queue directory becomes
    // writable by anyone, and a job is planted in it.
    save_report(&relay.queue, &webhook(&port.url()), "planted");
    let mode = |m| std::fs::set_permissions(&relay.queue, std::fs::Permissions::from_mode(m));
    mode(0o777).expect("chmod");
    // Allstacks comes back once the worker has seen the change (a round that had looked
    // before the chmod could still send what it listed then).
    let log = relay.log_when(|l| l.iter().any(|x| x.contains("the queue is not delivered")));
    let receiver = Server::on(port.listen(), vec![Reply::status(201)]);
    assert!(
        log.iter().any(|l| l.contains(&format!(
            "the queue is not delivered: {} is writable by group or others (mode 777)",
            relay.queue.display()
        ))),
        "{}",
        log.join("\n")
    );
    // Several more rounds (the backoff is 0.5 s here): still nothing sent.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(receiver.received().is_empty(), "a job went out");
    // Private again: both are delivered.
    mode(0o700).expect("chmod");
    let got = wait_for(&receiver, 2, Duration::from_secs(10));
    let mut ids: Vec<String> = got
        .iter()
        .map(|r| r.json()["job_id"].as_str().unwrap_or("").to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["deployment-1", "planted"]);
}

#[test]
fn the_relay_never_writes_its_seen_file_through_a_symlink() {
    use std::os::unix::fs::DirBuilderExt;
    let dir = tempfile::tempdir().expect("tmp");
    let queue = dir.path().join("queue");
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&queue)
        .expect("mkdir");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "").expect("write");
    let seen = queue.join("seen");
    std::os::unix::fs::symlink(&victim, &seen).expect("symlink");
    let out = tool(&["serve", "--listen", "127.0.0.1:0", "--timeout", "2"])
        .endpoint("http://127.0.0.1:9")
        .env("ALLSTACKS_OUTBOX", &queue)
        .env("ALLSTACKS_GITHUB_SECRET", "s3cret-for-the-test")
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "{} is a symbolic link: refusing to write through it",
            seen.display()
        )),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "");
}

#[test]
fn flush_strict_fails_when_reports_cannot_be_claimed() {
    require_root("a read-only tmpfs in a private mount namespace");
    let dir = tempfile::tempdir().expect("tmp");
    let staged = private_dir(&dir, "staged");
    let server = Server::start(vec![Reply::status(201)]);
    save_report(&staged, &webhook(&server.url()), "ro-1");
    save_report(&staged, &webhook(&server.url()), "ro-2");
    let mount = private_dir(&dir, "ro");
    // The outbox is a read-only volume (mounted in a namespace of the flush's own).
    let script = r#"mount -t tmpfs -o mode=700 none "$RO" && cp "$STAGED"/*.json "$RO"/ &&
        mount -o remount,ro "$RO" && exec "$@""#;
    let out = flush(&["--strict", "--output", "json"], &server.url())
        .env("ALLSTACKS_OUTBOX", &mount)
        .env("RO", &mount)
        .env("STAGED", &staged)
        .under(&["unshare", "--mount", "sh", "-c", script, "sh"])
        .run();
    assert_eq!(
        out.code, 1,
        "unsent reports fail a strict flush: {}",
        out.stderr
    );
    let result = out.json();
    assert_eq!(result["stuck"], json!(2), "{result}");
    assert_eq!(result["delivered"], json!(0), "{result}");
    assert!(
        out.stderr.contains("cannot claim") && out.stderr.contains("Read-only file system"),
        "{}",
        out.stderr
    );
    assert!(server.received().is_empty());
}

#[test]
fn a_claim_is_never_taken_for_stale_while_its_owner_sends() {
    // The interleaving that let two flushes send one report: a report saved long ago is
    // claimed (renamed) by flush A; before A can do anything else, flush B looks. The claimed
    // file still has the old report's time. B must see a fresh claim, not a dead one.
    let dir = tempfile::tempdir().expect("tmp");
    let outbox = private_dir(&dir, "outbox");
    let server = Server::start(vec![Reply::status(201)]);
    let path = save_report(&outbox, &webhook(&server.url()), "once");
    let claim = Claim::take(&path).expect("claim").expect("not taken yet");
    let long_ago = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options()
        .append(true)
        .open(claim.claimed_path())
        .expect("open")
        .set_modified(long_ago)
        .expect("set mtime");
    let out = flush(&["--strict", "-vv"], &server.url())
        .env("ALLSTACKS_OUTBOX", &outbox)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(server.received().is_empty(), "B sent A's report");
    assert!(claim.claimed_path().is_file(), "still A's");
}

// --- Escaping -----------------------------------------------------------------------------

#[test]
fn a_job_id_with_a_line_break_is_refused_and_cannot_inject_a_command() {
    let server = Server::start(vec![Reply::status(201)]);
    for github in ["false", "true"] {
        let out = tool(&["report", "--dry-run"])
            .server(&server)
            .with_job("1\n::error::pwned")
            .env("ALLSTACKS_JOB_TYPE", "deploy\u{1b}[31m")
            .env("GITHUB_ACTIONS", github)
            .run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains(
                "job_id must not contain control characters (line breaks, tabs, terminal \
                 escapes), got \"1\\n::error::pwned\" (from ALLSTACKS_JOB_ID)"
            ),
            "{}",
            out.stderr
        );
        assert!(
            out.stderr.contains("job_type must not contain"),
            "{}",
            out.stderr
        );
        no_injected_command(&out, "::error::pwned");
    }
    let out = tool(&["report", "--dry-run", "--field", "note=a\nb"])
        .server(&server)
        .with_job("f")
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("optional field \"note\" must not contain control characters"),
        "{}",
        out.stderr
    );
    assert!(server.received().is_empty());
}

#[test]
fn a_servers_words_are_escaped_in_the_log_and_inert_in_the_summary() {
    let dir = tempfile::tempdir().expect("tmp");
    let summary = dir.path().join("summary.md");
    let nasty = "bad\n::warning::pwned \u{1b}[2J<img src=x onerror=alert(1)>|**bold**";
    // A 2xx answer shown at -v, and a 422 shown as the error.
    for (status, code) in [(201, 0), (422, 1)] {
        let server = Server::start(vec![Reply::status(status).body(nasty)]);
        let out = tool(&["report", "--strict", "-v"])
            .server(&server)
            .with_job("esc")
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .run();
        assert_eq!(out.code, code, "{}", out.stderr);
        no_injected_command(&out, "::warning::pwned");
        assert!(
            out.stderr.contains("bad\\n::warning::pwned \\u{1b}[2J<img"),
            "{}",
            out.stderr
        );
    }
    let md = std::fs::read_to_string(&summary).expect("summary");
    let row = md
        .lines()
        .find(|l| l.starts_with("| delivery | ") && l.contains("HTTP 422"))
        .unwrap_or_else(|| panic!("no delivery row:\n{md}"));
    assert_eq!(
        row,
        "| delivery | `failed: the server rejected the job (HTTP 422); the server said: \
         bad\\n::warning::pwned \\u{1b}[2J<img src=x onerror=alert(1)>\\|**bold**` |"
    );
    assert!(!md.contains('\u{1b}'));
    assert_no_token(&summary);
}

#[test]
fn the_action_script_escapes_a_bad_command_input() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/action-run.sh");
    let out = std::process::Command::new("bash")
        .arg(&script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("ALLSTACKS_CD_BIN", "/bin/true")
        .env(
            "ALLSTACKS_CD_COMMAND",
            "bogus\n::error::pwned%0A::warning::two",
        )
        .output()
        .expect("bash");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("::error title=allstacks-cd::input command"),
        "{stderr}"
    );
    assert!(
        lines[0].contains("bogus%0A::error::pwned%250A::warning::two"),
        "{stderr}"
    );
}

// --- State files --------------------------------------------------------------------------

#[test]
fn start_replaces_a_planted_symlink_instead_of_writing_through_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").expect("write");
    let state = dir.path().join("state.json");
    std::os::unix::fs::symlink(&victim, &state).expect("symlink");
    let out = tool(&["start", "--state-file", state.to_str().expect("utf-8")]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&victim).expect("read"), "precious");
    let meta = std::fs::symlink_metadata(&state).expect("state");
    assert!(meta.file_type().is_file(), "the symlink was replaced");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("read")).expect("json");
    assert!(written["job_start_time"].as_i64().expect("time") > 1_700_000_000);
}

#[test]
fn report_deletes_only_a_state_file_that_held_a_valid_start() {
    let server = Server::start(vec![Reply::status(201)]);
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("not-ours.json");
    std::fs::write(&state, "{\"precious\": true}").expect("write");
    let out = tool(&["report", "--strict"])
        .server(&server)
        .with_job("keep-state")
        .env_remove("ALLSTACKS_JOB_START_TIME")
        .env("ALLSTACKS_STATE_FILE", &state)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("holds no job_start_time"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&state).expect("still there"),
        "{\"precious\": true}"
    );
    // A valid one is consumed once the job is delivered.
    let out = tool(&["start", "--state-file", state.to_str().expect("utf-8")]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = tool(&["report", "--strict"])
        .server(&server)
        .with_job("use-state")
        .env_remove("ALLSTACKS_JOB_START_TIME")
        .env("ALLSTACKS_STATE_FILE", &state)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!state.exists());
}

// --- Bounded reads ------------------------------------------------------------------------

/// A GitHub push event whose `pusher.email` is `email`, padded to `size` bytes.
fn big_event(path: &Path, size: usize, email: &str) {
    use std::io::Write;
    let head = format!("{{\"pusher\": {{\"email\": \"{email}\"}}, \"pad\": \"");
    let tail = "\"}";
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    f.write_all(head.as_bytes()).expect("write");
    let chunk = vec![b'x'; 1 << 20];
    let mut left = size - head.len() - tail.len();
    while left > 0 {
        let n = left.min(chunk.len());
        f.write_all(&chunk[..n]).expect("write");
        left -= n;
    }
    f.write_all(tail.as_bytes()).expect("write");
}

fn github_push(event: &Path) -> crate::support::Tool {
    tool(&["report", "--dry-run", "--status", "ok"]).envs(&[
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_EVENT_NAME", "push"),
        ("GITHUB_EVENT_PATH", event.to_str().expect("utf-8")),
        ("GITHUB_REPOSITORY", "acme/web"),
        ("GITHUB_RUN_ID", "42"),
        ("GITHUB_SHA", SHA),
        ("GITHUB_ACTOR", "octocat"),
        ("ALLSTACKS_SERVICE_ID", "5"),
    ])
}

#[test]
fn event_files_are_read_up_to_25_mib_in_little_memory() {
    let dir = tempfile::tempdir().expect("tmp");
    let event = dir.path().join("event.json");
    // 20 MB: read, and only pusher.email kept.
    big_event(&event, 20_000_000, "pusher@example.com");
    let (out, rss) = github_push(&event).run_measured();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["triggered_by"], json!("pusher@example.com"));
    let rss = rss.expect("peak memory measured");
    assert!(rss < 64 * 1024, "a 20 MB event file took {rss} KiB");
    // 100 MB: skipped with a warning, the actor instead.
    big_event(&event, 100_000_000, "pusher@example.com");
    let (out, rss) = github_push(&event).run_measured();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["triggered_by"], json!("octocat"));
    assert!(
        out.stderr
            .contains("is larger than 25 MiB (100000000 bytes)"),
        "{}",
        out.stderr
    );
    let rss = rss.expect("peak memory measured");
    assert!(rss < 64 * 1024, "a 100 MB event file took {rss} KiB");
}

#[test]
fn five_8_mb_api_pages_stay_in_little_memory() {
    // Job scope: the API lists 500 jobs over five pages of ~8 MB; ours is on the last page.
    let page = |n: usize| {
        let jobs: Vec<serde_json::Value> = (0..100)
            .map(|i| {
                let id = n * 100 + i;
                let ours = id == 499;
                json!({
                    "id": id,
                    "name": if ours { "deploy".to_string() } else { format!("test ({id})") },
                    "runner_name": if ours { "runner-ours".to_string() } else { format!("r{id}") },
                    "status": if ours { "in_progress" } else { "completed" },
                    "started_at": "2024-06-01T08:03:27Z",
                    "steps": "s".repeat(79_000),
                })
            })
            .collect();
        Reply::status(200).body(json!({"total_count": 500, "jobs": jobs}).to_string())
    };
    let api = Server::start((0..5).map(page).collect());
    let (out, rss) = github_run(&api.url(), &["--scope", "job"])
        .envs(&[
            ("GITHUB_RUN_ATTEMPT", "1"),
            ("GITHUB_JOB", "deploy"),
            ("RUNNER_NAME", "runner-ours"),
        ])
        .run_measured();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["job_start_time"], json!(1_717_229_007));
    assert_eq!(api.received().len(), 5);
    let rss = rss.expect("peak memory measured");
    assert!(rss < 64 * 1024, "five 8 MB pages took {rss} KiB");
}

// --- Retry-After, times, negative numbers -------------------------------------------------

#[test]
fn retry_after_zero_still_waits_the_normal_backoff() {
    let server = Server::start(vec![Reply::status(429).header("Retry-After", "0")]);
    let started = Instant::now();
    let out = tool(&["report", "--strict", "--retries", "100", "--timeout", "3"])
        .server(&server)
        .with_job("r0")
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(started.elapsed() < Duration::from_secs(5));
    // 0.25-0.5 s, 0.5-1 s, 1-2 s: at most five attempts fit in 3 s.
    let n = server.received().len();
    assert!((2..=5).contains(&n), "{n} attempts in 3 s");
}

#[test]
fn times_before_2000_or_a_day_ahead_are_refused_from_users_and_skipped_from_providers() {
    let server = Server::start(vec![Reply::status(201)]);
    for (given, why) in [
        ("0", "1970-01-01T00:00:00Z is before 2000-01-01"),
        ("2999-01-01T00:00:00Z", "is more than a day in the future"),
    ] {
        let out = tool(&["report", "--strict", "--job-start-time", given])
            .server(&server)
            .with_job("t")
            .run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains(why), "{}", out.stderr);
        assert!(
            out.stderr.contains("(from --job-start-time)"),
            "{}",
            out.stderr
        );
    }
    assert!(server.received().is_empty());
    // From a provider: a warning, and the next source (here: now).
    let out = tool(&["report", "--dry-run", "--status", "ok"])
        .envs(&[
            ("GITLAB_CI", "true"),
            ("CI_COMMIT_SHA", SHA),
            ("CI_PROJECT_PATH", "acme/web"),
            ("CI_PIPELINE_ID", "5"),
            ("CI_PIPELINE_CREATED_AT", "1970-01-01T00:00:01Z"),
            ("ALLSTACKS_SERVICE_ID", "5"),
        ])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("ignoring CI_PIPELINE_CREATED_AT: 1970-01-01T00:00:01Z is before 2000-01-01"),
        "{}",
        out.stderr
    );
    // From the GitHub API: a warning, and the next source.
    let api = Server::start(vec![
        Reply::status(200).body(r#"{"run_started_at": "0000-01-01T00:00:00Z"}"#),
    ]);
    let out = github_run(&api.url(), &[]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("run_started_at: 0000-01-01T00:00:00Z is before 2000-01-01"),
        "{}",
        out.stderr
    );
    let start = out.json()["job_start_time"].as_i64().expect("start");
    assert!((crate::now() - start).abs() < 60, "fell back to now");
}

#[test]
fn a_negative_duration_is_an_invalid_value_not_an_unknown_flag() {
    let server = Server::start(vec![Reply::status(201)]);
    for (flag, field) in [
        ("--job-duration", "job_duration"),
        ("--job-start-time", "job_start_time"),
    ] {
        let out = tool(&["report", "--strict", flag, "-5"])
            .server(&server)
            .with_job("neg")
            .run();
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!("{field}: ")) && out.stderr.contains("\"-5\""),
            "{}",
            out.stderr
        );
        assert!(
            !out.stderr.contains("unexpected argument"),
            "{}",
            out.stderr
        );
    }
    assert!(server.received().is_empty());
}

// --- Loopback is never proxied ------------------------------------------------------------

#[test]
fn a_loopback_url_never_goes_through_a_proxy() {
    let proxy = Server::start(vec![Reply::status(201)]);
    let server = Server::start(vec![Reply::status(201)]);
    for host in ["127.0.0.1", "localhost"] {
        let url = server.url().replace("127.0.0.1", host);
        let out = tool(&["report", "--strict"])
            .server(&server)
            .with_job(host)
            .env("ALLSTACKS_URL", &url)
            .envs(&[
                ("HTTP_PROXY", &proxy.url()),
                ("http_proxy", &proxy.url()),
                ("ALL_PROXY", &proxy.url()),
            ])
            .run();
        assert_eq!(out.code, 0, "{}", out.stderr);
    }
    assert!(proxy.received().is_empty(), "the token went to the proxy");
    assert_eq!(server.received().len(), 2);
}
