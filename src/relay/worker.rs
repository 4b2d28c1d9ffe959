//! Delivery from the queue directory, on a thread of its own with the blocking client, oldest
//! job first, one attempt per job and round, so that one job never holds up the others:
//!
//! - a job the server answers 5xx, 408 or 429 for (or does not answer in time) is tried again
//!   on its own backoff, doubling from 1 second up to `ALLSTACKS_RELAY_MAX_BACKOFF` (and not
//!   before a `Retry-After`); its attempts and next attempt are kept in its file, so a restart
//!   does not reset them. The other jobs go on;
//! - a server that cannot be reached (connection refused, DNS, a connect timeout, TLS) pauses
//!   the whole round, and rounds are spaced out by the same doubling backoff;
//! - 401, 403, 404 (and a redirect) pause delivery too, and `/readyz` answers 503 with the
//!   reason until a probe (the next due job, after the backoff) gets through;
//! - another 4xx moves the job to `rejected/` with the server's answer;
//! - a job still undeliverable `ALLSTACKS_RELAY_MAX_AGE` after it was queued moves to `dead/`
//!   with its last error, for `allstacks-cd flush --outbox DIR/dead`. Nothing is deleted unsent.
//!
//! When a job's file cannot be rewritten (a full disk), its attempts and next attempt are kept
//! in memory, and the job is put back under its own name all the same; a claim that cannot even
//! be put back is tried again at the end of the round. New jobs end an idle wait, never a
//! backoff (they would hammer a server that is down). A delivered job's file is not deleted but
//! offered to the queue as a spare.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::handoff::{Health, Spares, Wake};
use super::metrics::Metrics;
use crate::client::{Failure, Sent};
use crate::delivery::{self, Delivery};
use crate::outbox::{self, Claim, Retry, Saved};
use crate::ui::Ui;

/// The first wait after a failure (a job's own, or a paused round's); it doubles up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// With nothing to do, the queue is looked at again this often anyway (a job left by a run
/// before, a claim of a send that died).
const IDLE_POLL: Duration = Duration::from_secs(30);

/// The delivery worker.
pub struct Worker {
    pub dir: PathBuf,
    pub delivery: Delivery,
    /// For the client's own messages (quiet unless `-v`).
    pub ui: Ui,
    /// For the worker's lines.
    pub log: Ui,
    pub metrics: Arc<Metrics>,
    pub wake: Arc<Wake>,
    pub stop: Arc<AtomicBool>,
    pub health: Arc<Health>,
    pub max_backoff: Duration,
    pub max_age: Duration,
    /// Where delivered jobs' files go, to be written again.
    pub spares: Arc<Spares>,
}

/// Why delivery is paused for every job.
#[derive(Debug, Clone)]
enum Pause {
    /// The server cannot be reached: the message for the log.
    Unreachable(String),
    /// The server refuses the token or the URL: the message for the log, and the reason for
    /// `/readyz` (no URL, no words of the server).
    Refused { log: String, ready: String },
}

/// What became of one job this round.
enum Outcome {
    Delivered,
    Rejected,
    Dead,
    /// Failed on its own: tried again on its own backoff.
    Failed,
    /// Not due yet, claimed by someone else, saved for another URL, not claimable.
    Skipped,
    Pause(Pause),
}

/// What the worker keeps between rounds.
#[derive(Default)]
struct State {
    /// Each queued job's attempts and next attempt, as last known (ahead of its file when the
    /// file could not be rewritten).
    known: HashMap<PathBuf, Retry>,
    /// Claims that could not be put back yet.
    unreleased: Vec<Claim>,
    pause: Option<Pause>,
    backoff: Duration,
}

