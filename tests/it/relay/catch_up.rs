//! Catch-up from the senders' own delivery logs (spec `relay-production.md` §4). Fake GitHub and
//! GitLab platforms on 127.0.0.1 post webhooks to the relay and record each delivery the way
//! their REST APIs document it (GitHub: "list deliveries for an organization webhook", cursor
//! paging through `Link`, "get a webhook delivery" with `request.payload`; GitLab: "list group
//! hook events", paged with `X-Next-Page` and `Link`, each event with its `request_headers` and
//! `request_data`), failed when the relay is down, with their rate-limit headers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::{Value, json};

use super::senders::{gitlab_deployment, gitlab_pipeline, hook_time};
use super::{
    GITLAB_SECRET, Relay, Setup, deployment_status, github_headers, job_counts, wait_for, with,
};
use crate::support::{Received, Reply, ReservedPort, SHA, Server};

const GITHUB_TOKEN: &str = "ghp-catch-up-test-0123456789";
const GITLAB_TOKEN: &str = "glpat-catch-up-test-0123456789";

/// One delivery in a platform's log.
#[derive(Clone, Debug)]
struct Logged {
    id: u64,
    /// GitHub's `guid`, GitLab's `X-Gitlab-Event-UUID`.
    uuid: String,
    /// GitHub's event, GitLab's `X-Gitlab-Event`.
    event: String,
    action: Option<String>,
    at: i64,
    status: u16,
    body: Value,
}

/// A platform: its delivery log, and its API on 127.0.0.1.
struct Platform {
    log: Arc<Mutex<Vec<Logged>>>,
    api: Server,
    /// The next listing is answered with a rate-limit refusal first.
    limit_once: Arc<AtomicBool>,
}

/// Where a relay that is down would be: a port that refuses connections.
fn down() -> (ReservedPort, String) {
    let port = ReservedPort::new();
    let url = port.url();
    (port, url)
}

