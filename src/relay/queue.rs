//! The queue: a 202 is sent only once the job is fsync'd into the queue directory, and its
//! delivery id and record key with it.
//!
//! Handlers hand their jobs to one committer thread and wait. The committer takes everything
//! that has arrived meanwhile as one batch (group commit): it writes the batch's job files,
//! syncs them and the directory once (`outbox::save_batch`), then appends the batch's delivery
//! ids to `seen` and syncs that, and only then lets the handlers answer. One round of syncs
//! serves every request that arrived during the previous one, so the answer time stays near
//! one sync however many senders wait. A crash can therefore lose neither an accepted job nor
//! an accepted id, and never remembers an id whose job was not written (the id goes after it).
//!
//! Jobs are written into the files of delivered ones ([`Spares`]) when there are some: a queue
//! that delivers as fast as it accepts then never creates or deletes a file.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::handoff::{Spares, Wake};
use super::seen::{KEEP_SECS, Seen, SeenFile};
use crate::job::Job;
use crate::outbox::{self, Saved};
use crate::ui::Ui;

/// Requests committed together at most.
const MAX_BATCH: usize = 512;
/// How often expired ids are dropped from `seen`.
const COMPACT_EVERY: i64 = 24 * 3600;

/// One request's jobs, waiting for the committer.
struct Entry {
    /// Its delivery id's and record's keys.
    keys: Vec<u128>,
    jobs: Vec<Saved>,
    done: oneshot::Sender<Result<(), String>>,
}

/// What became of a submission.
#[derive(Debug)]
pub enum Submitted {
    Queued,
    /// The key at this index (of those submitted) was accepted before, or is being committed
    /// by another request.
    Duplicate(usize),
    /// Not written (disk full, directory gone): nothing was promised.
    Failed(String),
}

/// The handlers' side of the queue.
pub struct Queue {
    url: String,
    seen: Arc<Mutex<Seen>>,
    tx: Mutex<Option<mpsc::Sender<Entry>>>,
}

/// The committer thread's side.
pub struct Committer {
    dir: PathBuf,
    spares: Arc<Spares>,
    seen: Arc<Mutex<Seen>>,
    file: SeenFile,
    rx: mpsc::Receiver<Entry>,
    wake: Arc<Wake>,
    ui: Ui,
    compacted_at: i64,
}

impl Queue {
    /// Opens the queue in `dir` (created owner-only, or checked to be ours and private) for
    /// jobs to `url`, with the delivery ids of the last 7 days.
    pub fn open(
        dir: &Path,
        url: &str,
        wake: Arc<Wake>,
        spares: Arc<Spares>,
        ui: &Ui,
    ) -> Result<(Queue, Committer), String> {
        outbox::ensure_private_dir(dir).map_err(|e| format!("the queue directory: {e}"))?;
        let now = crate::timefmt::now_epoch();
        let (file, seen) = SeenFile::open(dir, now)?;
        ui.verbose(&format!(
            "{} delivery id(s) of the last 7 days remembered",
            seen.len()
        ));
        let seen = Arc::new(Mutex::new(seen));
        let (tx, rx) = mpsc::channel();
        let queue = Queue {
            url: url.to_string(),
            seen: seen.clone(),
            tx: Mutex::new(Some(tx)),
        };
        let committer = Committer {
            dir: dir.to_path_buf(),
            spares,
            seen,
            file,
            rx,
            wake,
            ui: ui.clone(),
            compacted_at: now,
        };
        Ok((queue, committer))
    }

    /// Whether the delivery `key` was accepted before (or is being committed).
    pub fn accepted(&self, key: u128) -> bool {
        self.seen.lock().map(|s| s.contains(key)).unwrap_or(false)
    }

    /// Queues `jobs` under `keys` (the delivery's, the record's), and returns once they are
    /// durable; a duplicate when any key was accepted before.
    pub async fn submit(&self, keys: &[u128], jobs: &[Job]) -> Submitted {
        match self.enqueue(keys, jobs) {
            Ok(wait) => {
                let done = wait.await;
                self.settle(
                    keys,
                    done.unwrap_or_else(|_| Err("the queue stopped".into())),
                )
            }
            Err(submitted) => submitted,
        }
    }

    /// [`Queue::submit`] from a thread of its own (catch-up), never from the server's runtime.
    pub fn submit_blocking(&self, keys: &[u128], jobs: &[Job]) -> Submitted {
        match self.enqueue(keys, jobs) {
            Ok(wait) => {
                let done = wait.blocking_recv();
                self.settle(
                    keys,
                    done.unwrap_or_else(|_| Err("the queue stopped".into())),
                )
            }
            Err(submitted) => submitted,
        }
    }

