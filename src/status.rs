//! Status words (from `--status`, a CI variable or an exit code) mapped to the three statuses
//! the webhook accepts, per SPEC.md's table.

use std::fmt;

use serde::Serialize;

/// A status the webhook accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Status {
    Succeeded,
    Failed,
    #[serde(rename = "On Hold")]
    OnHold,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Succeeded => "Succeeded",
            Status::Failed => "Failed",
            Status::OnHold => "On Hold",
        })
    }
}

/// What a status word means before `--cancelled-as` is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Report(Status),
    Cancelled,
    Skipped,
}

/// What to do with a cancelled job (`--cancelled-as`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CancelledAs {
    #[default]
    Failed,
    OnHold,
    Skip,
}

impl CancelledAs {
    /// Parses `failed`, `on-hold` or `skip` (same normalisation as status words).
    pub fn parse(text: &str) -> Option<CancelledAs> {
        match normalise(text).as_str() {
            "failed" | "fail" | "failure" => Some(CancelledAs::Failed),
            "onhold" | "hold" => Some(CancelledAs::OnHold),
            "skip" | "skipped" => Some(CancelledAs::Skip),
            _ => None,
        }
    }

    /// Applies the rule: `None` means nothing is sent.
    pub fn apply(self, outcome: Outcome) -> Option<Status> {
        match outcome {
            Outcome::Report(s) => Some(s),
            Outcome::Skipped => None,
            Outcome::Cancelled => match self {
                CancelledAs::Failed => Some(Status::Failed),
                CancelledAs::OnHold => Some(Status::OnHold),
                CancelledAs::Skip => None,
            },
        }
    }
}

/// Case-insensitive; `-`, `_` and spaces are equivalent (and ignored).
fn normalise(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '\t'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The accepted words, for error messages.
pub const ACCEPTED: &str = "succeeded, success, successful, passed, pass, ok, fixed, \
succeededwithissues, 0 (Succeeded); failed, failure, fail, error, errored, broken, timed out, \
a non-zero exit code (Failed); on hold, hold, held, manual, blocked, waiting, waiting for \
resource, pending, scheduled, action required (On Hold); cancelled, canceled, aborted, stopped \
(see --cancelled-as); skipped (nothing is sent)";

/// Maps a status word or exit code. `None` for an unknown word.
pub fn parse(text: &str) -> Option<Outcome> {
    let word = normalise(text);
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        return Some(if word.bytes().all(|b| b == b'0') {
            Outcome::Report(Status::Succeeded)
        } else {
            Outcome::Report(Status::Failed)
        });
    }
    let outcome = match word.as_str() {
        "succeeded"
        | "success"
        | "successful"
        | "passed"
        | "pass"
        | "ok"
        | "fixed"
        | "succeededwithissues" => Outcome::Report(Status::Succeeded),
        "failed" | "failure" | "fail" | "error" | "errored" | "broken" | "timedout" => {
            Outcome::Report(Status::Failed)
        }
        "onhold" | "hold" | "held" | "manual" | "blocked" | "waiting" | "waitingforresource"
        | "pending" | "scheduled" | "actionrequired" => Outcome::Report(Status::OnHold),
        "cancelled" | "canceled" | "aborted" | "stopped" => Outcome::Cancelled,
        "skipped" => Outcome::Skipped,
        _ => return None,
    };
    Some(outcome)
}

/// The status of a whole GitHub workflow from `${{ toJSON(needs) }}`: any `failure` → Failed,
/// else any `cancelled` → cancelled, else all `skipped` → skipped, else Succeeded.
pub fn from_needs_json(json: &str) -> Result<Outcome, String> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("is not valid JSON ({e})"))?;
    let jobs = value
        .as_object()
        .ok_or("must be a JSON object of jobs, as ${{ toJSON(needs) }} gives")?;
    let mut results = Vec::new();
    for (name, job) in jobs {
        let result = job
            .get("result")
            .and_then(|r| r.as_str())
            .ok_or_else(|| format!("job {name:?} has no \"result\""))?;
        results.push(result.to_ascii_lowercase());
    }
    Ok(if results.iter().any(|r| r == "failure") {
        Outcome::Report(Status::Failed)
    } else if results.iter().any(|r| r == "cancelled") {
        Outcome::Cancelled
    } else if !results.is_empty() && results.iter().all(|r| r == "skipped") {
        Outcome::Skipped
    } else {
        Outcome::Report(Status::Succeeded)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        use Outcome::*;
        use Status::*;
        let cases = [
            ("Succeeded", Report(Succeeded)),
            ("SUCCESS", Report(Succeeded)),
            ("SucceededWithIssues", Report(Succeeded)),
            ("0", Report(Succeeded)),
            ("timed out", Report(Failed)),
            ("timed_out", Report(Failed)),
            ("TimedOut", Report(Failed)),
            ("1", Report(Failed)),
            ("137", Report(Failed)),
            ("On Hold", Report(OnHold)),
            ("on-hold", Report(OnHold)),
            ("waiting_for_resource", Report(OnHold)),
            ("action required", Report(OnHold)),
            ("canceled", Cancelled),
            ("Aborted", Cancelled),
            ("skipped", Skipped),
        ];
        for (word, want) in cases {
            assert_eq!(parse(word), Some(want), "{word}");
        }
        for bad in ["", "running", "succeed", "done", "1.5"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn needs() {
        let j = |s: &str| from_needs_json(s);
        assert_eq!(
            j(r#"{"a":{"result":"success"},"b":{"result":"failure"}}"#),
            Ok(Outcome::Report(Status::Failed))
        );
        assert_eq!(
            j(r#"{"a":{"result":"success"},"b":{"result":"cancelled"}}"#),
            Ok(Outcome::Cancelled)
        );
        assert_eq!(
            j(r#"{"a":{"result":"skipped"},"b":{"result":"skipped"}}"#),
            Ok(Outcome::Skipped)
        );
        assert_eq!(
            j(r#"{"a":{"result":"success","outputs":{}},"b":{"result":"skipped"}}"#),
            Ok(Outcome::Report(Status::Succeeded))
        );
        assert!(j("[1]").is_err());
        assert!(j("{").is_err());
        assert!(j(r#"{"a":{}}"#).is_err());
    }
}
