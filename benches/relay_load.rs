//! Load benchmark of `allstacks-cd serve` (spec/relay.md, "Load and faults"): N signed GitHub
//! `deployment_status` deliveries, C at a time over keep-alive connections, to the release
//! binary; a loopback receiver that answers 201 at once stands in for Allstacks. Prints the
//! answers by status, the answer latency (p50, p90, p99, max), the time until every job was
//! delivered and whether each arrived exactly once, the throughput, and the relay's peak RSS.
//!
//!   cargo build --release --locked && cargo bench --locked --bench relay_load
//!
//! Knobs (environment): RELAY_BIN (default target/release/allstacks-cd), N (2000), C (50),
//! QUEUE_DIR (where the run's queue directory is made, default the temporary directory: put it
//! on the disk you mean to measure), DOWN=1 (Allstacks down for the whole run), ATTACK=1 (the
//! load under attack, spec relay-production.md: 300 sockets from other loopback addresses that
//! connect, send nothing and reconnect as soon as they are cut, and 50 connections that trickle
//! chunked bodies with no end, 16 KiB every 50 ms, reconnecting when refused).
//! Everything talks over loopback only (127.0.0.1; the attackers from 127.0.0.2 to .11), and the
//! run stops by itself (60 s at most).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

const SECRET: &str = "bench-github-secret-0001";
const TOKEN: &str = "bench-token-0001";
const SHA: &str = "a2e7da86cc392417b0d9f605b28038aae80b002f";
const LIMIT: Duration = Duration::from_secs(60);

