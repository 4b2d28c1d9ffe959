//! `start`: records the job's start in the state file for a later `report`.

use std::path::Path;

use super::{Outcome, Trouble};
use crate::cli::{ConnArgs, JobArgs, StartArgs};
use crate::env::Env;
use crate::timefmt::now_epoch;
use crate::ui::Ui;
use crate::{github, job, settings, state};

/// `start`: records now (or `--job-start-time`) in the state file.
pub fn start(args: StartArgs, env: &Env, cwd: &Path) -> Outcome {
    let ui = Ui::new(args.verbosity.level(), github::is_actions(env));
    let mut errors = Vec::new();
    let d = settings::delivery(ConnArgs::default(), env, &mut errors);
    let outcome = Outcome::new(&d);
    // The same flag/variable merge as `report`, so both agree on the state file.
    let js = settings::job(
        JobArgs {
            state_file: args.state_file,
            job_start_time: args.job_start_time,
            ..JobArgs::default()
        },
        env,
        &mut errors,
    );
    let path = js
        .state_file
        .unwrap_or_else(|| state::default_path(env, cwd));
    let time = match js.job_start_time.map(|t| job::parse_start(&t, now_epoch())) {
        None => now_epoch(),
        Some(Ok(t)) => t.value,
        Some(Err(e)) => {
            ui.error(&e);
            // A usage error: exit 2.
            return Outcome {
                strict: true,
                ..outcome.with(Trouble::Invalid)
            };
        }
    };
    match state::write(&path, time) {
        Ok(()) => {
            ui.info(&format!(
                "recorded start {} in {}",
                crate::timefmt::format_rfc3339(time),
                path.display()
            ));
            outcome
        }
        Err(e) => {
            fail_plain(&ui, d.strict, &format!("{e:#}"));
            outcome.with(Trouble::Delivery)
        }
    }
}

/// `start` has no report to go on with: the plain error or warning.
fn fail_plain(ui: &Ui, strict: bool, message: &str) {
    if strict {
        ui.error(message);
    } else {
        ui.warn(message);
    }
}
