//! `serve`: the real binary as a child process on 127.0.0.1, real HTTP clients (and raw TCP for
//! slow clients), real signals, and a scripted Allstacks receiver that records what arrives.
//! Every test is bounded in time and stops its processes by itself.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::support::{Received, Reply, SHA, Server, TOKEN, binary, tool};

mod attack;
mod catch_up;
pub mod explain;
mod faults;
pub mod senders;
mod worker;

pub const GITHUB_SECRET: &str = "gh-secret-9c1e5f77";
pub const GITLAB_SECRET: &str = "gl-secret-2b8d4a10";
pub const ARGOCD_SECRET: &str = "argo-secret-7e3f0c22";
pub const FLUX_SECRET: &str = "flux-secret-5a9b1d44";

/// A running `allstacks-cd serve`, killed (SIGKILL) when dropped.
pub struct Relay {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub queue: PathBuf,
    log: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    client: reqwest::blocking::Client,
    _home: Arc<tempfile::TempDir>,
}

/// What `serve` is started with.
#[derive(Clone)]
pub struct Setup {
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
    pub home: Arc<tempfile::TempDir>,
    pub queue: PathBuf,
    /// A command the binary runs under (`unshare`, `sh -c ... exec "$@"`), keeping its pid.
    pub wrapper: Vec<String>,
}

impl Setup {
    /// The four secrets, the connection to `receiver`, service id 7, no retries, short knobs.
    pub fn new(receiver: &str) -> Setup {
        let home = Arc::new(tempfile::tempdir().expect("temp home"));
        let queue = home.path().join("queue");
        let env = [
            ("ALLSTACKS_URL", receiver),
            ("ALLSTACKS_COMPANY_ID", "42"),
            ("ALLSTACKS_TOKEN", TOKEN),
            ("ALLSTACKS_SERVICE_ID", "7"),
            ("ALLSTACKS_RETRIES", "0"),
            ("ALLSTACKS_TIMEOUT", "5"),
            ("ALLSTACKS_GITHUB_SECRET", GITHUB_SECRET),
            ("ALLSTACKS_GITLAB_SECRET", GITLAB_SECRET),
            ("ALLSTACKS_ARGOCD_SECRET", ARGOCD_SECRET),
            ("ALLSTACKS_FLUX_SECRET", FLUX_SECRET),
            ("ALLSTACKS_RELAY_MAX_BACKOFF", "0.5"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Setup {
            env,
            args: vec!["--listen".into(), "127.0.0.1:0".into()],
            home,
            queue,
            wrapper: Vec::new(),
        }
    }

    pub fn env(mut self, k: &str, v: &str) -> Setup {
        self.env.retain(|(key, _)| key != k);
        self.env.push((k.into(), v.into()));
        self
    }

    pub fn without(mut self, k: &str) -> Setup {
        self.env.retain(|(key, _)| key != k);
        self
    }

    pub fn arg(mut self, a: &str) -> Setup {
        self.args.push(a.into());
        self
    }

    /// Runs the binary under `wrapper` (which must `exec` it, so that the pid is the relay's).
    pub fn under(mut self, wrapper: &[&str]) -> Setup {
        self.wrapper = wrapper.iter().map(|s| s.to_string()).collect();
        self
    }

    fn command(&self) -> Command {
        let mut cmd = match self.wrapper.split_first() {
            Some((program, args)) => {
                let mut cmd = Command::new(program);
                cmd.args(args).arg(binary());
                cmd
            }
            None => Command::new(binary()),
        };
        cmd.arg("serve")
            .args(&self.args)
            .arg("--outbox")
            .arg(&self.queue)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .current_dir(self.home.path())
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `serve` with `extra` arguments to its end (`--catch-up-once`), 30 s at most; the
    /// exit code and stderr.
    pub fn run_once(&self, extra: &[&str]) -> (i32, String) {
        let mut cmd = self.command();
        cmd.args(extra).stdout(Stdio::null()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn serve");
        let mut stderr = child.stderr.take().expect("stderr");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = stderr.read_to_string(&mut s);
            s
        });
        let until = Instant::now() + Duration::from_secs(30);
        let code = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status.code().unwrap_or(-1);
            }
            if Instant::now() > until {
                let _ = child.kill();
                panic!("serve {extra:?} did not end within 30 s");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let stderr = reader.join().expect("stderr");
        assert!(!stderr.contains(TOKEN), "the token leaked:\n{stderr}");
        (code, stderr)
    }

    /// Starts `serve` and waits (10 s at most) until it listens.
    pub fn start(&self) -> Relay {
        let mut child = self
            .command()
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn serve");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on ") {
                    let rest = &line[at + "listening on ".len()..];
                    let addr: String = rest
                        .chars()
                        .take_while(|c| !matches!(c, '"' | ' '))
                        .collect();
                    let _ = tx.send(addr);
                }
                lines.lock().expect("log").push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(addr) => addr.parse().expect("listening address"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = reader.join();
                panic!(
                    "serve did not listen within 10 s:\n{}",
                    log.lock().expect("log").join("\n")
                );
            }
        };
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Relay {
            child: Some(child),
            addr,
            queue: self.queue.clone(),
            log,
            reader: Some(reader),
            client,
            _home: self.home.clone(),
        }
    }
}

