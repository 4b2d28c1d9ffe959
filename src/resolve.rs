//! The job source of `report` and `run`: each field of the job resolved from its sources in
//! SPEC.md's order (flag, `ALLSTACKS_*` variable, the CI provider or the event it describes,
//! the git repository, a default), into a [`Draft`] that [`Job::new`] checks.
//!
//! Sources that cost something (git, the GitHub API) are closures, called only when nothing
//! earlier gave the value. Everything here is a function of its inputs: no environment, no
//! network, no clock of its own.

use std::path::Path;

use crate::checks;
use crate::context::{CiContext, ContextField, Provider};
use crate::env::Sourced;
use crate::fields::{self, FieldType, MAX_FIELDS, OptionalField};
use crate::git::{self, GitInfo};
use crate::job::{self, Draft, Input, Job, Provenance};
use crate::settings::{JobSettings, Scope};
use crate::status::{self, Status};

/// What the sources decided.
#[derive(Debug)]
pub enum Plan {
    /// Send this job. `provenance` lists `(field, value, source)` for `--dry-run`.
    Send {
        job: Box<Job>,
        provenance: Provenance,
    },
    /// Nothing is sent (status `skipped`, cancelled with `--cancelled-as skip`, an environment
    /// outside `--environments`, ...); `reason` says why, for a notice.
    Skip { reason: String },
}

/// Everything [`plan`] needs besides the settings.
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
    /// Where a short SHA or a ref name is resolved through git; `None` for a record of the
    /// outside world, whose commit must be given in full (a ref in a webhook body is not ours to
    /// look up).
    pub cwd: Option<&'a Path>,
    /// The OS user, the last resort for `triggered_by` outside CI.
    pub os_user: Option<String>,
    /// Whether a job with no start time starts now (a report from inside the job). A record of
    /// the past (`backfill`, `serve`) has its own times or is invalid.
    pub start_now: bool,
}

/// The job a record describes (an event, an API record, a webhook body, mapped by
/// [`crate::events`]), under the settings that are not per run (service id, job type, fields,
/// `--cancelled-as`, `--environments`, ...): the same precedence and contract as `report`, with
/// no git, state file, API lookup or clock to fill gaps.
pub fn plan_record(
    s: &JobSettings,
    record: &CiContext,
    now: i64,
    warnings: &mut Vec<String>,
) -> Result<Plan, Vec<String>> {
    let inputs = Inputs {
        ci: record,
        git: &GitInfo::default,
        api_start: &|_| None,
        state_start: None,
        wrapped: None,
        now,
        cwd: None,
        os_user: None,
        start_now: false,
    };
    plan(s, &inputs, warnings)
}

impl Inputs<'_> {
    /// The same inputs for another context.
    fn with_ci<'b>(&'b self, ci: &'b CiContext) -> Inputs<'b> {
        Inputs {
            ci,
            git: self.git,
            api_start: self.api_start,
            state_start: self.state_start.clone(),
            wrapped: self.wrapped.clone(),
            now: self.now,
            cwd: self.cwd,
            os_user: self.os_user.clone(),
            start_now: self.start_now,
        }
    }
}

/// `--environments` on a record that lists its deploy jobs ([`CiContext::deployed_to`]).
fn narrow(s: &JobSettings, ci: &CiContext) -> Option<Result<CiContext, String>> {
    if s.environments.is_empty() {
        return None;
    }
    let filter = format!("--environments ({})", s.environments.join(","));
    let matches = |e: &str| crate::glob::any(&s.environments, e);
    ci.deployed_to(&matches, &filter)
        .map(|r| r.map_err(|why| format!("{why}: nothing is sent")))
}

/// What `run` knows about the command it wrapped.
#[derive(Debug, Clone)]
pub struct Wrapped {
    pub start: i64,
    /// `exit code 0`, `exit code 3`, `signal 9`.
    pub status: Sourced<String>,
}

