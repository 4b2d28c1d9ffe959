//! Delivery from the queue (spec `relay-production.md` §3): one bad job never holds up the
//! others, a refused token pauses delivery and readiness, undeliverable jobs end in `dead/`, and
//! a full disk leaves no job claimed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Relay, Setup, post_deployment, queued_files, wait_for};
use crate::support::{Received, Reply, Server, flush};

/// A fake Allstacks whose answer to each job `answer(job_id)` picks, counting the jobs it
/// accepted (2xx) by id.
fn allstacks(
    answer: impl Fn(&str) -> Reply + Send + Sync + 'static,
) -> (Server, Arc<Mutex<BTreeMap<String, usize>>>) {
    let accepted = Arc::new(Mutex::new(BTreeMap::new()));
    let counts = accepted.clone();
    let server = Server::route(move |r: &Received| {
        let id = r.json()["job_id"].as_str().unwrap_or("?").to_string();
        let reply = answer(&id);
        if (200..300).contains(&reply.status) {
            *counts.lock().expect("counts").entry(id).or_insert(0) += 1;
        }
        reply
    });
    (server, accepted)
}

/// Waits (at most `limit`) until `done` holds.
fn until(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let end = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < end, "not within {limit:?}: {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The jobs waiting in a folder (`NAME.json`), parsed, oldest first.
fn jobs_in(dir: &Path) -> Vec<(PathBuf, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    paths.retain(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or(".");
        name.ends_with(".json") && !name.starts_with('.')
    });
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read job");
            let json = serde_json::from_str(&text).expect("a job is JSON");
            (p, json)
        })
        .collect()
}