impl Relay {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs `body` with `headers`; the status and the answer's JSON (`null` when not JSON).
    pub fn post(&self, path: &str, headers: &[(&str, String)], body: &[u8]) -> (u16, Value) {
        let mut req = self.client.post(self.url(path)).body(body.to_vec());
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = req.send().expect("POST to serve");
        let status = resp.status().as_u16();
        let text = resp.text().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        let resp = self
            .client
            .get(self.url(path))
            .send()
            .expect("GET from serve");
        (resp.status().as_u16(), resp.text().unwrap_or_default())
    }

    /// One series of `/metrics`, e.g. `allstacks_relay_queue_depth`.
    pub fn metric(&self, series: &str) -> f64 {
        let (_, text) = self.get("/metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// The log once `done` holds for it (a line is written after its answer is sent, so a test
    /// that has its answer may be ahead of the line), or after 10 s.
    pub fn log_when(&self, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let until = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.log();
            if done(&lines) || Instant::now() > until {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn signal(&self, sig: i32) {
        let pid = self.child.as_ref().expect("running").id() as i32;
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(pid, sig) };
        assert_eq!(rc, 0, "kill: {}", std::io::Error::last_os_error());
    }

    /// Waits (at most `limit`) for the process to exit; its exit code, `None` for a signal.
    pub fn wait(&mut self, limit: Duration) -> Option<i32> {
        let child = self.child.as_mut().expect("running");
        let until = Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                self.child = None;
                if let Some(r) = self.reader.take() {
                    let _ = r.join();
                }
                self.check_secrets();
                return status.code();
            }
            assert!(
                Instant::now() < until,
                "serve did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// No token, secret or signature of ours ever reaches the log.
    fn check_secrets(&self) {
        let log = self.log().join("\n");
        for secret in [
            TOKEN,
            GITHUB_SECRET,
            GITLAB_SECRET,
            ARGOCD_SECRET,
            FLUX_SECRET,
        ] {
            assert!(
                !log.contains(secret),
                "{secret} leaked into the log:\n{log}"
            );
        }
        for (at, _) in log.match_indices("sha256=") {
            let after = &log[at + 7..];
            let hex = after.bytes().take_while(u8::is_ascii_hexdigit).count();
            assert!(hex < 8, "a signature leaked into the log:\n{log}");
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        if !std::thread::panicking() {
            self.check_secrets();
        }
    }
}

/// When the records of the fixtures happened: 10:00 UTC yesterday, inside the 7-day replay
/// window (one value for the whole run).
pub fn t0() -> i64 {
    static T0: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    *T0.get_or_init(|| (crate::now() / 86_400 - 1) * 86_400 + 36_000)
}

/// `t0() + secs` as RFC 3339 (`2026-05-01T10:03:20Z`).
pub fn at(secs: i64) -> String {
    allstacks_cd::timefmt::format_rfc3339(t0() + secs)
}

/// `sha256=<hex>` of `body` with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// The headers of a GitHub delivery of `event`, signed.
pub fn github_headers(event: &str, delivery: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("x-github-event", event.into()),
        ("x-github-delivery", delivery.into()),
        ("x-hub-signature-256", sign(GITHUB_SECRET, body)),
    ]
}

/// A GitHub `deployment_status` webhook body (the fields GitHub sends, abridged).
pub fn deployment_status(id: u64, state: &str, environment: &str, sha: &str) -> Vec<u8> {
    json!({
        "action": "created",
        "deployment_status": {
            "id": 9_000 + id, "state": state, "environment": environment,
            "creator": {"login": "vercel[bot]", "type": "Bot"},
            "target_url": "https://vercel.com/acme/web/abc",
            "log_url": "https://vercel.com/acme/web/abc/logs",
            "environment_url": "https://web.acme.dev",
            "created_at": at(200), "updated_at": at(200)
        },
        "deployment": {
            "id": id, "node_id": "DE_kwDOA", "sha": sha, "ref": "main", "task": "deploy",
            "payload": {}, "original_environment": environment, "environment": environment,
            "description": null, "transient_environment": false, "production_environment": true,
            "creator": {"login": "vercel[bot]", "id": 35_613_825, "type": "Bot"},
            "created_at": at(0), "updated_at": at(200),
            "performed_via_github_app": {"id": 8329, "slug": "vercel", "name": "Vercel"}
        },
        "repository": {
            "id": 1_296_269, "node_id": "R_kgDOA", "name": "web", "full_name": "acme/web",
            "private": true, "owner": {"login": "acme", "id": 1, "type": "Organization"},
            "html_url": "https://github.com/acme/web", "default_branch": "main"
        },
        "organization": {"login": "acme", "id": 1},
        "sender": {"login": "vercel[bot]", "id": 35_613_825, "type": "Bot"},
        "installation": {"id": 1}
    })
    .to_string()
    .into_bytes()
}

/// The job [`deployment_status`] becomes (service 7, state success, environment production).
pub fn deployment_job(id: u64) -> Value {
    json!({
        "job_id": format!("deployment-{id}"),
        "status": "Succeeded",
        "commit_sha": SHA,
        "triggered_by": "vercel[bot]",
        "repo_id": "1296269",
        "repo_name": "acme/web",
        "service_id": 7,
        "job_start_time": t0(),
        "job_duration": 200,
        "optional": [
            {"key": "ci_provider", "value": "github-actions", "type": "string"},
            {"key": "environment", "value": "production", "type": "string"},
            {"key": "environment_url", "value": "https://web.acme.dev", "type": "string"},
            {"key": "log_url", "value": "https://vercel.com/acme/web/abc/logs", "type": "string"},
            {"key": "deployed_by_app", "value": "vercel", "type": "string"},
            {"key": "trigger_event", "value": "deployment_status", "type": "string"},
            {"key": "deployment_id", "value": id.to_string(), "type": "string"},
            {"key": "branch", "value": "main", "type": "string"}
        ]
    })
}

/// Posts a successful deployment `id` with delivery id `d-{id}`; the answer.
pub fn post_deployment(relay: &Relay, id: u64) -> (u16, Value) {
    let body = deployment_status(id, "success", "production", SHA);
    relay.post(
        "/github",
        &github_headers("deployment_status", &format!("d-{id}"), &body),
        &body,
    )
}

/// Waits (at most `limit`) until `server` received `n` requests; all it received.
pub fn wait_for(server: &Server, n: usize, limit: Duration) -> Vec<Received> {
    let until = Instant::now() + limit;
    loop {
        let got = server.received();
        if got.len() >= n || Instant::now() > until {
            return got;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// How many times each job id arrived.
pub fn job_counts(received: &[Received]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for r in received {
        let id = r.json()["job_id"].as_str().unwrap_or("?").to_string();
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// The job files waiting in a queue directory.
pub fn queued_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_str().is_some_and(|n| n.ends_with(".json")))
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn relay_github_deployment_reaches_allstacks_once() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let (status, answer) = post_deployment(&relay, 42);
    assert_eq!(
        (status, answer),
        (202, json!({"queued": ["deployment-42"]}))
    );
    let got = wait_for(&server, 1, Duration::from_secs(10));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/webhook/company/42/cicd_job");
    assert_eq!(
        got[0].header("authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(got[0].json(), deployment_job(42));
    // Delivered: the job file is gone, and the counters say so.
    let until = Instant::now() + Duration::from_secs(5);
    while relay.metric("allstacks_relay_deliveries_total{result=\"delivered\"}") < 1.0 {
        assert!(Instant::now() < until, "delivery not counted");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(queued_files(&relay.queue), 0);
    assert_eq!(relay.metric("allstacks_relay_queue_depth"), 0.0);
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"github\",result=\"queued\"}"),
        1.0
    );
    let line = relay
        .log_when(|l| l.iter().any(|l| l.contains("github 202")))
        .into_iter()
        .find(|l| l.contains("github 202"))
        .expect("request line");
    assert!(
        line.contains("github 202 queued delivery=d-42 jobs=deployment-42"),
        "{line}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(server.received().len(), 1, "exactly once");
}

#[test]
fn relay_signatures_are_checked() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let body = deployment_status(1, "success", "production", SHA);
    let mut wrong = github_headers("deployment_status", "d-1", &body);
    wrong[3].1 = sign("not-the-secret", &body);
    let mut missing = github_headers("deployment_status", "d-1", &body);
    missing.pop();
    let mut malformed = github_headers("deployment_status", "d-1", &body);
    malformed[3].1 = "sha1=0123".into();
    let other_body = deployment_status(2, "success", "production", SHA);
    let mut changed = github_headers("deployment_status", "d-1", &body);
    changed[3].1 = sign(GITHUB_SECRET, &other_body);
    for (headers, why) in [
        (wrong, "does not match"),
        (missing, "no X-Hub-Signature-256 header"),
        (malformed, "not of the form sha256=<hex>"),
        (changed, "does not match"),
    ] {
        let (status, answer) = relay.post("/github", &headers, &body);
        assert_eq!(status, 401, "{answer}");
        assert!(
            answer["error"].as_str().unwrap_or("").contains(why),
            "{answer}"
        );
    }
    let gitlab = senders::gitlab_deployment("success");
    let (status, _) = relay.post("/gitlab", &[("x-gitlab-token", "wrong".into())], &gitlab);
    assert_eq!(status, 401);
    let (status, _) = relay.post("/gitlab", &[], &gitlab);
    assert_eq!(status, 401);
    let argo = senders::argocd_body("Succeeded", SHA);
    let (status, _) = relay.post(
        "/argocd",
        &[("authorization", format!("Basic {ARGOCD_SECRET}"))],
        &argo,
    );
    assert_eq!(status, 401);
    let flux = senders::flux_event("ReconciliationSucceeded", "info");
    let (status, _) = relay.post(
        "/flux",
        &[("x-signature", sign(GITHUB_SECRET, &flux))],
        &flux,
    );
    assert_eq!(status, 401);
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"github\",result=\"unauthorized\"}"),
        4.0
    );
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"gitlab\",result=\"unauthorized\"}"),
        2.0
    );
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"argocd\",result=\"unauthorized\"}"),
        1.0
    );
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"flux\",result=\"unauthorized\"}"),
        1.0
    );
    let (status, _) = post_deployment(&relay, 1);
    assert_eq!(status, 202, "the right signature still works");
    assert_eq!(wait_for(&server, 1, Duration::from_secs(10)).len(), 1);
}

