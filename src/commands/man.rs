//! `man`: the manual pages in roff, generated from the clap definition of the command line
//! (clap_mangen): allstacks-cd(1) with the list of commands, and allstacks-cd-COMMAND(1) with
//! each command's options. The release workflow ships them in every archive.

use std::path::Path;

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::ui::Ui;

/// `man [COMMAND]` prints one page on stdout; `man --dir DIR` writes every page into DIR and
/// names each on stderr. Exit 0, 2 for a command that does not exist, 1 when a page cannot be
/// written.
pub fn man(args: ManArgs) -> i32 {
    let ui = Ui::new(0, false);
    let pages = pages();
    if let Some(dir) = args.dir {
        return match write_pages(&pages, &dir, &ui) {
            Ok(()) => 0,
            Err(e) => {
                ui.error(&format!(
                    "cannot write the manual pages into {}: {e}",
                    dir.display()
                ));
                1
            }
        };
    }
    let want = match &args.command {
        None => Cli::command().get_name().to_string(),
        Some(sub) => format!("{}-{sub}", Cli::command().get_name()),
    };
    match pages.iter().find(|(name, _)| *name == want) {
        Some((_, page)) => super::print_stdout(page),
        None => {
            let top = format!("{}-", Cli::command().get_name());
            let commands: Vec<&str> = (pages.iter().skip(1))
                .filter_map(|(name, _)| name.strip_prefix(&top))
                .collect();
            ui.error(&format!(
                "no manual page for {:?}; the commands are: {}",
                args.command.unwrap_or_default(),
                commands.join(", ")
            ));
            2
        }
    }
}

/// Every page, as (name, roff): the tool's own first, then one per visible command, named
/// as clap_mangen names them (allstacks-cd-report). clap's own `help` command has no page:
/// `allstacks-cd help X` is `X --help`.
fn pages() -> Vec<(String, Vec<u8>)> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    // Gives each command its display name (allstacks-cd-report) and the name it is typed as.
    cmd.build();
    let mut pages = vec![(cmd.get_name().to_string(), render(cmd.clone()))];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name =
            (sub.get_display_name()).map_or_else(|| sub.get_name().to_string(), String::from);
        pages.push((name, render(sub.clone())));
    }
    pages
}

fn render(cmd: clap::Command) -> Vec<u8> {
    let mut out = Vec::new();
    let source = concat!("allstacks-cd ", env!("CARGO_PKG_VERSION"));
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd).source(source).render(&mut out);
    out
}

fn write_pages(pages: &[(String, Vec<u8>)], dir: &Path, ui: &Ui) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, page)?;
        ui.info(&format!("wrote {}", path.display()));
    }
    Ok(())
}