fn main() {
    let n: usize = knob("N", 2000);
    let c: usize = knob("C", 50);
    let bin = std::env::var("RELAY_BIN")
        .unwrap_or_else(|_| format!("{}/target/release/allstacks-cd", env!("CARGO_MANIFEST_DIR")));
    // A new queue every run: a queue holds the delivery ids it accepted.
    let scratch = std::env::var("QUEUE_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir())
        .join(format!("relay-bench-{}", std::process::id()));
    let queue = scratch.join("queue");
    let receiver = Receiver::start();
    // DOWN=1: Allstacks is down for the whole run (a port nobody listens on): the answer path
    // alone, and the queue filling up.
    let down = std::env::var("DOWN").is_ok_and(|v| v == "1");
    let target = if down { closed_port() } else { receiver.addr };
    let (mut relay, addr) = start_relay(&bin, &target, &queue);
    let pid = relay.id();
    let deliveries: Vec<(Vec<u8>, String, String)> = (0..n)
        .map(|i| {
            let body = deployment_status(100_000 + i as u64);
            let sig = sign(&body);
            (body, sig, format!("bench-{i:06}"))
        })
        .collect();
    let body_size = deliveries[0].0.len();
    let attack = std::env::var("ATTACK")
        .is_ok_and(|v| v == "1")
        .then(|| Attack::start(addr));
    let started = Instant::now();
    let (latencies, statuses) = load(addr, &deliveries, c);
    let answered = started.elapsed();
    let delivered = if down {
        None
    } else {
        receiver.wait_for(n, started)
    };
    let attacked = attack.map(Attack::stop);
    let hwm = peak_rss_kib(pid);
    let cpu = cpu_time(pid);
    // SAFETY: kill(2) on the relay we started.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let exit = wait_exit(&mut relay);
    let _ = std::fs::remove_dir_all(&scratch);
    let (distinct, total) = receiver.counts();
    report(Report {
        attacked,
        down,
        n,
        c,
        body_size,
        latencies,
        statuses,
        answered,
        delivered,
        distinct,
        total,
        hwm,
        cpu,
        exit,
    });
}

/// A loopback address where nothing listens.
fn closed_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// A `deployment_status` delivery the size of a real one (~7 KB: GitHub sends the whole
/// repository object, with its ~45 API URLs), from an hour ago (a record older than the relay's
/// 7-day replay window would be ignored).
fn deployment_status(id: u64) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let at = |ago: i64| allstacks_cd::timefmt::format_rfc3339(now - ago);
    let (created, finished) = (at(3600), at(3400));
    let mut repository = serde_json::json!({
        "id": 1_296_269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": "web",
        "full_name": "acme/web", "private": true, "fork": false, "size": 1080,
        "owner": {"login": "acme", "id": 1, "type": "Organization", "site_admin": false},
        "html_url": "https://github.com/acme/web", "default_branch": "main",
        "created_at": "2020-01-01T00:00:00Z", "pushed_at": "2026-05-01T09:59:00Z"
    });
    for name in [
        "archive",
        "assignees",
        "blobs",
        "branches",
        "collaborators",
        "comments",
        "commits",
        "compare",
        "contents",
        "contributors",
        "deployments",
        "downloads",
        "events",
        "forks",
        "git_commits",
        "git_refs",
        "git_tags",
        "hooks",
        "issue_comment",
        "issue_events",
        "issues",
        "keys",
        "labels",
        "languages",
        "merges",
        "milestones",
        "notifications",
        "pulls",
        "releases",
        "stargazers",
        "statuses",
        "subscribers",
        "subscription",
        "tags",
        "teams",
        "trees",
        "clone",
        "git",
        "ssh",
        "svn",
        "mirror",
        "homepage",
        "statuses_sha",
        "deployments_sha",
        "environments",
    ] {
        repository[format!("{name}_url")] = format!(
            "https://api.github.com/repos/acme/web/{name}{{/sha}}{{?since,until,per_page}}"
        )
        .into();
    }
    serde_json::json!({
        "action": "created",
        "deployment_status": {
            "id": id, "state": "success", "environment": "production",
            "creator": {"login": "vercel[bot]", "id": 35_613_825, "type": "Bot"},
            "description": "Deployment has completed",
            "target_url": "https://vercel.com/acme/web/abc",
            "log_url": "https://vercel.com/acme/web/abc/logs",
            "environment_url": "https://web.acme.dev",
            "created_at": finished, "updated_at": finished,
            "url": format!("https://api.github.com/repos/acme/web/deployments/{id}/statuses/1"),
            "repository_url": "https://api.github.com/repos/acme/web"
        },
        "deployment": {
            "id": id, "node_id": "DE_kwDOA", "sha": SHA, "ref": "main", "task": "deploy",
            "payload": {}, "original_environment": "production", "environment": "production",
            "description": null, "transient_environment": false, "production_environment": true,
            "creator": {"login": "vercel[bot]", "id": 35_613_825, "type": "Bot"},
            "created_at": created, "updated_at": finished,
            "url": format!("https://api.github.com/repos/acme/web/deployments/{id}"),
            "statuses_url": format!("https://api.github.com/repos/acme/web/deployments/{id}/statuses"),
            "performed_via_github_app": {"id": 8329, "slug": "vercel", "name": "Vercel"}
        },
        "repository": repository,
        "organization": {"login": "acme", "id": 1, "url": "https://api.github.com/orgs/acme"},
        "sender": {"login": "vercel[bot]", "id": 35_613_825, "type": "Bot"},
        "installation": {"id": 1, "node_id": "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ=="}
    })
    .to_string()
    .into_bytes()
}

fn start_relay(
    bin: &str,
    receiver: &SocketAddr,
    queue: &std::path::Path,
) -> (std::process::Child, SocketAddr) {
    let mut child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--outbox"])
        .arg(queue)
        .env_clear()
        .env("HOME", std::env::temp_dir())
        .env("ALLSTACKS_URL", format!("http://{receiver}"))
        .env("ALLSTACKS_COMPANY_ID", "42")
        .env("ALLSTACKS_TOKEN", TOKEN)
        .env("ALLSTACKS_SERVICE_ID", "7")
        .env("ALLSTACKS_GITHUB_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {bin}: {e} (build it with cargo build --release)")
        });
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // One line per request, like in production; only warnings are shown.
            if let Some(at) = line.find("listening on ") {
                let _ = tx.send(line[at + 13..].trim().to_string());
            } else if line.contains("warning") || line.contains("error") {
                eprintln!("relay: {line}");
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(10))
        .expect("the relay did not listen within 10 s");
    (child, addr.parse().expect("address"))
}

