//! The relay under attack (spec `relay-production.md` §1): strangers who announce huge bodies
//! and hold them, who open sockets and say nothing, who send events that are not reported. The
//! attackers connect from other loopback addresses (127.0.0.2 and up, all of them this machine),
//! as strangers on the internet come from addresses other than GitHub's.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{GITLAB_SECRET, Setup, post_deployment, sign, wait_for};
use crate::support::{Reply, Server};

/// A TCP connection to `to` from the loopback address `from` (any port).
pub fn connect_from(from: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    use std::os::fd::{FromRawFd, OwnedFd};
    let sockaddr = |ip: Ipv4Addr, port: u16| {
        // SAFETY: a plain-old-data struct, all zeroes is a valid value.
        let mut a: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        a.sin_family = libc::AF_INET as libc::sa_family_t;
        a.sin_addr.s_addr = u32::from(ip).to_be();
        a.sin_port = port.to_be();
        a
    };
    let SocketAddr::V4(to) = to else {
        return Err(std::io::Error::other("IPv4 only"));
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: socket, bind and connect on a descriptor we own, with initialised addresses.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let raw = std::os::fd::AsRawFd::as_raw_fd(&fd);
        let src = sockaddr(from, 0);
        if libc::bind(raw, &src as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let dst = sockaddr(*to.ip(), to.port());
        if libc::connect(raw, &dst as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(TcpStream::from(fd))
    }
}

/// The `n`th attacker's address: 127.0.0.2 and up, `per` connections each.
fn attacker(n: usize, per: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 0, 2 + (n / per) as u8)
}

/// The relay's resident memory now and at its peak, in KiB, from /proc.
fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The status code of the answer read from `stream`, 0 when none came.
fn status_of(stream: &mut TcpStream) -> u16 {
    let mut head = [0u8; 12];
    match stream.read_exact(&mut head) {
        Ok(()) => std::str::from_utf8(&head[9..12])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        Err(_) => 0,
    }
}

/// 96 MB, the bar for the relay's peak memory whatever strangers send.
const RSS_BAR_KIB: u64 = 96_000_000 / 1024;

#[test]
fn relay_memory_is_bounded_by_the_body_budget() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url())
        .env("ALLSTACKS_RELAY_BODY_TIMEOUT", "20")
        .start();
    let pid = relay.pid();
    // 100 strangers (25 per address) each announce a 25 MiB body with a wrong signature and
    // send all of it but the last byte, as fast as they can.
    const ANNOUNCED: usize = 25 * 1024 * 1024;
    let chunk = vec![b'x'; 1024 * 1024];
    let refused = AtomicUsize::new(0);
    let holding = std::sync::Mutex::new(Vec::new());
    let peak = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                let (_, hwm) = rss_kib(pid);
                peak.fetch_max(hwm as usize, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let attackers: Vec<_> = (0..100)
            .map(|n| {
                let (chunk, refused, holding) = (&chunk, &refused, &holding);
                let addr = relay.addr;
                s.spawn(move || {
                    let mut stream = connect_from(attacker(n, 25), addr).expect("connect");
                    stream
                        .set_write_timeout(Some(Duration::from_secs(10)))
                        .expect("timeout");
                    stream
                        .set_read_timeout(Some(Duration::from_secs(10)))
                        .expect("timeout");
                    let head = format!(
                        "POST /github HTTP/1.1\r\nHost: relay\r\nX-GitHub-Event: deployment_status\r\n\
                         X-Hub-Signature-256: {}\r\nContent-Length: {ANNOUNCED}\r\n\r\n",
                        sign("not-the-secret", b"")
                    );
                    let mut sent = stream.write_all(head.as_bytes()).is_ok();
                    let mut left = ANNOUNCED - 1;
                    while sent && left > 0 {
                        let n = left.min(chunk.len());
                        sent = stream.write_all(&chunk[..n]).is_ok();
                        left -= n;
                    }
                    if sent {
                        holding.lock().expect("holding").push(stream);
                    } else if status_of(&mut stream) == 503 {
                        refused.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for a in attackers {
            a.join().expect("attacker");
        }
        // The bodies are held (the last byte never comes); an ordinary delivery is still taken
        // in, from the quarter of the budget large bodies cannot have.
        let (rss, _) = rss_kib(pid);
        let started = Instant::now();
        assert_eq!(post_deployment(&relay, 1).0, 202, "RSS {rss} KiB");
        assert!(started.elapsed() < Duration::from_secs(1));
        done.store(true, Ordering::SeqCst);
    });
    let held = holding.lock().expect("holding").len();
    let refused = refused.load(Ordering::SeqCst);
    let peak = peak.load(Ordering::SeqCst) as u64;
    eprintln!("bodies held {held}, refused 503 {refused}, relay peak RSS {peak} KiB");
    assert!(
        held <= 2,
        "at most 48 MiB of large bodies: {held} held 25 MiB"
    );
    assert!(refused >= 90, "{refused} answered 503");
    assert!(
        peak < RSS_BAR_KIB,
        "peak RSS {peak} KiB, over {RSS_BAR_KIB} KiB"
    );
    assert!(relay.metric("allstacks_relay_shed_total{reason=\"body_budget\"}") >= refused as f64);
    assert_eq!(
        wait_for(&server, 1, Duration::from_secs(10)).len(),
        1,
        "the ordinary delivery was delivered"
    );
}

#[test]
fn relay_idle_sockets_and_one_noisy_peer_do_not_starve_senders() {
    // The default limits: headers within 5 s, 1,024 connections, 64 per address.
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let stop = AtomicBool::new(false);
    let reconnects = AtomicUsize::new(0);
    let mut took = std::thread::scope(|s| {
        // 300 sockets (60 per address) that connect, say nothing, and reconnect as soon as
        // they are cut.
        for n in 0..300 {
            let (stop, reconnects, addr) = (&stop, &reconnects, relay.addr);
            s.spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok(mut idle) = connect_from(attacker(n, 60), addr) else {
                        std::thread::sleep(Duration::from_millis(10));
                        continue;
                    };
                    let _ = idle.set_read_timeout(Some(Duration::from_millis(200)));
                    let mut buf = [0u8; 64];
                    while !stop.load(Ordering::SeqCst) {
                        match idle.read(&mut buf) {
                            Ok(0) => break,
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                            Err(_) => break,
                        }
                    }
                    reconnects.fetch_add(1, Ordering::SeqCst);
                }
            });
        }
        std::thread::sleep(Duration::from_millis(1500));
        // Meanwhile, signed deliveries, each on a new connection, are answered at once, before
        // and after the idle sockets are cut (5 s) and come back.
        let took: Vec<Duration> = (1..=40)
            .map(|id| {
                let started = Instant::now();
                assert_eq!(post_deployment(&relay, id).0, 202);
                let took = started.elapsed();
                std::thread::sleep(Duration::from_millis(150));
                took
            })
            .collect();
        stop.store(true, Ordering::SeqCst);
        took
    });
    took.sort();
    let p99 = took[took.len() * 99 / 100 - 1];
    let max = took[took.len() - 1];
    eprintln!(
        "signed deliveries among 300 idle sockets: p99 {p99:?}, max {max:?}, {} reconnects",
        reconnects.load(Ordering::SeqCst)
    );
    assert!(
        reconnects.load(Ordering::SeqCst) >= 300,
        "the idle sockets were cut and came back"
    );
    assert!(max < Duration::from_secs(1), "p99 {p99:?}, max {max:?}");
    // One address may hold 64 connections; the next ones are closed at once.
    let noisy: Vec<TcpStream> = (0..70)
        .filter_map(|_| connect_from(Ipv4Addr::new(127, 0, 0, 99), relay.addr).ok())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let closed = noisy
        .iter()
        .filter(|c| {
            c.set_nonblocking(true).expect("nonblocking");
            let still_open = matches!(
                c.peek(&mut [0u8; 1]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock
            );
            !still_open
        })
        .count();
    assert_eq!(closed, 6, "70 connections from one address, 64 kept");
    assert_eq!(
        relay.metric("allstacks_relay_shed_total{reason=\"per_peer\"}"),
        6.0
    );
    assert_eq!(wait_for(&server, 40, Duration::from_secs(10)).len(), 40);
}

#[test]
fn relay_events_not_reported_are_answered_from_their_headers() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    // A 20 MiB body that never comes: the headers say it is not a reported event.
    for (head, expected) in [
        (
            "POST /github HTTP/1.1\r\nHost: relay\r\nX-GitHub-Event: push\r\n".to_string(),
            json!({"ignored": "GitHub event \"push\" is not reported (ALLSTACKS_GITHUB_EVENTS)"}),
        ),
        (
            format!(
                "POST /gitlab HTTP/1.1\r\nHost: relay\r\nX-Gitlab-Event: Job Hook\r\n\
                 X-Gitlab-Token: {GITLAB_SECRET}\r\n"
            ),
            json!({"ignored": "GitLab \"Job Hook\" events are not reported (ALLSTACKS_GITLAB_EVENTS)"}),
        ),
    ] {
        let mut stream = std::net::TcpStream::connect(relay.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        let started = Instant::now();
        let request = format!("{head}Content-Length: {}\r\n\r\n", 20 * 1024 * 1024);
        stream.write_all(request.as_bytes()).expect("head");
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(body).ok(),
            Some(expected)
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "not waiting for the body"
        );
    }
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"github\",result=\"ignored\"}"),
        1.0
    );
}
