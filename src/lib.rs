//! allstacks-cd: report CI/CD jobs to the Allstacks Custom CD webhook.
//!
//! Data flows one way: settings + environment → detected context → validated job → delivery
//! → outcome. `main.rs` only calls [`run`], which produces every exit code.

pub mod api;
pub mod backfill;
pub mod checks;
pub mod ci;
pub mod cli;
pub mod client;
pub mod commands;
pub mod context;
pub mod delivery;
pub mod env;
pub mod events;
pub mod fields;
pub mod files;
pub mod git;
pub mod github;
pub mod github_api;
pub mod glob;
pub mod job;
pub mod outbox;
pub mod relay;
pub mod resolve;
pub mod salvage;
pub mod settings;
pub mod sink;
pub mod state;
pub mod status;
pub mod timefmt;
pub mod ui;

use std::ffi::OsString;
use std::path::Path;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::env::Env;

/// Runs the tool with `args` (including the program name) in `env` and `cwd`; returns the exit
/// code (README: "Exit codes").
pub fn run(args: impl IntoIterator<Item = OsString>, env: &Env, cwd: &Path) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // `run` runs the deploy whatever its reporting flags say (spec: first use).
        Err(e) if e.use_stderr() && salvage::is_run(&args) => {
            return match salvage::run_args(&args, e, env) {
                Ok((a, usage)) => commands::run(a, &usage, env, cwd),
                Err(code) => code,
            };
        }
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Report(a) => commands::report(a.job, a.conn, None, env, cwd).exit_code(),
        Command::Run(a) => commands::run(a, &[], env, cwd),
        Command::Check(a) => commands::check(a, env, cwd),
        Command::Start(a) => commands::start(a, env, cwd).exit_code(),
        Command::Flush(a) => commands::flush(a, env).exit_code(),
        Command::Backfill(a) => commands::backfill(*a, env, cwd),
        Command::Serve(a) => commands::serve(a, env),
        Command::Completions(a) => commands::completions(a),
        Command::Man(a) => commands::man(a),
    }
}
