//! What a backfill has done so far: the counts (found, sent, already sent, skipped, failed),
//! shown as an `indicatif` bar on a terminal, as one plain line every 5 seconds otherwise, or
//! not at all with `-q`; and every message of the backfill, printed so that it does not tear
//! the bar.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::env::Env;
use crate::ui::Ui;

/// How often a plain progress line is printed when stderr is not a terminal.
pub const LINE_EVERY: Duration = Duration::from_secs(5);

/// The counts of a backfill.
#[derive(Debug, Default)]
pub struct Counts {
    /// Records the source listed before our filters (the bar's position against the total).
    pub examined: AtomicU64,
    pub found: AtomicU64,
    pub sent: AtomicU64,
    pub already: AtomicU64,
    pub skipped: AtomicU64,
    pub failed: AtomicU64,
    /// Queued, then not sent because the backfill was stopped.
    pub unsent: AtomicU64,
    /// Payloads printed by `--dry-run`.
    pub printed: AtomicU64,
}

/// A copy of the counts at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub examined: u64,
    pub found: u64,
    pub sent: u64,
    pub already: u64,
    pub skipped: u64,
    pub failed: u64,
    pub unsent: u64,
    pub printed: u64,
}

impl Counts {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            examined: get(&self.examined),
            found: get(&self.found),
            sent: get(&self.sent),
            already: get(&self.already),
            skipped: get(&self.skipped),
            failed: get(&self.failed),
            unsent: get(&self.unsent),
            printed: get(&self.printed),
        }
    }
}

impl Snapshot {
    /// `found N, sent S, already sent A, skipped K, failed F` (`printed P` for a dry run).
    pub fn line(&self, dry_run: bool) -> String {
        if dry_run {
            return format!(
                "found {}, printed {}, skipped {}",
                self.found, self.printed, self.skipped
            );
        }
        format!(
            "found {}, sent {}, already sent {}, skipped {}, failed {}",
            self.found, self.sent, self.already, self.skipped, self.failed
        )
    }
}

/// The counts and how they are shown. Shared by the fetching thread, the POST workers and the
/// ledger writer.
pub struct Progress {
    pub counts: Counts,
    ui: Ui,
    bar: Option<ProgressBar>,
    lines: bool,
    dry_run: bool,
    /// `--limit`: then the bar counts jobs against it, not records against the listing.
    limit: Option<u64>,
    started: Instant,
    /// Records the source will list, when it says (0: unknown).
    total: AtomicU64,
    done: Mutex<bool>,
    wake: Condvar,
    finished: AtomicBool,
}

impl Progress {
    /// A bar when stderr is a terminal that can draw one (`TERM` set, not `dumb`: indicatif
    /// draws nothing on the others) at the default verbosity (`-v` lines would tear it), plain
    /// lines otherwise, nothing with `-q`.
    pub fn new(ui: &Ui, dry_run: bool, limit: Option<u64>, env: &Env) -> Arc<Progress> {
        use std::io::IsTerminal;
        let shown = ui.level() >= 0;
        let drawable = env.get("TERM").is_some_and(|t| t != "dumb");
        let terminal = std::io::stderr().is_terminal() && drawable && !ui.github();
        let bar = (shown && terminal && ui.level() == 0).then(|| {
            // Every field gets its value before the bar is shown: any change draws a frame.
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
            let (_, len, unit) = measure(&Snapshot::default(), 0, limit);
            bar.set_style(style(len.is_some()));
            bar.set_length(len.unwrap_or(0));
            bar.set_prefix(unit);
            bar.set_message(format!("{}, 0 jobs/s", Snapshot::default().line(dry_run)));
            bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
            bar
        });
        Arc::new(Progress {
            counts: Counts::default(),
            ui: ui.clone(),
            lines: shown && bar.is_none(),
            bar,
            dry_run,
            limit,
            started: Instant::now(),
            total: AtomicU64::new(0),
            done: Mutex::new(false),
            wake: Condvar::new(),
            finished: AtomicBool::new(false),
        })
    }

    pub fn ui(&self) -> &Ui {
        &self.ui
    }