impl Worker {
    /// Delivers until stopped.
    pub fn run(self) {
        let mut st = State {
            backoff: FIRST_BACKOFF,
            ..State::default()
        };
        while !self.stop.load(Ordering::SeqCst) {
            self.round(&mut st);
            self.put_back_unreleased(&mut st);
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            match &st.pause {
                Some(pause) => {
                    let wait = st.backoff.min(self.max_backoff);
                    self.log.warn(&format!(
                        "delivery paused: {}; the next try in {:.1}s",
                        match pause {
                            Pause::Unreachable(m) | Pause::Refused { log: m, .. } => m,
                        },
                        wait.as_secs_f64()
                    ));
                    self.wake.wait(wait, false);
                    st.backoff = (st.backoff * 2).min(self.max_backoff);
                }
                None => {
                    st.backoff = FIRST_BACKOFF;
                    self.wake.wait(self.idle_wait(&st), true);
                }
            }
        }
    }

    /// One pass over the queue, oldest first; while paused, it ends at the first job tried
    /// (a probe) unless that one gets through.
    fn round(&self, st: &mut State) {
        self.put_back_unreleased(st);
        let found = match outbox::pending(&self.dir) {
            Ok(found) => found,
            Err(e) => {
                // Nothing is sent from a queue directory others could plant jobs in.
                self.metrics.failed();
                st.pause = Some(Pause::Refused {
                    log: format!("the queue is not delivered: {e}"),
                    ready: "delivery is paused: the queue directory is not private (see the log)"
                        .into(),
                });
                return;
            }
        };
        delivery::warn_foreign(&found, &self.ui);
        let queued: HashSet<&PathBuf> = found.files.iter().collect();
        st.known.retain(|path, _| queued.contains(path));
        let (mut delivered, mut rejected, mut dead) = (0u64, 0u64, 0u64);
        for path in &found.files {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let outcome = self.attempt(path, st);
            if !matches!(outcome, Outcome::Skipped | Outcome::Pause(_)) && st.pause.is_some() {
                self.resume(st);
            }
            match outcome {
                Outcome::Delivered => delivered += 1,
                Outcome::Rejected => rejected += 1,
                Outcome::Dead => dead += 1,
                Outcome::Failed | Outcome::Skipped => {}
                Outcome::Pause(pause) => {
                    if let Pause::Refused { ready, .. } = &pause {
                        self.health.set(Some(ready.clone()));
                    }
                    st.pause = Some(pause);
                    break;
                }
            }
        }
        self.metrics.delivered(delivered, rejected);
        self.metrics.dead(dead);
        if delivered + rejected + dead > 0 {
            self.log.verbose(&format!(
                "delivered {delivered} job(s); {rejected} rejected (moved to rejected/), {dead} \
                 undeliverable for too long (moved to dead/)"
            ));
        }
    }

    fn resume(&self, st: &mut State) {
        st.pause = None;
        st.backoff = FIRST_BACKOFF;
        self.health.set(None);
        self.log.info("delivery resumed");
    }

    /// One attempt at the job at `path`, when it is due.
    fn attempt(&self, path: &Path, st: &mut State) -> Outcome {
        let now = crate::timefmt::now_epoch();
        if st.known.get(path).is_some_and(|r| r.next_attempt_at > now) {
            return Outcome::Skipped;
        }
        let claim = match Claim::take(path) {
            Ok(Some(claim)) => claim,
            Ok(None) => return Outcome::Skipped,
            Err(e) => {
                self.log.warn(&format!(
                    "cannot claim {} for sending: {e}; it stays queued",
                    path.display()
                ));
                return Outcome::Skipped;
            }
        };
        let saved = match claim.read() {
            Ok(saved) => saved,
            Err(e) => {
                self.log
                    .warn(&format!("{}: {e}; moved to rejected/", path.display()));
                let _ = claim.reject(&e);
                return Outcome::Rejected;
            }
        };
        let retry = st
            .known
            .get(path)
            .copied()
            .or(saved.retry)
            .unwrap_or_default();
        if retry.next_attempt_at > now || saved.url != self.delivery.url() {
            // Not due (its file says so), or saved for another endpoint: never sent with this
            // token. `flush` with the old settings sends it.
            st.known.insert(path.to_path_buf(), retry);
            self.put_back(claim, st);
            return Outcome::Skipped;
        }
        let body = serde_json::to_vec(&saved.payload).unwrap_or_default();
        let sender = self.delivery.sender();
        let sent = sender.send(
            self.delivery.url(),
            &body,
            &self.ui,
            Some(1),
            sender.deadline(),
        );
        self.settle(claim, &saved, retry, sent, st)
    }

