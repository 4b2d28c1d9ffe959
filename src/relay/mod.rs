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
//! | `queue` | the group commit: job files and delivery ids fsync'd before the 202 |
//! | `handoff` | what the committer and the worker hand each other: the wake-up and the spare files |
//! | `seen` | delivery ids accepted in the last 7 days, persisted |
//! | `worker` | delivery from the queue directory: each job on its own backoff, pauses, `dead/` |
//! | `metrics` | the Prometheus counters and gauges |

mod auth;
mod body;
pub mod config;
mod handoff;
mod intake;
mod metrics;
mod queue;
mod routes;
mod seen;
mod server;
mod sources;
mod worker;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

pub use config::Config;
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

/// Runs the relay until SIGTERM or SIGINT; returns the exit code (0 after a clean shutdown, 1
/// when it could not start: the queue is locked by another relay, the address is taken).
pub fn run(config: Config, routes: Routes, delivery: Delivery, ui: Ui) -> i32 {
    let dir = config.queue_dir.clone();
    let lock = match queue::lock(&dir) {
        Ok(lock) => lock,
        Err(e) => {
            ui.error(&e);
            return 1;
        }
    };
    let released = crate::outbox::release_claims(&dir);
    if released > 0 {
        ui.info(&format!(
            "{released} job(s) claimed by a run that ended mid-send are queued again"
        ));
    }
    let listener = match std::net::TcpListener::bind(config.listen) {
        Ok(l) => l,
        Err(e) => {
            ui.error(&format!("cannot listen on {}: {e}", config.listen));
            return 1;
        }
    };
    let metrics = Arc::new(metrics::Metrics::default());
    let wake = Arc::new(handoff::Wake::default());
    // Files to write the first jobs into, made before anyone can post (a few milliseconds;
    // more on a file system where new files are costly, which is why they are made now).
    let spares = Arc::new(handoff::Spares::open(&dir));
    spares.fill(&dir);
    let (queue, committer) =
        match queue::Queue::open(&dir, delivery.url(), wake.clone(), spares.clone(), &ui) {
            Ok(q) => q,
            Err(e) => {
                ui.error(&e);
                return 1;
            }
        };
    let stop = Arc::new(AtomicBool::new(false));
    let health = Arc::new(handoff::Health::default());
    let committer = std::thread::spawn(move || committer.run());
    let worker = worker::Worker {
        dir: dir.clone(),
        delivery,
        ui: worker_ui(&ui),
        log: ui.clone(),
        metrics: metrics.clone(),
        wake: wake.clone(),
        stop: stop.clone(),
        spares,
        health: health.clone(),
        max_backoff: config.limits.max_backoff,
        max_age: config.limits.max_age,
    };
    let worker = std::thread::spawn(move || worker.run());
    let limits = config.limits.clone();
    let shared = Arc::new(server::Shared {
        intake: intake::Intake::new(&config, routes),
        queue,
        metrics,
        ui: ui.clone(),
        dir,
        budget: body::Budget::new(limits.body_budget),
        peers: server::Peers::default(),
        unready: std::sync::Mutex::new(None),
        health,
        limits: limits.clone(),
    });
    let code = server::run(listener, shared.clone());
    // No request is in flight any more: the last batch is committed, then the worker stops.
    shared.queue.close();
    let _ = committer.join();
    handoff::stop(&stop, &wake);
    let deadline = std::time::Instant::now() + limits.shutdown_grace;
    while !worker.is_finished() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(lock);
    ui.info("serve: stopped; the queue stays on disk");
    code
}

/// The worker's messages: warnings (a failed delivery, a rejected job) by default; each
/// delivered job only with `-v`.
fn worker_ui(ui: &Ui) -> Ui {
    let mut w = ui.clone();
    w.set_level(if ui.level() >= 1 { ui.level() } else { -1 });
    w
}