/// `body` (JSON) with the value at `path` (keys, from the top) replaced by `value`.
pub fn with(body: &[u8], path: &[&str], value: Value) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(body).expect("JSON fixture");
    let mut at = &mut v;
    for key in path {
        at = &mut at[*key];
    }
    *at = value;
    v.to_string().into_bytes()
}

#[test]
fn relay_a_deployment_is_reported_once_however_often_it_is_sent() {
    let server = Server::start(vec![Reply::status(201)]);
    let setup = Setup::new(&server.url());
    let mut relay = setup.start();
    assert_eq!(post_deployment(&relay, 5).0, 202);
    assert_eq!(
        post_deployment(&relay, 5),
        (202, json!({"duplicate": "d-5"})),
        "the same delivery again"
    );
    // GitHub does not sign X-GitHub-Delivery: the signed body replayed under new ids.
    let body = deployment_status(5, "success", "production", SHA);
    let replay = |relay: &Relay, id: &str| {
        relay.post(
            "/github",
            &github_headers("deployment_status", id, &body),
            &body,
        )
    };
    for id in ["d-5b", "d-5c"] {
        assert_eq!(
            replay(&relay, id),
            (
                202,
                json!({"duplicate": id, "record": "github deployment_status 9005"})
            )
        );
    }
    let gitlab = senders::gitlab_deployment("success");
    let headers = |uuid: &str| senders::gitlab_headers(uuid);
    assert_eq!(relay.post("/gitlab", &headers("u-1"), &gitlab).0, 202);
    assert_eq!(
        relay.post("/gitlab", &headers("u-2"), &gitlab),
        (
            202,
            json!({"duplicate": "u-2", "record": "gitlab deployment 15 success"})
        )
    );
    wait_for(&server, 2, Duration::from_secs(10));
    relay.signal(libc::SIGTERM);
    assert_eq!(relay.wait(Duration::from_secs(15)), Some(0));
    // Remembered across a restart, under either key.
    let relay = setup.start();
    assert_eq!(
        post_deployment(&relay, 5),
        (202, json!({"duplicate": "d-5"}))
    );
    assert_eq!(
        replay(&relay, "d-5d").1["record"],
        "github deployment_status 9005"
    );
    // A new status of the same deployment is a new record.
    let failed = with(
        &deployment_status(5, "failure", "production", SHA),
        &["deployment_status", "id"],
        json!(9_105),
    );
    let (status, answer) = relay.post(
        "/github",
        &github_headers("deployment_status", "d-5e", &failed),
        &failed,
    );
    assert_eq!((status, answer), (202, json!({"queued": ["deployment-5"]})));
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"github\",result=\"duplicate\"}"),
        2.0
    );
    let got = wait_for(&server, 3, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    let statuses: Vec<(String, String)> = server
        .received()
        .iter()
        .map(|r| {
            let j = r.json();
            (
                j["job_id"].as_str().unwrap_or("").into(),
                j["status"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(got.len(), 3, "{statuses:?}");
    assert_eq!(
        statuses
            .iter()
            .filter(|(id, _)| id == "deployment-5")
            .count(),
        2,
        "once as Succeeded, once as Failed: {statuses:?}"
    );
}

#[test]
fn relay_a_record_older_than_the_replay_window_is_ignored() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url())
        .env("ALLSTACKS_GITLAB_EVENTS", "deployment,pipeline")
        .start();
    let old = |days: i64| at(-days * 86_400);
    let github = with(
        &deployment_status(7, "success", "production", SHA),
        &["deployment_status", "updated_at"],
        json!(old(8)),
    );
    let gitlab = with(
        &senders::gitlab_deployment("success"),
        &["status_changed_at"],
        json!(senders::hook_time(-8 * 86_400, " UTC")),
    );
    let pipeline = with(
        &senders::gitlab_pipeline("success"),
        &["object_attributes", "finished_at"],
        json!(senders::hook_time(-8 * 86_400, " UTC")),
    );
    let ignored = json!({"ignored": "older than the 7-day replay window"});
    assert_eq!(
        relay.post(
            "/github",
            &github_headers("deployment_status", "o-1", &github),
            &github
        ),
        (202, ignored.clone())
    );
    assert_eq!(
        relay.post("/gitlab", &senders::gitlab_headers("o-2"), &gitlab),
        (202, ignored.clone())
    );
    assert_eq!(
        relay.post("/gitlab", &senders::gitlab_headers("o-3"), &pipeline),
        (202, ignored)
    );
    // Six days old is still inside the window.
    let recent = with(
        &deployment_status(8, "success", "production", SHA),
        &["deployment_status", "updated_at"],
        json!(old(6)),
    );
    assert_eq!(
        relay
            .post(
                "/github",
                &github_headers("deployment_status", "o-4", &recent),
                &recent
            )
            .0,
        202
    );
    let got = wait_for(&server, 1, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(got.len(), 1);
    assert_eq!(
        job_counts(&server.received()),
        BTreeMap::from([("deployment-8".to_string(), 1)])
    );
}

#[test]
fn relay_bad_requests() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url())
        .without("ALLSTACKS_FLUX_SECRET")
        .start();
    let body = deployment_status(1, "success", "production", SHA);
    let truncated = &body[..body.len() / 2];
    let (status, answer) = relay.post(
        "/github",
        &github_headers("deployment_status", "d-t", truncated),
        truncated,
    );
    assert_eq!(status, 400);
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or("")
            .starts_with("the body is not JSON (at line 1"),
        "{answer}"
    );
    let shape =
        br#"{"deployment": {"id": "forty-two"}, "deployment_status": {}, "repository": {}}"#;
    let (status, answer) = relay.post(
        "/github",
        &github_headers("deployment_status", "d-s", shape),
        shape,
    );
    assert_eq!(status, 400);
    let error = answer["error"].as_str().unwrap_or("");
    assert!(
        error.contains("not a GitHub deployment_status event") && !error.contains("forty-two"),
        "{answer}"
    );
    let mut no_event = github_headers("deployment_status", "d-e", &body);
    no_event.remove(1);
    assert_eq!(relay.post("/github", &no_event, &body).0, 400);
    // Over 25 MiB: refused before it is read (the answer comes while nothing of the body was
    // sent; a client still sending would see the connection close under it).
    let mut stream = TcpStream::connect(relay.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /github HTTP/1.1\r\nHost: relay\r\nX-GitHub-Event: deployment_status\r\n\
         Content-Length: {}\r\n\r\n",
        25 * 1024 * 1024 + 1
    );
    stream.write_all(head.as_bytes()).expect("head");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.ends_with("{\"error\":\"the body is larger than 25 MiB\"}"),
        "{answer}"
    );
    // The same without a length: the stream is cut at 25 MiB.
    let (status, answer) = chunked_post(relay.addr, "/github", 26 * 1024 * 1024);
    assert_eq!(status, 413, "{answer}");
    assert_eq!(relay.get("/github").0, 405);
    assert_eq!(relay.get("/nowhere").0, 404);
    let flux = senders::flux_event("ReconciliationSucceeded", "info");
    let (status, _) = relay.post("/flux", &[("x-signature", sign(FLUX_SECRET, &flux))], &flux);
    assert_eq!(status, 404, "an endpoint without its secret does not exist");
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"github\",result=\"invalid\"}"),
        5.0
    );
    assert_eq!(relay.get("/healthz"), (200, "ok\n".into()));
    assert!(server.received().is_empty());
}

