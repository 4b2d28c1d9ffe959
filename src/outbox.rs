//! The outbox: reports that could not be delivered, one JSON file each, kept until the server
//! accepts them.
//!
//! It is trusted only when it is ours (SPEC.md, Security rules): the directory must belong to
//! this user and not be writable by group or others, and files owned by someone else are left
//! alone. Names carry a millisecond time (so they sort by age) and 128 random bits, and are
//! created exclusively, so reports from many processes, hosts and containers (where every
//! process id is 1) never overwrite each other. A report is claimed for sending by one rename
//! to a name that records when it was claimed, so a claim is never mistaken for a stale one and
//! two flushes never send one report twice.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::env::Env;

/// A claim older than this is taken to belong to a process that died mid-send.
const STALE_CLAIM: Duration = Duration::from_secs(15 * 60);
const CLAIM_MARK: &str = ".claimed-";
const TMP_PREFIX: &str = ".tmp-";
/// Saved reports are a few KiB; anything much larger is not one of ours.
const MAX_SAVED: u64 = 1024 * 1024;

/// One saved report. The token is never part of it: `flush` uses the current one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    /// The webhook URL the report was meant for; it is sent only when that is still the
    /// configured endpoint.
    pub url: String,
    /// Epoch seconds when it was saved.
    pub saved_at: i64,
    /// Why it was not delivered.
    pub last_error: String,
    pub payload: serde_json::Value,
    /// Set on files moved to `rejected/`: the server's final answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
    /// The relay's queue: the attempts made so far and when the next may be, so that each job
    /// backs off on its own, across restarts too. `flush` sends regardless.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
}

/// When a job of the relay's queue may be tried again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retry {
    pub attempts: u32,
    /// Epoch seconds.
    pub next_attempt_at: i64,
}

/// `$XDG_STATE_HOME/allstacks-cd/outbox`, else `~/.local/state/allstacks-cd/outbox`, else
/// `%LOCALAPPDATA%\allstacks-cd\outbox` on Windows.
pub fn default_dir(env: &Env) -> Option<PathBuf> {
    state_dir(env).map(|d| d.join("outbox"))
}

/// `$XDG_STATE_HOME/allstacks-cd`, else `~/.local/state/allstacks-cd`, else
/// `%LOCALAPPDATA%\allstacks-cd`: where the tool keeps its state.
pub fn state_dir(env: &Env) -> Option<PathBuf> {
    if let Some(state) = env.get("XDG_STATE_HOME") {
        return Some(Path::new(state).join("allstacks-cd"));
    }
    if let Some(home) = env.get("HOME") {
        return Some(Path::new(home).join(".local/state/allstacks-cd"));
    }
    env.get("LOCALAPPDATA")
        .map(|d| Path::new(d).join("allstacks-cd"))
}

/// Creates `dir` (owner-only) if it does not exist, and checks that an existing one is ours and
/// private. The error names the directory and the fix.
pub fn ensure_private_dir(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        crate::files::create_private_dir(dir)?;
    }
    check_private_dir(dir)
}

