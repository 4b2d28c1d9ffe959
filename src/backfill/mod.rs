//! `backfill`: past deployments read from where they are recorded (GitHub Actions runs, GitHub
//! Deployments, GitLab deployments and pipelines, git tags), each turned into the job a live
//! report of it would have sent, and delivered once.
//!
//! Three kinds of threads, so that memory stays flat and the network is never idle:
//!
//! ```text
//! fetch (one source, page by page) ─▶ pages (bounded: 1) ─▶ map + ledger check (main thread)
//!     ─▶ jobs (bounded: 2 per worker) ─▶ POST workers (--concurrency) ─▶ ledger writer (fsync)
//! ```
//!
//! The next page is fetched while the jobs of the one before are posted; at most about three
//! pages and a few jobs are in memory whatever the length of the history. Ctrl-C or SIGTERM
//! stops the fetching at once, the workers finish the POSTs in flight (within their deadline)
//! and leave the queue unsent, the writer records what was delivered, and the summary says so.

pub mod github;
pub mod gitlab;
pub mod ledger;
pub mod options;
pub mod progress;
pub mod signal;
pub mod tags;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::api::{ApiError, Watch};
use crate::client::Failure;
use crate::context::CiContext;
use crate::delivery::Delivery;
use crate::job::Job;
use crate::resolve::{self, Plan};
use crate::settings::JobSettings;

pub use ledger::Ledger;
pub use progress::{Counts, Progress};

/// One record a source listed.
pub enum Item {
    /// A record to map into a job; `what` names it in messages (`run 123-1`, `tag v1.2`).
    Record { ctx: Box<CiContext>, what: String },
    /// In the ledger already, so its details were not fetched.
    Known,
    /// A record that cannot make a job (a deployment with no status yet, ...).
    Unusable { what: String, why: String },
}

/// One page of a source: its records that pass the source's own filters, and how many it
/// listed in all (for the progress against a known total).
#[derive(Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub examined: u64,
}

/// `--since` and `--until`, on when a record was created.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// Where a record falls in a [`Window`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    In,
    /// After `--until` (or no readable time under a bounded window).
    Out,
    /// Before `--since`: in a newest-first listing, so is everything after it.
    Older,
}

impl Window {
    pub fn is_bounded(&self) -> bool {
        self.since.is_some() || self.until.is_some()
    }

    /// Where a record created at `created` (RFC 3339, or epoch seconds) falls.
    pub fn place(&self, created: Option<&str>) -> Place {
        let Some(t) = created.and_then(|c| crate::timefmt::parse_timestamp(c).ok()) else {
            return if self.is_bounded() {
                Place::Out
            } else {
                Place::In
            };
        };
        self.place_at(t)
    }

    pub fn place_at(&self, t: i64) -> Place {
        if self.since.is_some_and(|s| t < s) {
            Place::Older
        } else if self.until.is_some_and(|u| t > u) {
            Place::Out
        } else {
            Place::In
        }
    }
}

/// A source of records, read page by page on a thread of its own.
pub trait Source: Send {
    /// The next page; `Ok(None)` after the last one.
    fn next_page(&mut self, ctl: &Control) -> Result<Option<Page>, ApiError>;
}

/// What every stage of a backfill shares: the progress and its messages, the ledger, and
/// whether to stop.
pub struct Control {
    pub progress: Arc<Progress>,
    pub ledger: Ledger,
    halted: AtomicBool,
    why: Mutex<Option<String>>,
}

impl Control {
    pub fn new(progress: Arc<Progress>, ledger: Ledger) -> Control {
        Control {
            progress,
            ledger,
            halted: AtomicBool::new(false),
            why: Mutex::new(None),
        }
    }

    /// A signal arrived, or [`Control::halt`] was called.
    pub fn stopping(&self) -> bool {
        signal::caught().is_some() || self.halted.load(Ordering::SeqCst)
    }