/// POSTs `size` bytes of spaces with chunked transfer encoding and no signature, writing from
/// a thread of its own (the relay may answer before the body ends); the status code and the
/// whole answer.
fn chunked_post(addr: SocketAddr, path: &str, size: usize) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut writer = stream.try_clone().expect("clone");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: relay\r\nX-GitHub-Event: ping\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    );
    let feeder = std::thread::spawn(move || {
        let chunk = vec![b' '; 1024 * 1024];
        let mut sent = writer.write_all(head.as_bytes()).is_ok();
        for _ in 0..size / chunk.len() {
            sent = sent
                && writer
                    .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                    .is_ok()
                && writer.write_all(&chunk).is_ok()
                && writer.write_all(b"\r\n").is_ok();
        }
        let _ = sent && writer.write_all(b"0\r\n\r\n").is_ok();
    });
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let _ = feeder.join();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[test]
fn relay_ignores_what_is_not_a_reported_deployment() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url())
        .env("ALLSTACKS_ENVIRONMENTS", "prod*")
        .start();
    let ping = br#"{"zen": "Design for failure.", "hook_id": 1}"#;
    assert_eq!(
        relay.post("/github", &github_headers("ping", "p-1", ping), ping),
        (200, json!({"pong": true}))
    );
    let push = br#"{"ref": "refs/heads/main"}"#;
    let (status, answer) = relay.post("/github", &github_headers("push", "p-2", push), push);
    assert_eq!(status, 202);
    assert_eq!(
        answer["ignored"],
        "GitHub event \"push\" is not reported (ALLSTACKS_GITHUB_EVENTS)"
    );
    let pending = deployment_status(3, "in_progress", "production", SHA);
    let (status, answer) = relay.post(
        "/github",
        &github_headers("deployment_status", "p-3", &pending),
        &pending,
    );
    assert_eq!(status, 202);
    assert!(
        answer["ignored"]
            .as_str()
            .unwrap_or("")
            .contains("not one of --deployment-states"),
        "{answer}"
    );
    let staging = deployment_status(4, "success", "staging", SHA);
    let (status, answer) = relay.post(
        "/github",
        &github_headers("deployment_status", "p-4", &staging),
        &staging,
    );
    assert_eq!(status, 202);
    assert_eq!(
        answer["ignored"],
        "environment \"staging\" is not one of --environments (prod*): nothing is sent"
    );
    let run = senders::workflow_run("completed", "success", "Deploy web");
    let (status, answer) = relay.post(
        "/github",
        &github_headers("workflow_run", "p-5", &run),
        &run,
    );
    assert_eq!(
        (status, answer),
        (
            202,
            json!({"ignored": "GitHub event \"workflow_run\" is not reported (ALLSTACKS_GITHUB_EVENTS)"})
        )
    );
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"github\",result=\"ignored\"}"),
        4.0
    );
    // A ping is a ping, not an ignored event: counted and logged as one.
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"github\",result=\"ping\"}"),
        1.0
    );
    let log = relay.log_when(|l| l.iter().any(|l| l.contains("delivery=p-1")));
    let ping = log
        .iter()
        .find(|l| l.contains("delivery=p-1"))
        .expect("the ping's line");
    assert!(
        ping.contains("github 200 ping delivery=p-1 (the webhook reaches the relay"),
        "{ping}"
    );
    // An ignored delivery is not remembered: the same id can come back as a real one.
    let ok = deployment_status(3, "success", "production", SHA);
    assert_eq!(
        relay
            .post(
                "/github",
                &github_headers("deployment_status", "p-3", &ok),
                &ok
            )
            .0,
        202
    );
    assert_eq!(
        job_counts(&wait_for(&server, 1, Duration::from_secs(10))).len(),
        1
    );
}