/// Checks that `dir` is a directory owned by this user and not writable by group or others.
pub fn check_private_dir(dir: &Path) -> Result<(), String> {
    let meta = fs::metadata(dir).map_err(|e| format!("cannot use {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = current_uid();
        if meta.uid() != me {
            return Err(format!(
                "{} belongs to another user (uid {}, we are {me}): another user could plant \
                 reports in it. Use a directory of your own (chmod 700)",
                dir.display(),
                meta.uid()
            ));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(format!(
                "{} is writable by group or others (mode {mode:03o}): anyone could plant \
                 reports in it. Run `chmod 700 {}`",
                dir.display(),
                dir.display()
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Whether `meta` belongs to someone else (always `false` where ownership is not known).
fn foreign(meta: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        meta.uid() != current_uid()
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// 32 random hex digits (128 bits) from the operating system.
pub fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No OS randomness (never seen in practice): fall back to the std hasher's random
        // keys, still per process and per call.
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(now_millis());
            chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// Writes a report to `dir` (created owner-only if needed; an existing one must be ours and
/// private) and returns its path. It never overwrites: an `Err` means the report was not saved.
pub fn save(dir: &Path, saved: &Saved) -> Result<PathBuf, String> {
    ensure_private_dir(dir)?;
    let bytes = serde_json::to_vec_pretty(saved).map_err(|e| e.to_string())?;
    for _ in 0..3 {
        let path = new_name(dir);
        match write_new(&path, &bytes) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
    }
    Err(format!(
        "cannot find a free name in {} (three random names were taken)",
        dir.display()
    ))
}

/// A new report name in `dir`: the time in milliseconds (names sort by age), a counter that
/// keeps reports saved by this process in the same millisecond in order, and 128 random bits.
fn new_name(dir: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 10_000;
    dir.join(format!("{:013}-{n:04}-{}.json", now_millis(), random_hex()))
}

/// Writes several reports to `dir` at once and returns their paths (group commit, for `serve`):
/// each goes to a new temporary file, all of them are synced, each is linked under a new name
/// of its own (never replacing a file), and the directory is synced once. When it returns `Ok`,
/// every report is durable; on `Err`, none is left behind. Unlike [`save`], it never creates
/// `dir`: a queue directory that vanished (an unmounted volume) is an error, not a new
/// directory in the wrong place.
///
/// `spares` are files of delivered reports kept for reuse ([`Claim::keep_as_spare`]): each
/// report is written into one while there are some (a new file costs an inode; on an ext4
/// without a journal, allocating one after many deletions costs up to a millisecond). The spares
/// used are taken out of the list.
pub fn save_batch(
    dir: &Path,
    reports: &[&Saved],
    spares: &mut Vec<PathBuf>,
) -> Result<Vec<PathBuf>, String> {
    check_private_dir(dir)?;
    let mut temps: Vec<(PathBuf, fs::File)> = Vec::with_capacity(reports.len());
    let written = write_temps(dir, reports, spares, &mut temps);
    let synced = written.and_then(|()| {
        temps
            .iter()
            .try_for_each(|(path, f)| f.sync_all().map_err(|e| (path.clone(), e)))
    });
    let mut linked = Vec::with_capacity(temps.len());
    let result = synced.and_then(|()| {
        temps
            .iter()
            .try_for_each(|(tmp, _)| link_new(dir, tmp).map(|p| linked.push(p)))
    });
    for (tmp, _) in &temps {
        let _ = fs::remove_file(tmp);
    }
    match result {
        Ok(()) => {
            if let Some(first) = linked.first() {
                sync_dir(first);
            }
            Ok(linked)
        }
        Err((path, e)) => {
            for p in &linked {
                let _ = fs::remove_file(p);
            }
            Err(format!("cannot write {}: {e}", path.display()))
        }
    }
}

/// The temporary files of [`save_batch`] (spares first, then new ones), written and on their
/// way to the disk.
fn write_temps(
    dir: &Path,
    reports: &[&Saved],
    spares: &mut Vec<PathBuf>,
    temps: &mut Vec<(PathBuf, fs::File)>,
) -> Result<(), (PathBuf, std::io::Error)> {
    for saved in reports {
        let bytes = serde_json::to_vec_pretty(saved).map_err(|e| (dir.to_path_buf(), e.into()))?;
        let reused = std::iter::from_fn(|| spares.pop()).find_map(|p| reuse(&p).map(|f| (p, f)));
        let (tmp, mut f) = match reused {
            Some(spare) => spare,
            None => {
                let tmp = dir.join(format!("{TMP_PREFIX}{}", random_hex()));
                let f = new_private_file(&tmp).map_err(|e| (tmp.clone(), e))?;
                (tmp, f)
            }
        };
        let written = f.write_all(&bytes);
        temps.push((tmp.clone(), f));
        written.map_err(|e| (tmp.clone(), e))?;
        start_writeback(&temps[temps.len() - 1].1);
    }
    Ok(())
}

/// A new, empty, owner-only file at `path` (never an existing one).
fn new_private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

const SPARE_PREFIX: &str = ".spare-";

/// The spare at `path`, emptied for a new report: only a regular file of ours with no other
/// name (a spare that is also a report's file would lose that report); `None` otherwise, and
/// the name is dropped.
fn reuse(path: &Path) -> Option<fs::File> {
    let mut options = fs::File::options();
    options.write(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    let usable = options.open(path).ok().filter(|f| {
        f.metadata()
            .is_ok_and(|m| m.is_file() && !foreign(&m) && links(&m) == 1)
            && f.set_len(0).is_ok()
    });
    if usable.is_none() {
        let _ = fs::remove_file(path);
    }
    usable
}

/// How many names a file has (1 where that is not known).
fn links(meta: &fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        std::os::unix::fs::MetadataExt::nlink(meta)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        1
    }
}

/// A new empty spare in `dir`, for [`save_batch`] to write a report into later.
pub fn new_spare(dir: &Path) -> std::io::Result<PathBuf> {
    let path = dir.join(format!("{SPARE_PREFIX}{}", random_hex()));
    new_private_file(&path)?;
    Ok(path)
}

/// The spares a previous run left in `dir` that can be used again; the others (a spare that is
/// also a report's file, after a crash between the two steps of a save) lose their spare name.
pub fn leftover_spares(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(|n| n.starts_with(SPARE_PREFIX)) {
            continue;
        }
        let path = entry.path();
        match fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() && !foreign(&m) && links(&m) == 1 => found.push(path),
            Ok(m) if foreign(&m) => {}
            _ => {
                let _ = fs::remove_file(&path);
            }
        }
    }
    found
}

/// Starts writing a file's data to the disk without waiting, so that the `fsync` of many files
/// that follows finds most of the work done and the file system commits them together.
fn start_writeback(f: &fs::File) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: a plain system call on a descriptor we own; it only schedules I/O.
        unsafe {
            libc::sync_file_range(f.as_raw_fd(), 0, 0, libc::SYNC_FILE_RANGE_WRITE);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = f;
}

/// Links the synced temporary file `tmp` under a new report name in `dir`.
fn link_new(dir: &Path, tmp: &Path) -> Result<PathBuf, (PathBuf, std::io::Error)> {
    let mut last = None;
    for _ in 0..3 {
        let path = new_name(dir);
        match fs::hard_link(tmp, &path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err((path, e)),
        }
    }
    let e = last.unwrap_or_else(|| std::io::Error::other("no free name"));
    Err((dir.to_path_buf(), e))
}

/// Puts every claimed report in `dir` back under its own name, however fresh the claim, and
/// returns how many. Only for a process that knows it is the only one sending from `dir` (the
/// relay, which holds the queue's lock): claims left there belong to a run of its own that
/// ended mid-send.
pub fn release_claims(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut released = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some((claimed, _)) = name.split_once(CLAIM_MARK) else {
            continue;
        };
        let original = claimed.strip_prefix('.').unwrap_or(claimed);
        let own = fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_file() && !foreign(&m));
        if own && fs::rename(entry.path(), dir.join(original)).is_ok() {
            released += 1;
        }
    }
    released
}

/// Writes `bytes` to a new file at `path`: to a temporary file first (created exclusively,
/// owner-only, synced), then linked to `path`, which fails rather than replace a file that is
/// there. A reader never sees a half-written report.
pub fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    linked?;
    sync_dir(path);
    Ok(())
}

/// Replaces the file at `path` (one of our own: a claimed report, a state file) with `bytes`,
/// through a temporary file and a rename: a symlink at `path` is replaced, never followed.
pub fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = write_temp(path, bytes)?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(path);
    Ok(())
}

/// A new owner-only temporary file beside `path`, holding `bytes`, synced.
fn write_temp(path: &Path, bytes: &[u8]) -> std::io::Result<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!("{TMP_PREFIX}{}", random_hex()));
    let mut options = fs::File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(&tmp)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// Makes a new name in `path`'s directory durable (best effort: not every platform can sync a