    /// Puts the job where the answer says.
    fn settle(
        &self,
        claim: Claim,
        saved: &Saved,
        retry: Retry,
        sent: Sent,
        st: &mut State,
    ) -> Outcome {
        let path = claim.path().to_path_buf();
        let failure = match sent.result {
            Ok(_) => {
                st.known.remove(&path);
                if let Err(e) = self.spares.offer(claim) {
                    self.log.warn(&format!(
                        "delivered, but could not remove {}: {e}",
                        path.display()
                    ));
                }
                return Outcome::Delivered;
            }
            Err(failure) => failure,
        };
        self.metrics.failed();
        let message = self.log.redact(failure.message());
        if let Some(pause) = pause_for(&failure, sent.unreachable) {
            // Not the job's fault: it goes back as it was, and is tried again first.
            if matches!(pause, Pause::Unreachable(_)) && self.too_old(saved) {
                return self.bury(claim, &message, retry, st);
            }
            self.put_back(claim, st);
            return Outcome::Pause(pause);
        }
        if let Failure::Rejected { status, .. } = failure {
            self.log.warn(&format!(
                "job {} was rejected (HTTP {status}): {message}; moved to rejected/",
                path.display()
            ));
            let moved = claim.set_aside("rejected", |saved| {
                saved.rejected = Some(message.clone());
            });
            if let Err(e) = moved {
                self.log.warn(&format!("could not move it aside: {e}"));
                self.put_back(claim, st);
            }
            return Outcome::Rejected;
        }
        if self.too_old(saved) {
            return self.bury(claim, &message, retry, st);
        }
        let wait = job_backoff(retry.attempts + 1, self.max_backoff).max(
            sent.retry_after
                .unwrap_or_default()
                .min(Duration::from_secs(600)),
        );
        let next = Retry {
            attempts: retry.attempts + 1,
            next_attempt_at: crate::timefmt::now_epoch() + wait.as_secs().max(1) as i64,
        };
        self.log.warn(&format!(
            "job {} not delivered (attempt {}): {message}; it is tried again in {}s, the other \
             jobs go on",
            path.display(),
            next.attempts,
            wait.as_secs().max(1)
        ));
        self.keep_trying(claim, next, &message, st);
        Outcome::Failed
    }

    /// Whether a job queued at `saved.saved_at` has been undeliverable for too long.
    fn too_old(&self, saved: &Saved) -> bool {
        crate::timefmt::now_epoch() - saved.saved_at >= self.max_age.as_secs() as i64
    }

    /// Moves the job to `dead/` with its last error; on failure it stays queued.
    fn bury(&self, claim: Claim, message: &str, retry: Retry, st: &mut State) -> Outcome {
        let path = claim.path().to_path_buf();
        let last = Retry {
            attempts: retry.attempts + 1,
            ..retry
        };
        let moved = claim.set_aside("dead", |saved| {
            saved.last_error = message.to_string();
            saved.retry = Some(last);
        });
        match moved {
            Ok(to) => {
                st.known.remove(&path);
                self.log.warn(&format!(
                    "job {} was undeliverable for {}s: moved to {} with its last error ({message}); \
                     `allstacks-cd flush --outbox {}` sends it by hand",
                    path.display(),
                    self.max_age.as_secs(),
                    to.display(),
                    self.dir.join("dead").display()
                ));
                Outcome::Dead
            }
            Err(e) => {
                self.log
                    .warn(&format!("could not move {} to dead/: {e}", path.display()));
                self.put_back(claim, st);
                Outcome::Failed
            }
        }
    }