#[test]
fn relay_a_deployment_that_breaks_the_contract_is_422() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let body = deployment_status(6, "success", "production", "a2e7da8");
    let (status, answer) = relay.post(
        "/github",
        &github_headers("deployment_status", "r-6", &body),
        &body,
    );
    assert_eq!(status, 422);
    assert_eq!(
        answer["error"],
        "commit_sha must be a full 40- or 64-character hex SHA, got \"a2e7da8\" (from webhook deployment.sha)"
    );
    assert_eq!(
        relay.metric("allstacks_relay_events_total{source=\"github\",result=\"rejected\"}"),
        1.0
    );
    std::thread::sleep(Duration::from_millis(200));
    assert!(server.received().is_empty());
}

#[test]
fn relay_a_job_the_server_rejects_moves_to_rejected() {
    let server = Server::start(vec![
        Reply::status(422).body("{\"error\": \"unknown service\"}"),
    ]);
    let relay = Setup::new(&server.url()).start();
    assert_eq!(post_deployment(&relay, 8).0, 202);
    let until = Instant::now() + Duration::from_secs(10);
    while relay.metric("allstacks_relay_deliveries_total{result=\"rejected\"}") < 1.0 {
        assert!(Instant::now() < until, "not rejected");
        std::thread::sleep(Duration::from_millis(20));
    }
    let rejected = std::fs::read_dir(relay.queue.join("rejected"))
        .expect("rejected/")
        .count();
    assert_eq!(rejected, 1);
    assert_eq!(queued_files(&relay.queue), 0);
    assert_eq!(server.received().len(), 1, "not retried");
}