/// directory).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent() {
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

/// How old a file's modification time is; `None` when unknown.
fn age(meta: &fs::Metadata) -> Option<Duration> {
    meta.modified().ok()?.elapsed().ok()
}

/// When a claim named `.NAME.claimed-MILLIS-RANDOM` was made; `None` for another format.
fn claimed_at(suffix: &str) -> Option<u128> {
    suffix.split_once('-')?.0.parse().ok()
}

/// The saved reports in a directory.
#[derive(Debug, Default)]
pub struct Pending {
    /// Ours to send, oldest first.
    pub files: Vec<PathBuf>,
    /// Files owned by another user: never read, never sent.
    pub foreign: Vec<PathBuf>,
}

/// Saved reports waiting in `dir`, oldest first. Claims older than 15 minutes (by the time in
/// their name) are released first.
///
/// This is the one function that reads the outbox, so every path that sends saved reports
/// (`report` before its own job, `flush`, the relay's worker) gets its check: `Err` (naming the
/// directory and the fix) when `dir` is not ours or others can write to it
/// ([`check_private_dir`]), and then nothing in it is read: a report planted there must not be
/// sent with the token. A `dir` that does not exist holds nothing.
pub fn pending(dir: &Path) -> Result<Pending, String> {
    let mut out = Pending::default();
    if !dir.exists() {
        return Ok(out);
    }
    check_private_dir(dir)?;
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(out);
    };
    let now = now_millis();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.is_file() {
            continue; // rejected/, a symlink someone put here, ...
        }
        if let Some((claimed, suffix)) = name.split_once(CLAIM_MARK) {
            // `.NAME.claimed-MILLIS-RANDOM` goes back to `NAME` when its claimer is long gone.
            let original = claimed.strip_prefix('.').unwrap_or(claimed);
            let stale = match claimed_at(suffix) {
                Some(at) => now.saturating_sub(at) > STALE_CLAIM.as_millis(),
                // A claim written by an older version: only its file time says how old it is.
                None => age(&meta).is_some_and(|age| age > STALE_CLAIM),
            };
            if stale && !foreign(&meta) && fs::rename(&path, dir.join(original)).is_ok() {
                out.files.push(dir.join(original));
            }
            continue;
        }
        // A temp file left by a process that died before its link: never a whole report.
        if name.starts_with(TMP_PREFIX) {
            if age(&meta).is_some_and(|age| age > STALE_CLAIM) && !foreign(&meta) {
                let _ = fs::remove_file(&path);
            }
            continue;
        }
        if name.ends_with(".json") && !name.starts_with('.') {
            if foreign(&meta) {
                out.foreign.push(path);
            } else {
                out.files.push(path);
            }
        }
    }
    out.files.sort();
    out.foreign.sort();
    Ok(out)
}

