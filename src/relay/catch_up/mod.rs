//! Catch-up from the senders' own delivery logs (spec `relay-production.md` §4). GitHub keeps
//! every delivery of a hook for 3 days and GitLab every event of a hook for 7, each with its
//! payload, behind their REST APIs; neither retries a delivery that failed. So at start, then
//! every `ALLSTACKS_RELAY_CATCH_UP_EVERY`, the relay reads the log of each `[[catch_up]]` hook
//! back to its checkpoint, and takes every delivery of a reported event whose delivery id it
//! never accepted through the same intake as a webhook (mapping, routes, record keys, group
//! commit), without a signature check: it came over the authenticated API, not the network.
//!
//! A pass is bounded in time and in pages; rate limits are waited for as in `backfill`
//! ([`crate::api::Client`]); a failing pass is a warning and a metric, and the next interval
//! tries again. It runs on a thread of its own and never holds up webhooks.

mod github;
mod gitlab;
pub mod hooks;
mod log;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use hooks::Entry;
use log::{Body, MAX_PAGES, PassWatch};

use super::Source;
use super::config::{ApiAccess, Config};
use super::intake::{self, Answer, Arrived, Intake, Reply, Verdict};
use super::metrics::Metrics;
use super::queue::Queue;
use crate::api::{self, ApiError, Flavor};
use crate::ui::Ui;

/// A pass ends by this, whatever the API's rate limits say.
const MAX_PASS: Duration = Duration::from_secs(600);
/// Each API call's deadline.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The hooks to catch up, with the API clients to read them.
pub struct CatchUp {
    entries: Vec<Entry>,
    github: Option<api::Client>,
    gitlab: Option<api::Client>,
    pub every: Duration,
}

impl CatchUp {
    /// The catch-up of `entries` with the APIs and tokens of `config`; `None` without entries.
    /// A hook whose platform has no token is an error.
    pub fn new(entries: Vec<Entry>, config: &Config, errors: &mut Vec<String>) -> Option<CatchUp> {
        if entries.is_empty() {
            return None;
        }
        let needs = |s: Source| entries.iter().any(|e| e.source() == s);
        let github = needs(Source::GitHub)
            .then(|| client(config.github_api.as_ref(), Flavor::GitHub, errors))
            .flatten();
        let gitlab = needs(Source::GitLab)
            .then(|| client(config.gitlab_api.as_ref(), Flavor::GitLab, errors))
            .flatten();
        Some(CatchUp {
            entries,
            github,
            gitlab,
            every: config.limits.catch_up_every,
        })
    }
}

/// The API client of one platform, under the client's guards; an error when there is no token.
fn client(
    access: Option<&ApiAccess>,
    flavor: Flavor,
    errors: &mut Vec<String>,
) -> Option<api::Client> {
    let Some(access) = access else {
        errors.push(match flavor {
            Flavor::GitHub => "a [[catch_up]] of a GitHub hook needs GITHUB_TOKEN (or \
                 GITHUB_TOKEN_FILE): a token that may read the hook (admin:org_hook for an \
                 organisation, admin:repo_hook or a fine-grained \"Webhooks: read\" for a \
                 repository)"
                .into(),
            Flavor::GitLab => "a [[catch_up]] of a GitLab hook needs GITLAB_TOKEN (or \
                 GITLAB_TOKEN_FILE), with the read_api scope and the Owner role on the group \
                 or Maintainer on the project, and GITLAB_API_URL"
                .into(),
        });
        return None;
    };
    let auth = match flavor {
        Flavor::GitHub => ("authorization", format!("Bearer {}", access.token)),
        Flavor::GitLab => ("private-token", access.token.clone()),
    };
    let auth = Some((auth.0, auth.1.as_str()));
    match api::Client::new(&access.base, access.var, flavor, auth, CALL_TIMEOUT) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// What a pass works with.
pub struct Relay<'a> {
    pub intake: &'a Intake,
    pub queue: &'a Queue,
    pub metrics: &'a Metrics,
    pub ui: &'a Ui,
    pub dir: &'a Path,
    pub stop: &'a AtomicBool,
}