/// Resolves and validates the job; `Err` lists every problem found, each naming the field, the
/// rule and where the value came from. `warnings` collects what was skipped or guessed.
pub fn plan(
    s: &JobSettings,
    inputs: &Inputs,
    warnings: &mut Vec<String>,
) -> Result<Plan, Vec<String>> {
    warnings.extend(inputs.ci.warnings.iter().cloned());
    // A pipeline that lists its deploy jobs is, under an environment filter, the deployment
    // of its matching job (or none).
    let narrowed;
    let inputs = match narrow(s, inputs.ci) {
        Some(Err(reason)) => return Ok(Plan::Skip { reason }),
        Some(Ok(ci)) => {
            narrowed = ci;
            inputs.with_ci(&narrowed)
        }
        None => inputs.with_ci(inputs.ci),
    };
    let inputs = &inputs;
    let git_cell = std::cell::OnceCell::new();
    let git = || git_cell.get_or_init(|| (inputs.git)());
    let planned = plan_with(s, inputs, &git, warnings);
    if let Some(info) = git_cell.get() {
        warnings.extend(info.warnings.iter().cloned());
    }
    planned
}

fn plan_with<'g>(
    s: &JobSettings,
    inputs: &Inputs,
    git: &impl Fn() -> &'g GitInfo,
    warnings: &mut Vec<String>,
) -> Result<Plan, Vec<String>> {
    if let (Some(_), Some(given)) = (&inputs.wrapped, &s.status) {
        warnings.push(format!(
            "ignoring status {:?} (from {}): `run` takes the status from the command's exit",
            given.value, given.source
        ));
    }
    // What is not reported at all needs nothing else.
    if let Some(reason) = not_reported(s, inputs.ci) {
        return Ok(Plan::Skip { reason });
    }
    let status = match resolve_status(s, inputs) {
        Resolved::Skip(reason) => return Ok(Plan::Skip { reason }),
        Resolved::Status(status) => status,
    };
    let ci = inputs.ci;
    let commit = resolve_commit(s, inputs, git);
    let start = resolve_start(s, inputs, warnings);
    let duration = resolve_duration(s, inputs, start.as_ref(), warnings);
    let repo_name = s
        .repo_name
        .clone()
        .or_else(|| ci.repo_name.clone())
        .or_else(|| git().repo_name.clone());
    let draft = Draft {
        job_id: resolve_job_id(s, ci, repo_name.as_ref(), commit.as_ref(), start.as_ref()),
        status,
        repo_id: s.repo_id.clone().or_else(|| ci.repo_id.clone()),
        repo_name,
        triggered_by: resolve_triggered_by(s, inputs, git),
        service_id: resolve_service_id(s),
        commit_sha: commit,
        job_start_time: start,
        job_duration: duration,
        job_type: s.job_type.clone(),
        optional: optional_fields(s, ci, warnings),
    };
    let (job, mut provenance) = Job::new(draft)?;
    provenance.insert(
        0,
        ("provider", ci.provider.id().to_string(), "detected".into()),
    );
    Ok(Plan::Send {
        job: Box::new(job),
        provenance,
    })
}

/// Why a job is not reported at all: a deployment state outside `--deployment-states` (or
/// `inactive`), a job that does not deploy (under scope `job`), an environment outside
/// `--environments`. `None` to report it.
fn not_reported(s: &JobSettings, ci: &CiContext) -> Option<String> {
    if let Some(state) = &ci.deployment_state {
        if state.value.eq_ignore_ascii_case("inactive") {
            return Some(format!(
                "deployment state \"inactive\" (from {}) is never reported (a later deployment \
                 replaced this one): nothing is sent",
                state.source
            ));
        }
        if !crate::events::github::state_reported(&state.value, &s.deployment_states) {
            return Some(format!(
                "deployment state {:?} (from {}) is not one of --deployment-states ({}): \
                 nothing is sent",
                state.value,
                state.source,
                s.deployment_states.join(",")
            ));
        }
    }
    if let (Some(why), Scope::Job) = (&ci.not_a_deployment, s.scope) {
        return Some(format!("{why}: nothing is sent"));
    }
    if s.environments.is_empty() {
        return None;
    }
    let list = s.environments.join(",");
    match environment(s, ci) {
        None => Some(format!(
            "no environment was detected, and --environments ({list}) reports only jobs that \
             deploy to one of those (a script can say it with --environment or --field \
             environment=): nothing is sent"
        )),
        Some((e, source)) if !crate::glob::any(&s.environments, &e) => {
            let from = source.map_or(String::new(), |s| format!(" (from {s})"));
            Some(format!(
                "environment {e:?}{from} is not one of --environments ({list}): nothing is sent"
            ))
        }
        Some(_) => None,
    }
}

