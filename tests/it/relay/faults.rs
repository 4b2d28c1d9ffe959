//! The relay under faults: Allstacks down for the whole load, `kill -9` in the middle of it,
//! and clients that never finish their request.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{
    Relay, Setup, deployment_status, github_headers, job_counts, post_deployment, wait_for,
};
use crate::support::{Reply, ReservedPort, SHA, Server};

/// Posts deployments `ids` from `threads` threads; the ids answered 202, counted in `progress`
/// as they come. Each thread stops at its first failure (the relay was killed).
fn load(relay: &Relay, ids: Vec<u64>, threads: usize, progress: &AtomicUsize) -> Vec<u64> {
    let next = Arc::new(Mutex::new(ids));
    let accepted = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            let (next, accepted) = (next.clone(), &accepted);
            s.spawn(move || {
                let client = reqwest::blocking::Client::builder()
                    .no_proxy()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("client");
                loop {
                    let Some(id) = next.lock().expect("ids").pop() else {
                        break;
                    };
                    let body = deployment_status(id, "success", "production", SHA);
                    let mut req = client.post(relay.url("/github")).body(body.clone());
                    for (k, v) in github_headers("deployment_status", &format!("d-{id}"), &body) {
                        req = req.header(k, v);
                    }
                    match req.send() {
                        Ok(r) if r.status().as_u16() == 202 => {
                            accepted.lock().expect("accepted").push(id);
                            progress.fetch_add(1, Ordering::SeqCst);
                        }
                        _ => break,
                    }
                }
            });
        }
    });
    accepted.into_inner().expect("accepted")
}

#[test]
fn relay_allstacks_down_during_the_load_then_up_nothing_lost() {
    let port = ReservedPort::new();
    let relay = Setup::new(&port.url())
        .env("ALLSTACKS_TIMEOUT", "1")
        .start();
    let accepted = load(&relay, (1..=150).collect(), 10, &AtomicUsize::new(0));
    assert_eq!(
        accepted.len(),
        150,
        "every delivery is acknowledged while Allstacks is down"
    );
    assert_eq!(relay.metric("allstacks_relay_queue_depth"), 150.0);
    let until = Instant::now() + Duration::from_secs(10);
    while relay.metric("allstacks_relay_deliveries_total{result=\"failed\"}") < 1.0 {
        assert!(Instant::now() < until, "no failed round counted");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(relay.metric("allstacks_relay_oldest_queued_seconds") > 0.0);
    let server = Server::on(port.listen(), vec![Reply::status(201)]);
    let got = wait_for(&server, 150, Duration::from_secs(30));
    let counts = job_counts(&got);
    assert_eq!(counts.len(), 150, "every job arrives");
    assert!(counts.values().all(|n| *n == 1), "exactly once: {counts:?}");
    let until = Instant::now() + Duration::from_secs(5);
    while relay.metric("allstacks_relay_queue_depth") > 0.0 {
        assert!(Instant::now() < until, "the queue does not empty");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Delivered jobs' files are kept to write new jobs into, within a bound.
    let spares = std::fs::read_dir(&relay.queue)
        .expect("queue")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".spare-"))
        .count();
    assert!((1..=512).contains(&spares), "{spares} spare files");
}

