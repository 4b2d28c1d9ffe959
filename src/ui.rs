//! Everything the tool says on stderr goes through [`Ui`]: verbosity, GitHub annotations, and
//! the last line of defence for the token, which is replaced by `***` in every message.
//!
//! Messages quote values from outside (a job id, a server's answer, an event file), so every
//! line is also neutralised here: control characters, line breaks and terminal escapes are
//! shown as escapes (`\n`, `\u{1b}`), so no value can start a line of its own, colour the
//! terminal or become a GitHub workflow command.

use std::io::Write;

/// Messages to the user on stderr.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    level: i8,
    github: bool,
    secrets: Vec<String>,
    /// One JSON object per line (`serve --log-format json`) instead of text.
    json: bool,
}

impl Ui {
    /// `level`: -2 errors only, -1 warnings, 0 default, 1 verbose, 2 debug.
    /// `github`: annotate warnings and errors as workflow commands.
    pub fn new(level: i8, github: bool) -> Ui {
        Ui {
            level,
            github,
            secrets: Vec::new(),
            json: false,
        }
    }

    /// Writes every message as a JSON object on a line of its own (`time`, `level`, `msg`),
    /// for log collectors.
    pub fn set_json(&mut self, json: bool) {
        self.json = json;
    }

    /// Sets the level (`-2` errors only ... `2` debug).
    pub fn set_level(&mut self, level: i8) {
        self.level = level;
    }

    pub fn level(&self) -> i8 {
        self.level
    }

    pub fn github(&self) -> bool {
        self.github
    }

    /// Registers a secret: it is masked on GitHub (`::add-mask::`, before anything else is
    /// printed) and replaced by `***` in everything this `Ui` prints.
    pub fn add_secret(&mut self, secret: &str) {
        let secret = secret.trim();
        // Very short values would mask ordinary words; tokens are long.
        if secret.len() < 4 || self.secrets.iter().any(|s| s == secret) {
            return;
        }
        if self.github {
            eprintln!("::add-mask::{secret}");
        }
        self.secrets.push(secret.to_string());
    }

    /// `text` with every registered secret replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), "***");
            }
        }
        out
    }

    fn line(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", neutralise(&self.redact(text)));
    }

    /// One JSON line: the time, the level, `msg` when not empty, then `fields`; every string in
    /// it redacted, and nothing in it that could break the line.
    fn json_line(&self, level: &str, msg: &str, fields: &[(&str, serde_json::Value)]) {
        let mut obj = serde_json::Map::new();
        obj.insert(
            "time".into(),
            crate::timefmt::format_rfc3339(crate::timefmt::now_epoch()).into(),
        );
        obj.insert("level".into(), level.into());
        if !msg.is_empty() {
            obj.insert("msg".into(), self.redact(msg).into());
        }
        for (k, v) in fields {
            obj.insert((*k).to_string(), self.redact_json(v));
        }
        let text = json_safe(&serde_json::Value::Object(obj).to_string());
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{text}");
    }

    fn redact_json(&self, v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(s) => Value::String(self.redact(s)),
            Value::Array(a) => Value::Array(a.iter().map(|v| self.redact_json(v)).collect()),
            other => other.clone(),
        }
    }

    /// A record of something that happened (the relay's line per request): `text` in text
    /// mode, `fields` as a JSON object with `--log-format json`. Shown at the default level.
    pub fn event(&self, text: &str, fields: &[(&str, serde_json::Value)]) {
        if self.level < 0 {
            return;
        }
        if self.json {
            self.json_line("info", "", fields);
        } else {
            self.line(&format!("allstacks-cd: {text}"));
        }
    }

    /// A failure: always shown; `::error::` on GitHub.
    pub fn error(&self, msg: &str) {
        if self.json {
            return self.json_line("error", msg, &[]);
        }
        if self.github {
            self.line(&format!(
                "::error title=allstacks-cd::{}",
                escape(&neutralise(msg))
            ));
        } else {
            self.line(&format!("allstacks-cd: error: {msg}"));
        }
    }

    /// Something went wrong but the step goes on: `::warning::` on GitHub.
    pub fn warn(&self, msg: &str) {
        if self.level < -1 {
            return;
        }
        if self.json {
            return self.json_line("warning", msg, &[]);
        }
        if self.github {
            self.line(&format!(
                "::warning title=allstacks-cd::{}",
                escape(&neutralise(msg))
            ));
        } else {
            self.line(&format!("allstacks-cd: warning: {msg}"));
        }
    }

    /// Normal progress (`reported job ...`).
    pub fn info(&self, msg: &str) {
        if self.level >= 0 {
            self.text_or_json("info", msg);
        }
    }

    fn text_or_json(&self, level: &str, msg: &str) {
        if self.json {
            self.json_line(level, msg, &[]);
        } else if level == "debug" {
            self.line(&format!("allstacks-cd: debug: {msg}"));
        } else {
            self.line(&format!("allstacks-cd: {msg}"));
        }
    }

    /// Text without a prefix at the default level (the `--dry-run` provenance table). A line
    /// that would start with `::` gets a space first: only [`Ui::error`], [`Ui::warn`] and
    /// [`Ui::add_secret`] write workflow commands.
    pub fn plain(&self, msg: &str) {
        if self.level >= 0 {
            if msg.trim_start().starts_with("::") {
                self.line(&format!(" {msg}"));
            } else {
                self.line(msg);
            }
        }
    }

    /// A command's closing line (`allstacks-cd: backfill: found ...`), as given: shown unless `-qq`.
    pub fn result(&self, msg: &str) {
        if self.level >= -1 {
            self.plain_line(msg);
        }
    }

    fn plain_line(&self, msg: &str) {
        if msg.trim_start().starts_with("::") {
            self.line(&format!(" {msg}"));
        } else {
            self.line(msg);
        }
    }

    /// `-v`.
    pub fn verbose(&self, msg: &str) {
        if self.level >= 1 {
            self.text_or_json("info", msg);
        }
    }

    /// `-vv`: one line per attempt, headers, response bodies.
    pub fn debug(&self, msg: &str) {
        if self.level >= 2 {
            self.text_or_json("debug", msg);
        }
    }
}