impl CatchUp {
    /// The hooks read, as logs name them (`github_org acme hook 123456`).
    pub fn hooks(&self) -> Vec<String> {
        self.entries.iter().map(Entry::name).collect()
    }

    /// One pass over every hook; whether all of them were read. The checkpoints are saved
    /// with the queue at the end.
    pub fn pass(&mut self, relay: &Relay) -> bool {
        let mut checkpoints = Checkpoints::load(relay.dir, relay.ui);
        let started = Instant::now();
        let deadline = started + MAX_PASS.min(self.every.max(Duration::from_secs(60)));
        let watch = PassWatch {
            stop: relay.stop,
            deadline,
            ui: relay.ui,
        };
        let mut all = true;
        for entry in self.entries.clone() {
            let source = entry.source();
            let name = entry.name();
            let since = checkpoints.0.get(&name).copied();
            match self.hook_pass(&entry, since, relay, &watch) {
                Ok((_, taken, false)) => {
                    // What was read is taken in; what was not must be read by a later pass,
                    // so the checkpoint does not move past it.
                    all = false;
                    relay.metrics.catch_up(source, false, taken);
                    relay.ui.warn(&format!(
                        "catch-up of {}: {taken} delivery(ies) taken in, but the log was not \
                         read down to the checkpoint ({MAX_PAGES} pages); the checkpoint stays \
                         at {}",
                        entry.name(),
                        since.map_or("the platform's window".to_string(), |s| s.to_string()),
                    ));
                }
                Ok((newest, taken, true)) => {
                    if let Some(newest) = newest {
                        checkpoints.0.insert(name, newest.max(since.unwrap_or(0)));
                    }
                    relay.metrics.catch_up(source, true, taken);
                    relay.ui.verbose(&format!(
                        "catch-up of {}: {taken} delivery(ies) taken in",
                        entry.name()
                    ));
                }
                Err(e) => {
                    all = false;
                    relay.metrics.catch_up(source, false, 0);
                    let why = match e {
                        ApiError::Stopped => format!(
                            "stopped (shutting down, or the pass took {}s)",
                            (deadline - started).as_secs()
                        ),
                        e => e.message().to_string(),
                    };
                    relay.ui.warn(&format!(
                        "catch-up of {} failed: {why}; tried again in {}s",
                        entry.name(),
                        self.every.as_secs()
                    ));
                }
            }
        }
        if let Err(e) = checkpoints.save(relay.dir) {
            relay
                .ui
                .warn(&format!("catch-up: the checkpoints were not saved: {e}"));
        }
        all
    }

    /// Reads one hook's log back to `since` and takes in what was missed: the newest delivery
    /// listed, how many deliveries were queued, and whether the log was read down to `since`.
    fn hook_pass(
        &mut self,
        entry: &Entry,
        since: Option<u64>,
        relay: &Relay,
        watch: &PassWatch,
    ) -> Result<(Option<u64>, u64, bool), ApiError> {
        let accepted = |d: &intake::Delivery| relay.queue.accepted(d.key);
        let (client, found) = match entry.source() {
            Source::GitHub => {
                let client = self.github.as_mut().ok_or_else(no_client)?;
                let found = github::list(client, entry, since, relay.intake, &accepted, watch)?;
                (client, found)
            }
            _ => {
                let client = self.gitlab.as_mut().ok_or_else(no_client)?;
                let found = gitlab::list(client, entry, since, relay.intake, &accepted, watch)?;
                (client, found)
            }
        };
        let mut taken = 0;
        for missed in found.missed {
            let body = match missed.body {
                Body::Here(bytes) => bytes,
                Body::At(url) => github::payload(client, &url, watch)?,
            };
            if take_in(
                entry.source(),
                missed.delivery,
                missed.event.as_deref(),
                &body,
                relay,
            ) {
                taken += 1;
            }
        }
        Ok((found.newest, taken, found.complete))
    }
}

