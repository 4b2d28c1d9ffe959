//! The commands, one file each. Every command is a short orchestration of the shared stages
//! (settings → a job source → [`crate::job::Job`] → [`crate::delivery`] → sinks) and returns an
//! [`Outcome`]; [`crate::run`] turns that into the exit code in one place.

mod backfill;
mod check;
mod completions;
mod flush;
mod man;
mod report;
mod run;
mod serve;
mod start;

pub use backfill::backfill;
pub use check::check;
pub use completions::completions;
pub use flush::flush;
pub use man::man;
pub use report::report;
pub use run::run;
pub use serve::serve;
pub use start::start;

use crate::env::Env;
use crate::github;
use crate::settings::DeliverySettings;
use crate::ui::Ui;

/// What went wrong, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// Invalid input or configuration (exit 2 under `--strict` or `--dry-run`).
    Invalid,
    /// Delivery failed (exit 1 under `--strict`).
    Delivery,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub trouble: Option<Trouble>,
    pub strict: bool,
    pub dry_run: bool,
}

impl Outcome {
    /// A command that has not failed (yet), under `d`'s `--strict` and `--dry-run`.
    pub fn new(d: &DeliverySettings) -> Outcome {
        Outcome {
            trouble: None,
            strict: d.strict,
            dry_run: d.dry_run,
        }
    }

    /// This outcome with `trouble`.
    pub fn with(self, trouble: Trouble) -> Outcome {
        Outcome {
            trouble: Some(trouble),
            ..self
        }
    }

    /// SPEC.md's exit codes for `report`, `flush` and `start`.
    pub fn exit_code(self) -> i32 {
        match self.trouble {
            None => 0,
            Some(Trouble::Invalid) if self.strict || self.dry_run => 2,
            Some(Trouble::Delivery) if self.strict => 1,
            Some(_) => 0,
        }
    }
}

/// The messages of a command that sends with `d`'s token: it is masked (on GitHub) and
/// redacted before anything else is printed.
fn ui_for(d: &DeliverySettings, env: &Env) -> Ui {
    let mut ui = Ui::new(d.verbosity, github::is_actions(env));
    if let Some(token) = &d.token {
        ui.add_secret(token);
    }
    ui
}

/// A failure: an error under `--strict`, else a warning that says the step goes on.
fn fail(ui: &Ui, strict: bool, message: &str) {
    if strict {
        ui.error(message);
    } else {
        ui.warn(&format!(
            "{message} (the step goes on; use --strict to fail it)"
        ));
    }
}

/// Writes `bytes` on stdout: exit 0, or 1 with a message when stdout cannot be written. A
/// reader that stopped early (`| head`) is not an error.
fn print_stdout(bytes: &[u8]) -> i32 {
    match crate::ui::write_stdout(bytes) {
        Ok(_) => 0,
        Err(e) => {
            Ui::new(0, false).error(&format!("cannot write to stdout: {e}"));
            1
        }
    }
}