/// `serve --config path` with the connection settings and a GitHub secret, to its end (a
/// config it refuses ends it at once).
fn serve_with_config(path: &str) -> crate::support::Output {
    tool(&["serve", "--listen", "127.0.0.1:0", "--config", path])
        .envs(&[
            ("ALLSTACKS_URL", "https://allstacks.example.com"),
            ("ALLSTACKS_COMPANY_ID", "42"),
            ("ALLSTACKS_TOKEN", TOKEN),
            ("ALLSTACKS_GITHUB_SECRET", GITHUB_SECRET),
        ])
        .run()
}

#[test]
fn relay_refuses_to_start_without_what_it_needs() {
    let out = tool(&["serve", "--listen", "127.0.0.1:0"]).run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    for needle in [
        "set at least one of ALLSTACKS_GITHUB_SECRET, ALLSTACKS_GITLAB_SECRET, ALLSTACKS_ARGOCD_SECRET, ALLSTACKS_FLUX_SECRET",
        "url is required",
        "token is required",
        "service id is required",
        "serve did not start",
    ] {
        assert!(out.stderr.contains(needle), "{needle}:\n{}", out.stderr);
    }
    let home = tempfile::tempdir().expect("temp");
    let config = home.path().join("routes.toml");
    std::fs::write(&config, "[[route]]\nservice_id = 7\nteam = \"web\"\n").expect("write");
    let out = serve_with_config(config.to_str().expect("utf-8"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("routes.toml line 3: unknown field `team`"),
        "{}",
        out.stderr
    );
}

#[test]
fn relay_a_route_key_its_source_never_carries_stops_the_start() {
    let home = tempfile::tempdir().expect("temp");
    let config = home.path().join("routes.toml");
    // The example docs/relay.md used to show: a deployment_status has no workflow.
    std::fs::write(
        &config,
        "[[route]]\nsource = \"github\"\nrepo = \"acme/*\"\nworkflow = \"Deploy*\"\nservice_id = 7\n\n[[route]]\nsource = \"*\"\nservice_id = 8\n",
    )
    .expect("write");
    let path = config.to_str().expect("utf-8");
    let out = serve_with_config(path);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "routes.toml line 4: route 1: workflow = \"Deploy*\" can never match: the records \
             source \"github\" takes (deployment_status deliveries, per ALLSTACKS_GITHUB_EVENTS) \
             have no workflow; add workflow_run to ALLSTACKS_GITHUB_EVENTS"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("serve did not start"), "{}", out.stderr);
    // With workflow runs reported, the same route can match one: the relay starts.
    let relay = Setup::new("https://allstacks.example.com")
        .env("ALLSTACKS_GITHUB_EVENTS", "deployment_status,workflow_run")
        .env("ALLSTACKS_WORKFLOWS", "Deploy*")
        .arg("--config")
        .arg(path)
        .start();
    assert_eq!(relay.get("/healthz").0, 200);
}

