//! Delivery from the queue directory, on a thread of its own with the blocking client: the
//! same flush of saved reports as `allstacks-cd flush` (`delivery::flush_saved`: oldest first,
//! the normal retries inside `--timeout`, 400/422 moved to `rejected/`). While Allstacks cannot
//! be reached, rounds are spaced out by a backoff that doubles up to 5 minutes; new jobs do not
//! cut a backoff short (they would hammer a server that is down), but they end an idle wait.
//! A delivered job's file is not deleted but offered to the queue as a spare.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::handoff::{Spares, Wake};
use super::metrics::Metrics;
use crate::delivery::{self, Delivery, FlushPlan};
use crate::ui::Ui;

/// The first wait after a failed round; it doubles up to the cap.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// With nothing to do, the queue is looked at again this often anyway (a job left by a run
/// before, a claim of a send that died).
const IDLE_POLL: Duration = Duration::from_secs(30);

/// The delivery worker.
pub struct Worker {
    pub dir: PathBuf,
    pub delivery: Delivery,
    /// For the flush's own messages (quiet unless `-v`).
    pub ui: Ui,
    /// For the worker's summary lines.
    pub log: Ui,
    pub metrics: Arc<Metrics>,
    pub wake: Arc<Wake>,
    pub stop: Arc<AtomicBool>,
    pub max_backoff: Duration,
    /// Where delivered jobs' files go, to be written again.
    pub spares: Arc<Spares>,
}

impl Worker {
    /// Delivers until stopped.
    pub fn run(self) {
        let keep = |claim| self.spares.offer(claim);
        let mut backoff = FIRST_BACKOFF;
        while !self.stop.load(Ordering::SeqCst) {
            let plan = FlushPlan {
                max_attempts: None,
                deadline: None,
                url: self.delivery.url(),
                warn_elsewhere: false,
                stop: Some(&self.stop),
                delivered: Some(&keep),
            };
            let stats = delivery::flush_saved(&self.dir, self.delivery.sender(), &self.ui, &plan);
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            self.metrics
                .delivered(stats.delivered as u64, stats.rejected as u64);
            if stats.delivered > 0 || stats.rejected > 0 {
                self.log.verbose(&format!(
                    "delivered {} job(s), {} rejected (moved to {})",
                    stats.delivered,
                    stats.rejected,
                    self.dir.join("rejected").display()
                ));
            }
            if stats.kept > 0 || stats.stuck > 0 {
                self.metrics.failed();
                self.log.warn(&format!(
                    "{} job(s) wait in the queue; next delivery round in {:.1}s",
                    stats.kept + stats.stuck,
                    backoff.min(self.max_backoff).as_secs_f64()
                ));
                self.wake.wait(backoff.min(self.max_backoff), false);
                backoff = (backoff * 2).min(self.max_backoff);
            } else {
                backoff = FIRST_BACKOFF;
                self.wake.wait(IDLE_POLL, true);
            }
        }
    }
}