/// Sends every delivery, `c` connections at a time; each answer's latency and status.
fn load(
    addr: SocketAddr,
    deliveries: &[(Vec<u8>, String, String)],
    c: usize,
) -> (Vec<Duration>, HashMap<u16, usize>) {
    let next = AtomicUsize::new(0);
    let results = Mutex::new((Vec::with_capacity(deliveries.len()), HashMap::new()));
    std::thread::scope(|s| {
        for _ in 0..c {
            s.spawn(|| {
                let mut conn: Option<TcpStream> = None;
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((body, sig, id)) = deliveries.get(i) else {
                        break;
                    };
                    let started = Instant::now();
                    let status = post(&mut conn, addr, body, sig, id);
                    let took = started.elapsed();
                    let mut r = results.lock().expect("results");
                    r.0.push(took);
                    *r.1.entry(status).or_insert(0) += 1;
                }
            });
        }
    });
    results.into_inner().expect("results")
}

/// One POST on a kept-alive connection (opened again when the relay closed it); the status,
/// 0 when the request failed.
fn post(conn: &mut Option<TcpStream>, addr: SocketAddr, body: &[u8], sig: &str, id: &str) -> u16 {
    for _ in 0..2 {
        if conn.is_none() {
            let Ok(s) = TcpStream::connect(addr) else {
                return 0;
            };
            let _ = s.set_nodelay(true);
            let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
            *conn = Some(s);
        }
        let Some(stream) = conn.as_mut() else {
            return 0;
        };
        let head = format!(
            "POST /github HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n\
             X-GitHub-Event: deployment_status\r\nX-GitHub-Delivery: {id}\r\n\
             X-Hub-Signature-256: {sig}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        if stream.write_all(&request).is_ok() {
            if let Some((status, keep)) = read_response(stream) {
                if !keep {
                    *conn = None;
                }
                return status;
            }
        }
        *conn = None;
    }
    0
}

/// Status and whether the connection stays open, after reading the whole answer.
fn read_response(stream: &mut TcpStream) -> Option<(u16, bool)> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let status: u16 = line.split_whitespace().nth(1)?.parse().ok()?;
    let (mut length, mut keep) = (0usize, true);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
        if lower == "connection: close" {
            keep = false;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    // The answer was read whole, so nothing of it stays in the reader's buffer.
    Some((status, keep))
}

