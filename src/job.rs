//! The payload and every rule of the webhook contract (CONTRACT.md).
//!
//! A [`Job`] can only be made by [`Job::new`], which checks every rule: whatever a job came
//! from (the environment of a CI job, an event file, an API record, a webhook body), if it
//! exists it is valid, and nothing after it re-parses strings. Its input is a [`Draft`]: each
//! field as found, with where it came from, or the reason it could not be read.

use serde::Serialize;

use crate::checks::{no_control_chars, not_blank};
use crate::env::Sourced;
use crate::fields::{self, OptionalField};
use crate::git;
use crate::status::Status;

/// The JSON document the webhook receives, in the order of CONTRACT.md's sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    job_id: String,
    status: Status,
    commit_sha: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    triggered_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    repo_name: Option<String>,
    service_id: i64,
    job_start_time: i64,
    job_duration: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    optional: Vec<OptionalField>,
}

/// One field as a source found it: `None` when no source had it, `Some(Err(why))` when a value
/// was given but could not be read (the message names the field, the rule and the source).
pub type Input<T> = Option<Result<Sourced<T>, String>>;

/// Everything a job is made of, before the contract is checked.
#[derive(Debug, Clone)]
pub struct Draft {
    pub job_id: Input<String>,
    pub status: Input<Status>,
    pub commit_sha: Input<String>,
    pub repo_id: Option<Sourced<String>>,
    pub repo_name: Option<Sourced<String>>,
    pub triggered_by: Option<Sourced<String>>,
    pub service_id: Input<i64>,
    pub job_start_time: Input<i64>,
    pub job_duration: Input<i64>,
    pub job_type: Option<Sourced<String>>,
    pub optional: Result<Vec<OptionalField>, String>,
}

impl Default for Draft {
    /// Nothing found yet, and no optional fields.
    fn default() -> Draft {
        Draft {
            job_id: None,
            status: None,
            commit_sha: None,
            repo_id: None,
            repo_name: None,
            triggered_by: None,
            service_id: None,
            job_start_time: None,
            job_duration: None,
            job_type: None,
            optional: Ok(Vec::new()),
        }
    }
}

/// `(field, value, source)` for each base field of a job, for `--dry-run`.
pub type Provenance = Vec<(&'static str, String, String)>;

/// How to set a required field that no source gave.
fn required(field: &str) -> String {
    let how = match field {
        "service_id" => {
            "set --service-id or ALLSTACKS_SERVICE_ID to the ID of your Custom CD service"
        }
        "commit_sha" => {
            "set --commit-sha or ALLSTACKS_COMMIT_SHA, or run inside a git checkout with at \
             least one commit"
        }
        "status" => {
            "pass --status (e.g. success or failed) or ALLSTACKS_STATUS; it is read by itself \
             only from GitLab, Azure, Drone, Woodpecker, Bitbucket, GitHub deployment and \
             workflow_run events, or --needs-json"
        }
        "job_start_time" => "set --job-start-time or ALLSTACKS_JOB_START_TIME",
        "job_duration" => "set --job-duration or ALLSTACKS_JOB_DURATION",
        _ => "set --job-id or ALLSTACKS_JOB_ID",
    };
    format!("{field} is required: {how}")
}

/// Collects the errors of a draft's fields, in the payload's order.
#[derive(Default)]
struct Check {
    errors: Vec<String>,
}

impl Check {
    /// The field's value, or `None` after recording why there is none.
    fn take<T>(&mut self, field: &str, input: Input<T>) -> Option<Sourced<T>> {
        match input {
            Some(Ok(v)) => Some(v),
            Some(Err(e)) => self.ok(Err(e)),
            None => self.ok(Err(required(field))),
        }
    }

    /// The value of a rule that held, or `None` after recording the broken rule.
    fn ok<T>(&mut self, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.errors.push(e)).ok()
    }
}

/// A draft whose every rule holds.
struct Checked {
    job_id: Sourced<String>,
    status: Sourced<Status>,
    commit: Sourced<String>,
    service_id: Sourced<i64>,
    start: Sourced<i64>,
    duration: Sourced<i64>,
    repo_id: Option<Sourced<String>>,
    repo_name: Option<Sourced<String>>,
    triggered_by: Option<Sourced<String>>,
    job_type: Option<Sourced<String>>,
    optional: Vec<OptionalField>,
}

