//! The outbox: reports that could not be delivered, one JSON file each, kept until the server
//! accepts them. Writes are atomic (temp file + rename); names sort by creation; a report is
//! claimed by renaming it before it is sent, so two concurrent flushes never send one twice.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::env::Env;

/// A claim older than this is taken to belong to a process that died mid-send.
const STALE_CLAIM: Duration = Duration::from_secs(15 * 60);
const CLAIM_MARK: &str = ".claimed-";

/// One saved report. The token is never part of it: `flush` uses the current one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    /// The webhook URL the report was meant for.
    pub url: String,
    /// Epoch seconds when it was saved.
    pub saved_at: i64,
    /// Why it was not delivered.
    pub last_error: String,
    pub payload: serde_json::Value,
    /// Set on files moved to `rejected/`: the server's final answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<String>,
}

/// `$XDG_STATE_HOME/allstacks-cd/outbox`, else `~/.local/state/allstacks-cd/outbox`, else
/// `%LOCALAPPDATA%\allstacks-cd\outbox` on Windows.
pub fn default_dir(env: &Env) -> Option<PathBuf> {
    if let Some(state) = env.get("XDG_STATE_HOME") {
        return Some(Path::new(state).join("allstacks-cd").join("outbox"));
    }
    if let Some(home) = env.get("HOME") {
        return Some(Path::new(home).join(".local/state/allstacks-cd/outbox"));
    }
    env.get("LOCALAPPDATA")
        .map(|d| Path::new(d).join("allstacks-cd").join("outbox"))
}

/// Writes a report to `dir` (created if needed) and returns its path.
pub fn save(dir: &Path, saved: &Saved) -> std::io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let name = format!(
        "{:013}-{:010}-{:04}.json",
        now.as_millis(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let path = dir.join(&name);
    write_atomic(&path, &serde_json::to_vec_pretty(saved)?)?;
    Ok(path)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("report");
    let tmp = dir.join(format!(".tmp-{}-{name}", std::process::id()));
    {
        let mut options = fs::File::options();
        options.write(true).create(true).truncate(true);
        // Reports carry no token, but they are the deploy history of a service: owner only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)
}

/// How old a file's modification time is; `None` when unknown.
fn age(entry: &fs::DirEntry) -> Option<Duration> {
    entry.metadata().ok()?.modified().ok()?.elapsed().ok()
}

/// Saved reports waiting in `dir`, oldest first. Stale claims are released first.
pub fn pending(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some((claimed, _)) = name.split_once(CLAIM_MARK) {
            // `.NAME.claimed-PID` goes back to `NAME`.
            let original = claimed.strip_prefix('.').unwrap_or(claimed);
            let stale = age(&entry).is_some_and(|age| age > STALE_CLAIM);
            if stale && fs::rename(&path, dir.join(original)).is_ok() {
                files.push(dir.join(original));
            }
            continue;
        }
        // A temp file left by a process that died before its rename: never a whole report.
        if name.starts_with(".tmp-") {
            if age(&entry).is_some_and(|age| age > STALE_CLAIM) {
                let _ = fs::remove_file(&path);
            }
            continue;
        }
        if name.ends_with(".json") && !name.starts_with('.') && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// A report this process has claimed: nobody else will send it.
pub struct Claim {
    original: PathBuf,
    claimed: PathBuf,
}

impl Claim {
    /// Claims `path` by renaming it; `None` if another process got there first.
    pub fn take(path: &Path) -> Option<Claim> {
        let name = path.file_name()?.to_str()?;
        let claimed = path.with_file_name(format!(".{name}{CLAIM_MARK}{}", std::process::id()));
        fs::rename(path, &claimed).ok()?;
        // Mark the claim's age from now, for the stale-claim rule.
        if let Ok(f) = fs::File::options().append(true).open(&claimed) {
            let _ = f.set_modified(SystemTime::now());
        }
        Some(Claim {
            original: path.to_path_buf(),
            claimed,
        })
    }

    pub fn path(&self) -> &Path {
        &self.original
    }

    /// Reads the claimed report.
    pub fn read(&self) -> Result<Saved, String> {
        let bytes = fs::read(&self.claimed).map_err(|e| e.to_string())?;
        serde_json::from_slice(&bytes).map_err(|e| format!("not a saved report: {e}"))
    }

    /// The server accepted it: delete.
    pub fn delivered(self) -> std::io::Result<()> {
        fs::remove_file(&self.claimed)
    }

    /// Not delivered this time: put it back, with the latest error.
    pub fn release(self, last_error: Option<&str>) -> std::io::Result<()> {
        if let (Some(err), Ok(mut saved)) = (last_error, self.read()) {
            saved.last_error = err.to_string();
            if let Ok(bytes) = serde_json::to_vec_pretty(&saved) {
                write_atomic(&self.claimed, &bytes)?;
            }
        }
        fs::rename(&self.claimed, &self.original)
    }

    /// The server rejected it for good: move it to `rejected/` with the server's answer, so it
    /// is kept for inspection but not retried forever.
    pub fn reject(self, message: &str) -> std::io::Result<PathBuf> {
        let dir = self
            .original
            .parent()
            .unwrap_or(Path::new("."))
            .join("rejected");
        fs::create_dir_all(&dir)?;
        let target = dir.join(self.original.file_name().unwrap_or_default());
        match self.read() {
            Ok(mut saved) => {
                saved.rejected = Some(message.to_string());
                write_atomic(&target, &serde_json::to_vec_pretty(&saved)?)?;
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
        }
    }

    #[test]
    fn save_claim_release_deliver() {
        let dir = tempfile::tempdir().unwrap();
        let a = save(dir.path(), &saved(1)).unwrap();
        let b = save(dir.path(), &saved(2)).unwrap();
        assert_eq!(pending(dir.path()), vec![a.clone(), b.clone()]);
        let claim = Claim::take(&a).unwrap();
        assert!(
            Claim::take(&a).is_none(),
            "a claimed report cannot be claimed twice"
        );
        assert_eq!(pending(dir.path()), vec![b.clone()]);
        claim.release(Some("still down")).unwrap();
        let again = Claim::take(&a).unwrap();
        assert_eq!(again.read().unwrap().last_error, "still down");
        again.delivered().unwrap();
        let rejected = Claim::take(&b).unwrap().reject("HTTP 400: bad").unwrap();
        assert!(pending(dir.path()).is_empty());
        let text = fs::read_to_string(rejected).unwrap();
        assert!(text.contains("HTTP 400: bad"));
    }

    #[test]
    fn a_stale_claim_goes_back_under_its_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let a = save(dir.path(), &saved(1)).unwrap();
        let claim = Claim::take(&a).unwrap();
        // The claimer died 20 minutes ago.
        let old = SystemTime::now() - Duration::from_secs(20 * 60);
        fs::File::options()
            .append(true)
            .open(&claim.claimed)
            .unwrap()
            .set_modified(old)
            .unwrap();
        assert_eq!(pending(dir.path()), vec![a.clone()]);
        assert!(a.is_file(), "released under its original name");
        let again = Claim::take(&a).unwrap();
        assert_eq!(again.read().unwrap().saved_at, 1);
        // A fresh claim is left alone.
        assert!(pending(dir.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn saved_files_are_private_and_stale_temp_files_go() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
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
        assert_eq!(pending(dir.path()), vec![path]);
        assert!(!old.exists(), "a stale temp file is removed");
        assert!(
            fresh.exists(),
            "a fresh one may be another process's write in progress"
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
