//! The payload and every rule of the webhook contract. [`build`] turns settings plus what was
//! detected into a validated [`Job`] (or says why not); nothing after it re-parses strings.

use std::path::Path;

use serde::Serialize;

use crate::ci::{CiContext, ContextField, Provider};
use crate::env::Sourced;
use crate::fields::{self, FieldType, MAX_FIELDS, OptionalField};
use crate::git::{self, GitInfo};
use crate::settings::{JobSettings, Scope};
use crate::status::{self, Status};

/// The JSON document the webhook receives, in the order of CONTRACT.md's sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub job_id: String,
    pub status: Status,
    pub commit_sha: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggered_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo_name: Option<String>,
    pub service_id: i64,
    pub job_start_time: i64,
    pub job_duration: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_type: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub optional: Vec<OptionalField>,
}

/// What `build` decided.
#[derive(Debug)]
pub enum Plan {
    /// Send this job. `provenance` lists `(field, value, source)` for `--dry-run`.
    Send {
        job: Box<Job>,
        provenance: Vec<(&'static str, String, String)>,
    },
    /// Nothing is sent (status `skipped`, or cancelled with `--cancelled-as skip`).
    Skip { reason: String },
}

/// Everything [`build`] needs besides the settings. Lazily computed sources are closures so a
/// value given by flag never costs a git lookup or an API call.
pub struct Inputs<'a> {
    pub ci: &'a CiContext,
    pub git: &'a dyn Fn() -> GitInfo,
    /// The GitHub API start time (network); called only when nothing earlier gave a start.
    pub api_start: &'a dyn Fn(Scope) -> Option<Sourced<i64>>,
    /// Start recorded by `allstacks-cd start`.
    pub state_start: Option<Sourced<i64>>,
    /// `run`: the wrapped command's start and the status word from its exit.
    pub wrapped: Option<Wrapped>,
    pub now: i64,
    pub cwd: &'a Path,
    /// The OS user, the last resort for `triggered_by` outside CI.
    pub os_user: Option<String>,
}

/// What `run` knows about the command it wrapped.
#[derive(Debug, Clone)]
pub struct Wrapped {
    pub start: i64,
    /// `exit code 0`, `exit code 3`, `signal 9`.
    pub status: Sourced<String>,
}

/// Builds and validates the job; `Err` lists every problem found, each naming the field, the
/// rule and where the value came from. `warnings` collects what was skipped or guessed.
pub fn build(
    s: &JobSettings,
    inputs: &Inputs,
    warnings: &mut Vec<String>,
) -> Result<Plan, Vec<String>> {
    warnings.extend(inputs.ci.warnings.iter().cloned());
    let git_cell = std::cell::OnceCell::new();
    let plan = build_with(s, inputs, warnings, &git_cell);
    if let Some(info) = git_cell.get() {
        warnings.extend(info.warnings.iter().cloned());
    }
    plan
}