/// The stand-in for Allstacks: answers 201 at once, keeps connections alive, counts job ids.
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<HashMap<String, usize>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(HashMap::new()));
        let counts = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let counts = counts.clone();
                std::thread::spawn(move || serve(stream, &counts));
            }
        });
        Receiver { addr, seen }
    }

    /// Waits until `n` distinct jobs arrived; the time since `started`, `None` past the limit.
    fn wait_for(&self, n: usize, started: Instant) -> Option<Duration> {
        while started.elapsed() < LIMIT {
            if self.counts().0 >= n {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }

    /// Distinct job ids and requests received.
    fn counts(&self) -> (usize, usize) {
        let seen = self.seen.lock().expect("seen");
        (seen.len(), seen.values().sum())
    }
}

fn serve(stream: TcpStream, seen: &Mutex<HashMap<String, usize>>) {
    let mut writer = stream.try_clone().expect("clone");
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end().to_ascii_lowercase();
            if h.is_empty() {
                break;
            }
            if let Some(v) = h.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let job: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let id = job["job_id"].as_str().unwrap_or("?").to_string();
        *seen.lock().expect("seen").entry(id).or_insert(0) += 1;
        if writer
            .write_all(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The relay's CPU time so far (user + system), from /proc (clock ticks of 10 ms).
fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let (user, system): (u64, u64) = (fields.get(11)?.parse().ok()?, fields.get(12)?.parse().ok()?);
    eprintln!(
        "relay CPU time: user {} ms, system {} ms",
        user * 10,
        system * 10
    );
    let ticks = user + system;
    Some(Duration::from_millis(ticks * 10))
}

fn wait_exit(child: &mut std::process::Child) -> Option<i32> {
    let until = Instant::now() + Duration::from_secs(15);
    while Instant::now() < until {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    None
}

struct Report {
    /// Under attack: the idle sockets' reconnections and the trickled bodies refused.
    attacked: Option<(usize, usize)>,
    down: bool,
    n: usize,
    c: usize,
    body_size: usize,
    latencies: Vec<Duration>,
    statuses: HashMap<u16, usize>,
    answered: Duration,
    delivered: Option<Duration>,
    distinct: usize,
    total: usize,
    hwm: Option<u64>,
    cpu: Option<Duration>,
    exit: Option<i32>,
}

fn report(mut r: Report) {
    r.latencies.sort();
    let pct = |p: f64| {
        let i = ((r.latencies.len() as f64 * p).ceil() as usize).clamp(1, r.latencies.len()) - 1;
        r.latencies[i].as_secs_f64() * 1000.0
    };
    let mut statuses: Vec<_> = r.statuses.iter().collect();
    statuses.sort();
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{n} × {s}")).collect();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| figure | value | goal |");
    println!("|---|---|---|");
    println!(
        "| deliveries, concurrency, body | {} signed `deployment_status`, {} at a time, {} bytes each | |",
        r.n, r.c, r.body_size
    );
    if let Some((reconnects, refused)) = r.attacked {
        println!(
            "| under attack | 300 idle sockets ({reconnects} reconnections after being cut), 50 \
             trickled bodies ({refused} refused or cut) | |"
        );
    }
    println!("| answers | {} | all 202 |", statuses.join(", "));
    println!(
        "| answer latency p50 / p90 / p99 / max | {:.1} / {:.1} / {:.1} / {:.1} ms | p99 < {} ms |",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0),
        if r.attacked.is_some() { 100 } else { 50 }
    );
    println!(
        "| all answered after | {:.0} ms ({:.0} deliveries/s) | |",
        ms(r.answered),
        r.n as f64 / r.answered.as_secs_f64()
    );
    match r.delivered {
        Some(d) => println!(
            "| all delivered after | {:.0} ms ({:.0} jobs/s end to end) | < 30 s |",
            ms(d),
            r.n as f64 / d.as_secs_f64()
        ),
        None if r.down => println!(
            "| all delivered after | — (Allstacks down: {} jobs queued) | |",
            r.n
        ),
        None => println!(
            "| all delivered after | not within {}s ({} of {}) | < 30 s |",
            LIMIT.as_secs(),
            r.distinct,
            r.n
        ),
    }
    println!(
        "| jobs received, distinct | {} received, {} distinct | exactly once |",
        r.total, r.distinct
    );
    let rss_goal = if r.attacked.is_some() { 96 } else { 60 };
    match r.hwm {
        Some(kib) => println!(
            "| relay peak RSS (VmHWM) | {:.1} MiB ({:.1} MB) | < {rss_goal} MB |",
            kib as f64 / 1024.0,
            kib as f64 * 1024.0 / 1e6
        ),
        None => println!("| relay peak RSS | not measured | < {rss_goal} MB |"),
    }
    if let Some(cpu) = r.cpu {
        println!(
            "| relay CPU time (user + system) | {:.0} ms, {:.0} µs per delivery | |",
            ms(cpu),
            ms(cpu) * 1000.0 / r.n as f64
        );
    }
    println!("| exit after SIGTERM | {:?} | 0 |", r.exit);
}

/// The attackers of ATTACK=1, each on a thread of its own until stopped.
struct Attack {
    stop: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
    reconnects: Arc<AtomicUsize>,
    refused: Arc<AtomicUsize>,
}

impl Attack {
    fn start(relay: SocketAddr) -> Attack {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (reconnects, refused) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let mut threads = Vec::new();
        // 300 idle sockets, 60 from each of 127.0.0.2 to 127.0.0.6 (under the per-peer cap).
        for n in 0..300 {
            let (stop, count) = (stop.clone(), reconnects.clone());
            let from = std::net::Ipv4Addr::new(127, 0, 0, 2 + (n / 60) as u8);
            threads.push(std::thread::spawn(move || idle(from, relay, &stop, &count)));
        }
        // 50 trickled bodies, 25 from each of 127.0.0.10 and 127.0.0.11.
        for n in 0..50 {
            let (stop, count) = (stop.clone(), refused.clone());
            let from = std::net::Ipv4Addr::new(127, 0, 0, 10 + (n / 25) as u8);
            threads.push(std::thread::spawn(move || {
                trickle(from, relay, &stop, &count)
            }));
        }
        // Let the sockets pile up and the trickled bodies fill the budget (16 MB/s in all)
        // before the load starts.
        std::thread::sleep(Duration::from_secs(5));
        Attack {
            stop,
            threads,
            reconnects,
            refused,
        }
    }

    /// Stops the attackers; how often the idle sockets were cut, and the bodies refused.
    fn stop(self) -> (usize, usize) {
        self.stop.store(true, Ordering::SeqCst);
        for t in self.threads {
            let _ = t.join();
        }
        (
            self.reconnects.load(Ordering::SeqCst),
            self.refused.load(Ordering::SeqCst),
        )
    }
}

/// Connects from `from`, sends nothing, and connects again as soon as the relay cuts it.
fn idle(
    from: std::net::Ipv4Addr,
    relay: SocketAddr,
    stop: &std::sync::atomic::AtomicBool,
    count: &AtomicUsize,
) {
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut s) = connect_from(from, relay) else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        // Woken once a second to look at `stop`: the attackers share the machine with the relay
        // and the load, and should cost it no more than real ones would.
        let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
        let mut buf = [0u8; 256];
        while !stop.load(Ordering::SeqCst) {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        count.fetch_add(1, Ordering::SeqCst);
    }
}