impl Platform {
    /// Sends a webhook to the relay at `base` (one that is down refuses the connection) and
    /// logs the delivery with the answer, as GitHub and GitLab do: 502 when it could not connect.
    fn send(&self, base: &str, mut logged: Logged, headers: Vec<(&'static str, String)>) {
        let body = logged.body.to_string().into_bytes();
        let client = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let path = if headers.iter().any(|(k, _)| *k == "x-gitlab-token") {
            "/gitlab"
        } else {
            "/github"
        };
        let mut req = client.post(format!("{base}{path}")).body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        logged.status = req.send().map(|r| r.status().as_u16()).unwrap_or(502);
        self.record(logged);
    }

    fn record(&self, mut logged: Logged) {
        let mut log = self.log.lock().expect("log");
        logged.id = log.last().map_or(1000, |l| l.id + 1);
        log.push(logged);
    }

    /// The ids of the deliveries whose payload was fetched (GitHub).
    fn fetched(&self) -> Vec<u64> {
        self.api
            .received()
            .iter()
            .filter_map(|r| r.path.rsplit_once("/deliveries/")?.1.parse().ok())
            .collect()
    }

    /// The listing requests received, by query.
    fn listings(&self) -> Vec<String> {
        self.api
            .received()
            .iter()
            .filter(|r| r.path.contains("/deliveries?") || r.path.contains("/events?"))
            .map(|r| {
                r.path
                    .split_once('?')
                    .map(|(_, q)| q.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }
}

/// A fake API on 127.0.0.1 whose answer `route` picks from each request and the API's own base
/// URL (its `Link`s are absolute, on its own host).
fn api(route: impl Fn(&Received, &str) -> Reply + Send + Sync + 'static) -> Server {
    let own: Arc<OnceLock<String>> = Arc::new(OnceLock::new());
    let base = own.clone();
    let server = Server::route(move |r: &Received| route(r, base.get().expect("base")));
    let _ = own.set(server.url());
    server
}

/// The query parameter `key` of `path`.
fn param<'a>(path: &'a str, key: &str) -> Option<&'a str> {
    path.split_once('?')?
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// The refusal GitHub answers when the rate limit is spent: 403, remaining 0, reset in a second.
fn github_rate_limited() -> Reply {
    let reset = (crate::now() + 1).to_string();
    Reply::status(403)
        .header("x-ratelimit-limit", "5000")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-used", "5000")
        .header("x-ratelimit-reset", &reset)
        .body(r#"{"message": "API rate limit exceeded", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}"#)
}

/// A fake GitHub: `GET /orgs/acme/hooks/7/deliveries` (3 a page here, newest first, `cursor`
/// paging through `Link`) and `GET /orgs/acme/hooks/7/deliveries/{id}`.
fn github() -> Platform {
    let log: Arc<Mutex<Vec<Logged>>> = Arc::new(Mutex::new(Vec::new()));
    let limit_once = Arc::new(AtomicBool::new(false));
    let (entries, limit) = (log.clone(), limit_once.clone());
    let api = api(move |r: &Received, base: &str| {
        if r.header("authorization") != Some(&format!("Bearer {GITHUB_TOKEN}")) {
            return Reply::status(401).body(r#"{"message": "Bad credentials"}"#);
        }
        let hook = "/orgs/acme/hooks/7/deliveries";
        let log = entries.lock().expect("log").clone();
        let reply = if let Some(id) = r.path.strip_prefix(&format!("{hook}/")) {
            match log.iter().find(|l| id.parse() == Ok(l.id)) {
                Some(l) => Reply::status(200).body(github_delivery(l).to_string()),
                None => Reply::status(404).body(r#"{"message": "Not Found"}"#),
            }
        } else if r.path.starts_with(&format!("{hook}?")) {
            if limit.swap(false, Ordering::SeqCst) {
                return github_rate_limited();
            }
            github_page(&log, &r.path, &format!("{base}{hook}"))
        } else {
            Reply::status(404).body(r#"{"message": "Not Found"}"#)
        };
        reply
            .header("x-ratelimit-limit", "5000")
            .header("x-ratelimit-remaining", "4999")
    });
    Platform {
        log,
        api,
        limit_once,
    }
}

fn github_page(log: &[Logged], path: &str, hook: &str) -> Reply {
    let per_page: usize = param(path, "per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30);
    let before: Option<u64> = param(path, "cursor")
        .and_then(|c| c.strip_prefix("v1_"))
        .and_then(|c| c.parse().ok());
    let newest_first: Vec<&Logged> = log
        .iter()
        .rev()
        .filter(|l| before.is_none_or(|b| l.id < b))
        .collect();
    let page: Vec<&Logged> = newest_first.iter().take(per_page.min(3)).copied().collect();
    let items: Vec<Value> = page
        .iter()
        .map(|l| {
            json!({
                "id": l.id, "guid": l.uuid, "delivered_at": at(l.at), "redelivery": false,
                "duration": 0.03, "status": if l.status == 502 { "failed to connect" } else { "OK" },
                "status_code": l.status, "event": l.event, "action": l.action,
                "installation_id": null, "repository_id": 1_296_269, "throttled_at": null
            })
        })
        .collect();
    let mut reply = Reply::status(200).body(Value::Array(items).to_string());
    if newest_first.len() > page.len() {
        let last = page.last().map_or(0, |l| l.id);
        // GitHub's cursor links are absolute, on the API's own host.
        let next = format!("<{hook}?per_page={per_page}&cursor=v1_{last}>; rel=\"next\"");
        reply = reply.header("link", &next);
    }
    reply
}

fn github_delivery(l: &Logged) -> Value {
    json!({
        "id": l.id, "guid": l.uuid, "delivered_at": at(l.at), "redelivery": false,
        "duration": 0.03, "status": "failed to connect", "status_code": l.status,
        "event": l.event, "action": l.action, "installation_id": null,
        "repository_id": 1_296_269, "url": "https://relay.acme.dev/github",
        "request": {
            "headers": {
                "Accept": "*/*", "X-GitHub-Delivery": l.uuid, "X-GitHub-Event": l.event,
                "X-GitHub-Hook-ID": "7", "User-Agent": "GitHub-Hookshot/044aadd",
                "Content-Type": "application/json"
            },
            "payload": l.body
        },
        "response": {"headers": {}, "payload": null}
    })
}

fn at(epoch: i64) -> String {
    allstacks_cd::timefmt::format_rfc3339(epoch)
}

/// A GitHub delivery of `event` for the log.
fn gh(uuid: &str, event: &str, body: Value, ago: i64) -> Logged {
    Logged {
        id: 0,
        uuid: uuid.into(),
        event: event.into(),
        action: body["action"].as_str().map(str::to_string),
        at: crate::now() - ago,
        status: 0,
        body,
    }
}

fn status_body(id: u64, state: &str) -> Value {
    serde_json::from_slice(&deployment_status(id, state, "production", SHA)).expect("JSON")
}

/// The setup of a relay that catches up with `platform`'s `api`, from a `--config` with
/// `hooks` and no route (every deployment to service 7).
fn catching_up(receiver: &Server, hooks: &str, env: &[(&str, String)]) -> Setup {
    let mut setup = Setup::new(&receiver.url()).env("ALLSTACKS_RELAY_CATCH_UP_EVERY", "3600");
    let config = setup.home.path().join("relay.toml");
    std::fs::write(&config, hooks).expect("config");
    for (k, v) in env {
        setup = setup.env(k, v);
    }
    setup.arg("--config").arg(config.to_str().expect("utf-8"))
}

/// Waits until `relay` counted `n` passes of `source` with `result`.
fn passes(relay: &Relay, source: &str, result: &str, n: f64) {
    let series =
        format!("allstacks_relay_catch_up_total{{source=\"{source}\",result=\"{result}\"}}");
    let until = std::time::Instant::now() + Duration::from_secs(10);
    while relay.metric(&series) < n {
        assert!(std::time::Instant::now() < until, "{series} < {n}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn relay_catches_up_with_a_github_hook_after_downtime() {
    let receiver = Server::start(vec![Reply::status(201)]);
    let platform = github();
    let host = platform.api.url();
    let env = [
        ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
        ("GITHUB_API_URL", host.clone()),
    ];
    let setup = catching_up(
        &receiver,
        "[[catch_up]]\ngithub_org = \"acme\"\nhook_id = 7\n",
        &env,
    );
    // Four days ago (past GitHub's 3-day log), a delivery failed.
    platform.record(gh(
        "g-old",
        "deployment_status",
        status_body(9, "success"),
        4 * 86_400,
    ));
    let mut relay = setup.start();
    passes(&relay, "github", "ok", 1.0);
    // Live: delivered and accepted.
    let body = status_body(1, "success");
    let headers = github_headers("deployment_status", "g-1", body.to_string().as_bytes());
    platform.send(
        &relay.url(""),
        gh("g-1", "deployment_status", body, 0),
        headers,
    );
    wait_for(&receiver, 1, Duration::from_secs(10));
    relay.signal(libc::SIGTERM);
    assert_eq!(relay.wait(Duration::from_secs(15)), Some(0));
    // While it is down: two deployments (one redelivered by hand), a push, a pending status.
    let (_closed, nowhere) = down();
    let down = |uuid: &str, event: &str, body: Value| {
        let headers = github_headers(event, uuid, body.to_string().as_bytes());
        platform.send(&nowhere, gh(uuid, event, body, 0), headers);
    };
    down("g-2", "deployment_status", status_body(2, "success"));
    down("g-push", "push", json!({"ref": "refs/heads/main"}));
    down("g-3", "deployment_status", status_body(3, "failure"));
    down("g-3", "deployment_status", status_body(3, "failure"));
    down("g-4", "deployment_status", status_body(4, "in_progress"));
    assert!(
        platform
            .log
            .lock()
            .expect("log")
            .iter()
            .filter(|l| l.uuid != "g-old" && l.uuid != "g-1")
            .all(|l| l.status == 502),
        "recorded as failed"
    );
    platform.limit_once.store(true, Ordering::SeqCst);
    let relay = setup.start();
    let got = wait_for(&receiver, 3, Duration::from_secs(15));
    passes(&relay, "github", "ok", 1.0);
    std::thread::sleep(Duration::from_millis(300));
    let counts = job_counts(&receiver.received());
    assert_eq!(
        counts,
        [
            ("deployment-1", 1),
            ("deployment-2", 1),
            ("deployment-3", 1)
        ]
        .map(|(k, v)| (k.to_string(), v))
        .into(),
        "every missed deployment once, the one accepted before not again: {got:?}"
    );
    assert_eq!(
        relay.metric("allstacks_relay_caught_up_total{source=\"github\"}"),
        2.0
    );
    let ids = |uuid: &str| -> Vec<u64> {
        let log = platform.log.lock().expect("log");
        log.iter()
            .filter(|l| l.uuid == uuid)
            .map(|l| l.id)
            .collect()
    };
    let fetched = platform.fetched();
    for uuid in ["g-1", "g-push", "g-old"] {
        assert!(
            ids(uuid).iter().all(|id| !fetched.contains(id)),
            "{uuid}'s payload is not fetched: {fetched:?}"
        );
    }
    assert_eq!(
        fetched.iter().filter(|id| ids("g-3").contains(id)).count(),
        1,
        "a redelivery is the same delivery"
    );
    let log = relay.log_when(|l| l.iter().any(|l| l.contains("rate limit")));
    assert!(
        log.iter()
            .any(|l| l.contains("catch-up: GitHub API rate limit")),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("catch-up github 202 queued delivery=g-2 jobs=deployment-2")),
        "{log:?}"
    );
    // The checkpoint survives a restart: the next start reads only what is newer.
    let mut relay = relay;
    relay.signal(libc::SIGTERM);
    assert_eq!(relay.wait(Duration::from_secs(15)), Some(0));
    let checkpoint: Value = serde_json::from_slice(
        &std::fs::read(relay.queue.join("catch-up")).expect("checkpoint file"),
    )
    .expect("JSON");
    let newest = platform.log.lock().expect("log").last().map(|l| l.id);
    assert_eq!(checkpoint["github_org acme hook 7"].as_u64(), newest);
    down("g-5", "deployment_status", status_body(5, "success"));
    let listed = platform.listings().len();
    let relay = setup.start();
    wait_for(&receiver, 4, Duration::from_secs(15));
    passes(&relay, "github", "ok", 1.0);
    assert_eq!(
        platform.listings()[listed..],
        ["per_page=100".to_string()],
        "one page: the listing stops at the checkpoint"
    );
    assert_eq!(job_counts(&receiver.received())["deployment-5"], 1);
}

/// A fake GitLab: `GET /api/v4/groups/acme/hooks/42/events` (2 a page here, newest first,
/// `page` paging with `X-Next-Page` and `Link`).
fn gitlab() -> Platform {
    let log: Arc<Mutex<Vec<Logged>>> = Arc::new(Mutex::new(Vec::new()));
    let limit_once = Arc::new(AtomicBool::new(false));
    let (entries, limit) = (log.clone(), limit_once.clone());
    let api = api(move |r: &Received, base: &str| {
        if r.header("private-token") != Some(GITLAB_TOKEN) {
            return Reply::status(401).body(r#"{"message": "401 Unauthorized"}"#);
        }
        let hook = "/api/v4/groups/acme/hooks/42/events";
        if !r.path.starts_with(&format!("{hook}?")) {
            return Reply::status(404).body(r#"{"message": "404 Not found"}"#);
        }
        let page: usize = param(&r.path, "page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        if page > 1 && limit.swap(false, Ordering::SeqCst) {
            let reset = (crate::now() + 1).to_string();
            return Reply::status(429)
                .header("ratelimit-limit", "600")
                .header("ratelimit-remaining", "0")
                .header("ratelimit-reset", &reset)
                .header("retry-after", "1")
                .body("Retry later");
        }
        gitlab_page(
            &entries.lock().expect("log"),
            page,
            &format!("{base}{hook}"),
        )
    });
    Platform {
        log,
        api,
        limit_once,
    }
}

fn gitlab_page(log: &[Logged], page: usize, hook: &str) -> Reply {
    const PER_PAGE: usize = 2;
    let newest_first: Vec<&Logged> = log.iter().rev().collect();
    let pages = newest_first.len().div_ceil(PER_PAGE).max(1);
    let items: Vec<Value> = newest_first
        .iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|l| {
            json!({
                "id": l.id, "url": "https://relay.acme.dev/gitlab", "trigger": "deployment_hooks",
                "request_headers": {
                    "Content-Type": "application/json", "User-Agent": "GitLab/17.3.0",
                    "Idempotency-Key": format!("idem-{}", l.uuid),
                    "X-Gitlab-Event": l.event, "X-Gitlab-Webhook-UUID": "3c5c0404-c866-44bc",
                    "X-Gitlab-Instance": "https://gitlab.example.com",
                    "X-Gitlab-Event-UUID": l.uuid, "X-Gitlab-Token": "[REDACTED]"
                },
                "request_data": l.body,
                "response_headers": {},
                "response_body": if l.status == 502 { "Failed to open TCP connection" } else { "" },
                "execution_duration": 0.01,
                "response_status": if l.status == 502 { "internal error".to_string() } else { l.status.to_string() }
            })
        })
        .collect();
    let mut reply = Reply::status(200)
        .body(Value::Array(items).to_string())
        .header("x-page", &page.to_string())
        .header("x-per-page", &PER_PAGE.to_string())
        .header("x-total", &newest_first.len().to_string())
        .header("x-total-pages", &pages.to_string());
    let link = |p: usize, rel: &str| format!("<{hook}?per_page=100&page={p}>; rel=\"{rel}\"");
    let mut links = vec![link(1, "first"), link(pages, "last")];
    if page < pages {
        reply = reply.header("x-next-page", &(page + 1).to_string());
        links.insert(0, link(page + 1, "next"));
    } else {
        reply = reply.header("x-next-page", "");
    }
    reply.header("link", &links.join(", "))
}

fn gl(uuid: &str, event: &str, body: &[u8]) -> Logged {
    Logged {
        id: 0,
        uuid: uuid.into(),
        event: event.into(),
        action: None,
        at: crate::now(),
        status: 0,
        body: serde_json::from_slice(body).expect("JSON"),
    }
}

fn gitlab_headers(event: &str, uuid: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("x-gitlab-event", event.into()),
        ("x-gitlab-event-uuid", uuid.into()),
        ("x-gitlab-token", GITLAB_SECRET.into()),
    ]
}

#[test]
fn relay_catches_up_with_a_gitlab_hook_once_and_at_start() {
    let receiver = Server::start(vec![Reply::status(201)]);
    let platform = gitlab();
    let api = format!("{}/api/v4", platform.api.url());
    let hooks = "[[catch_up]]\ngitlab_group = \"acme\"\nhook_id = 42\n";
    let env = [
        ("GITLAB_TOKEN", GITLAB_TOKEN.to_string()),
        ("GITLAB_API_URL", api.clone()),
    ];
    let setup = catching_up(&receiver, hooks, &env);
    let mut relay = setup.start();
    passes(&relay, "gitlab", "ok", 1.0);
    let deployment = |id: u64, job: u64, status: &str| {
        let body = with(&gitlab_deployment(status), &["deployment_id"], json!(id));
        with(&body, &["deployable_id"], json!(job))
    };
    let live = deployment(15, 796, "success");
    let send = |base: &str, uuid: &str, event: &str, body: &[u8]| {
        platform.send(base, gl(uuid, event, body), gitlab_headers(event, uuid));
    };
    send(&relay.url(""), "u-1", "Deployment Hook", &live);
    wait_for(&receiver, 1, Duration::from_secs(10));
    relay.signal(libc::SIGTERM);
    assert_eq!(relay.wait(Duration::from_secs(15)), Some(0));
    // While it is down: a deployment older than the replay window (its status changed 8 days
    // ago; GitLab keeps 7 days of events, so its event may still be listed), a job event, a
    // pipeline (not reported here), a deployment.
    let old = with(
        &deployment(14, 795, "success"),
        &["status_changed_at"],
        json!(hook_time(-8 * 86_400, " UTC")),
    );
    let (_closed, nowhere) = down();
    send(&nowhere, "u-old", "Deployment Hook", &old);
    send(
        &nowhere,
        "u-job",
        "Job Hook",
        br#"{"object_kind": "build", "build_id": 1}"#,
    );
    send(
        &nowhere,
        "u-pipe",
        "Pipeline Hook",
        &gitlab_pipeline("success"),
    );
    send(
        &nowhere,
        "u-2",
        "Deployment Hook",
        &deployment(16, 797, "failed"),
    );
    // A wrong token: the pass fails, says why, exits 1, and queues nothing.
    let (code, stderr) = setup
        .clone()
        .env("GITLAB_TOKEN", "glpat-wrong-0123456789")
        .run_once(&["--catch-up-once"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("catch-up of gitlab_group acme hook 42 failed: the GitLab API refused the token (HTTP 401)"),
        "{stderr}"
    );
    assert!(!stderr.contains("glpat-wrong-0123456789"), "{stderr}");
    // The right one, with a rate limit on the way.
    platform.limit_once.store(true, Ordering::SeqCst);
    let (code, stderr) = setup.run_once(&["--catch-up-once"]);
    assert_eq!(code, 0, "{stderr}");
    for line in [
        "catch-up gitlab 202 queued delivery=u-2 jobs=797",
        "catch-up gitlab 202 ignored delivery=u-old (older than the 7-day replay window)",
        "GitLab API rate limit (HTTP 429",
    ] {
        assert!(stderr.contains(line), "{line}:\n{stderr}");
    }
    assert!(
        !stderr.contains("delivery=u-1"),
        "accepted before: {stderr}"
    );
    assert!(
        !stderr.contains("u-job") && !stderr.contains("u-pipe"),
        "{stderr}"
    );
    // The relay delivers what was queued; its own catch-up at start stops at the checkpoint.
    let listed = platform.listings().len();
    let relay = setup.start();
    wait_for(&receiver, 2, Duration::from_secs(10));
    passes(&relay, "gitlab", "ok", 1.0);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        job_counts(&receiver.received()),
        [("796", 1), ("797", 1)]
            .map(|(k, v)| (k.to_string(), v))
            .into()
    );
    assert_eq!(
        platform.listings()[listed..],
        ["per_page=100".to_string()],
        "one page: the listing stops at the checkpoint"
    );
    assert_eq!(
        relay.metric("allstacks_relay_caught_up_total{source=\"gitlab\"}"),
        0.0
    );
}

/// A log longer than one pass may read (1,000 pages) between its newest delivery and the
/// checkpoint: the pass takes in what it read, says so, exits 1, and leaves the checkpoint
/// where it was, so that a later pass still reaches the older delivery it could not read.
#[test]
fn a_catch_up_pass_cut_short_never_passes_over_what_it_did_not_read() {
    let receiver = Server::start(vec![Reply::status(201)]);
    let platform = github();
    let env = [
        ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
        ("GITHUB_API_URL", platform.api.url()),
    ];
    let setup = catching_up(
        &receiver,
        "[[catch_up]]\ngithub_org = \"acme\"\nhook_id = 7\n",
        &env,
    );
    // The fake lists 3 deliveries a page: 3,002 deliveries are 1,001 pages.
    platform.record(gh(
        "g-oldest",
        "deployment_status",
        status_body(31, "success"),
        3_600,
    ));
    for n in 0..3_000 {
        platform.record(gh(
            &format!("g-push-{n}"),
            "push",
            json!({"ref": "refs/heads/main"}),
            1_800,
        ));
    }
    platform.record(gh(
        "g-new",
        "deployment_status",
        status_body(32, "success"),
        60,
    ));

    let (code, stderr) = setup.run_once(&["--catch-up-once"]);
    assert_eq!(code, 1, "{stderr}");
    for line in [
        "catch-up github 202 queued delivery=g-new",
        "catch-up of github_org acme hook 7: 1 delivery(ies) taken in, but the log was not read \
         down to the checkpoint (1000 pages); the checkpoint stays at the platform's window",
    ] {
        assert!(stderr.contains(line), "{line}:\n{stderr}");
    }
    assert!(!stderr.contains("delivery=g-oldest"), "{stderr}");
    assert_eq!(platform.listings().len(), 1_000);

    // The platform's window moves on (its oldest pushes age out): the next pass reaches the
    // deployment the first one could not, and takes nothing twice.
    platform
        .log
        .lock()
        .expect("log")
        .retain(|l| !l.uuid.starts_with("g-push-1"));
    let (code, stderr) = setup.run_once(&["--catch-up-once"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("catch-up github 202 queued delivery=g-oldest"),
        "{stderr}"
    );
    assert!(!stderr.contains("queued delivery=g-new"), "{stderr}");
    assert_eq!(
        platform.fetched(),
        [4_001, 1_000],
        "each payload fetched once"
    );
}