/// Reads a saved report (at most 1 MiB).
pub fn read(path: &Path) -> Result<Saved, String> {
    let meta = fs::metadata(path).map_err(|e| e.to_string())?;
    if meta.len() > MAX_SAVED {
        return Err(format!(
            "larger than {} KiB: not a saved report",
            MAX_SAVED / 1024
        ));
    }
    let bytes = fs::read(path).map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not a saved report: {e}"))
}

/// A report this process has claimed: nobody else will send it.
pub struct Claim {
    original: PathBuf,
    claimed: PathBuf,
}

impl Claim {
    /// Claims `path` by renaming it to `.NAME.claimed-MILLIS-RANDOM`, in one step: the claim's
    /// time is in its name, so no other process can see it as stale in between. `Ok(None)`
    /// when another process got there first; `Err` when it cannot be claimed at all (a
    /// read-only mount, no permission): the caller counts it as stuck.
    pub fn take(path: &Path) -> std::io::Result<Option<Claim>> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| std::io::Error::other("not a report name"))?;
        let claimed = path.with_file_name(format!(
            ".{name}{CLAIM_MARK}{}-{}",
            now_millis(),
            random_hex()
        ));
        match fs::rename(path, &claimed) {
            Ok(()) => Ok(Some(Claim {
                original: path.to_path_buf(),
                claimed,
            })),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub fn path(&self) -> &Path {
        &self.original
    }

    /// Where the claimed file is while this claim lasts.
    pub fn claimed_path(&self) -> &Path {
        &self.claimed
    }

    /// Reads the claimed report.
    pub fn read(&self) -> Result<Saved, String> {
        read(&self.claimed)
    }

    /// The server accepted it: delete.
    pub fn delivered(self) -> std::io::Result<()> {
        fs::remove_file(&self.claimed)
    }

    /// The server accepted it: instead of deleting the file, keep it under a spare name for
    /// [`save_batch`] to write a new report into (a queue that writes as often as it delivers
    /// then never allocates or frees a file). Returns the spare's path.
    pub fn keep_as_spare(self) -> std::io::Result<PathBuf> {
        let dir = self.claimed.parent().unwrap_or(Path::new("."));
        let spare = dir.join(format!("{SPARE_PREFIX}{}", random_hex()));
        fs::rename(&self.claimed, &spare)?;
        Ok(spare)
    }

    /// Not delivered this time: put it back, with the latest error.
    pub fn release(self, last_error: Option<&str>) -> std::io::Result<()> {
        if let (Some(err), Ok(mut saved)) = (last_error, self.read()) {
            saved.last_error = err.to_string();
            if let Ok(bytes) = serde_json::to_vec_pretty(&saved) {
                replace(&self.claimed, &bytes)?;
            }
        }
        fs::rename(&self.claimed, &self.original)
    }

    /// Not ours to send now (saved for another endpoint): put it back untouched.
    pub fn leave(self) -> std::io::Result<()> {
        self.put_back()
    }

    /// Puts it back under its own name, as it is; on `Err` it stays claimed, and the caller
    /// keeps the claim to try again.
    pub fn put_back(&self) -> std::io::Result<()> {
        fs::rename(&self.claimed, &self.original)
    }

    /// Rewrites the claimed report with `change` made to it, in place (through a temporary file
    /// and a rename): on `Err` (a full disk) it is as it was, and still claimed.
    pub fn update(&self, change: impl FnOnce(&mut Saved)) -> std::io::Result<()> {
        let mut saved = self.read().map_err(std::io::Error::other)?;
        change(&mut saved);
        replace(&self.claimed, &serde_json::to_vec_pretty(&saved)?)
    }

    /// The server rejected it for good: move it to `rejected/` with the server's answer, so it
    /// is kept for inspection but not retried forever.
    pub fn reject(self, message: &str) -> std::io::Result<PathBuf> {
        self.set_aside("rejected", |saved| {
            saved.rejected = Some(message.to_string())
        })
    }

    /// Moves it to the folder `folder` beside it (`rejected/`, the relay's `dead/`), with
    /// `change` made to it: kept for inspection or a later `flush --outbox DIR/folder`, never
    /// sent again from here.
    /// On `Err` it is still claimed, as it was.
    pub fn set_aside(
        &self,
        folder: &str,
        change: impl FnOnce(&mut Saved),
    ) -> std::io::Result<PathBuf> {
        let dir = self
            .original
            .parent()
            .unwrap_or(Path::new("."))
            .join(folder);
        ensure_private_dir(&dir).map_err(std::io::Error::other)?;
        let target = dir.join(self.original.file_name().unwrap_or_default());
        match self.read() {
            Ok(mut saved) => {
                change(&mut saved);
                replace(&target, &serde_json::to_vec_pretty(&saved)?)?;
                fs::remove_file(&self.claimed)?;
            }
            Err(_) => fs::rename(&self.claimed, &target)?,
        }
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(n: i64) -> Saved {
        Saved {
            version: 1,
            url: "http://127.0.0.1:1/webhook/company/1/cicd_job".into(),
            saved_at: n,
            last_error: "refused".into(),
            payload: serde_json::json!({"job_id": n.to_string()}),
            rejected: None,
            retry: None,
        }
    }

    fn private_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o700)).unwrap();
        }
        dir
    }

    fn take(path: &Path) -> Claim {
        Claim::take(path).unwrap().unwrap()
    }

    #[test]
    fn save_claim_release_deliver() {
        let dir = private_dir();
        let a = save(dir.path(), &saved(1)).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        let b = save(dir.path(), &saved(2)).unwrap();
        assert_eq!(
            pending(dir.path()).unwrap().files,
            vec![a.clone(), b.clone()]
        );
        let claim = take(&a);
        assert!(
            Claim::take(&a).unwrap().is_none(),
            "a claimed report cannot be claimed twice"
        );
        assert_eq!(pending(dir.path()).unwrap().files, vec![b.clone()]);
        claim.release(Some("still down")).unwrap();
        let again = take(&a);
        assert_eq!(again.read().unwrap().last_error, "still down");
        again.delivered().unwrap();
        let rejected = take(&b).reject("HTTP 400: bad").unwrap();
        assert!(pending(dir.path()).unwrap().files.is_empty());
        let text = fs::read_to_string(rejected).unwrap();
        assert!(text.contains("HTTP 400: bad"));
    }

    #[test]
    fn a_batch_is_saved_whole_and_claims_are_released() {
        let dir = private_dir();
        let reports: Vec<Saved> = (1..=3).map(saved).collect();
        let refs: Vec<&Saved> = reports.iter().collect();
        let paths = save_batch(dir.path(), &refs, &mut Vec::new()).unwrap();
        assert_eq!(paths.len(), 3);
        assert_eq!(
            pending(dir.path()).unwrap().files,
            paths,
            "in order, nothing else"
        );
        let saved_at: Vec<i64> = paths.iter().map(|p| read(p).unwrap().saved_at).collect();
        assert_eq!(saved_at, [1, 2, 3]);
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().flatten().collect();
        assert_eq!(names.len(), 3, "no temporary file left");
        // A fresh claim (a run that died mid-send) goes back at once.
        let claim = take(&paths[0]);
        assert_eq!(release_claims(dir.path()), 1);
        assert!(paths[0].is_file());
        drop(claim);
    }

    #[cfg(unix)]
    #[test]
    fn delivered_files_are_written_again_and_never_one_with_two_names() {
        use std::os::unix::fs::MetadataExt;
        let dir = private_dir();
        let first = save(dir.path(), &saved(1)).unwrap();
        let ino = fs::metadata(&first).unwrap().ino();
        let spare = take(&first).keep_as_spare().unwrap();
        assert!(
            pending(dir.path()).unwrap().files.is_empty(),
            "a spare is not a report"
        );
        // A spare that is also a report's file (a crash between link and unlink) is not used.
        let report = save(dir.path(), &saved(2)).unwrap();
        let twice = dir.path().join(format!("{SPARE_PREFIX}twice"));
        fs::hard_link(&report, &twice).unwrap();
        assert_eq!(leftover_spares(dir.path()), vec![spare.clone()]);
        assert!(!twice.exists() && read(&report).unwrap().saved_at == 2);
        let mut spares = vec![spare.clone()];
        let third = saved(3);
        let paths = save_batch(dir.path(), &[&third, &third], &mut spares).unwrap();
        assert!(spares.is_empty() && !spare.exists());
        let inodes: Vec<u64> = paths
            .iter()
            .map(|p| fs::metadata(p).unwrap().ino())
            .collect();
        assert!(
            inodes.contains(&ino),
            "the delivered file's inode holds a new report"
        );
        for p in &paths {
            assert_eq!(read(p).unwrap().saved_at, 3);
            assert_eq!(fs::metadata(p).unwrap().nlink(), 1);
        }
    }

    #[test]
    fn names_are_random_and_never_reused() {
        let dir = private_dir();
        let names: std::collections::BTreeSet<PathBuf> = (0..200)
            .map(|i| save(dir.path(), &saved(i)).unwrap())
            .collect();
        assert_eq!(names.len(), 200);
        let first = names.iter().next().unwrap();
        let stem = first.file_stem().unwrap().to_str().unwrap();
        let parts: Vec<&str> = stem.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [13, 4, 32]
        );
        // An existing name is never replaced.
        let err = write_new(first, b"{}").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AlreadyExists);
        assert_eq!(read(first).unwrap().version, 1);
    }

    #[test]
    fn a_stale_claim_goes_back_under_its_own_name() {
        let dir = private_dir();
        let a = save(dir.path(), &saved(1)).unwrap();
        // A claimer that died 20 minutes ago, by the time in its claim's name.
        let old = now_millis() - 20 * 60 * 1000;
        let name = a.file_name().unwrap().to_str().unwrap();
        let claimed = dir
            .path()
            .join(format!(".{name}{CLAIM_MARK}{old}-{}", random_hex()));
        fs::rename(&a, &claimed).unwrap();
        assert_eq!(pending(dir.path()).unwrap().files, vec![a.clone()]);
        assert!(a.is_file(), "released under its original name");
        let again = take(&a);
        assert_eq!(again.read().unwrap().saved_at, 1);
        // A fresh claim is left alone.
        assert!(pending(dir.path()).unwrap().files.is_empty());
    }

    #[test]
    fn a_fresh_claim_of_an_old_file_is_not_stale() {
        // The interleaving that let two flushes send one report: the claimed file keeps the
        // old report's modification time. Its name says it was claimed just now.
        let dir = private_dir();
        let a = save(dir.path(), &saved(1)).unwrap();
        let claim = take(&a);
        let long_ago = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .append(true)
            .open(claim.claimed_path())
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        assert!(pending(dir.path()).unwrap().files.is_empty());
        assert!(claim.claimed_path().is_file(), "still claimed");
    }

    #[cfg(unix)]
    #[test]
    fn saved_files_are_private_and_stale_temp_files_go() {
        use std::os::unix::fs::PermissionsExt;
        let dir = private_dir();
        let path = save(dir.path(), &saved(1)).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let old = dir.path().join(".tmp-1-x.json");
        let fresh = dir.path().join(".tmp-2-y.json");
        fs::write(&old, "{").unwrap();
        fs::write(&fresh, "{").unwrap();
        let long_ago = SystemTime::now() - Duration::from_secs(3600);
        fs::File::options()
            .append(true)
            .open(&old)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        assert_eq!(pending(dir.path()).unwrap().files, vec![path]);
        assert!(!old.exists(), "a stale temp file is removed");
        assert!(
            fresh.exists(),
            "a fresh one may be another process's write in progress"
        );
    }

    #[cfg(unix)]
    #[test]
    fn only_a_private_directory_of_ours_is_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = private_dir();
        let outbox = dir.path().join("new/outbox");
        save(&outbox, &saved(1)).unwrap();
        let mode = fs::metadata(&outbox).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "created owner-only");
        fs::set_permissions(&outbox, fs::Permissions::from_mode(0o777)).unwrap();
        let err = save(&outbox, &saved(2)).unwrap_err();
        assert!(
            err.contains("writable by group or others (mode 777)"),
            "{err}"
        );
        assert!(
            err.contains(&format!("chmod 700 {}", outbox.display())),
            "{err}"
        );
        // Nothing in it is read either: the one reader checks it first.
        let err = pending(&outbox).unwrap_err();
        assert!(err.contains("writable by group or others"), "{err}");
        assert!(
            pending(&dir.path().join("missing"))
                .unwrap()
                .files
                .is_empty()
        );
    }

    #[test]
    fn default_dirs() {
        let env = Env::from_pairs([("XDG_STATE_HOME", "/s"), ("HOME", "/h")]);
        assert_eq!(
            default_dir(&env),
            Some(PathBuf::from("/s/allstacks-cd/outbox"))
        );
        let env = Env::from_pairs([("HOME", "/h")]);
        assert_eq!(
            default_dir(&env),
            Some(PathBuf::from("/h/.local/state/allstacks-cd/outbox"))
        );
    }
}