fn build_with(
    s: &JobSettings,
    inputs: &Inputs,
    warnings: &mut Vec<String>,
    git_cell: &std::cell::OnceCell<GitInfo>,
) -> Result<Plan, Vec<String>> {
    let mut errors = Vec::new();
    let ci = inputs.ci;
    let git = || git_cell.get_or_init(|| (inputs.git)());

    if let (Some(_), Some(given)) = (&inputs.wrapped, &s.status) {
        warnings.push(format!(
            "ignoring status {:?} (from {}): `run` takes the status from the command's exit",
            given.value, given.source
        ));
    }
    // status first: a skipped job needs nothing else.
    let status = match resolve_status(s, inputs) {
        Ok(Some(st)) => Some(st),
        Ok(None) => None,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let status = match status {
        None => None,
        Some((outcome, src)) => match s.cancelled_as.apply(outcome) {
            Some(st) => Some(Sourced::new(st, src)),
            None => {
                return Ok(Plan::Skip {
                    reason: format!("status is skipped (from {src}): nothing is sent"),
                });
            }
        },
    };

    let service_id = match &s.service_id {
        None => {
            errors.push(
                "service_id is required: set --service-id or ALLSTACKS_SERVICE_ID to the ID of \
                 your Custom CD service"
                    .into(),
            );
            None
        }
        Some(v) => match v.value.trim().parse::<i64>() {
            Ok(n) if n > 0 => Some(Sourced::new(n, v.source.clone())),
            _ => {
                errors.push(format!(
                    "service_id must be a positive integer, got {:?} (from {})",
                    v.value, v.source
                ));
                None
            }
        },
    };

    let commit = resolve_commit(s, inputs, &git, &mut errors);

    let repo_id = s.repo_id.clone().or_else(|| ci.repo_id.clone());
    let repo_name = s
        .repo_name
        .clone()
        .or_else(|| ci.repo_name.clone())
        .or_else(|| git().repo_name.clone());
    for (name, v) in [("repo_id", &repo_id), ("repo_name", &repo_name)] {
        if let Some(v) = v {
            if v.value.trim().is_empty() {
                errors.push(format!("{name} must not be blank (from {})", v.source));
            }
        }
    }
    if repo_id.is_none() && repo_name.is_none() {
        errors.push(
            "repo_id or repo_name is required: set --repo-name (owner/name) or --repo-id, or run \
             in a git checkout with an origin remote"
                .into(),
        );
    }

    let triggered_by = s
        .triggered_by
        .clone()
        .or_else(|| ci.triggered_by.clone())
        .or_else(|| {
            if ci.provider.is_ci() {
                return None;
            }
            git()
                .user_email
                .clone()
                .or_else(|| inputs.os_user.clone().map(|u| Sourced::new(u, "OS user")))
        });

    let start = resolve_start(s, inputs, warnings, &mut errors);
    let duration = match &s.job_duration {
        Some(d) => parse_seconds(d, "job_duration", crate::timefmt::parse_duration)
            .map_err(|e| errors.push(e))
            .ok(),
        None => start.as_ref().map(|st| {
            if st.value > inputs.now {
                warnings.push(format!(
                    "job_start_time {} (from {}) is in the future: duration set to 0",
                    st.value, st.source
                ));
            }
            Sourced::new((inputs.now - st.value).max(0), "now - job_start_time")
        }),
    };

    let job_id = s
        .job_id
        .clone()
        .or_else(|| match s.scope {
            Scope::Pipeline => ci.pipeline_id.clone(),
            Scope::Job => ci.job_id.clone().or_else(|| ci.pipeline_id.clone()),
        })
        .or_else(|| {
            let (sha, st) = (commit.as_ref()?, start.as_ref()?);
            Some(Sourced::new(
                format!("{}-{}", &sha.value[..12], st.value),
                "commit_sha, job_start_time",
            ))
        });
    if let Some(id) = &job_id {
        if id.value.trim().is_empty() {
            errors.push(format!("job_id must not be blank (from {})", id.source));
        }
    }

    let job_type = s.job_type.clone().filter(|t| !t.value.trim().is_empty());
    for (name, v) in [
        ("job_id", &job_id),
        ("job_type", &job_type),
        ("triggered_by", &triggered_by),
        ("repo_id", &repo_id),
        ("repo_name", &repo_name),
    ] {
        if let Some(v) = v {
            if let Err(e) = no_control_chars(name, &v.value, &v.source) {
                errors.push(e);
            }
        }
    }

    let optional = match user_fields(s) {
        Ok(user) => {
            let context = if s.no_context {
                Vec::new()
            } else {
                context_fields(ci)
            };
            merge_context(user, context, warnings)
        }
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    // Every required part is Some here: each None above pushed an error.
    let (Some(status), Some(service_id), Some(commit), Some(start), Some(duration), Some(job_id)) =
        (status, service_id, commit, start, duration, job_id)
    else {
        return Err(vec![
            "status is required: pass --status (e.g. success or failed) or \
                         ALLSTACKS_STATUS"
                .into(),
        ]);
    };
    let mut provenance = vec![
        (
            "provider",
            ci.provider.id().to_string(),
            "detected".to_string(),
        ),
        ("job_id", job_id.value.clone(), job_id.source),
        ("status", status.value.to_string(), status.source),
        ("commit_sha", commit.value.clone(), commit.source),
    ];
    let mut push = |name, v: &Option<Sourced<String>>| {
        if let Some(v) = v {
            provenance.push((name, v.value.clone(), v.source.clone()));
        }
    };
    push("triggered_by", &triggered_by);
    push("repo_id", &repo_id);
    push("repo_name", &repo_name);
    provenance.push((
        "service_id",
        service_id.value.to_string(),
        service_id.source,
    ));
    provenance.push((
        "job_start_time",
        format!(
            "{} ({})",
            start.value,
            crate::timefmt::format_rfc3339(start.value)
        ),
        start.source,
    ));
    provenance.push(("job_duration", duration.value.to_string(), duration.source));
    if let Some(t) = &job_type {
        provenance.push(("job_type", t.value.clone(), t.source.clone()));
    }
    let job = Job {
        job_id: job_id.value,
        status: status.value,
        commit_sha: commit.value,
        triggered_by: triggered_by
            .map(|t| t.value)
            .filter(|t| !t.trim().is_empty()),
        repo_id: repo_id.map(|r| r.value),
        repo_name: repo_name.map(|r| r.value),
        service_id: service_id.value,
        job_start_time: start.value,
        job_duration: duration.value,
        job_type: job_type.map(|t| t.value),
        optional,
    };
    Ok(Plan::Send {
        job: Box::new(job),
        provenance,
    })
}

/// Refuses a value with control characters (line breaks, tabs, terminal escapes): it would be
/// stored as is and shown in logs and dashboards. Names the field, the rule and the source.
pub fn no_control_chars(field: &str, value: &str, source: &str) -> Result<(), String> {
    if !value.chars().any(char::is_control) {
        return Ok(());
    }
    Err(format!(
        "{field} must not contain control characters (line breaks, tabs, terminal escapes), \
         got {value:?} (from {source})"
    ))
}

/// A start time the user gave (flag, variable): parsed, and refused unless sane (from 2000 to a
/// day ahead of `now`). The error names the field, the rule and the source.
pub fn parse_start(value: &Sourced<String>, now: i64) -> Result<Sourced<i64>, String> {
    let t = parse_seconds(value, "job_start_time", crate::timefmt::parse_timestamp)?;
    crate::timefmt::check_sane(t.value, now)
        .map_err(|e| format!("job_start_time: {e} (from {})", t.source))?;
    Ok(t)
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

/// The wrapped command (`run`), else `--status`, else `--needs-json`, else the provider's variable.
fn resolve_status(
    s: &JobSettings,
    inputs: &Inputs,
) -> Result<Option<(status::Outcome, String)>, String> {
    let word = |w: &Sourced<String>| {
        status::parse(&w.value)
            .map(|o| (o, w.source.clone()))
            .ok_or_else(|| {
                format!(
                    "status {:?} (from {}) is not a known status word; accepted: {}",
                    w.value,
                    w.source,
                    status::ACCEPTED
                )
            })
    };
    if let Some(w) = &inputs.wrapped {
        return word(&w.status).map(Some);
    }
    if let Some(w) = &s.status {
        return word(w).map(Some);
    }
    if let Some(n) = &s.needs_json {
        return status::from_needs_json(&n.value)
            .map(|o| Some((o, n.source.clone())))
            .map_err(|e| format!("needs JSON (from {}) {e}", n.source));
    }
    if let Some(w) = &inputs.ci.status {
        return word(w).map(Some);
    }
    Err(
        "status is required: pass --status (e.g. success or failed) or ALLSTACKS_STATUS; \
         it is read by itself only from GitLab, Azure, Drone, Woodpecker, Bitbucket or \
         --needs-json"
            .into(),
    )
}

fn resolve_commit<'g>(
    s: &JobSettings,
    inputs: &Inputs,
    git: &impl Fn() -> &'g GitInfo,
    errors: &mut Vec<String>,
) -> Option<Sourced<String>> {
    let given = s
        .commit_sha
        .clone()
        .or_else(|| inputs.ci.commit_sha.clone());
    match given {
        Some(c) => {
            let v = c.value.trim();
            if git::is_full_sha(v) {
                return Some(Sourced::new(v.to_ascii_lowercase(), c.source));
            }
            if !v.is_empty() {
                if let Some(full) = git::resolve(inputs.cwd, v) {
                    return Some(Sourced::new(
                        full,
                        format!("{} {v:?} resolved through git", c.source),
                    ));
                }
            }
            errors.push(format!(
                "commit_sha must be a full 40- or 64-character hex SHA, got {:?} (from {}); it \
                 could not be resolved through a local git repository",
                c.value, c.source
            ));
            None
        }
        None => match git().head.clone() {
            Some(h) => Some(h),
            None => {
                errors.push(
                    "commit_sha is required: set --commit-sha or ALLSTACKS_COMMIT_SHA, or run \
                     inside a git checkout with at least one commit"
                        .into(),
                );
                None
            }
        },
    }
}

/// SPEC.md's order: flag/variable, `start` state file, provider time for the scope, GitHub API,
/// the wrapped command's start, now (with a warning).
fn resolve_start(
    s: &JobSettings,
    inputs: &Inputs,
    warnings: &mut Vec<String>,
    errors: &mut Vec<String>,
) -> Option<Sourced<i64>> {
    if let Some(t) = &s.job_start_time {
        return parse_start(t, inputs.now).map_err(|e| errors.push(e)).ok();
    }
    let ci = inputs.ci;
    // A provider's time is outside input: an insane one is skipped with a warning.
    let mut sane = |t: Option<Sourced<i64>>| {
        let t = t?;
        match crate::timefmt::check_sane(t.value, inputs.now) {
            Ok(()) => Some(t),
            Err(e) => {
                warnings.push(format!("ignoring {}: {e}", t.source));
                None
            }
        }
    };
    let provider = match s.scope {
        Scope::Pipeline => sane(ci.pipeline_started.clone()),
        Scope::Job => sane(ci.job_started.clone()).or_else(|| sane(ci.pipeline_started.clone())),
    };
    inputs
        .state_start
        .clone()
        .or(provider)
        .or_else(|| (inputs.api_start)(s.scope))
        .or_else(|| {
            inputs
                .wrapped
                .as_ref()
                .map(|w| Sourced::new(w.start, "start of the wrapped command"))
        })
        .or_else(|| {
            warnings.push(
                "no start time known (no --job-start-time, `allstacks-cd start` or CI start \
                 time): using now, so the duration is 0"
                    .into(),
            );
            Some(Sourced::new(inputs.now, "now"))
        })
}

fn user_fields(s: &JobSettings) -> Result<Vec<OptionalField>, String> {
    let from_specs = fields::from_specs(&s.field_specs).map_err(|e| e.0)?;
    let from_json = match &s.fields_json {
        Some(j) => fields::from_json(&j.value, &j.source).map_err(|e| e.0)?,
        None => Vec::new(),
    };
    let all = fields::combine(from_specs, from_json).map_err(|e| e.0)?;
    fields::check_limits(&all).map_err(|e| e.0)?;
    Ok(all)
}

fn context_fields(ci: &CiContext) -> Vec<ContextField> {
    let mut out = Vec::new();
    if ci.provider != Provider::Local {
        out.push(ContextField {
            key: "ci_provider",
            value: ci.provider.id().to_string(),
        });
    }
    out.extend(ci.context.iter().cloned());
    out
}

/// User fields first; context fields fill the room left under the limit, each only if the
/// user did not set that key.
fn merge_context(
    mut user: Vec<OptionalField>,
    context: Vec<ContextField>,
    warnings: &mut Vec<String>,
) -> Vec<OptionalField> {
    let mut dropped = Vec::new();
    for c in context {
        if user.iter().any(|f| f.key == c.key) {
            continue;
        }
        // A provider's value is outside input: a control character drops the field, not the
        // report.
        if let Err(e) = no_control_chars(c.key, &c.value, "CI context") {
            warnings.push(format!("context field left out: {e}"));
            continue;
        }
        if user.len() >= MAX_FIELDS {
            dropped.push(c.key);
            continue;
        }
        user.push(OptionalField {
            key: c.key.to_string(),
            ty: FieldType::String,
            values: vec![serde_json::Value::from(c.value)],
            source: "CI context".into(),
        });
    }
    if !dropped.is_empty() {
        warnings.push(format!(
            "context fields {} left out: the webhook takes at most {MAX_FIELDS} optional fields",
            dropped.join(", ")
        ));
    }
    user
}