#[test]
fn relay_a_poison_job_waits_on_its_own_then_goes_to_dead() {
    let poison = Arc::new(AtomicBool::new(true));
    let bad = poison.clone();
    let (server, accepted) = allstacks(move |id| {
        if id == "deployment-1" && bad.load(Ordering::SeqCst) {
            Reply::status(500).body("{\"error\": \"boom\"}")
        } else {
            Reply::status(201)
        }
    });
    let setup = Setup::new(&server.url()).env("ALLSTACKS_RELAY_MAX_AGE", "5");
    let mut relay = setup.start();
    for id in 1..=6 {
        assert_eq!(post_deployment(&relay, id).0, 202);
    }
    // The jobs queued after the poison one are delivered while it keeps failing.
    until(Duration::from_secs(5), "jobs 2 to 6 delivered", || {
        accepted.lock().expect("counts").len() == 5
    });
    until(Duration::from_secs(5), "a second attempt at job 1", || {
        server
            .received()
            .iter()
            .filter(|r| r.body.contains("\"deployment-1\""))
            .count()
            >= 2
    });
    // Its attempts are kept with it on disk, across a restart.
    relay.signal(libc::SIGTERM);
    assert_eq!(relay.wait(Duration::from_secs(15)), Some(0));
    let files = jobs_in(&relay.queue);
    assert_eq!(files.len(), 1, "only the poison job is left");
    let before = &files[0].1;
    let attempts = before["retry"]["attempts"].as_u64().unwrap_or(0);
    assert!(attempts >= 2, "{before}");
    assert!(before["retry"]["next_attempt_at"].as_i64().unwrap_or(0) > 0);
    assert!(
        before["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("HTTP 500"),
        "{before}"
    );
    let relay = setup.start();
    // Undeliverable for ALLSTACKS_RELAY_MAX_AGE: moved to dead/ with its last error.
    let dead = relay.queue.join("dead");
    until(Duration::from_secs(10), "job 1 in dead/", || {
        jobs_in(&dead).len() == 1
    });
    let buried = &jobs_in(&dead)[0].1;
    assert_eq!(buried["payload"]["job_id"], "deployment-1");
    assert!(
        buried["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("HTTP 500"),
        "{buried}"
    );
    assert!(
        buried["retry"]["attempts"].as_u64().unwrap_or(0) > attempts,
        "counted on from where it was: {buried}"
    );
    assert_eq!(queued_files(&relay.queue), 0);
    assert_eq!(
        relay.metric("allstacks_relay_deliveries_total{result=\"dead\"}"),
        1.0
    );
    let tries = server
        .received()
        .iter()
        .filter(|r| r.body.contains("\"deployment-1\""))
        .count();
    assert!(
        tries <= 12,
        "spaced out by its own backoff: {tries} attempts in ~6 s"
    );
    // Sent by hand once Allstacks takes it.
    poison.store(false, Ordering::SeqCst);
    let out = flush(&["--outbox", dead.to_str().expect("utf-8")], &server.url()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(jobs_in(&dead).is_empty());
    let accepted = accepted.lock().expect("counts").clone();
    assert_eq!(accepted.len(), 6, "{accepted:?}");
    assert!(
        accepted.values().all(|n| *n == 1),
        "exactly once: {accepted:?}"
    );
}

#[test]
fn relay_a_refused_token_pauses_delivery_and_readiness() {
    let refuse = Arc::new(AtomicBool::new(true));
    let no = refuse.clone();
    let (server, accepted) = allstacks(move |_| {
        if no.load(Ordering::SeqCst) {
            Reply::status(401).body("{\"error\": \"bad token\"}")
        } else {
            Reply::status(201)
        }
    });
    let relay = Setup::new(&server.url()).start();
    for id in 1..=3 {
        assert_eq!(post_deployment(&relay, id).0, 202);
    }
    let paused = "delivery is paused: Allstacks answered HTTP 401 (the token is refused: check \
                  ALLSTACKS_TOKEN)\n";
    until(Duration::from_secs(5), "/readyz 503", || {
        relay.get("/readyz") == (503, paused.to_string())
    });
    std::thread::sleep(Duration::from_millis(1500));
    // While paused, only probes: the oldest job, one at a time, spaced out.
    let tried: Vec<String> = server
        .received()
        .iter()
        .map(|r| r.json()["job_id"].as_str().unwrap_or("?").to_string())
        .collect();
    assert!(
        tried.iter().all(|id| id == "deployment-1"),
        "later jobs wait: {tried:?}"
    );
    assert!((1..=8).contains(&tried.len()), "{tried:?}");
    assert_eq!(relay.metric("allstacks_relay_queue_depth"), 3.0);
    // The token is fixed on the server's side: the next probe gets through, and the rest follow.
    refuse.store(false, Ordering::SeqCst);
    until(Duration::from_secs(10), "all three delivered", || {
        accepted.lock().expect("counts").len() == 3
    });
    until(Duration::from_secs(5), "/readyz 200", || {
        relay.get("/readyz") == (200, "ready\n".to_string())
    });
    assert!(accepted.lock().expect("counts").values().all(|n| *n == 1));
    let log = relay.log_when(|l| l.iter().any(|l| l.contains("delivery resumed")));
    assert!(
        log.iter()
            .any(|l| l.contains("delivery paused: the server refused the token (HTTP 401)")),
        "{log:?}"
    );
    assert!(
        log.iter().any(|l| l.contains("delivery resumed")),
        "{log:?}"
    );
}

/// Writes `path` until the file system is full.
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).expect("filler");
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

#[test]
fn relay_a_full_disk_leaves_no_claim_behind_and_readiness_says_so() {
    // Allstacks fails the first two attempts, then takes the job.
    let server = Server::start(vec![
        Reply::status(500),
        Reply::status(500),
        Reply::status(201),
    ]);
    let setup = Setup::new(&server.url());
    let queue = setup.queue.to_str().expect("utf-8").to_string();
    // The queue on a 512 KiB tmpfs of the relay's own (a mount namespace: it goes with it).
    let relay: Relay = setup
        .under(&[
            "unshare",
            "--mount",
            "sh",
            "-c",
            "mkdir -p \"$0\" && mount -t tmpfs -o size=512k,mode=700 tmpfs \"$0\" && exec \"$@\"",
            &queue,
        ])
        .start();
    // The relay's view of its queue.
    let inside = PathBuf::from(format!("/proc/{}/root{queue}", relay.pid()));
    assert_eq!(post_deployment(&relay, 1).0, 202);
    wait_for(&server, 1, Duration::from_secs(5));
    fill(&inside.join("filler"));
    // The second attempt fails too, and its next attempt cannot be written down.
    let log = relay.log_when(|l| {
        l.iter()
            .any(|l| l.contains("could not record the next attempt"))
    });
    assert!(
        log.iter()
            .any(|l| l.contains("could not record the next attempt")
                && l.contains("No space left on device")
                && l.contains("it is kept in memory")),
        "{log:?}"
    );
    until(Duration::from_secs(2), "no job left claimed", || {
        std::fs::read_dir(&inside)
            .expect("queue")
            .flatten()
            .all(|e| !e.file_name().to_string_lossy().contains(".claimed-"))
    });
    assert_eq!(
        queued_files(&inside),
        1,
        "the job is queued under its own name"
    );
    assert_eq!(
        relay.get("/readyz"),
        (
            503,
            "the queue directory cannot take a new job: No space left on device (os error 28)\n"
                .to_string()
        )
    );
    assert_eq!(
        post_deployment(&relay, 2),
        (
            503,
            json!({"error": "the job could not be queued; try again later"})
        ),
        "nothing is promised that cannot be kept"
    );
    std::fs::remove_file(inside.join("filler")).expect("make room");
    until(Duration::from_secs(5), "/readyz 200", || {
        relay.get("/readyz").0 == 200
    });
    let got = wait_for(&server, 3, Duration::from_secs(10));
    assert_eq!(got.len(), 3);
    assert_eq!(got[2].json()["job_id"], "deployment-1");
    until(Duration::from_secs(5), "the queue empties", || {
        queued_files(&inside) == 0
    });
}