/// A hook whose platform has no client (refused at start, so never met).
fn no_client() -> ApiError {
    ApiError::Other("no API client for this platform".into())
}

/// Takes one missed delivery in through the intake and the queue, logging it like a webhook;
/// whether it was queued.
fn take_in(
    source: Source,
    delivery: intake::Delivery,
    event: Option<&str>,
    body: &[u8],
    relay: &Relay,
) -> bool {
    let started = Instant::now();
    let id = delivery.id.clone();
    let accepted = |d: &intake::Delivery| relay.queue.accepted(d.key);
    let mut warnings = Vec::new();
    let arrived = Arrived {
        source,
        event,
        delivery,
        body,
    };
    let now = crate::timefmt::now_epoch();
    let answer = relay.intake.take_in(arrived, &accepted, now, &mut warnings);
    for w in &warnings {
        relay.ui.warn(&format!("catch-up {}: {w}", source.name()));
    }
    let (reply, jobs) = match answer {
        Answer::Reply(reply) => (reply, Vec::new()),
        Answer::Queue {
            delivery,
            record,
            jobs,
        } => {
            let ids: Vec<String> = jobs.iter().map(|j| j.job_id().to_string()).collect();
            let keys = [delivery.key, record.key];
            let submitted = relay.queue.submit_blocking(&keys, &jobs);
            let reply = Reply::queued(submitted, &delivery, &record, ids.clone());
            (reply, ids)
        }
    };
    let queued = reply.verdict == Verdict::Queued;
    intake::log(
        relay.ui,
        "catch-up ",
        source,
        Some(&id),
        &reply,
        &jobs,
        started,
    );
    queued
}

/// Runs a pass now, then every `every`, until `stop`.
pub fn run(mut catch_up: CatchUp, relay: &Relay, wake: &super::handoff::Wake) {
    while !relay.stop.load(Ordering::SeqCst) {
        catch_up.pass(relay);
        wake.wait(catch_up.every, false);
    }
}

/// The newest delivery seen of each hook, in `catch-up` in the queue directory.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Checkpoints(BTreeMap<String, u64>);

/// The checkpoint file is a few lines; anything much larger is not ours.
const MAX_CHECKPOINTS: u64 = 64 * 1024;

impl Checkpoints {
    fn path(dir: &Path) -> PathBuf {
        dir.join("catch-up")
    }

    /// The checkpoints saved in `dir`; none (each hook read back to the platform's window) when
    /// there is no file, or one that is not ours (said on `ui`). The file is opened like the
    /// other files of the queue directory ([`crate::files::open_private`]: never through a
    /// symlink, owner-only).
    fn load(dir: &Path, ui: &Ui) -> Checkpoints {
        use std::io::Read;
        let path = Checkpoints::path(dir);
        let read = crate::files::open_private(&path).and_then(|f| {
            let mut bytes = Vec::new();
            f.take(MAX_CHECKPOINTS + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            if bytes.len() as u64 > MAX_CHECKPOINTS {
                return Err(format!(
                    "{} is too large for a checkpoint file",
                    path.display()
                ));
            }
            Ok(bytes)
        });
        match read {
            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => Checkpoints::default(),
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                ui.warn(&format!(
                    "catch-up: {} is not a checkpoint file ({e}); every hook is read back to \
                     its platform's window",
                    path.display()
                ));
                Checkpoints::default()
            }),
            Err(e) => {
                ui.warn(&format!(
                    "catch-up: {e}; every hook is read back to its platform's window"
                ));
                Checkpoints::default()
            }
        }
    }

    /// Writes them durably (a temporary file, synced, renamed, the directory synced).
    fn save(&self, dir: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self)?;
        crate::outbox::replace(&Checkpoints::path(dir), &bytes)
    }
}