#[test]
fn relay_refuses_short_secrets_and_leaking_api_urls() {
    let out = tool(&["serve", "--listen", "127.0.0.1:0"])
        .envs(&[
            ("ALLSTACKS_URL", "https://allstacks.example.com"),
            ("ALLSTACKS_COMPANY_ID", "42"),
            ("ALLSTACKS_TOKEN", TOKEN),
            ("ALLSTACKS_SERVICE_ID", "7"),
            ("ALLSTACKS_GITHUB_SECRET", GITHUB_SECRET),
            ("ALLSTACKS_FLUX_SECRET", "short-secret"),
            ("GITLAB_TOKEN", "glpat-0123456789abcdef"),
            (
                "GITLAB_API_URL",
                "https://bot:hunter2@gitlab.example.com/api/v4",
            ),
            ("GITHUB_API_URL", "http://github.example.com/api/v3"),
        ])
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    for needle in [
        "the secret from ALLSTACKS_FLUX_SECRET is 12 bytes long; it is not shown. A secret must be at least 16 bytes",
        "GITLAB_API_URL \"https://***@gitlab.example.com/api/v4\" (from GITLAB_API_URL) contains a user name or password",
        "GITHUB_API_URL \"http://github.example.com/api/v3\" must be https://",
        "serve did not start",
    ] {
        assert!(out.stderr.contains(needle), "{needle}:\n{}", out.stderr);
    }
    for leaked in ["short-secret", "hunter2", "glpat-0123456789abcdef"] {
        assert!(
            !out.stderr.contains(leaked),
            "{leaked} shown:\n{}",
            out.stderr
        );
    }
}

#[test]
fn relay_one_queue_one_relay() {
    let server = Server::start(vec![Reply::status(201)]);
    let setup = Setup::new(&server.url());
    let _first = setup.start();
    let out = Command::new(binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--outbox"])
        .arg(&setup.queue)
        .env_clear()
        .envs(setup.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .expect("second serve");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("another relay is using the queue"),
        "{stderr}"
    );
}

#[test]
fn relay_routes_from_a_config_file() {
    let server = Server::start(vec![Reply::status(201)]);
    let setup = Setup::new(&server.url()).without("ALLSTACKS_SERVICE_ID");
    let config = setup.home.path().join("routes.toml");
    std::fs::write(
        &config,
        r#"
[[route]]
source = "github"
repo = "acme/*"
environment = "prod*"
service_id = 11
job_type = "Production Deploy"
fields = { team = "web" }

[[route]]
source = "gitlab"
service_id = 12
"#,
    )
    .expect("write config");
    let relay = setup
        .arg("--config")
        .arg(config.to_str().expect("utf-8"))
        .start();
    assert_eq!(post_deployment(&relay, 21).0, 202);
    let staging = deployment_status(22, "success", "staging", SHA);
    let (status, answer) = relay.post(
        "/github",
        &github_headers("deployment_status", "s-22", &staging),
        &staging,
    );
    assert_eq!(status, 202);
    assert_eq!(
        answer["ignored"],
        "no route matches (source github, repo acme/web, environment staging)"
    );
    let gitlab = senders::gitlab_deployment("success");
    let (status, _) = relay.post("/gitlab", &senders::gitlab_headers("u-1"), &gitlab);
    assert_eq!(status, 202);
    let got = wait_for(&server, 2, Duration::from_secs(10));
    let by_id: BTreeMap<String, Value> = got
        .iter()
        .map(|r| {
            (
                r.json()["job_id"].as_str().unwrap_or("").to_string(),
                r.json(),
            )
        })
        .collect();
    let github = &by_id["deployment-21"];
    assert_eq!(github["service_id"], 11);
    assert_eq!(github["job_type"], "Production Deploy");
    assert_eq!(
        github["optional"][0],
        json!({"key": "team", "value": "web", "type": "string"})
    );
    assert_eq!(by_id["796"]["service_id"], 12);
    assert!(by_id["796"].get("job_type").is_none());
}

#[test]
fn relay_says_at_start_what_it_serves() {
    let server = Server::start(vec![Reply::status(201)]);
    let api = Server::route(|_| Reply::status(200).body("[]"));
    // A path before /webhook is the operator's: only the scheme, host, port and company show.
    let base = format!("{}/private-prefix", server.url());
    let setup = Setup::new(&base)
        .env("ALLSTACKS_GITHUB_EVENTS", "deployment_status,workflow_run")
        .env("ALLSTACKS_WORKFLOWS", "Deploy*,Release")
        .env("ALLSTACKS_GITLAB_EVENTS", "deployment,pipeline")
        .env("GITHUB_TOKEN", "ghp-start-lines-0123456789")
        .env("GITHUB_API_URL", &api.url());
    let config = setup.home.path().join("relay.toml");
    std::fs::write(
        &config,
        "[[route]]\nsource = \"github\"\nservice_id = 11\n\n[[route]]\nservice_id = 12\n\n\
         [[catch_up]]\ngithub_org = \"acme\"\nhook_id = 123456\n",
    )
    .expect("write config");
    let path = config.to_str().expect("utf-8");
    let relay = setup.clone().arg("--config").arg(path).start();
    let start: Vec<String> = relay
        .log()
        .into_iter()
        .take_while(|l| !l.contains("listening on"))
        .collect();
    let port = server.addr().port();
    assert_eq!(
        start,
        [
            "allstacks-cd: serve: POST /github: deployment_status, workflow_run (workflows Deploy*,Release)".to_string(),
            "allstacks-cd: serve: POST /gitlab: deployment, pipeline".into(),
            "allstacks-cd: serve: POST /argocd".into(),
            "allstacks-cd: serve: POST /flux".into(),
            format!("allstacks-cd: serve: routes: 2 routes from {path}"),
            format!("allstacks-cd: serve: queue: {}", setup.queue.display()),
            format!("allstacks-cd: serve: delivering to http://127.0.0.1:{port}, company 42"),
            "allstacks-cd: serve: catch-up: github_org acme hook 123456 (every 300 s)".into(),
        ]
    );
    drop(relay);
    // Only the senders with a secret; without --config, the one service.
    let relay = Setup::new(&server.url())
        .without("ALLSTACKS_GITLAB_SECRET")
        .without("ALLSTACKS_ARGOCD_SECRET")
        .start();
    let start: Vec<String> = relay
        .log()
        .into_iter()
        .take_while(|l| !l.contains("listening on"))
        .collect();
    assert_eq!(
        start[..2],
        [
            "allstacks-cd: serve: POST /github: deployment_status",
            "allstacks-cd: serve: POST /flux",
        ]
    );
    assert_eq!(
        start[2],
        "allstacks-cd: serve: routes: no --config: every deployment to service 7 (from ALLSTACKS_SERVICE_ID)"
    );
    assert_eq!(
        start.last().map(String::as_str),
        Some("allstacks-cd: serve: catch-up: none (no [[catch_up]] in --config)")
    );
}

#[test]
fn relay_json_logs_one_object_per_line() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url())
        .arg("--log-format")
        .arg("json")
        .start();
    assert_eq!(post_deployment(&relay, 31).0, 202);
    let body = deployment_status(32, "success", "production", SHA);
    let mut wrong = github_headers("deployment_status", "j-32", &body);
    wrong[3].1 = sign("nope", &body);
    assert_eq!(relay.post("/github", &wrong, &body).0, 401);
    wait_for(&server, 1, Duration::from_secs(10));
    let lines = relay.log_when(|l| l.iter().filter(|l| l.contains("\"source\"")).count() >= 2);
    let objects: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let requests: Vec<&Value> = objects
        .iter()
        .filter(|o| o.get("source").is_some())
        .collect();
    assert_eq!(requests.len(), 2, "{lines:?}");
    assert_eq!(requests[0]["result"], "queued");
    assert_eq!(requests[0]["status"], 202);
    assert_eq!(requests[0]["delivery"], "d-31");
    assert_eq!(requests[0]["jobs"], json!(["deployment-31"]));
    assert!(requests[0]["ms"].is_number() && requests[0]["time"].is_string());
    assert_eq!(requests[1]["result"], "unauthorized");
    assert_eq!(requests[1]["delivery"], "j-32");
    assert!(
        requests[1]["reason"]
            .as_str()
            .unwrap_or("")
            .contains("does not match")
    );
}