    /// Stops the backfill because going on cannot help (the webhook refused the token, the
    /// ledger cannot be written); the first reason is kept for the end.
    pub fn halt(&self, why: String) {
        let mut slot = self.why.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            self.progress.error(&why);
            *slot = Some(why);
        }
        self.halted.store(true, Ordering::SeqCst);
    }

    /// Why [`Control::halt`] was called, if it was.
    pub fn halted(&self) -> Option<String> {
        self.why.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A backfill's reads of the API say what happens on the progress line and stop with it.
impl Watch for Control {
    fn stopping(&self) -> bool {
        Control::stopping(self)
    }

    fn verbose(&self, message: &str) {
        self.progress.verbose(message);
    }

    fn info(&self, message: &str) {
        self.progress.info(message);
    }
}

/// How the records become jobs, and where they go.
pub struct Pipeline<'a> {
    pub js: &'a JobSettings,
    /// At most this many jobs are sent (or printed).
    pub limit: Option<u64>,
    pub concurrency: usize,
    /// `None`: `--dry-run`, each payload is printed on stdout.
    pub delivery: Option<&'a Delivery>,
}

/// Runs the backfill to its end, a stop, or a failure of the source (returned).
pub fn run(source: Box<dyn Source>, ctl: &Arc<Control>, plan: &Pipeline) -> Result<(), ApiError> {
    let pages = fetch(source, ctl.clone());
    let Some(delivery) = plan.delivery else {
        let mut print = |job: Job| {
            let open = crate::ui::print_line(&job.to_json());
            if open {
                Counts::add(&ctl.progress.counts.printed, 1);
            }
            open
        };
        return feed(&pages, plan, ctl, &mut print);
    };
    let (job_tx, job_rx) = mpsc::sync_channel::<Job>(plan.concurrency * 2);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|s| {
        let (done_tx, done_rx) = mpsc::channel::<String>();
        s.spawn(|| record(done_rx, ctl));
        for _ in 0..plan.concurrency {
            let done = done_tx.clone();
            let jobs = &job_rx;
            s.spawn(move || post(jobs, done, delivery, ctl));
        }
        drop(done_tx);
        let mut queue = |job: Job| {
            // Never blocks for ever: a stopping worker still takes jobs (and drops them).
            let _ = job_tx.send(job);
            true
        };
        let result = feed(&pages, plan, ctl, &mut queue);
        drop(job_tx);
        result
    })
}

/// Reads the source on a thread of its own, one page ahead. The thread is not joined: after a
/// stop it may still wait for an answer, bounded by its deadline, and the process does not
/// wait for it.
fn fetch(mut source: Box<dyn Source>, ctl: Arc<Control>) -> Receiver<Result<Page, ApiError>> {
    let (tx, rx) = mpsc::sync_channel::<Result<Page, ApiError>>(1);
    std::thread::spawn(move || {
        loop {
            let page = match source.next_page(&ctl) {
                Ok(Some(page)) => Ok(page),
                Ok(None) => return,
                Err(e) => Err(e),
            };
            let last = page.is_err();
            // An error is the last page; a closed channel means nobody reads pages any more.
            if tx.send(page).is_err() || last {
                return;
            }
        }
    });
    rx
}

/// Maps each record to its job and hands the jobs not in the ledger to `emit`, until the
/// source ends, `--limit` is reached, `emit` takes no more (a dry run's stdout was closed), or
/// the backfill stops.
fn feed(
    pages: &Receiver<Result<Page, ApiError>>,
    plan: &Pipeline,
    ctl: &Control,
    emit: &mut dyn FnMut(Job) -> bool,
) -> Result<(), ApiError> {
    let counts = &ctl.progress.counts;
    let mut emitted = 0u64;
    loop {
        if ctl.stopping() {
            return Err(ApiError::Stopped);
        }
        let page = match pages.recv_timeout(Duration::from_millis(100)) {
            Ok(page) => page?,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return Ok(()),
        };
        Counts::add(&counts.examined, page.examined);
        let now = crate::timefmt::now_epoch();
        for item in page.items {
            if ctl.stopping() {
                return Err(ApiError::Stopped);
            }
            Counts::add(&counts.found, 1);
            if let Some(job) = job_of(item, plan.js, now, ctl) {
                if !emit(job) {
                    // A dry run's reader has gone (`| head`): nobody wants the rest.
                    ctl.progress
                        .verbose("stdout is closed: nothing more is read");
                    return Ok(());
                }
                emitted += 1;
                if plan.limit.is_some_and(|l| emitted >= l) {
                    ctl.progress
                        .verbose(&format!("--limit {emitted} reached: nothing more is read"));
                    return Ok(());
                }
            }
        }
    }
}

