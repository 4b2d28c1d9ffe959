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

/// What to do after one item of a log.
pub enum Step {
    Next,
    /// The checkpoint or the platform's window is reached: older items are not read.
    Done,
}

/// Reads a hook's log page by page from `first` (newest first, the next page from the answer's
/// `Link` or `X-Next-Page`), handing each item to `each` until it says [`Step::Done`] or the
/// pages run out (`Ok(true)`), or [`MAX_PAGES`] were read (`Ok(false)`: older items unread).
pub fn read_log<T: serde::de::DeserializeOwned>(
    client: &mut api::Client,
    entry: &Entry,
    first: String,
    watch: &PassWatch,
    mut each: impl FnMut(T) -> Step,
) -> Result<bool, ApiError> {
    let mut next = Some(first);
    let mut pages = 0;
    while let Some(url) = next.take() {
        if pages == MAX_PAGES {
            watch.info(&format!(
                "{}: stopped after {pages} pages; older deliveries are not read",
                entry.name()
            ));
            return Ok(false);
        }
        let (items, answer): (Vec<T>, _) = client.get_json(&url, watch)?;
        pages += 1;
        for item in items {
            if let Step::Done = each(item) {
                return Ok(true);
            }
        }
        next = api::next_page(&answer, &url);
    }
    Ok(true)
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
