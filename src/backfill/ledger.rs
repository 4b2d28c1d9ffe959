//! The ledger: which jobs a backfill has delivered, so a re-run sends nothing twice and retries
//! only what failed.
//!
//! One `job_id` a line, appended and `fdatasync`'d as soon as the server accepted the job, by
//! one writer thread: under load it writes every id that arrived meanwhile with one sync (group
//! commit), so the file is durable after each delivery without one disk flush per job. A first
//! line `# endpoint URL service ID` ties the ledger to one webhook and service: the same
//! history sent elsewhere is another ledger.
//!
//! Two backfills on one ledger at once would both send what neither has recorded yet, so the
//! file is locked (`flock`, exclusive, not waiting) for as long as the backfill runs; the
//! second exits 2 with a message. The lock goes with the process, even when it is killed.
//!
//! Ids are kept in memory as 64-bit hashes (8 bytes each instead of a string), read from the
//! file at start: a million delivered jobs cost about 16 MB. Two different ids share a hash
//! with a chance of about one in 10^7 for a million ids against a million runs; the job then
//! counts as already sent.

use std::collections::HashSet;
use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The job ids known to be delivered (read from the file, plus those claimed in this run).
pub struct Ledger {
    known: Mutex<HashSet<u64>>,
    file: Option<Mutex<File>>,
    path: Option<PathBuf>,
    /// Ids in the file when it was opened.
    pub recorded: usize,
}

fn key(job_id: &str) -> u64 {
    // SipHash with fixed keys: the same id gives the same key for the whole run.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    job_id.hash(&mut h);
    h.finish()
}

impl Ledger {
    /// A ledger that only remembers this run (`--dry-run`): nothing is read or written.
    pub fn in_memory() -> Ledger {
        Ledger {
            known: Mutex::new(HashSet::new()),
            file: None,
            path: None,
            recorded: 0,
        }
    }

    /// Opens (or creates) the ledger at `path` for `endpoint`, locks it, and reads its ids.
    /// `Err` says why it cannot be used: another backfill holds it, it belongs to another
    /// endpoint or service, it is a symlink or in a directory others can write to
    /// ([`crate::files::open_private`]), or the file cannot be read or created.
    pub fn open(path: &Path, endpoint: &str) -> Result<Ledger, String> {
        // Never through a symlink, created 0600, in a directory others cannot write to.
        let mut file =
            crate::files::open_private(path).map_err(|e| format!("cannot use the ledger: {e}"))?;
        lock(&file, path)?;
        let (known, header, torn) = read_ids(&mut file, path)?;
        let head = format!("# endpoint {endpoint}");
        match header {
            Some(h) if h != head => {
                return Err(format!(
                    "the ledger {} was written for another webhook or service ({}): pass \
                     --ledger FILE to keep a separate ledger for {}",
                    path.display(),
                    h.trim_start_matches("# endpoint "),
                    endpoint
                ));
            }
            Some(_) => {}
            None if known.is_empty() => append(&mut file, &format!("{head}\n"), path)?,
            None => {}
        }
        // A line cut short by a crash (`12` of `123-1`) is not an id: cut it off, or it could
        // pass for another job's id once the next line is appended to it.
        if let Some(len) = torn {
            file.set_len(len)
                .map_err(|e| format!("cannot repair the ledger {}: {e}", path.display()))?;
        }
        Ok(Ledger {
            recorded: known.len(),
            known: Mutex::new(known),
            file: Some(Mutex::new(file)),
            path: Some(path.to_path_buf()),
        })
    }

    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether `job_id` was delivered before (or claimed in this run).
    pub fn contains(&self, job_id: &str) -> bool {
        self.lock_known().contains(&key(job_id))
    }

    /// Claims `job_id` for sending: `false` when it was delivered before or claimed already in
    /// this run (a run listed twice as pages shift), so it is never queued twice.
    pub fn claim(&self, job_id: &str) -> bool {
        self.lock_known().insert(key(job_id))
    }

    fn lock_known(&self) -> std::sync::MutexGuard<'_, HashSet<u64>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends delivered ids, one a line, with one `write` and one `fdatasync`. `Err` means they
    /// may not be on disk: a re-run could send them again.
    pub fn record(&self, job_ids: &[String]) -> Result<(), String> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut text = String::with_capacity(job_ids.len() * 16);
        for id in job_ids {
            text.push_str(id);
            text.push('\n');
        }
        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
        let path = self.path.as_deref().unwrap_or(Path::new("ledger"));
        append(&mut file, &text, path)?;
        file.sync_data()
            .map_err(|e| format!("cannot sync the ledger {}: {e}", path.display()))
    }
}