    /// Reserves `keys` and hands the jobs to the committer; what to wait on, or the answer
    /// already (a duplicate, a closed queue).
    fn enqueue(
        &self,
        keys: &[u128],
        jobs: &[Job],
    ) -> Result<oneshot::Receiver<Result<(), String>>, Submitted> {
        let reserved = self
            .seen
            .lock()
            .map(|mut s| s.reserve_all(keys))
            .unwrap_or(Err(0));
        if let Err(known) = reserved {
            return Err(Submitted::Duplicate(known));
        }
        let saved_at = crate::timefmt::now_epoch();
        let jobs = jobs
            .iter()
            .map(|job| Saved {
                version: 1,
                url: self.url.clone(),
                saved_at,
                last_error: "queued by serve".into(),
                payload: serde_json::to_value(job).unwrap_or_default(),
                rejected: None,
                retry: None,
            })
            .collect();
        let (done, wait) = oneshot::channel();
        let sent = match self.tx.lock() {
            Ok(tx) => tx.as_ref().is_some_and(|tx| {
                let keys = keys.to_vec();
                tx.send(Entry { keys, jobs, done }).is_ok()
            }),
            Err(_) => false,
        };
        if sent {
            Ok(wait)
        } else {
            Err(self.settle(keys, Err("the queue is closed (shutting down)".into())))
        }
    }

    /// The answer once the committer is done with `keys`: on failure they are given back.
    fn settle(&self, keys: &[u128], result: Result<(), String>) -> Submitted {
        match result {
            Ok(()) => Submitted::Queued,
            Err(e) => {
                if let Ok(mut s) = self.seen.lock() {
                    keys.iter().for_each(|k| s.release(*k));
                }
                Submitted::Failed(e)
            }
        }
    }

    /// No more submissions: the committer finishes what it has and stops.
    pub fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
    }
}

impl Committer {
    /// Commits batches until the queue is closed.
    pub fn run(mut self) {
        while let Ok(first) = self.rx.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(entry) => batch.push(entry),
                    Err(_) => break,
                }
            }
            self.commit(batch);
            self.compact_now_and_then();
        }
    }

    fn commit(&mut self, batch: Vec<Entry>) {
        let reports: Vec<&Saved> = batch.iter().flat_map(|e| e.jobs.iter()).collect();
        let mut spares = self.spares.take(reports.len());
        let saved = outbox::save_batch(&self.dir, &reports, &mut spares);
        self.spares.give_back(spares);
        if let Err(e) = saved {
            self.ui
                .error(&format!("the queue could not be written: {e}"));
            for entry in batch {
                let _ = entry.done.send(Err(e.clone()));
            }
            return;
        }
        let now = crate::timefmt::now_epoch();
        let keys: Vec<u128> = batch.iter().flat_map(|e| e.keys.iter().copied()).collect();
        if let Err(e) = self.file.append(&keys, now) {
            // The jobs are safe and will be delivered; only a redelivery after a restart
            // could now be reported twice.
            self.ui.warn(&format!("delivery ids not saved: {e}"));
        }
        if let Ok(mut seen) = self.seen.lock() {
            for key in &keys {
                seen.confirm(*key, now);
            }
        }
        for entry in batch {
            let _ = entry.done.send(Ok(()));
        }
        self.wake.notify();
    }

    fn compact_now_and_then(&mut self) {
        let now = crate::timefmt::now_epoch();
        if now - self.compacted_at < COMPACT_EVERY {
            return;
        }
        self.compacted_at = now;
        let Ok(mut seen) = self.seen.lock() else {
            return;
        };
        if seen.expire(now - KEEP_SECS) > 0 {
            if let Err(e) = self.file.compact(&seen) {
                self.ui
                    .warn(&format!("could not compact the delivery ids: {e}"));
            }
        }
    }
}

/// An exclusive lock on the queue directory, held while the relay runs: two relays on one
/// queue would each take the other's claims for its own.
pub struct Lock {
    _file: std::fs::File,
}

/// Takes the queue's lock (`dir/.lock`); `Err` when another relay holds it.
pub fn lock(dir: &Path) -> Result<Lock, String> {
    outbox::ensure_private_dir(dir).map_err(|e| format!("the queue directory: {e}"))?;
    let path = dir.join(".lock");
    let file = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own; released when the file is closed.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            return Err(format!(
                "another relay is using the queue {} (it holds {}): give each relay a queue \
                 directory of its own",
                dir.display(),
                path.display()
            ));
        }
    }
    Ok(Lock { _file: file })
}
