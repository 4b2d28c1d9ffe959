//! The `start` state file: where `start` records the job's start for a later `report` in the
//! same job or workspace.
//!
//! It is written through a new temporary file and a rename (a symlink planted at its path is
//! replaced, never followed), read only when small and sane, and deleted by `report` only when
//! it held a valid start (SPEC.md, Security rules).

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::env::{Env, Sourced};

/// A state file is a few dozen bytes; anything larger is not one.
const MAX_STATE: u64 = 64 * 1024;

/// `$RUNNER_TEMP` on GitHub (per job), else inside `.git` (never committed), else the working
/// directory.
pub fn default_path(env: &Env, cwd: &Path) -> PathBuf {
    if let Some(tmp) = env.get("RUNNER_TEMP") {
        return Path::new(tmp).join("allstacks-cd-start.json");
    }
    match crate::git::discover(cwd) {
        Some(git_dir) => git_dir.join("allstacks-cd-start.json"),
        None => cwd.join(".allstacks-cd-start.json"),
    }
}

/// A state file as `report` found it.
#[derive(Debug, Clone)]
pub struct StateFile {
    pub path: PathBuf,
    /// The start it held, when it held a valid one.
    pub start: Option<Sourced<i64>>,
    /// Why a file that is there was not used.
    pub warnings: Vec<String>,
}

impl StateFile {
    /// Reads `path`; a missing file is no start, a file that is not a valid state file (too
    /// large, not JSON, no sane `job_start_time`) is a warning.
    pub fn read(path: PathBuf) -> StateFile {
        let mut file = StateFile {
            path,
            start: None,
            warnings: Vec::new(),
        };
        match read_start(&file.path) {
            Ok(start) => file.start = start,
            Err(why) => file.warnings.push(format!(
                "ignoring state file {}: {why}",
                file.path.display()
            )),
        }
        file
    }

    /// Deletes the file once its start was used (the job was delivered or saved), so a later
    /// report in a reused workspace does not pick up a stale start. A file that did not hold a
    /// valid start is not ours: it stays.
    pub fn consume(&self) {
        if self.start.is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn read_start(path: &Path) -> Result<Option<Sourced<i64>>, String> {
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(None);
    };
    if meta.len() > MAX_STATE {
        return Err(format!("larger than {} KiB", MAX_STATE / 1024));
    }
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let t = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("job_start_time")?.as_i64())
        .ok_or("it holds no job_start_time")?;
    crate::timefmt::check_sane(t, crate::timefmt::now_epoch())
        .map_err(|e| format!("its job_start_time {e}"))?;
    Ok(Some(Sourced::new(
        t,
        format!("state file {}", path.display()),
    )))
}

/// Writes `time` to the state file through a new temporary file and a rename.
pub fn write(path: &Path, time: i64) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
    }
    let body = serde_json::json!({ "job_start_time": time }).to_string();
    crate::outbox::replace(path, body.as_bytes())
        .with_context(|| format!("cannot write the state file {}", path.display()))
}
