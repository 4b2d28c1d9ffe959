//! Everything the tool says on stderr goes through [`Ui`]: verbosity, GitHub annotations, and
//! the last line of defence for the token, which is replaced by `***` in every message.

use std::io::Write;

/// Messages to the user on stderr.
#[derive(Debug, Clone, Default)]
pub struct Ui {
    level: i8,
    github: bool,
    secrets: Vec<String>,
}

impl Ui {
    /// `level`: -2 errors only, -1 warnings, 0 default, 1 verbose, 2 debug.
    /// `github`: annotate warnings and errors as workflow commands.
    pub fn new(level: i8, github: bool) -> Ui {
        Ui {
            level,
            github,
            secrets: Vec::new(),
        }
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
        let _ = writeln!(err, "{}", self.redact(text));
    }

    /// A failure: always shown; `::error::` on GitHub.
    pub fn error(&self, msg: &str) {
        if self.github {
            self.line(&format!("::error title=allstacks-cd::{}", escape(msg)));
        } else {
            self.line(&format!("allstacks-cd: error: {msg}"));
        }
    }

    /// Something went wrong but the step goes on: `::warning::` on GitHub.
    pub fn warn(&self, msg: &str) {
        if self.level < -1 {
            return;
        }
        if self.github {
            self.line(&format!("::warning title=allstacks-cd::{}", escape(msg)));
        } else {
            self.line(&format!("allstacks-cd: warning: {msg}"));
        }
    }

    /// Normal progress (`reported job ...`).
    pub fn info(&self, msg: &str) {
        if self.level >= 0 {
            self.line(&format!("allstacks-cd: {msg}"));
        }
    }

    /// Raw text at the default level (the `--dry-run` provenance table).
    pub fn plain(&self, msg: &str) {
        if self.level >= 0 {
            self.line(msg);
        }
    }

    /// `-v`.
    pub fn verbose(&self, msg: &str) {
        if self.level >= 1 {
            self.line(&format!("allstacks-cd: {msg}"));
        }
    }

    /// `-vv`: one line per attempt, headers, response bodies.
    pub fn debug(&self, msg: &str) {
        if self.level >= 2 {
            self.line(&format!("allstacks-cd: debug: {msg}"));
        }
    }
}

/// Escapes a workflow command's message (`%`, CR, LF), as the runner expects.
pub fn escape(msg: &str) -> String {
    msg.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
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
    fn escapes_workflow_messages() {
        assert_eq!(escape("50%\nnext"), "50%25%0Anext");
    }
}