/// An exclusive `flock` that does not wait.
fn lock(file: &File, path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::WouldBlock {
                return Err(format!(
                    "another backfill is using the ledger {} (it is locked): wait for it to \
                     finish, or pass --ledger FILE for a separate one",
                    path.display()
                ));
            }
            return Err(format!("cannot lock the ledger {}: {e}", path.display()));
        }
    }
    let _ = (file, path);
    Ok(())
}

/// The ids in the file, its `# endpoint` line, and where the file should end when its last line
/// has no line break (it was cut short, and is not counted).
type Contents = (HashSet<u64>, Option<String>, Option<u64>);

fn read_ids(file: &mut File, path: &Path) -> Result<Contents, String> {
    let bad = |e: std::io::Error| format!("cannot read the ledger {}: {e}", path.display());
    file.seek(SeekFrom::Start(0)).map_err(bad)?;
    let mut known = HashSet::new();
    let mut header = None;
    let mut torn = None;
    let mut len = 0u64;
    let mut reader = BufReader::with_capacity(64 * 1024, Read::by_ref(file));
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).map_err(bad)? == 0 {
            break;
        }
        let Some(id) = line.strip_suffix('\n') else {
            torn = Some(len);
            break;
        };
        len += line.len() as u64;
        let id = id.trim_end_matches('\r');
        if let Some(h) = id.strip_prefix('#') {
            if header.is_none() && h.starts_with(" endpoint ") {
                header = Some(id.to_string());
            }
        } else if !id.is_empty() {
            known.insert(key(id));
        }
    }
    Ok((known, header, torn))
}

fn append(file: &mut File, text: &str, path: &Path) -> Result<(), String> {
    file.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the ledger {}: {e}", path.display()))
}

/// `{source}-{name}.ledger` with `name` made safe for a file name: letters, digits, `.`, `_`
/// and `-` are kept (lower-cased: GitHub and GitLab names ignore case), anything else becomes
/// `%XX`, so `acme/web` is `acme%2fweb` and two names never share a file. The `{source}-`
/// prefix keeps `.` and `..` from being names of their own.
pub fn file_name(source: &str, name: &str) -> String {
    let mut out = String::with_capacity(source.len() + name.len() + 8);
    out.push_str(source);
    out.push('-');
    for b in name.trim().bytes() {
        match b {
            b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' => out.push(b as char),
            b'A'..=b'Z' => out.push(b.to_ascii_lowercase() as char),
            _ => out.push_str(&format!("%{b:02x}")),
        }
    }
    out.push_str(".ledger");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_distinct() {
        assert_eq!(
            file_name("github-runs", "Acme/Web"),
            "github-runs-acme%2fweb.ledger"
        );
        assert_eq!(
            file_name("gitlab-pipelines", "group/sub/name"),
            "gitlab-pipelines-group%2fsub%2fname.ledger"
        );
        assert_eq!(file_name("git-tags", ".."), "git-tags-...ledger");
        assert_ne!(file_name("x", "a/b"), file_name("x", "a_b"));
        assert_eq!(file_name("x", "a b\n"), "x-a%20b.ledger");
    }

    #[test]
    fn ids_survive_a_reopen_a_torn_line_is_ignored_and_the_endpoint_is_checked() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("sub/l.ledger");
        {
            let l = Ledger::open(&path, "https://a/x service 7").expect("open");
            assert!(l.claim("1-1"));
            assert!(!l.claim("1-1"));
            l.record(&["1-1".into(), "2-1".into()]).expect("record");
        }
        // A crash in the middle of a line.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("f");
        f.write_all(b"3-").expect("w");
        drop(f);
        let l = Ledger::open(&path, "https://a/x service 7").expect("reopen");
        assert_eq!(l.recorded, 2);
        assert!(l.contains("1-1") && l.contains("2-1"));
        assert!(!l.contains("3-") && !l.contains("3-1"));
        l.record(&["3-1".into()]).expect("record");
        drop(l);
        let text = std::fs::read_to_string(&path).expect("read");
        assert_eq!(text, "# endpoint https://a/x service 7\n1-1\n2-1\n3-1\n");
        let e = Ledger::open(&path, "https://b/x service 7")
            .err()
            .expect("another endpoint");
        assert!(e.contains("another webhook"), "{e}");
    }

    #[test]
    fn a_second_opener_is_refused_while_the_first_holds_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("l.ledger");
        let first = Ledger::open(&path, "e").expect("open");
        let e = Ledger::open(&path, "e").err().expect("locked");
        assert!(e.contains("another backfill"), "{e}");
        drop(first);
        Ledger::open(&path, "e").expect("free again");
    }
}
