//! `completions`: the shell completion script, generated from the clap definition of the
//! command line, so it names every command and flag of this very binary.

use clap::CommandFactory;
use clap_complete::shells::{Bash, Fish, PowerShell, Zsh};

use crate::cli::{Cli, CompletionsArgs, Shell};

/// `completions SHELL`: prints the script on stdout. Exit 0, or 1 when stdout cannot be
/// written (the message says why).
pub fn completions(args: CompletionsArgs) -> i32 {
    let mut cmd = Cli::command();
    let name = cmd.get_name().to_string();
    let mut script = Vec::new();
    // Each shell's generator by its own type: no code for shells we do not offer.
    match args.shell {
        Shell::Bash => return super::print_stdout(bash(&mut cmd, &name).as_bytes()),
        Shell::Zsh => clap_complete::generate(Zsh, &mut cmd, name, &mut script),
        Shell::Fish => clap_complete::generate(Fish, &mut cmd, name, &mut script),
        Shell::Powershell => clap_complete::generate(PowerShell, &mut cmd, name, &mut script),
    }
    super::print_stdout(&script)
}

/// clap_complete's bash script completes nothing after a command when the program's name has
/// a hyphen (clap-rs/clap#6421, open): it is generated for a name without one, which only
/// names its functions, and then registered for the real name.
fn bash(cmd: &mut clap::Command, name: &str) -> String {
    let plain = name.replace('-', "_");
    let mut script = Vec::new();
    clap_complete::generate(Bash, cmd, &plain, &mut script);
    String::from_utf8_lossy(&script).replace(&format!(" {plain}\n"), &format!(" {name}\n"))
}
