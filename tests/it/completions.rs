//! `completions` and `man`: the scripts and pages name the commands and flags of this binary,
//! the bash script parses and completes, and the pages are roff that `man` can read.

use std::process::Command;

use crate::support::tool;

/// Commands that completions and the manual must know (every command of `--help` is checked
/// too: see [`commands`]).
const COMMANDS: [&str; 8] = [
    "report",
    "run",
    "start",
    "flush",
    "backfill",
    "serve",
    "completions",
    "man",
];

/// Every command `allstacks-cd --help` lists (clap's own `help` aside), so that a command
/// added later must have its completions and page too.
fn commands() -> Vec<String> {
    let out = tool(&["--help"]).run();
    assert_eq!(out.code, 0);
    let listed: Vec<String> = (out.stdout.lines())
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .filter(|c| c != "help")
        .collect();
    for command in COMMANDS {
        assert!(
            listed.iter().any(|c| c == command),
            "{command} not in --help: {listed:?}"
        );
    }
    listed
}

fn script(shell: &str) -> String {
    let out = tool(&["completions", shell]).run();
    assert_eq!(out.code, 0, "completions {shell}: {}", out.stderr);
    assert_eq!(out.stderr, "", "completions {shell} says nothing on stderr");
    out.stdout
}

#[test]
fn completion_scripts_name_every_command_and_flag() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let text = script(shell);
        for command in commands() {
            assert!(text.contains(&command), "{shell}: no {command}");
        }
        for flag in [
            "service-id",
            "dry-run",
            "company-id",
            "environments",
            "workflow",
        ] {
            assert!(text.contains(flag), "{shell}: no --{flag}");
        }
        // backfill's sources are values, completed too.
        assert!(
            text.contains("github-deployments"),
            "{shell}: no backfill source"
        );
    }
    // Each in its shell's own form, registered for the program's real name.
    assert!(
        script("bash")
            .contains("complete -F _allstacks_cd -o bashdefault -o default allstacks-cd\n")
    );
    assert!(script("zsh").starts_with("#compdef allstacks-cd\n"));
    assert!(script("fish").contains(
        "complete -c allstacks-cd -n \"__fish_allstacks_cd_using_subcommand report\" -l service-id"
    ));
    assert!(
        script("powershell")
            .contains("Register-ArgumentCompleter -Native -CommandName 'allstacks-cd'")
    );
}

/// Runs the bash completion function for the words typed so far (the last one is being
/// completed), as bash does on Tab, and returns what it offers.
fn complete_in_bash(path: &std::path::Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let n = words.len();
    let program = format!(
        "source '{}' || exit 9\n\
         COMP_WORDS=({})\n\
         COMP_CWORD={}\n\
         _allstacks_cd allstacks-cd '{}' '{}'\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        quoted.join(" "),
        n - 1,
        words[n - 1],
        words[n - 2],
    );
    (bash(&["--norc", "--noprofile", "-c", &program]).lines())
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Runs bash with `args`; its stdout, once it has exited 0.
fn bash(args: &[&str]) -> String {
    let out = Command::new("bash").args(args).output().expect("run bash");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bash {args:?}: {stderr}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_script_parses_and_completes_commands_flags_and_values() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("allstacks-cd.bash");
    std::fs::write(&path, script("bash")).expect("write the script");
    bash(&["-n", path.to_str().expect("utf-8 path")]);

    assert_eq!(
        complete_in_bash(&path, &["allstacks-cd", "rep"]),
        ["report"]
    );
    // Past the command too: a program name with a hyphen broke that (clap-rs/clap#6421).
    assert_eq!(
        complete_in_bash(&path, &["allstacks-cd", "report", "--serv"]),
        ["--service-id"]
    );
    assert_eq!(
        complete_in_bash(&path, &["allstacks-cd", "backfill", "gitlab-"]),
        ["gitlab-deployments", "gitlab-pipelines"]
    );
    assert_eq!(
        complete_in_bash(&path, &["allstacks-cd", "completions", "p"]),
        ["powershell"]
    );
}

#[test]
fn completions_for_an_unknown_shell_is_a_usage_error() {
    let out = tool(&["completions", "tcsh"]).run();
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr.contains("invalid value 'tcsh'"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("bash"), "{}", out.stderr);
}

#[test]
fn man_page_lists_every_command() {
    let out = tool(&["man"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = out.stdout;
    assert!(
        page.contains(concat!(
            ".TH allstacks-cd 1  \"allstacks-cd ",
            env!("CARGO_PKG_VERSION"),
            "\""
        )),
        "{page}"
    );
    assert!(
        page.contains(".SH NAME\nallstacks\\-cd \\- Report CI/CD jobs"),
        "{page}"
    );
    assert!(page.contains(".SH SUBCOMMANDS\n"), "{page}");
    for command in commands() {
        let entry = format!(".TP\nallstacks\\-cd\\-{}(1)\n", command.replace('-', "\\-"));
        assert!(
            page.contains(&entry),
            "{command} missing from allstacks-cd(1):\n{page}"
        );
    }
}

#[test]
fn man_page_of_a_command_has_its_options_and_variables() {
    let out = tool(&["man", "report"]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = out.stdout;
    assert!(page.contains(".TH allstacks-cd-report 1 "), "{page}");
    assert!(
        page.contains("\\fBallstacks\\-cd report\\fR"),
        "the synopsis: {page}"
    );
    assert!(
        page.contains("\\fB\\-\\-service\\-id\\fR \\fI<ID>\\fR\nID of the Custom CD service"),
        "{page}"
    );
    assert!(page.contains("[env: ALLSTACKS_SERVICE_ID]"), "{page}");

    let out = tool(&["man", "nope"]).run();
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    let listed = format!(
        "allstacks-cd: error: no manual page for \"nope\"; the commands are: {}\n",
        commands().join(", ")
    );
    assert_eq!(out.stderr, listed);
}

#[test]
fn man_dir_writes_every_page_and_man_reads_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let man1 = dir.path().join("share/man/man1");
    let out = tool(&["man", "--dir", man1.to_str().expect("utf-8 path")]).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut names: Vec<String> = std::fs::read_dir(&man1)
        .expect("the directory was created")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = (commands().iter())
        .map(|c| format!("allstacks-cd-{c}.1"))
        .collect();
    want.push("allstacks-cd.1".into());
    want.sort();
    assert_eq!(names, want);
    // Each file is the page `man COMMAND` prints.
    let printed = tool(&["man", "backfill"]).run().stdout;
    let written = std::fs::read_to_string(man1.join("allstacks-cd-backfill.1")).expect("page");
    assert_eq!(written, printed);
    assert!(
        out.stderr.contains("allstacks-cd-backfill.1"),
        "{}",
        out.stderr
    );

    // man(1) finds and formats the page from MANPATH, as after an install.
    let shown = Command::new("man")
        .arg("allstacks-cd-report")
        .env("MANPATH", dir.path().join("share/man"))
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
        .expect("run man");
    // Justified text: compare with the spaces folded.
    let text = String::from_utf8_lossy(&shown.stdout);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        shown.status.success(),
        "man: {}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(text.contains("allstacks-cd report"), "{text}");
    assert!(
        text.contains("--service-id <ID> ID of the Custom CD service"),
        "{text}"
    );
}