/// The job of one record, when it is to be sent: not skipped, valid, and not in the ledger.
/// Everything else is counted (and said) here.
fn job_of(item: Item, js: &JobSettings, now: i64, ctl: &Control) -> Option<Job> {
    let counts = &ctl.progress.counts;
    let (ctx, what) = match item {
        Item::Known => {
            Counts::add(&counts.already, 1);
            return None;
        }
        Item::Unusable { what, why } => {
            Counts::add(&counts.skipped, 1);
            ctl.progress.warn(&format!("skipping {what}: {why}"));
            return None;
        }
        Item::Record { ctx, what } => (ctx, what),
    };
    let mut warnings = Vec::new();
    let planned = resolve::plan_record(js, &ctx, now, &mut warnings);
    for w in warnings {
        ctl.progress.warn(&format!("{what}: {w}"));
    }
    match planned {
        Ok(Plan::Send { job, .. }) if ctl.ledger.claim(job.job_id()) => Some(*job),
        Ok(Plan::Send { .. }) => {
            Counts::add(&counts.already, 1);
            None
        }
        Ok(Plan::Skip { reason }) => {
            Counts::add(&counts.skipped, 1);
            ctl.progress.verbose(&format!("{what}: {reason}"));
            None
        }
        Err(errors) => {
            Counts::add(&counts.skipped, 1);
            ctl.progress.warn(&format!(
                "skipping {what}: it makes no valid job: {}",
                errors.join("; ")
            ));
            None
        }
    }
}

/// A POST worker: sends the jobs it takes, hands the delivered ids to the ledger writer.
fn post(
    jobs: &Mutex<Receiver<Job>>,
    done: mpsc::Sender<String>,
    delivery: &Delivery,
    ctl: &Control,
) {
    let counts = &ctl.progress.counts;
    let sender = delivery.sender();
    loop {
        let job = match jobs.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        if ctl.stopping() {
            Counts::add(&counts.unsent, 1);
            continue;
        }
        let body = job.to_json();
        let ui = ctl.progress.ui();
        let sent = sender.send(delivery.url(), body.as_bytes(), ui, None, sender.deadline());
        match sent.result {
            Ok(_) => {
                let _ = done.send(job.job_id().to_string());
            }
            Err(failure) => {
                Counts::add(&counts.failed, 1);
                ctl.progress.warn(&format!(
                    "job {} not delivered: {} (it stays out of the ledger: a re-run retries it)",
                    job.job_id(),
                    ui.redact(failure.message())
                ));
                if let Failure::Rejected {
                    status: status @ (401 | 403 | 404),
                    ..
                } = failure
                {
                    ctl.halt(format!(
                        "the webhook answered HTTP {status}: every other job would get the same \
                         answer, so the backfill stops"
                    ));
                }
            }
        }
    }
}

/// The ledger writer: appends delivered ids and syncs, all that arrived meanwhile at once.
fn record(done: Receiver<String>, ctl: &Control) {
    let counts = &ctl.progress.counts;
    while let Ok(first) = done.recv() {
        let mut batch = vec![first];
        batch.extend(done.try_iter());
        let n = batch.len() as u64;
        if let Err(e) = ctl.ledger.record(&batch) {
            ctl.halt(format!(
                "{e}: {n} delivered job(s) may be sent again by a re-run ({})",
                batch.join(", ")
            ));
        }
        Counts::add(&counts.sent, n);
    }
}
