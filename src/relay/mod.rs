//! `serve`: the webhook relay (SPEC `spec/relay.md`). GitHub, GitLab, Argo CD and Flux post
//! deployments here; each is authenticated, mapped with the same `events` functions as the live
//! and backfill reports, routed, checked against the contract, queued durably, and delivered
//! by a worker with the normal retry policy.
//!
//! The parts, in the order a request meets them:
//!
//! | module | what it decides |
//! |---|---|
//! | `config` | the relay's settings: listen address, secrets, events, queue directory, knobs |
//! | `server` | HTTP (hyper on tokio, the only async code): limits, timeouts, shutdown |
//! | `body` | request bodies, read under one budget for all connections together |
//! | `auth` | signatures and tokens, compared in constant time |
//! | `sources` | each sender's body parsed into a record (`events`) or a reason to ignore it |
//! | `intake` | the answer to one request: authenticate, de-duplicate, map, route, plan |
//! | `routes` | `--config`: which service id, job type and fields a deployment gets |
//! | `kinds` | what each kind of record can carry that a route matches on (checked at start) |
//! | `queue` | the group commit: job files and delivery ids fsync'd before the 202 |
//! | `handoff` | what the committer and the worker hand each other: the wake-up and the spare files |
//! | `seen` | delivery ids accepted in the last 7 days, persisted |
//! | `worker` | delivery from the queue directory: each job on its own backoff, pauses, `dead/` |
//! | `catch_up` | `[[catch_up]]`: the deliveries missed, read back from GitHub's and GitLab's logs |
//! | `metrics` | the Prometheus counters and gauges |
//! | `explain` | `serve --explain`: one body through the same intake and routes, nothing queued |

mod auth;
mod body;
pub mod catch_up;
pub mod config;
pub mod explain;
mod handoff;
mod intake;
mod kinds;
mod metrics;
mod queue;
mod routes;
mod seen;
mod server;
mod sources;
mod worker;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use catch_up::CatchUp;
pub use config::Config;
pub use kinds::Taken;
pub use routes::Routes;

use crate::delivery::Delivery;
use crate::ui::Ui;

/// The senders the relay takes deployments from, one endpoint each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    GitHub,
    GitLab,
    ArgoCd,
    Flux,
}

impl Source {
    pub const ALL: [Source; 4] = [Source::GitHub, Source::GitLab, Source::ArgoCd, Source::Flux];