/// Posts a chunked body that never ends, 16 KiB every 50 ms, with a wrong signature; connects
/// again when the relay refuses it (503 past the budget, 413 past 25 MiB, 408 past the body
/// timeout).
fn trickle(
    from: std::net::Ipv4Addr,
    relay: SocketAddr,
    stop: &std::sync::atomic::AtomicBool,
    count: &AtomicUsize,
) {
    let chunk = format!("4000\r\n{}\r\n", " ".repeat(0x4000));
    while !stop.load(Ordering::SeqCst) {
        let Ok(mut s) = connect_from(from, relay) else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        let head = "POST /github HTTP/1.1\r\nHost: relay\r\nX-GitHub-Event: deployment_status\r\n\
                    X-Hub-Signature-256: sha256=00\r\nTransfer-Encoding: chunked\r\n\r\n";
        let mut sent = s.write_all(head.as_bytes()).is_ok();
        while sent && !stop.load(Ordering::SeqCst) {
            sent = s.write_all(chunk.as_bytes()).is_ok();
            std::thread::sleep(Duration::from_millis(50));
        }
        if !sent {
            count.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A TCP connection to `to` from the loopback address `from`.
fn connect_from(from: std::net::Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let SocketAddr::V4(to) = to else {
        return Err(std::io::Error::other("IPv4 only"));
    };
    let addr = |ip: std::net::Ipv4Addr, port: u16| {
        // SAFETY: plain old data; all zeroes is valid.
        let mut a: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        a.sin_family = libc::AF_INET as libc::sa_family_t;
        a.sin_addr.s_addr = u32::from(ip).to_be();
        a.sin_port = port.to_be();
        a
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: socket, bind and connect on a descriptor we own, with initialised addresses.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let fd = OwnedFd::from_raw_fd(fd);
        let (src, dst) = (addr(from, 0), addr(*to.ip(), to.port()));
        if libc::bind(
            fd.as_raw_fd(),
            &src as *const _ as *const libc::sockaddr,
            len,
        ) != 0
            || libc::connect(
                fd.as_raw_fd(),
                &dst as *const _ as *const libc::sockaddr,
                len,
            ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
        Ok(TcpStream::from(fd))
    }
}
