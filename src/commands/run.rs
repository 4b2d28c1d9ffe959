//! `run -- CMD`: runs the deploy, times it, reports how it ended, and exits with its code.
//! Reporting never stops the deploy: usage problems are printed and the command runs; only
//! `--strict` checks the settings first and refuses to start a command it could not report.

use std::ffi::OsString;
use std::path::Path;

use super::{report, ui_for};
use crate::cli::RunArgs;
use crate::env::{Env, Sourced};
use crate::resolve::Wrapped;
use crate::settings;
use crate::timefmt::now_epoch;

/// `run`: runs the command, then reports its outcome. `usage` holds what the command line got
/// wrong (options clap refused and [`crate::salvage`] left out), printed as errors first.
pub fn run(args: RunArgs, usage: &[String], env: &Env, cwd: &Path) -> i32 {
    let d = settings::delivery(args.conn.clone(), env, &mut Vec::new());
    let ui = ui_for(&d, env);
    for u in usage {
        ui.error(&format!(
            "{u}; it was left out: the command runs, and is reported without it"
        ));
    }
    if d.strict {
        let problems = report::problems(&args.job, &args.conn, env, cwd);
        if !problems.is_empty() {
            for p in &problems {
                ui.error(p);
            }
            ui.error("nothing was run: --strict checks the settings before running the command");
            return 2;
        }
    }
    let start = now_epoch();
    let program = args.command[0].to_string_lossy().into_owned();
    let ended = spawn(&args.command);
    let wrapped = Wrapped {
        start,
        status: Sourced::new(
            ended.status_word().to_string(),
            format!("{} of {program}", ended.how),
        ),
    };
    let outcome = report::report(args.job, args.conn, Some(wrapped), env, cwd);
    if outcome.trouble.is_some() && outcome.strict && ended.code == 0 {
        1
    } else {
        ended.code
    }
}

/// How the wrapped command ended.
struct Ended {
    /// Its exit code, 128+N for signal N.
    code: i32,
    /// `exit code 3`, `signal 15`.
    how: String,
    signal: Option<i32>,
}

impl Ended {
    /// The status word of the ending: 0 → Succeeded; ended by SIGINT or SIGTERM (what CI
    /// systems send on cancel) → cancelled, as `--cancelled-as` says; anything else → Failed.
    fn status_word(&self) -> &'static str {
        match self.signal {
            Some(sig) if signals::CANCEL.contains(&sig) => "cancelled",
            Some(_) => "1",
            None if self.code == 0 => "0",
            None => "1",
        }
    }
}

/// Runs the command with inherited stdio.
fn spawn(command: &[OsString]) -> Ended {
    let exited = |code: i32| Ended {
        code,
        how: format!("exit code {code}"),
        signal: None,
    };
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
            return exited(code);
        }
    };
    signals::restore();
    if let Some(code) = status.code() {
        return exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ended {
                code: 128 + sig,
                how: format!("signal {sig}"),
                signal: Some(sig),
            };
        }
    }
    Ended {
        code: 1,
        how: "abnormal exit".into(),
        signal: None,
    }
}

/// While the wrapped command runs, Ctrl-C and a CI's SIGTERM should stop the command, not us:
/// we stay to report it. A handler (not SIG_IGN, which the child would inherit) does that.
#[cfg(unix)]
mod signals {
    extern "C" fn ignore(_: libc::c_int) {}

    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// The signals that mean "cancelled": Ctrl-C, and what CI systems send on cancel.
    pub const CANCEL: [i32; 2] = [libc::SIGINT, libc::SIGTERM];

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
    pub const CANCEL: [i32; 0] = [];

    pub fn shield() {}
    pub fn restore() {}
}
