//! What the relay's threads hand each other, so that none imports another: the wake-up ("new
//! jobs were queued", "stop") and the spare files of delivered jobs (the worker offers them,
//! the committer writes new jobs into them), and the worker's health (why delivery is paused,
//! for `/readyz`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::outbox::{self, Claim};

/// Spare files kept at most, and made at start.
const MAX_SPARES: usize = 512;
const FIRST_SPARES: usize = 256;

/// "There is work" and "stop", for the worker to wait on.
#[derive(Debug, Default)]
pub struct Wake {
    state: Mutex<(bool, bool)>,
    cv: Condvar,
}

impl Wake {
    /// New jobs were queued.
    pub fn notify(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.0 = true;
            self.cv.notify_all();
        }
    }

    /// Waits up to `timeout`, or until stopped, or (when `for_work`) until new jobs arrive.
    pub fn wait(&self, timeout: Duration, for_work: bool) {
        let Ok(guard) = self.state.lock() else {
            return;
        };
        let (mut guard, _) = match self.cv.wait_timeout_while(guard, timeout, |(work, stop)| {
            !(*stop || (for_work && *work))
        }) {
            Ok(r) => r,
            Err(_) => return,
        };
        if for_work {
            guard.0 = false;
        }
    }
}

/// Tells the worker to stop after the send in progress.
pub fn stop(flag: &AtomicBool, wake: &Wake) {
    flag.store(true, Ordering::SeqCst);
    if let Ok(mut s) = wake.state.lock() {
        s.1 = true;
        wake.cv.notify_all();
    }
}

/// Why delivery is paused for every job (the server refuses the token, the webhook is not
/// found), said by the worker and shown by `/readyz`; `None` while it delivers.
#[derive(Debug, Default)]
pub struct Health(Mutex<Option<String>>);

impl Health {
    pub fn set(&self, paused: Option<String>) {
        if let Ok(mut h) = self.0.lock() {
            *h = paused;
        }
    }

    pub fn paused(&self) -> Option<String> {
        self.0.lock().ok()?.clone()
    }
}

/// Files of delivered jobs, kept to write new jobs into (`outbox::save_batch`) rather than
/// deleted and created again: the worker offers them, the committer takes them. On a file
/// system where a new file is costly (an ext4 without a journal, after many deletions), this
/// keeps the answer time flat.
#[derive(Debug, Default)]
pub struct Spares(Mutex<Vec<PathBuf>>);

impl Spares {
    /// The spares a previous run left in `dir`.
    pub fn open(dir: &Path) -> Spares {
        Spares(Mutex::new(outbox::leftover_spares(dir)))
    }

    /// Keeps a delivered job's file as a spare while there is room, else deletes it.
    pub fn offer(&self, claim: Claim) -> std::io::Result<()> {
        let Ok(mut spares) = self.0.lock() else {
            return claim.delivered();
        };
        if spares.len() >= MAX_SPARES {
            return claim.delivered();
        }
        spares.push(claim.keep_as_spare()?);
        Ok(())
    }

    /// Makes spares in `dir` up to the number kept at start.
    pub fn fill(&self, dir: &Path) {
        while self.len() < FIRST_SPARES {
            let Ok(spare) = outbox::new_spare(dir) else {
                return;
            };
            if let Ok(mut spares) = self.0.lock() {
                spares.push(spare);
            }
        }
    }

    fn len(&self) -> usize {
        self.0.lock().map(|s| s.len()).unwrap_or(MAX_SPARES)
    }

    pub fn take(&self, n: usize) -> Vec<PathBuf> {
        let Ok(mut spares) = self.0.lock() else {
            return Vec::new();
        };
        let keep = spares.len().saturating_sub(n);
        spares.split_off(keep)
    }

    pub fn give_back(&self, mut unused: Vec<PathBuf>) {
        if let Ok(mut spares) = self.0.lock() {
            spares.append(&mut unused);
        }
    }
}