/// Writes `bytes` on stdout, where the payloads, `--output json` lines, scripts and pages go.
/// `Ok(false)`: the reader has gone (`| head`), which is not an error, and nothing more needs
/// to be written.
pub fn write_stdout(bytes: &[u8]) -> std::io::Result<bool> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
    }
}

/// `text` and a newline on stdout. `false` when nothing more should be written: the reader has
/// gone, or stdout cannot be written (said on stderr).
pub fn print_line(text: &str) -> bool {
    match write_stdout(format!("{text}\n").as_bytes()) {
        Ok(open) => open,
        Err(e) => {
            Ui::new(0, false).error(&format!("cannot write to stdout: {e}"));
            false
        }
    }
}

/// Escapes a workflow command's message (`%`, CR, LF), as the runner expects.
pub fn escape(msg: &str) -> String {
    msg.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `text` with every character that could break a log line shown as an escape: C0 and C1
/// control characters (line breaks, tabs, ESC, NUL, ...), DEL, the Unicode line and paragraph
/// separators and the bidirectional overrides. Everything else is kept as is.
pub fn neutralise(text: &str) -> String {
    if !text.chars().any(needs_escape) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// Serialised JSON with the characters that JSON leaves raw but that could break or disguise a
/// log line (DEL, the C1 controls, line and paragraph separators, bidirectional overrides)
/// written as `\uXXXX` escapes, which mean the same to a JSON reader.
pub fn json_safe(json: &str) -> String {
    if !json.chars().any(needs_escape) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if needs_escape(c) {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_every_occurrence() {
        let mut ui = Ui::new(0, false);
        ui.add_secret("s3cr3t-token");
        assert_eq!(ui.redact("a s3cr3t-token b s3cr3t-token"), "a *** b ***");
        ui.add_secret("ab");
        assert_eq!(ui.redact("ab"), "ab");
    }

    #[test]
    fn neutralises_line_breaks_and_escapes() {
        assert_eq!(neutralise("plain text: ok"), "plain text: ok");
        assert_eq!(
            neutralise("1\n::error::pwned\r\t\u{1b}[31mred\u{0}\u{7f}\u{85}\u{2028}\u{202e}"),
            "1\\n::error::pwned\\r\\t\\u{1b}[31mred\\u{0}\\u{7f}\\u{85}\\u{2028}\\u{202e}"
        );
        assert_eq!(neutralise("café ✓"), "café ✓");
    }

    #[test]
    fn json_lines_stay_one_line_and_mean_the_same() {
        let value = serde_json::json!({"m": "a\nb\u{7f}\u{85}\u{2028}\u{202e}c"});
        let text = json_safe(&value.to_string());
        assert!(!text.chars().any(needs_escape), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }

    #[test]
    fn escapes_workflow_messages() {
        assert_eq!(escape("50%\nnext"), "50%25%0Anext");
    }
}