/// Every rule of the contract, over every field: all the problems at once.
fn check(d: Draft) -> Result<Checked, Vec<String>> {
    let mut c = Check::default();
    let job_id = c.take("job_id", d.job_id);
    let status = c.take("status", d.status);
    let commit = c
        .take("commit_sha", d.commit_sha)
        .and_then(|sha| c.ok(full_sha(sha)));
    let service_id = c
        .take("service_id", d.service_id)
        .and_then(|id| c.ok(positive_service_id(id)));
    let start = c.take("job_start_time", d.job_start_time);
    let duration = c
        .take("job_duration", d.job_duration)
        .and_then(|t| c.ok(non_negative_duration(t)));
    c.ok(repo_known(&d.repo_id, &d.repo_name));
    let triggered_by = d.triggered_by.filter(|t| !t.value.trim().is_empty());
    let job_type = d.job_type.filter(|t| !t.value.trim().is_empty());
    check_strings(
        &mut c,
        [
            ("job_id", &job_id, true),
            ("job_type", &job_type, false),
            ("triggered_by", &triggered_by, false),
            ("repo_id", &d.repo_id, true),
            ("repo_name", &d.repo_name, true),
        ],
    );
    let optional = c.ok(d.optional.and_then(|f| {
        fields::check_limits(&f).map_err(|e| e.0)?;
        Ok(f)
    }));
    match (
        job_id, status, commit, service_id, start, duration, optional,
    ) {
        (
            Some(job_id),
            Some(status),
            Some(commit),
            Some(service_id),
            Some(start),
            Some(duration),
            Some(optional),
        ) if c.errors.is_empty() => Ok(Checked {
            job_id,
            status,
            commit,
            service_id,
            start,
            duration,
            repo_id: d.repo_id,
            repo_name: d.repo_name,
            triggered_by,
            job_type,
            optional,
        }),
        _ => Err(c.errors),
    }
}

/// String fields: not blank (where that matters), no control characters.
fn check_strings(c: &mut Check, fields: [(&str, &Option<Sourced<String>>, bool); 5]) {
    for (name, v, not_empty) in fields {
        if let (Some(v), true) = (v, not_empty) {
            c.ok(not_blank(name, v));
        }
    }
    for (name, v, _) in fields {
        if let Some(v) = v {
            c.ok(no_control_chars(name, &v.value, &v.source));
        }
    }
}

impl Job {
    /// Checks every rule of the contract and makes the job, with the provenance of its base
    /// fields; `Err` lists every problem, each naming the field, the rule and the source.
    pub fn new(d: Draft) -> Result<(Job, Provenance), Vec<String>> {
        let k = check(d)?;
        let provenance = provenance(&[
            ("job_id", Some(k.job_id.clone())),
            ("status", Some(k.status.clone().map(|s| s.to_string()))),
            ("commit_sha", Some(k.commit.clone())),
            ("triggered_by", k.triggered_by.clone()),
            ("repo_id", k.repo_id.clone()),
            ("repo_name", k.repo_name.clone()),
            (
                "service_id",
                Some(k.service_id.clone().map(|s| s.to_string())),
            ),
            (
                "job_start_time",
                Some(
                    k.start
                        .clone()
                        .map(|t| format!("{t} ({})", crate::timefmt::format_rfc3339(t))),
                ),
            ),
            (
                "job_duration",
                Some(k.duration.clone().map(|t| t.to_string())),
            ),
            ("job_type", k.job_type.clone()),
        ]);
        let job = Job {
            job_id: k.job_id.value,
            status: k.status.value,
            commit_sha: k.commit.value,
            triggered_by: k.triggered_by.map(|t| t.value),
            repo_id: k.repo_id.map(|r| r.value),
            repo_name: k.repo_name.map(|r| r.value),
            service_id: k.service_id.value,
            job_start_time: k.start.value,
            job_duration: k.duration.value,
            job_type: k.job_type.map(|t| t.value),
            optional: k.optional,
        };
        Ok((job, provenance))
    }

    pub fn job_id(&self) -> &str {
        &self.job_id
    }

    pub fn status(&self) -> Status {
        self.status
    }

    pub fn commit_sha(&self) -> &str {
        &self.commit_sha
    }

    /// The repository as shown to people: its name, else its id.
    pub fn repo(&self) -> &str {
        self.repo_name
            .as_deref()
            .or(self.repo_id.as_deref())
            .unwrap_or_default()
    }

    pub fn service_id(&self) -> i64 {
        self.service_id
    }

    pub fn job_start_time(&self) -> i64 {
        self.job_start_time
    }

    pub fn job_duration(&self) -> i64 {
        self.job_duration
    }

    /// The payload as compact JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn provenance(fields: &[(&'static str, Option<Sourced<String>>)]) -> Provenance {
    fields
        .iter()
        .filter_map(|(name, v)| {
            v.as_ref()
                .map(|v| (*name, v.value.clone(), v.source.clone()))
        })
        .collect()
}