    /// The source says how many records it will list.
    pub fn set_total(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            let (_, len, _) = measure(&self.counts.snapshot(), total, self.limit);
            bar.set_length(len.unwrap_or(total));
            bar.set_style(style(true));
        }
    }

    /// Prints through `f` without tearing the bar.
    fn say(&self, f: impl FnOnce(&Ui)) {
        match &self.bar {
            Some(bar) => bar.suspend(|| f(&self.ui)),
            None => f(&self.ui),
        }
    }

    pub fn warn(&self, msg: &str) {
        self.say(|ui| ui.warn(msg));
    }

    pub fn info(&self, msg: &str) {
        self.say(|ui| ui.info(msg));
    }

    pub fn error(&self, msg: &str) {
        self.say(|ui| ui.error(msg));
    }

    pub fn verbose(&self, msg: &str) {
        self.say(|ui| ui.verbose(msg));
    }

    /// Jobs delivered per second since the start.
    pub fn rate(&self) -> f64 {
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        self.counts.sent.load(Ordering::Relaxed) as f64 / secs
    }

    /// Shows the counts until [`Progress::finish`]: redraws the bar, or prints a line every
    /// [`LINE_EVERY`]. Runs on a thread of its own.
    pub fn show(&self) {
        let every = if self.bar.is_some() {
            Duration::from_millis(125)
        } else {
            LINE_EVERY
        };
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let (guard, _) = self
                .wake
                .wait_timeout(done, every)
                .unwrap_or_else(|e| e.into_inner());
            done = guard;
            if *done {
                return;
            }
            self.tick();
        }
    }

    fn tick(&self) {
        let s = self.counts.snapshot();
        let total = self.total.load(Ordering::Relaxed);
        let (position, len, unit) = measure(&s, total, self.limit);
        if let Some(bar) = &self.bar {
            if let Some(len) = len {
                bar.set_length(len);
            }
            bar.set_position(position);
            bar.set_message(format!(
                "{}, {:.0} jobs/s",
                s.line(self.dry_run),
                self.rate()
            ));
        } else if self.lines {
            let of = len.map_or(String::new(), |len| {
                format!(" ({position} of {len} {unit})")
            });
            self.ui.info(&format!(
                "backfill: {}{of}, {:.0} jobs/s",
                s.line(self.dry_run),
                self.rate()
            ));
        }
    }

    /// Stops [`Progress::show`] and clears the bar; the summary comes after.
    pub fn finish(&self) {
        if self.finished.swap(true, Ordering::SeqCst) {
            return;
        }
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.wake.notify_all();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// What the bar counts: its position, its length when known, and the unit. Records listed
/// against the listing's total; with `--limit`, jobs sent (or printed) against the limit, or
/// against the listing when it is shorter: never a length above `--limit`.
fn measure(s: &Snapshot, total: u64, limit: Option<u64>) -> (u64, Option<u64>, &'static str) {
    match limit {
        Some(limit) => {
            let len = if total > 0 { total.min(limit) } else { limit };
            let done = s.sent + s.failed + s.printed;
            (done.min(len), Some(len), "jobs")
        }
        // A listing can grow while it is read: the length never falls behind the position.
        None => (
            s.examined,
            (total > 0).then(|| total.max(s.examined)),
            "listed",
        ),
    }
}

const WITH_TOTAL: &str =
    "{spinner} {elapsed_precise} [{bar:24}] {pos}/{len} {prefix}, {msg}, ETA {eta}";
const WITHOUT_TOTAL: &str = "{spinner} {elapsed_precise} {pos} {prefix}, {msg}";

fn style(known_total: bool) -> ProgressStyle {
    let template = if known_total {
        WITH_TOTAL
    } else {
        WITHOUT_TOTAL
    };
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_line_reads_as_the_spec_says() {
        let s = Snapshot {
            found: 5,
            sent: 2,
            already: 1,
            skipped: 1,
            failed: 1,
            printed: 3,
            ..Snapshot::default()
        };
        assert_eq!(
            s.line(false),
            "found 5, sent 2, already sent 1, skipped 1, failed 1"
        );
        assert_eq!(s.line(true), "found 5, printed 3, skipped 1");
        for template in [WITH_TOTAL, WITHOUT_TOTAL] {
            assert!(ProgressStyle::with_template(template).is_ok(), "{template}");
        }
    }

    #[test]
    fn the_bar_never_counts_past_the_limit() {
        let s = Snapshot {
            examined: 40,
            found: 40,
            sent: 3,
            failed: 1,
            ..Snapshot::default()
        };
        // 1000 runs listed, --limit 10: 4 of 10 jobs, not 40 of 1000 records.
        assert_eq!(measure(&s, 1000, Some(10)), (4, Some(10), "jobs"));
        // A listing shorter than the limit is the length.
        assert_eq!(measure(&s, 6, Some(10)), (4, Some(6), "jobs"));
        // The total not known yet: the limit.
        assert_eq!(measure(&s, 0, Some(10)), (4, Some(10), "jobs"));
        assert_eq!(measure(&s, 1000, None), (40, Some(1000), "listed"));
        assert_eq!(measure(&s, 0, None), (40, None, "listed"));
        assert_eq!(measure(&s, 30, None), (40, Some(40), "listed"));
    }
}