#[test]
fn relay_kill_9_mid_load_then_restart_loses_nothing() {
    // A receiver slow enough that the queue is still full when the relay dies.
    let server = Server::start(vec![Reply::status(201).delay(Duration::from_millis(5))]);
    let setup = Setup::new(&server.url());
    let relay = setup.start();
    let progress = AtomicUsize::new(0);
    let accepted = std::thread::scope(|s| {
        let loader = s.spawn(|| load(&relay, (1..=600).collect(), 20, &progress));
        let until = Instant::now() + Duration::from_secs(20);
        while progress.load(Ordering::SeqCst) < 150 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        relay.signal(libc::SIGKILL);
        loader.join().expect("load")
    });
    let in_flight_at_kill = 20;
    assert!(
        (150..600).contains(&accepted.len()),
        "killed in the middle of the load: {} accepted",
        accepted.len()
    );
    drop(relay);
    let relay = setup.start();
    let accepted: BTreeSet<String> = accepted
        .iter()
        .map(|id| format!("deployment-{id}"))
        .collect();
    let until = Instant::now() + Duration::from_secs(30);
    let counts = loop {
        let counts = job_counts(&server.received());
        if accepted.iter().all(|id| counts.contains_key(id)) || Instant::now() > until {
            break counts;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let missing: Vec<&String> = accepted
        .iter()
        .filter(|id| !counts.contains_key(*id))
        .collect();
    assert!(missing.is_empty(), "202'd but never delivered: {missing:?}");
    let duplicates: usize = counts.values().map(|n| n - 1).sum();
    // One job is in flight from the worker at a time; only it can be sent twice.
    assert!(duplicates <= 1, "{duplicates} duplicates: {counts:?}");
    let unacknowledged = counts.len() - accepted.len();
    assert!(
        unacknowledged <= in_flight_at_kill,
        "{unacknowledged} jobs arrived without a 202"
    );
    drop(relay);
}

/// Reads until the server closes the connection (or 5 s pass); what it sent, and how long that
/// took.
fn read_until_closed(mut stream: TcpStream) -> (String, Duration) {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut got = Vec::new();
    let _ = stream.read_to_end(&mut got);
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn relay_slow_clients_are_cut_off_while_others_are_served() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url())
        .env("ALLSTACKS_RELAY_HEADER_TIMEOUT", "1")
        .env("ALLSTACKS_RELAY_BODY_TIMEOUT", "1.5")
        .start();
    let served = AtomicUsize::new(0);
    let (silent, dripping_head, dripping_body) = std::thread::scope(|s| {
        let silent =
            s.spawn(|| read_until_closed(TcpStream::connect(relay.addr).expect("connect")));
        let head = s.spawn(|| {
            let mut stream = TcpStream::connect(relay.addr).expect("connect");
            let started = Instant::now();
            for b in b"POST /github HTTP/1.1\r\nHost: relay\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa" {
                if stream.write_all(&[*b]).is_err() {
                    return (String::new(), started.elapsed());
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            read_until_closed(stream)
        });
        let body = s.spawn(|| {
            let mut stream = TcpStream::connect(relay.addr).expect("connect");
            let started = Instant::now();
            let head = "POST /github HTTP/1.1\r\nHost: relay\r\nX-GitHub-Event: ping\r\nContent-Length: 1000\r\n\r\n";
            stream.write_all(head.as_bytes()).expect("head");
            for _ in 0..40 {
                if stream.write_all(b" ").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let (answer, _) = read_until_closed(stream);
            (answer, started.elapsed())
        });
        // Meanwhile, ordinary senders are answered at once.
        for id in 1..=20 {
            let started = Instant::now();
            assert_eq!(post_deployment(&relay, id).0, 202);
            assert!(
                started.elapsed() < Duration::from_secs(1),
                "{:?}",
                started.elapsed()
            );
            served.fetch_add(1, Ordering::SeqCst);
        }
        (
            silent.join().expect("silent"),
            head.join().expect("head"),
            body.join().expect("body"),
        )
    });
    assert_eq!(served.load(Ordering::SeqCst), 20);
    assert!(
        silent.1 < Duration::from_millis(2500),
        "an idle connection lasted {:?}",
        silent.1
    );
    assert!(
        dripping_head.1 < Duration::from_millis(3000),
        "dripped headers lasted {:?}",
        dripping_head.1
    );
    assert!(
        dripping_body.0.starts_with("HTTP/1.1 408"),
        "{}",
        dripping_body.0
    );
    assert!(
        dripping_body.1 < Duration::from_millis(3500),
        "a dripped body lasted {:?}",
        dripping_body.1
    );
    assert_eq!(wait_for(&server, 20, Duration::from_secs(10)).len(), 20);
}

#[test]
fn relay_connection_cap_secret_files_and_sigint() {
    let server = Server::start(vec![Reply::status(201)]);
    let setup = Setup::new(&server.url())
        .without("ALLSTACKS_GITHUB_SECRET")
        .env("ALLSTACKS_RELAY_MAX_CONNECTIONS", "2")
        .env("ALLSTACKS_RELAY_HEADER_TIMEOUT", "1.5");
    let secret_file = setup.home.path().join("github-secret");
    std::fs::write(&secret_file, format!("{}\n", super::GITHUB_SECRET)).expect("write secret");
    let mut relay = setup
        .env(
            "ALLSTACKS_GITHUB_SECRET_FILE",
            secret_file.to_str().expect("utf-8"),
        )
        .start();
    // Two connections that say nothing hold both places; a third sender waits for the first
    // to be cut off (the header timeout), then is served.
    let idle: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(relay.addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(
        post_deployment(&relay, 71).0,
        202,
        "the secret from the file"
    );
    let waited = started.elapsed();
    assert!(
        waited > Duration::from_millis(800) && waited < Duration::from_secs(5),
        "waited {waited:?} for a place"
    );
    drop(idle);
    relay.signal(libc::SIGINT);
    assert_eq!(relay.wait(Duration::from_secs(15)), Some(0));
    let log = relay.log_when(|l| l.iter().any(|l| l.contains("SIGINT")));
    assert!(log.iter().any(|l| l.contains("SIGINT")), "{log:?}");
}