    /// The name in routes, metrics and logs, and the endpoint's path without its `/`.
    pub fn name(self) -> &'static str {
        match self {
            Source::GitHub => "github",
            Source::GitLab => "gitlab",
            Source::ArgoCd => "argocd",
            Source::Flux => "flux",
        }
    }

    pub fn from_name(name: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The queue directory, locked and open: what `serve` and `--catch-up-once` start from.
struct Opened {
    lock: queue::Lock,
    queue: Arc<queue::Queue>,
    committer: std::thread::JoinHandle<()>,
    wake: Arc<handoff::Wake>,
    spares: Arc<handoff::Spares>,
}

/// Locks `dir` (`Err`: another relay holds it), takes back the jobs a run that died was
/// sending, and opens the queue for jobs to `url`, its committer running. `Err` is the message.
fn open(dir: &std::path::Path, url: &str, ui: &Ui) -> Result<Opened, String> {
    let lock = queue::lock(dir)?;
    let released = crate::outbox::release_claims(dir);
    if released > 0 {
        ui.info(&format!(
            "{released} job(s) claimed by a run that ended mid-send are queued again"
        ));
    }
    let wake = Arc::new(handoff::Wake::default());
    // Files to write the first jobs into, made before anyone can post (a few milliseconds;
    // more on a file system where new files are costly, which is why they are made now).
    let spares = Arc::new(handoff::Spares::open(dir));
    spares.fill(dir);
    let (queue, committer) = queue::Queue::open(dir, url, wake.clone(), spares.clone(), ui)?;
    let committer = std::thread::spawn(move || committer.run());
    Ok(Opened {
        lock,
        queue: Arc::new(queue),
        committer,
        wake,
        spares,
    })
}

/// Runs the relay until SIGTERM or SIGINT; returns the exit code (0 after a clean shutdown, 1
/// when it could not start: the queue is locked by another relay, the address is taken). With
/// `catch_up`, the senders' delivery logs are read at start and every interval meanwhile.
pub fn run(
    config: Config,
    routes: Routes,
    delivery: Delivery,
    catch_up: Option<CatchUp>,
    ui: Ui,
) -> i32 {
    let dir = config.queue_dir.clone();
    let listener = match std::net::TcpListener::bind(config.listen) {
        Ok(l) => l,
        Err(e) => {
            ui.error(&format!("cannot listen on {}: {e}", config.listen));
            return 1;
        }
    };
    let opened = match open(&dir, delivery.url(), &ui) {
        Ok(opened) => opened,
        Err(e) => {
            ui.error(&e);
            return 1;
        }
    };
    let url = delivery.url().to_string();
    let metrics = Arc::new(metrics::Metrics::default());
    let stop = Arc::new(AtomicBool::new(false));
    let health = Arc::new(handoff::Health::default());
    let worker = worker::Worker {
        dir: dir.clone(),
        delivery,
        ui: worker_ui(&ui),
        log: ui.clone(),
        metrics: metrics.clone(),
        wake: opened.wake.clone(),
        stop: stop.clone(),
        spares: opened.spares.clone(),
        health: health.clone(),
        max_backoff: config.limits.max_backoff,
        max_age: config.limits.max_age,
    };
    let worker = std::thread::spawn(move || worker.run());
    let limits = config.limits.clone();
    let shared = Arc::new(server::Shared {
        intake: Arc::new(intake::Intake::new(&config, routes)),
        queue: opened.queue.clone(),
        metrics,
        ui: ui.clone(),
        dir,
        budget: body::Budget::new(limits.body_budget),
        peers: server::Peers::default(),
        unready: std::sync::Mutex::new(None),
        health,
        limits: limits.clone(),
    });
    announce(&config, &shared.intake, &url, catch_up.as_ref(), &shared.ui);
    let catching_up = catch_up.map(|c| spawn_catch_up(c, &shared, &stop, &opened.wake));
    let code = server::run(listener, shared.clone());
    // No request is in flight any more: the last batch is committed, then the worker (and the
    // catch-up) stop.
    shared.queue.close();
    let _ = opened.committer.join();
    handoff::stop(&stop, &opened.wake);
    let deadline = std::time::Instant::now() + limits.shutdown_grace;
    let running =
        |t: &Option<std::thread::JoinHandle<()>>| t.as_ref().is_some_and(|t| !t.is_finished());
    let worker = Some(worker);
    while (running(&worker) || running(&catching_up)) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(opened.lock);
    ui.info("serve: stopped; the queue stays on disk");
    code
}

/// What the relay serves, a line each, before it listens: each sender's endpoint and what it
/// reports, the routes, the queue directory, where jobs go (without secrets: the scheme, host,
/// port and company) and the catch-up hooks.
fn announce(
    config: &Config,
    intake: &intake::Intake,
    url: &str,
    catch_up: Option<&CatchUp>,
    ui: &Ui,
) {
    let say = |text: String| ui.info(&format!("serve: {text}"));
    for source in Source::ALL.into_iter().filter(|s| intake.serves(*s)) {
        let reported = match source {
            Source::GitHub => {
                let e = intake.github_events();
                let mut events = Vec::new();
                if e.deployment_status {
                    events.push("deployment_status".to_string());
                }
                if e.workflow_run {
                    events.push(format!(
                        "workflow_run (workflows {})",
                        e.workflows.join(",")
                    ));
                }
                format!(": {}", events.join(", "))
            }
            Source::GitLab => {
                let e = intake.gitlab_events();
                let events: Vec<&str> = [(e.deployment, "deployment"), (e.pipeline, "pipeline")]
                    .into_iter()
                    .filter_map(|(on, name)| on.then_some(name))
                    .collect();
                format!(": {}", events.join(", "))
            }
            Source::ArgoCd | Source::Flux => String::new(),
        };
        say(format!("POST /{}{reported}", source.name()));
    }
    let routes = intake.routes().summary(config.config_file.as_deref());
    say(format!("routes: {routes}"));
    say(format!("queue: {}", config.queue_dir.display()));
    say(format!("delivering to {}", target(url)));
    say(match catch_up {
        Some(c) => format!(
            "catch-up: {} (every {} s)",
            c.hooks().join(", "),
            c.every.as_secs()
        ),
        None => "catch-up: none (no [[catch_up]] in --config)".into(),
    });
}

/// Where jobs go, without what could be secret in the URL: `https://allstacks.example.com:443,
/// company 42`.
fn target(url: &str) -> String {
    let scheme = url.split_once("://").map_or("", |(s, _)| s);
    let origin = match crate::client::host_and_port(url) {
        Some((host, port)) if host.contains(':') => format!("{scheme}://[{host}]:{port}"),
        Some((host, port)) => format!("{scheme}://{host}:{port}"),
        None => "an unreadable URL".into(),
    };
    let company = url
        .split_once("/webhook/company/")
        .and_then(|(_, rest)| rest.split('/').next())
        .unwrap_or("?");
    format!("{origin}, company {company}")
}

/// The catch-up thread: a pass now, then every interval, until `stop`.
fn spawn_catch_up(
    catch_up: CatchUp,
    shared: &Arc<server::Shared>,
    stop: &Arc<AtomicBool>,
    wake: &Arc<handoff::Wake>,
) -> std::thread::JoinHandle<()> {
    let (shared, stop, wake) = (shared.clone(), stop.clone(), wake.clone());
    std::thread::spawn(move || {
        let relay = catch_up::Relay {
            intake: &shared.intake,
            queue: &shared.queue,
            metrics: &shared.metrics,
            ui: &shared.ui,
            dir: &shared.dir,
            stop: &stop,
        };
        catch_up::run(catch_up, &relay, &wake);
    })
}

/// `serve --catch-up-once`: one pass over the `[[catch_up]]` hooks, what was missed queued in
/// the queue directory (for the relay, or `flush`, to deliver), and the exit code: 0 when every
/// log was read, 1 when one could not be (or the queue is held by a running relay).
pub fn catch_up_once(
    config: Config,
    routes: Routes,
    delivery: &Delivery,
    mut catch_up: CatchUp,
    ui: Ui,
) -> i32 {
    let opened = match open(&config.queue_dir, delivery.url(), &ui) {
        Ok(opened) => opened,
        Err(e) => {
            ui.error(&e);
            return 1;
        }
    };
    let intake = intake::Intake::new(&config, routes);
    let metrics = metrics::Metrics::default();
    let stop = AtomicBool::new(false);
    let relay = catch_up::Relay {
        intake: &intake,
        queue: &opened.queue,
        metrics: &metrics,
        ui: &ui,
        dir: &config.queue_dir,
        stop: &stop,
    };
    let all_read = catch_up.pass(&relay);
    opened.queue.close();
    let _ = opened.committer.join();
    drop(opened.lock);
    if all_read { 0 } else { 1 }
}

/// The worker's messages: warnings (a failed delivery, a rejected job) by default; each
/// delivered job only with `-v`.
fn worker_ui(ui: &Ui) -> Ui {
    let mut w = ui.clone();
    w.set_level(if ui.level() >= 1 { ui.level() } else { -1 });
    w
}