/// A full SHA (40 or 64 hex digits), lowercased.
fn full_sha(sha: Sourced<String>) -> Result<Sourced<String>, String> {
    let v = sha.value.trim();
    if git::is_full_sha(v) {
        return Ok(Sourced::new(v.to_ascii_lowercase(), sha.source.clone()));
    }
    Err(format!(
        "commit_sha must be a full 40- or 64-character hex SHA, got {:?} (from {})",
        sha.value, sha.source
    ))
}

fn positive_service_id(id: Sourced<i64>) -> Result<Sourced<i64>, String> {
    if id.value > 0 {
        return Ok(id);
    }
    Err(format!(
        "service_id must be a positive integer, got \"{}\" (from {})",
        id.value, id.source
    ))
}

fn non_negative_duration(d: Sourced<i64>) -> Result<Sourced<i64>, String> {
    if d.value >= 0 {
        return Ok(d);
    }
    Err(format!(
        "job_duration must be 0 or more seconds, got {} (from {})",
        d.value, d.source
    ))
}

fn repo_known(id: &Option<Sourced<String>>, name: &Option<Sourced<String>>) -> Result<(), String> {
    if id.is_some() || name.is_some() {
        return Ok(());
    }
    Err(
        "repo_id or repo_name is required: set --repo-name (owner/name) or --repo-id, or run in a \
         git checkout with an origin remote"
            .into(),
    )
}

/// Parses a time setting (`parse_timestamp`, `parse_duration`) keeping its source; the error
/// names the field, the rule and the source.
pub fn parse_seconds(
    value: &Sourced<String>,
    field: &str,
    parse: fn(&str) -> Result<i64, String>,
) -> Result<Sourced<i64>, String> {
    parse(&value.value)
        .map(|v| Sourced::new(v, value.source.clone()))
        .map_err(|e| format!("{field}: {e} (from {})", value.source))
}

/// A start time the user gave (flag, variable): parsed, and refused unless sane (from 2000 to a
/// day ahead of `now`). The error names the field, the rule and the source.
pub fn parse_start(value: &Sourced<String>, now: i64) -> Result<Sourced<i64>, String> {
    let t = parse_seconds(value, "job_start_time", crate::timefmt::parse_timestamp)?;
    crate::timefmt::check_sane(t.value, now)
        .map_err(|e| format!("job_start_time: {e} (from {})", t.source))?;
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s<T>(v: T) -> Input<T> {
        Some(Ok(Sourced::new(v, "test")))
    }

    fn complete() -> Draft {
        Draft {
            job_id: s("1".into()),
            status: s(Status::Succeeded),
            commit_sha: s("A2E7DA86CC392417B0D9F605B28038AAE80B002F".into()),
            repo_id: Some(Sourced::new("12345".into(), "test")),
            service_id: s(2),
            job_start_time: s(1_704_018_030),
            job_duration: s(300),
            optional: Ok(Vec::new()),
            ..Draft::default()
        }
    }

    #[test]
    fn a_complete_draft_makes_the_contracts_sample() {
        let (job, provenance) = Job::new(complete()).expect("valid");
        assert_eq!(
            serde_json::to_value(&job).expect("json"),
            serde_json::json!({"job_id": "1", "status": "Succeeded",
                "commit_sha": "a2e7da86cc392417b0d9f605b28038aae80b002f", "repo_id": "12345",
                "service_id": 2, "job_start_time": 1704018030, "job_duration": 300})
        );
        assert_eq!(provenance[0], ("job_id", "1".into(), "test".into()));
        assert_eq!(provenance.len(), 7);
    }

    #[test]
    fn every_broken_rule_is_reported_at_once() {
        let draft = Draft {
            job_id: s(" ".into()),
            status: None,
            commit_sha: s("abc".into()),
            repo_id: None,
            service_id: s(0),
            job_duration: s(-1),
            job_type: Some(Sourced::new("a\tb".into(), "test")),
            ..complete()
        };
        let errors = Job::new(draft).expect_err("invalid");
        let want = [
            "status is required",
            "commit_sha must be a full",
            "service_id must be a positive integer",
            "job_duration must be 0 or more",
            "repo_id or repo_name is required",
            "job_id must not be blank",
            "job_type must not contain control characters",
        ];
        assert_eq!(errors.len(), want.len(), "{errors:#?}");
        for (e, w) in errors.iter().zip(want) {
            assert!(e.starts_with(w), "{e:?} should start with {w:?}");
        }
    }
}
