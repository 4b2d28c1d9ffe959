//! `run`'s command line when clap refuses it. The deploy runs anyway: reporting must never stop
//! it. The command is found (everything after `--`, else from the first argument that is neither
//! an option nor an option's value), the options clap refuses are left out one at a time, and
//! each refusal becomes an error for `run` to print. Only `--strict` (the flag, or
//! `ALLSTACKS_STRICT`) keeps clap's verdict: exit 2, and nothing runs.

use std::ffi::OsString;

use clap::error::{ContextKind, ContextValue};
use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command, RunArgs};
use crate::env::{Env, parse_bool};

/// Whether `args` (with the program name) are a `run` command line.
pub fn is_run(args: &[OsString]) -> bool {
    args.get(1).is_some_and(|a| a == "run")
}

/// The `run` that clap's `first` error refused: its arguments without the options clap refused,
/// and a message for each one left out. `Err(exit code)` when nothing is to run: no command was
/// found, `--strict` was asked for (clap's error is printed), or `--help`.
pub fn run_args(
    args: &[OsString],
    first: clap::Error,
    env: &Env,
) -> Result<(RunArgs, Vec<String>), i32> {
    let program = args
        .first()
        .cloned()
        .unwrap_or_else(|| "allstacks-cd".into());
    let spec = RunSpec::new();
    let (mut options, command) = spec.split(args.get(2..).unwrap_or_default());
    if command.is_empty() || strict(&options, env) {
        let _ = first.print();
        return Err(2);
    }
    let mut usage = Vec::new();
    loop {
        match parse(&program, &options, &command) {
            Ok(run) => return Ok((run, usage)),
            Err(e) if !e.use_stderr() => {
                let _ = e.print();
                return Err(0);
            }
            // With no options left, only the command remains: that always parses.
            Err(e) if options.is_empty() => {
                let _ = e.print();
                return Err(2);
            }
            Err(e) => {
                usage.push(message(&e));
                if !spec.drop_refused(&mut options, &e) {
                    usage.push("the other options are left out as well".into());
                    options.clear();
                }
            }
        }
    }
}

/// `run OPTIONS -- COMMAND`, parsed by clap.
fn parse(
    program: &OsString,
    options: &[OsString],
    command: &[OsString],
) -> Result<RunArgs, clap::Error> {
    let mut line = vec![program.clone(), "run".into()];
    line.extend_from_slice(options);
    line.push("--".into());
    line.extend_from_slice(command);
    match Cli::try_parse_from(line)?.command {
        Command::Run(run) => Ok(run),
        _ => Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand)),
    }
}

/// `--strict` among the options, or a true `ALLSTACKS_STRICT`.
fn strict(options: &[OsString], env: &Env) -> bool {
    options.iter().any(|o| o == "--strict")
        || env.get("ALLSTACKS_STRICT").and_then(parse_bool) == Some(true)
}

/// clap's error as one line: `unexpected argument '--servce-id' found; tip: a similar argument
/// exists: '--service-id'` (without the usage and the pointer to `--help`).
fn message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let mut lines = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        // The remedy clap gives for a value that starts with `-` does not apply here.
        .filter(|l| !l.is_empty() && !l.starts_with("tip: to pass"));
    let first = lines.next().unwrap_or("invalid arguments");
    let mut out = first.strip_prefix("error: ").unwrap_or(first).to_string();
    for tip in lines {
        out.push_str("; ");
        out.push_str(tip);
    }
    out
}

/// The options of `run`: which take a value.
struct RunSpec {
    run: clap::Command,
}

impl RunSpec {
    fn new() -> RunSpec {
        let mut cli = Cli::command();
        cli.build();
        let run = cli.find_subcommand("run").cloned().unwrap_or_default();
        RunSpec { run }
    }

    /// The options before the command, and the command: everything after a `--`, else from
    /// the first argument that is neither an option nor an option's value.
    fn split(&self, rest: &[OsString]) -> (Vec<OsString>, Vec<OsString>) {
        let mut i = 0;
        while i < rest.len() {
            let arg = rest[i].to_string_lossy();
            if arg == "--" {
                return (rest[..i].to_vec(), rest[i + 1..].to_vec());
            }
            if !arg.starts_with('-') || arg == "-" {
                return (rest[..i].to_vec(), rest[i..].to_vec());
            }
            i += if self.takes_next(&arg) { 2 } else { 1 };
        }
        (rest.to_vec(), Vec::new())
    }

    /// Whether the option `arg` takes the next argument as its value. An unknown option is
    /// taken for the one clap suggests instead (`--servce-id` for `--service-id`), else for a
    /// flag.
    fn takes_next(&self, arg: &str) -> bool {
        if let Some(long) = arg.strip_prefix("--") {
            if long.contains('=') {
                return false;
            }
            let known = self
                .run
                .get_arguments()
                .find(|a| a.get_long() == Some(long));
            return match known {
                Some(a) => a.get_action().takes_values(),
                None => self.suggested(arg).is_some_and(|s| self.takes_next(&s)),
            };
        }
        let mut chars = arg.chars().skip(1);
        match (chars.next(), chars.next()) {
            (Some(short), None) => self
                .run
                .get_arguments()
                .find(|a| a.get_short() == Some(short))
                .is_some_and(|a| a.get_action().takes_values()),
            _ => false,
        }
    }

    /// The option clap suggests for an unknown `arg`.
    fn suggested(&self, arg: &str) -> Option<String> {
        let line = ["allstacks-cd", "run", arg, "--", "true"];
        let e = Cli::try_parse_from(line).err()?;
        match e.get(ContextKind::SuggestedArg)? {
            ContextValue::String(s) => Some(s.clone()),
            ContextValue::Strings(v) => v.first().cloned(),
            _ => None,
        }
        .filter(|s| s.starts_with("--") && !s.contains(['=', ' ']))
    }

    /// Removes the option `e` refused (and its value) from `options`; `false` when it cannot be
    /// told which one that is.
    fn drop_refused(&self, options: &mut Vec<OsString>, e: &clap::Error) -> bool {
        let Some(ContextValue::String(invalid)) = e.get(ContextKind::InvalidArg) else {
            return false;
        };
        // `--scope <SCOPE>` for a bad value, `--servce-id` or `--servce-id=7` for an unknown one.
        let name = invalid.split([' ', '=']).next().unwrap_or_default();
        // clap may name a flag by its long form when `-q` was typed, or the other way round.
        let known = self.run.get_arguments().find(|a| {
            a.get_long().is_some_and(|l| name == format!("--{l}"))
                || a.get_short().is_some_and(|s| name == format!("-{s}"))
        });
        let mut names = vec![name.to_string()];
        if let Some(a) = known {
            names.extend(a.get_long().map(|l| format!("--{l}")));
            names.extend(a.get_short().map(|s| format!("-{s}")));
        }
        let Some(at) = options.iter().position(|o| {
            let o = o.to_string_lossy();
            names
                .iter()
                .any(|n| o == n.as_str() || o.starts_with(&format!("{n}=")))
        }) else {
            return false;
        };
        let arg = options.remove(at).to_string_lossy().into_owned();
        if self.takes_next(&arg) && at < options.len() {
            options.remove(at);
        }
        true
    }
}