/// The environment `--environments` matches: the user's `environment` field (its first value),
/// else `--environment`, else the CI provider's or the event's (whose source goes unsaid).
fn environment(s: &JobSettings, ci: &CiContext) -> Option<(String, Option<String>)> {
    let user = user_fields(s).ok().and_then(|fields| {
        let f = fields.into_iter().find(|f| f.key == "environment")?;
        let value = f.values.first()?.as_str()?.to_string();
        Some(Sourced::new(value, f.source))
    });
    match user.or_else(|| s.environment.clone()) {
        Some(given) => Some((given.value, Some(given.source))),
        None => ci.environment().map(|e| (e.to_string(), None)),
    }
}

enum Resolved {
    Status(Input<Status>),
    Skip(String),
}

/// The wrapped command (`run`), else `--status`, else `--needs-json`, else the provider's (or
/// the event's) status, else `--default-status`; then `--cancelled-as`.
fn resolve_status(s: &JobSettings, inputs: &Inputs) -> Resolved {
    let outcome = status_word(s, inputs);
    match outcome {
        None => Resolved::Status(None),
        Some(Err(e)) => Resolved::Status(Some(Err(e))),
        Some(Ok(Sourced { value, source })) => match s.cancelled_as.apply(value) {
            Some(st) => Resolved::Status(Some(Ok(Sourced::new(st, source)))),
            None => Resolved::Skip(format!(
                "status is skipped (from {source}): nothing is sent"
            )),
        },
    }
}

fn status_word(s: &JobSettings, inputs: &Inputs) -> Input<status::Outcome> {
    let word = |w: &Sourced<String>| {
        status::parse(&w.value)
            .map(|o| Sourced::new(o, w.source.clone()))
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
        return Some(word(&w.status));
    }
    if let Some(w) = &s.status {
        return Some(word(w));
    }
    if let Some(n) = &s.needs_json {
        return Some(
            status::from_needs_json(&n.value)
                .map(|o| Sourced::new(o, n.source.clone()))
                .map_err(|e| format!("needs JSON (from {}) {e}", n.source)),
        );
    }
    inputs
        .ci
        .status
        .as_ref()
        .or(s.default_status.as_ref())
        .map(word)
}

fn resolve_service_id(s: &JobSettings) -> Input<i64> {
    let v = s.service_id.as_ref()?;
    Some(
        v.value
            .trim()
            .parse::<i64>()
            .map(|n| Sourced::new(n, v.source.clone()))
            .map_err(|_| {
                format!(
                    "service_id must be a positive integer, got {:?} (from {})",
                    v.value, v.source
                )
            }),
    )
}

/// A full SHA as given, a short SHA or ref resolved through git, else git `HEAD`.
fn resolve_commit<'g>(
    s: &JobSettings,
    inputs: &Inputs,
    git: &impl Fn() -> &'g GitInfo,
) -> Input<String> {
    let Some(c) = s
        .commit_sha
        .clone()
        .or_else(|| inputs.ci.commit_sha.clone())
    else {
        return git().head.clone().map(Ok);
    };
    let v = c.value.trim();
    let Some(cwd) = inputs.cwd.filter(|_| !git::is_full_sha(v) && !v.is_empty()) else {
        // A full SHA, or a record's commit: `Job::new` checks it.
        return Some(Ok(c));
    };
    if let Some(full) = git::resolve(cwd, v) {
        return Some(Ok(Sourced::new(
            full,
            format!("{} {v:?} resolved through git", c.source),
        )));
    }
    Some(Err(format!(
        "commit_sha must be a full 40- or 64-character hex SHA, got {:?} (from {}); it could not \
         be resolved through a local git repository",
        c.value, c.source
    )))
}

/// The flag or provider's user; outside CI, git `user.email`, else the OS user.
fn resolve_triggered_by<'g>(
    s: &JobSettings,
    inputs: &Inputs,
    git: &impl Fn() -> &'g GitInfo,
) -> Option<Sourced<String>> {
    let ci = inputs.ci;
    s.triggered_by
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
        })
}

