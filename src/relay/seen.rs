//! The delivery ids and record keys accepted in the last 7 days, so that a redelivered webhook,
//! or the same record under a new delivery id, is answered `duplicate` instead of being
//! reported twice, across restarts too.
//!
//! On disk: `seen` in the queue directory, one line per accepted key, `{epoch} {key}`, where
//! the key is the first 128 bits of SHA-256 of `{source}:{delivery id}` or of
//! `record {record key}` in hex (the file never holds a sender's text). It is appended by the group commit right after the jobs of the
//! same batch are durable, and rewritten without the expired lines at start and once a day.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// How long a delivery id is remembered.
pub const KEEP_SECS: i64 = 7 * 24 * 3600;

/// The ids in memory: accepted ones with when, and those being committed now.
#[derive(Debug, Default)]
pub struct Seen {
    accepted: HashMap<u128, i64>,
    pending: HashSet<u128>,
}

impl Seen {
    /// Whether `key` was accepted, or is being committed.
    pub fn contains(&self, key: u128) -> bool {
        self.accepted.contains_key(&key) || self.pending.contains(&key)
    }

    /// Takes every one of `keys` for a commit, or none: `Err` with the index of one already
    /// taken or accepted.
    pub fn reserve_all(&mut self, keys: &[u128]) -> Result<(), usize> {
        if let Some(known) = keys.iter().position(|k| self.contains(*k)) {
            return Err(known);
        }
        for (i, k) in keys.iter().enumerate() {
            if !self.pending.insert(*k) {
                // The same key twice in `keys`: give back what was taken.
                keys[..i].iter().for_each(|k| self.release(*k));
                return Err(i);
            }
        }
        Ok(())
    }

    /// The commit of `key` is durable.
    pub fn confirm(&mut self, key: u128, at: i64) {
        self.pending.remove(&key);
        self.accepted.insert(key, at);
    }

    /// The commit of `key` failed: the sender may try again.
    pub fn release(&mut self, key: u128) {
        self.pending.remove(&key);
    }

    /// Forgets ids accepted before `before`; how many.
    pub fn expire(&mut self, before: i64) -> usize {
        let n = self.accepted.len();
        self.accepted.retain(|_, at| *at >= before);
        n - self.accepted.len()
    }

    pub fn len(&self) -> usize {
        self.accepted.len()
    }
}

/// The `seen` file of a queue directory.
pub struct SeenFile {
    path: PathBuf,
    file: fs::File,
}

impl SeenFile {
    /// Loads the ids of the last 7 days from `dir/seen`, rewrites the file without older or
    /// unreadable lines when it has any, and opens it for appending.
    pub fn open(dir: &Path, now: i64) -> Result<(SeenFile, Seen), String> {
        let path = dir.join("seen");
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let mut seen = Seen::default();
        let mut stale = 0;
        for line in text.lines() {
            match parse_line(line) {
                Some((at, key)) if at >= now - KEEP_SECS => {
                    seen.accepted.insert(key, at);
                }
                _ => stale += 1,
            }
        }
        if stale > 0 || !path.exists() {
            rewrite(&path, &seen)?;
        }
        let file = append_handle(&path)?;
        Ok((SeenFile { path, file }, seen))
    }

    /// Appends accepted ids and syncs them to the disk.
    pub fn append(&mut self, keys: &[u128], at: i64) -> Result<(), String> {
        let text: String = keys.iter().map(|k| line(at, *k)).collect();
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    /// Rewrites the file with `seen` only (after [`Seen::expire`]).
    pub fn compact(&mut self, seen: &Seen) -> Result<(), String> {
        rewrite(&self.path, seen)?;
        self.file = append_handle(&self.path)?;
        Ok(())
    }
}

fn line(at: i64, key: u128) -> String {
    format!("{at} {key:032x}\n")
}

fn parse_line(line: &str) -> Option<(i64, u128)> {
    let (at, key) = line.trim().split_once(' ')?;
    if key.len() != 32 {
        return None;
    }
    Some((at.parse().ok()?, u128::from_str_radix(key, 16).ok()?))
}

fn rewrite(path: &Path, seen: &Seen) -> Result<(), String> {
    let mut entries: Vec<(&u128, &i64)> = seen.accepted.iter().collect();
    entries.sort_by_key(|(k, at)| (**at, **k));
    let text: String = entries.into_iter().map(|(k, at)| line(*at, *k)).collect();
    crate::outbox::replace(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn append_handle(path: &Path) -> Result<fs::File, String> {
    crate::files::open_private(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_across_opens_for_seven_days() {
        let dir = tempfile::tempdir().unwrap();
        let now = 2_000_000_000;
        let (mut file, mut seen) = SeenFile::open(dir.path(), now).unwrap();
        assert_eq!(seen.reserve_all(&[1]), Ok(()));
        assert_eq!(
            seen.reserve_all(&[1]),
            Err(0),
            "a second reservation is a duplicate"
        );
        assert!(seen.contains(1));
        seen.confirm(1, now - KEEP_SECS - 1);
        assert_eq!(seen.reserve_all(&[2]), Ok(()));
        seen.confirm(2, now);
        assert_eq!(seen.reserve_all(&[3]), Ok(()));
        seen.release(3);
        assert!(!seen.contains(3));
        assert_eq!(seen.reserve_all(&[4, 2]), Err(1), "2 was accepted");
        assert!(!seen.contains(4), "nothing is taken when one is known");
        assert_eq!(seen.reserve_all(&[4, 5]), Ok(()));
        assert!(seen.contains(4) && seen.contains(5));
        file.append(&[1], now - KEEP_SECS - 1).unwrap();
        file.append(&[2], now).unwrap();
        let mut raw = fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join("seen"))
            .unwrap();
        raw.write_all(b"garbage\n123 ").unwrap();
        let (_, again) = SeenFile::open(dir.path(), now).unwrap();
        assert!(!again.contains(1), "expired");
        assert!(again.contains(2));
        assert_eq!(again.len(), 1);
        let text = fs::read_to_string(dir.path().join("seen")).unwrap();
        assert_eq!(
            text,
            format!("{now} {:032x}\n", 2),
            "rewritten without stale lines"
        );
    }
}