#[test]
fn relay_readiness_follows_the_queue_directory() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    assert_eq!(relay.get("/readyz"), (200, "ready\n".into()));
    let (status, metrics) = relay.get("/metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("# TYPE allstacks_relay_events_total counter"),
        "{metrics}"
    );
    std::fs::remove_dir_all(&relay.queue).expect("remove the queue");
    let (status, why) = relay.get("/readyz");
    assert_eq!(
        (status, why.as_str()),
        (
            503,
            "the queue directory cannot take a new job: No such file or directory (os error 2)\n"
        ),
        "why, without the path"
    );
    let queue = relay.queue.display().to_string();
    let log = relay.log_when(|l| l.iter().any(|l| l.contains("not ready")));
    assert!(
        log.iter().any(
            |l| l.contains("not ready: the queue directory cannot take a new job")
                && l.contains(&queue)
        ),
        "the path goes to the log: {log:?}"
    );
    assert_eq!(relay.get("/healthz").0, 200, "alive all the same");
    // A webhook that cannot be queued is not acknowledged.
    let (status, answer) = post_deployment(&relay, 41);
    assert_eq!(
        (status, answer),
        (
            503,
            json!({"error": "the job could not be queued; try again later"})
        )
    );
}

#[test]
fn relay_sigterm_finishes_the_request_in_flight() {
    let server = Server::start(vec![Reply::status(201)]);
    let mut relay = Setup::new(&server.url()).start();
    let body = deployment_status(51, "success", "production", SHA);
    let mut stream = TcpStream::connect(relay.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut head = format!(
        "POST /github HTTP/1.1\r\nHost: relay\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in github_headers("deployment_status", "d-51", &body) {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("head");
    stream.write_all(&body[..100]).expect("half");
    std::thread::sleep(Duration::from_millis(200));
    relay.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        TcpStream::connect(relay.addr).is_err(),
        "no new connections after SIGTERM"
    );
    stream.write_all(&body[100..]).expect("rest");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 202"), "{answer}");
    assert!(
        answer.ends_with("{\"queued\":[\"deployment-51\"]}"),
        "{answer}"
    );
    assert_eq!(relay.wait(Duration::from_secs(15)), Some(0));
    let log = relay.log_when(|l| l.iter().any(|l| l.contains("SIGTERM")));
    assert!(log.iter().any(|l| l.contains("SIGTERM")), "{log:?}");
}