    /// Records the job's next attempt in its file (in memory when the file cannot be
    /// rewritten) and puts it back.
    fn keep_trying(&self, claim: Claim, next: Retry, message: &str, st: &mut State) {
        st.known.insert(claim.path().to_path_buf(), next);
        let updated = claim.update(|saved| {
            saved.retry = Some(next);
            saved.last_error = message.to_string();
        });
        if let Err(e) = updated {
            self.log.warn(&format!(
                "could not record the next attempt in {}: {e}; it is kept in memory",
                claim.path().display()
            ));
        }
        self.put_back(claim, st);
    }

    /// Puts a claimed job back under its own name, or keeps the claim to try again.
    fn put_back(&self, claim: Claim, st: &mut State) {
        if let Err(e) = claim.put_back() {
            self.log.warn(&format!(
                "could not put {} back in the queue: {e}; trying again",
                claim.path().display()
            ));
            st.unreleased.push(claim);
        }
    }

    fn put_back_unreleased(&self, st: &mut State) {
        st.unreleased.retain(|claim| claim.put_back().is_err());
        for claim in &st.unreleased {
            self.log.warn(&format!(
                "{} is still claimed: it cannot be renamed back",
                claim.claimed_path().display()
            ));
        }
    }

    /// Until the next job is due, the idle poll at most.
    fn idle_wait(&self, st: &State) -> Duration {
        let now = crate::timefmt::now_epoch();
        st.known
            .values()
            .filter(|r| r.next_attempt_at > 0)
            .map(|r| Duration::from_secs((r.next_attempt_at - now).max(0) as u64))
            .min()
            .map_or(IDLE_POLL, |d| {
                d.clamp(Duration::from_millis(100), IDLE_POLL)
            })
    }
}

/// The pause a failure calls for; `None` when it is the job's own.
fn pause_for(failure: &Failure, unreachable: bool) -> Option<Pause> {
    let log = failure.message().to_string();
    match failure {
        Failure::Rejected { status, .. } if !delivery::refuses_the_payload(*status) => {
            let why = match status {
                401 | 403 => "the token is refused: check ALLSTACKS_TOKEN",
                404 => "the webhook is not found: check ALLSTACKS_URL and ALLSTACKS_COMPANY_ID",
                _ => "it redirects: set ALLSTACKS_URL to the final address",
            };
            let ready = format!("delivery is paused: Allstacks answered HTTP {status} ({why})");
            Some(Pause::Refused { log, ready })
        }
        Failure::Setup(_) => Some(Pause::Refused {
            log,
            ready: "delivery is paused: the request cannot be made (see the log)".into(),
        }),
        Failure::Tls(_) => Some(Pause::Unreachable(log)),
        Failure::GaveUp(_) if unreachable => Some(Pause::Unreachable(log)),
        Failure::Rejected { .. } | Failure::GaveUp(_) => None,
    }
}

/// The wait before a job's `attempt`th attempt is followed by another: 1 s, 2 s, 4 s... up to
/// `max`.
fn job_backoff(attempt: u32, max: Duration) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_is_paused_for_what() {
        let refused = |status| Failure::Rejected {
            status,
            message: "no".into(),
        };
        assert!(matches!(
            pause_for(&refused(401), false),
            Some(Pause::Refused { ready, .. }) if ready.contains("HTTP 401 (the token is refused")
        ));
        assert!(matches!(
            pause_for(&refused(404), false),
            Some(Pause::Refused { .. })
        ));
        assert!(pause_for(&refused(422), false).is_none(), "the job's own");
        let gave_up = Failure::GaveUp("HTTP 503".into());
        assert!(pause_for(&gave_up, false).is_none(), "the job's own");
        assert!(matches!(
            pause_for(&gave_up, true),
            Some(Pause::Unreachable(_))
        ));
        assert!(matches!(
            pause_for(&Failure::Tls("bad cert".into()), false),
            Some(Pause::Unreachable(_))
        ));
    }

    #[test]
    fn each_job_backs_off_on_its_own() {
        let max = Duration::from_secs(300);
        let waits: Vec<u64> = (1..=10).map(|a| job_backoff(a, max).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
        assert_eq!(job_backoff(40, max).as_secs(), 300);
    }
}
