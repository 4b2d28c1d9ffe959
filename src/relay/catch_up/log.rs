//! Reading a hook's delivery log: what a pass keeps of it (the deliveries the relay missed, the
//! newest one seen), the reading page by page, and what stops a pass. Shared by the GitHub and
//! GitLab readers, below the pass that runs them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::hooks::Entry;
use crate::api::{self, ApiError, Watch};
use crate::relay::intake;
use crate::ui::Ui;

/// Pages of a hook's log read in one pass at most (100 deliveries each): 100,000 deliveries,
/// more than a busy organisation's hook sends in GitHub's 3 days (a `workflow_run` hook gets
/// three deliveries a run). A log longer than that between its newest delivery and the
/// checkpoint is read this far and no further, and the checkpoint stays where it was.
pub const MAX_PAGES: usize = 1_000;

/// A delivery the sender recorded and the relay never accepted.
pub struct Missed {
    pub delivery: intake::Delivery,
    /// GitHub's event (`X-GitHub-Event`).
    pub event: Option<String>,
    pub body: Body,
}

/// A missed delivery's payload: in the listing already (GitLab), or to fetch (GitHub).
pub enum Body {
    Here(Vec<u8>),
    At(String),
}

/// What reading one hook's log found.
#[derive(Default)]
pub struct Found {
    /// The newest delivery listed (the next checkpoint).
    pub newest: Option<u64>,
    /// Oldest first.
    pub missed: Vec<Missed>,
    /// Whether the log was read down to the checkpoint, the platform's window or its end: not
    /// when [`MAX_PAGES`] cut it short (the checkpoint must not then pass over what was not read).
    pub complete: bool,
}

/// An item of a hook's log (the fields used).
pub trait Item: serde::de::DeserializeOwned {
    /// Its id in the log: newer items have larger ids, and the checkpoint is one of them.
    fn id(&self) -> u64;
}

/// What became of one item of a log newer than the checkpoint.
pub enum Step {
    /// Nothing to take in: read on.
    Next,
    /// A delivery of a reported event: kept unless the relay accepted it.
    Missed(Missed),
    /// The platform's window is reached: older items are not read.
    Done,
}

/// Reads a hook's log page by page from `first` (newest first, the next page from the answer's
/// `Link` or `X-Next-Page`) back to the checkpoint `since`, handing each newer item to `each`,
/// until `each` says [`Step::Done`] or the pages run out, or [`MAX_PAGES`] were read (then the
/// log is not complete: older items unread). What `each` found missed and `accepted` never
/// accepted is kept, oldest first, with the newest item listed.
pub fn read_log<T: Item>(
    client: &mut api::Client,
    entry: &Entry,
    first: String,
    since: Option<u64>,
    accepted: &dyn Fn(&intake::Delivery) -> bool,
    watch: &PassWatch,
    mut each: impl FnMut(T) -> Step,
) -> Result<Found, ApiError> {
    let mut found = Found::default();
    let mut next = Some(first);
    let mut pages = 0;
    found.complete = 'read: loop {
        let Some(url) = next.take() else {
            break true;
        };
        if pages == MAX_PAGES {
            watch.info(&format!(
                "{}: stopped after {pages} pages; older deliveries are not read",
                entry.name()
            ));
            break false;
        }
        let (items, answer): (Vec<T>, _) = client.get_json(&url, watch)?;
        pages += 1;
        for item in items {
            let id = item.id();
            found.newest = found.newest.max(Some(id));
            if since.is_some_and(|s| id <= s) {
                break 'read true;
            }
            match each(item) {
                Step::Next => {}
                Step::Missed(missed) => {
                    if !accepted(&missed.delivery) {
                        found.missed.push(missed);
                    }
                }
                Step::Done => break 'read true,
            }
        }
        next = api::next_page(&answer, &url);
    };
    found.missed.reverse();
    Ok(found)
}

/// Stops a pass at shutdown or past its deadline, and says what the API client does.
pub struct PassWatch<'a> {
    pub stop: &'a AtomicBool,
    pub deadline: Instant,
    pub ui: &'a Ui,
}

impl Watch for PassWatch<'_> {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || Instant::now() >= self.deadline
    }

    fn verbose(&self, message: &str) {
        self.ui.verbose(&format!("catch-up: {message}"));
    }

    fn info(&self, message: &str) {
        self.ui.info(&format!("catch-up: {message}"));
    }
}
