//! GitHub Actions output: step outputs in `$GITHUB_OUTPUT` and a Markdown table in
//! `$GITHUB_STEP_SUMMARY`. (Annotations and `::add-mask::` live in [`crate::ui`]; the API start
//! time in [`crate::github_api`].)

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

use crate::env::Env;

/// Whether we run as a GitHub Actions step (the marker `GITHUB_ACTIONS` is set to anything but
/// `false` or `0`, like every provider's marker): the one test for detection, annotations and
/// the API start time.
pub fn is_actions(env: &Env) -> bool {
    env.marker("GITHUB_ACTIONS")
}

/// Appends `name=value` outputs to `$GITHUB_OUTPUT`, using the multi-line form with a
/// delimiter that does not occur in the value.
pub fn write_outputs(env: &Env, outputs: &[(&str, &str)]) -> std::io::Result<()> {
    let Some(path) = env.get("GITHUB_OUTPUT") else {
        return Ok(());
    };
    let mut text = String::new();
    for (name, value) in outputs {
        let mut delim = String::from("EOF_allstacks_cd");
        while value.contains(&delim) {
            delim.push('_');
        }
        text.push_str(&format!("{name}<<{delim}\n{value}\n{delim}\n"));
    }
    append(Path::new(path), &text)
}

/// Appends a Markdown section to `$GITHUB_STEP_SUMMARY`.
pub fn write_summary(env: &Env, title: &str, rows: &[(&str, String)]) -> std::io::Result<()> {
    let Some(path) = env.get("GITHUB_STEP_SUMMARY") else {
        return Ok(());
    };
    let mut text = format!("### {title}\n\n| field | value |\n|---|---|\n");
    for (k, v) in rows {
        text.push_str(&format!("| {k} | {} |\n", cell(v)));
    }
    text.push('\n');
    append(Path::new(path), &text)
}

/// A value as a Markdown table cell: shown as code, so Markdown and HTML in it (from a server's
/// answer, a repository name) are not rendered; `|` is escaped so it cannot split the cell, and
/// control characters are shown as escapes. The code span's fence is longer than any run of
/// backticks inside, so a value cannot close it.
fn cell(v: &str) -> String {
    if v.is_empty() {
        return String::new();
    }
    let text = crate::ui::neutralise(v).replace('|', "\\|");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{text}{pad}{fence}")
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outputs_and_summary() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let sum = dir.path().join("sum");
        let env = Env::from_pairs([
            ("GITHUB_OUTPUT", out.to_str().unwrap()),
            ("GITHUB_STEP_SUMMARY", sum.to_str().unwrap()),
        ]);
        write_outputs(
            &env,
            &[("job-id", "1-1"), ("payload", "a\nEOF_allstacks_cd\nb")],
        )
        .unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("job-id<<EOF_allstacks_cd\n1-1\nEOF_allstacks_cd\n"));
        assert!(text.contains("payload<<EOF_allstacks_cd_\n"));
        write_summary(
            &env,
            "t",
            &[("status", "On Hold".into()), ("x", "a|b".into())],
        )
        .unwrap();
        let text = std::fs::read_to_string(&sum).unwrap();
        assert!(text.contains("| status | `On Hold` |"), "{text}");
        assert!(text.contains("| x | `a\\|b` |"), "{text}");
    }

    #[test]
    fn summary_cells_are_inert() {
        assert_eq!(
            cell("<img src=x onerror=alert(1)>"),
            "`<img src=x onerror=alert(1)>`"
        );
        assert_eq!(cell("**bold** | [x](y)"), "`**bold** \\| [x](y)`");
        assert_eq!(cell("a `b` c"), "``a `b` c``");
        assert_eq!(cell("`x``"), "``` `x`` ```");
        assert_eq!(cell("1\n| y |"), "`1\\n\\| y \\|`");
        assert_eq!(cell(""), "");
    }
}
