//! `run -- CMD`: runs the deploy, times it, reports how it ended, and exits with its code.

use std::ffi::OsString;
use std::path::Path;

use super::report;
use crate::cli::RunArgs;
use crate::env::{Env, Sourced};
use crate::resolve::Wrapped;
use crate::timefmt::now_epoch;

/// `run`: runs the command, then reports its outcome.
pub fn run(args: RunArgs, env: &Env, cwd: &Path) -> i32 {
    let start = now_epoch();
    let program = args.command[0].to_string_lossy().into_owned();
    let (code, source) = spawn(&args.command);
    // The code itself is the status word: 0 → Succeeded, anything else → Failed.
    let status = if code == 0 { "0" } else { "1" };
    let wrapped = Wrapped {
        start,
        status: Sourced::new(status.to_string(), format!("{source} of {program}")),
    };
    let outcome = report(args.job, args.conn, Some(wrapped), env, cwd);
    if outcome.trouble.is_some() && outcome.strict && code == 0 {
        1
    } else {
        code
    }
}

/// Runs the command with inherited stdio; returns its exit code (128+N for signal N) and how
/// it ended (`exit code 3`, `signal 9`).
fn spawn(command: &[OsString]) -> (i32, String) {
    let mut cmd = std::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    signals::shield();
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            eprintln!(
                "allstacks-cd: error: cannot run {}: {e}",
                command[0].to_string_lossy()
            );
            return (code, format!("exit code {code}"));
        }
    };
    signals::restore();
    if let Some(code) = status.code() {
        return (code, format!("exit code {code}"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return (128 + sig, format!("signal {sig}"));
        }
    }
    (1, "abnormal exit".into())
}

/// While the wrapped command runs, Ctrl-C and a CI's SIGTERM should stop the command, not us:
/// we stay to report it. A handler (not SIG_IGN, which the child would inherit) does that.
#[cfg(unix)]
mod signals {
    extern "C" fn ignore(_: libc::c_int) {}

    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    pub fn shield() {
        for sig in SIGNALS {
            // SAFETY: installing a handler that does nothing is async-signal-safe.
            unsafe {
                libc::signal(sig, ignore as *const () as libc::sighandler_t);
            }
        }
    }

    pub fn restore() {
        for sig in SIGNALS {
            // SAFETY: restores the default disposition.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
}

#[cfg(not(unix))]
mod signals {
    pub fn shield() {}
    pub fn restore() {}
}