/// SPEC.md's order: flag/variable, `start` state file, provider time for the scope, GitHub API,
/// the wrapped command's start, now (with a warning). A job described by an event (a GitHub
/// deployment, a watched run) has its own times, which beat the state file of the reporting job.
fn resolve_start(s: &JobSettings, inputs: &Inputs, warnings: &mut Vec<String>) -> Input<i64> {
    if let Some(t) = &s.job_start_time {
        return Some(job::parse_start(t, inputs.now));
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
    let state = inputs.state_start.clone();
    let found = if ci.event.is_some() {
        provider.or(state)
    } else {
        state.or(provider)
    };
    let found = found.or_else(|| (inputs.api_start)(s.scope)).or_else(|| {
        let w = inputs.wrapped.as_ref()?;
        Some(Sourced::new(w.start, "start of the wrapped command"))
    });
    if found.is_some() || !inputs.start_now {
        return found.map(Ok);
    }
    warnings.push(
        "no start time known (no --job-start-time, `allstacks-cd start` or CI start time): \
         using now, so the duration is 0"
            .into(),
    );
    Some(Ok(Sourced::new(inputs.now, "now")))
}

/// `--job-duration`, else the end (the event's, or now) minus the start, never negative.
fn resolve_duration(
    s: &JobSettings,
    inputs: &Inputs,
    start: Option<&Result<Sourced<i64>, String>>,
    warnings: &mut Vec<String>,
) -> Input<i64> {
    if let Some(d) = &s.job_duration {
        return Some(job::parse_seconds(
            d,
            "job_duration",
            crate::timefmt::parse_duration,
        ));
    }
    let st = start?.as_ref().ok()?;
    // The record's own running time (GitLab's, which leaves out the time queued).
    if let Some(d) = &inputs.ci.duration {
        return Some(Ok(d.clone()));
    }
    let (end, what, after) = match &inputs.ci.finished {
        Some(f) => (
            f.value,
            format!("{} - job_start_time", f.source),
            format!("after {}", f.source),
        ),
        None => (
            inputs.now,
            "now - job_start_time".to_string(),
            "in the future".to_string(),
        ),
    };
    if st.value > end {
        warnings.push(format!(
            "job_start_time {} (from {}) is {after}: duration set to 0",
            st.value, st.source
        ));
    }
    Some(Ok(Sourced::new((end - st.value).max(0), what)))
}

/// The flag, else the provider's id for the scope (a number each repository counts on its own
/// as `{repo_name}#{number}`), else `{first 12 of sha}-{start}`.
fn resolve_job_id(
    s: &JobSettings,
    ci: &CiContext,
    repo_name: Option<&Sourced<String>>,
    commit: Option<&Result<Sourced<String>, String>>,
    start: Option<&Result<Sourced<i64>, String>>,
) -> Input<String> {
    let pipeline = || {
        ci.pipeline_id
            .clone()
            .map(|id| (id, ci.pipeline_id_per_repo))
    };
    let provider = match s.scope {
        Scope::Pipeline => pipeline(),
        Scope::Job => ci
            .job_id
            .clone()
            .map(|id| (id, ci.job_id_per_repo))
            .or_else(pipeline),
    };
    let provider = provider.map(|(id, per_repo)| match repo_name {
        Some(repo) if per_repo => Sourced::new(
            format!("{}#{}", repo.value.trim(), id.value),
            format!("{}, {}", repo.source, id.source),
        ),
        _ => id,
    });
    let found = s.job_id.clone().or(provider).or_else(|| {
        let sha = commit?.as_ref().ok()?;
        let st = start?.as_ref().ok()?;
        let short = sha.value.get(..12)?;
        Some(Sourced::new(
            format!("{short}-{}", st.value),
            "commit_sha, job_start_time",
        ))
    });
    found.map(Ok)
}

/// The user's fields, then the context fields that fit.
fn optional_fields(
    s: &JobSettings,
    ci: &CiContext,
    warnings: &mut Vec<String>,
) -> Result<Vec<OptionalField>, String> {
    let user = user_fields(s)?;
    let context = if s.no_context {
        Vec::new()
    } else {
        context_fields(s, ci)
    };
    Ok(merge_context(user, context, warnings))
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

/// The provider's context fields; `--environment` replaces its `environment`.
fn context_fields(s: &JobSettings, ci: &CiContext) -> Vec<ContextField> {
    let mut out = Vec::new();
    if ci.provider != Provider::Local {
        out.push(ContextField::text("ci_provider", ci.provider.id()));
    }
    let given = s.environment.as_ref();
    out.extend(
        ci.context
            .iter()
            .filter(|c| given.is_none() || c.key != "environment")
            .cloned(),
    );
    if let Some(e) = given {
        out.push(ContextField::text("environment", e.value.clone()));
    }
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
        if let Err(e) = checks::no_control_chars(c.key, &c.value, "CI context") {
            warnings.push(format!("context field left out: {e}"));
            continue;
        }
        if user.len() >= MAX_FIELDS {
            dropped.push(c.key);
            continue;
        }
        let (ty, values) = match c.typed {
            // At most MAX_VALUES values in one field (a run with many pull requests).
            Some((ty, values)) => (
                ty,
                values
                    .into_iter()
                    .take(fields::MAX_VALUES)
                    .map(serde_json::Value::from)
                    .collect(),
            ),
            None => (FieldType::String, vec![serde_json::Value::from(c.value)]),
        };
        user.push(OptionalField {
            key: c.key.to_string(),
            ty,
            values,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::github::{Repository, WorkflowRun, workflow_run};

    fn settings() -> JobSettings {
        JobSettings {
            service_id: Some(Sourced::new("7".into(), "test")),
            ..JobSettings::default()
        }
    }

    fn run(head_sha: &str) -> CiContext {
        let repo = Repository {
            full_name: Some("acme/web".into()),
            id: Some(1),
        };
        let run = WorkflowRun {
            id: 42,
            head_sha: Some(head_sha.into()),
            status: Some("completed".into()),
            conclusion: Some("success".into()),
            run_started_at: Some("2026-05-01T10:00:00Z".into()),
            updated_at: Some("2026-05-01T10:05:00Z".into()),
            ..WorkflowRun::default()
        };
        workflow_run(&repo, &run, None, "webhook")
    }

    #[test]
    fn a_record_is_a_valid_job_with_its_own_times() {
        let mut warnings = Vec::new();
        let sha = "a2e7da86cc392417b0d9f605b28038aae80b002f";
        let planned = plan_record(&settings(), &run(sha), 1_800_000_000, &mut warnings);
        let Ok(Plan::Send { job, .. }) = planned else {
            panic!("{planned:?}");
        };
        assert_eq!(job.job_id(), "42-1");
        assert_eq!(job.commit_sha(), sha);
        assert_eq!(job.job_duration(), 300);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn a_records_commit_is_never_looked_up_in_a_local_repository() {
        // The process runs in this crate's own checkout, where HEAD resolves.
        for given in ["HEAD", "main", "a2e7da8"] {
            let mut warnings = Vec::new();
            let errors = plan_record(&settings(), &run(given), 1_800_000_000, &mut warnings)
                .expect_err("a short SHA in a record");
            assert!(
                errors[0].starts_with(&format!(
                    "commit_sha must be a full 40- or 64-character hex SHA, got {given:?}"
                )),
                "{errors:?}"
            );
        }
    }

    #[test]
    fn a_number_counted_per_repository_goes_after_the_repository() {
        let mut ci = CiContext::new(Provider::Drone);
        ci.pipeline_id = Some(Sourced::new("12".into(), "DRONE_BUILD_NUMBER"));
        ci.pipeline_id_per_repo = true;
        let repo = Sourced::new("acme/web".to_string(), "DRONE_REPO");
        let id = |s: &JobSettings, repo: Option<&Sourced<String>>| {
            resolve_job_id(s, &ci, repo, None, None).unwrap().unwrap()
        };
        let global = CiContext {
            pipeline_id_per_repo: false,
            ..ci.clone()
        };
        let got = id(&settings(), Some(&repo));
        assert_eq!(
            (got.value.as_str(), got.source.as_str()),
            ("acme/web#12", "DRONE_REPO, DRONE_BUILD_NUMBER")
        );
        assert_eq!(id(&settings(), None).value, "12", "no repository known");
        let given = JobSettings {
            job_id: Some(Sourced::new("release-12".into(), "--job-id")),
            ..settings()
        };
        assert_eq!(id(&given, Some(&repo)).value, "release-12");
        let got = resolve_job_id(&settings(), &global, Some(&repo), None, None);
        assert_eq!(got.unwrap().unwrap().value, "12", "a global id");
    }
}
