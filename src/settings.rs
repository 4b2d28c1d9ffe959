//! Flags and `ALLSTACKS_*` variables merged into one [`Settings`], once.
//!
//! Precedence for every setting: flag, then variable (empty counts as unset). Values stay
//! tagged with where they came from, so errors and `--dry-run` can name the source. Problems
//! are collected rather than returned at the first one: the user sees them all at once.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::cli::{ConnArgs, JobArgs};
use crate::env::{Env, Sourced, parse_bool};
use crate::status::CancelledAs;

/// Whether default `job_id` and start time describe this CI job or the whole pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    Job,
    #[default]
    Pipeline,
}

/// The job's settings as given (parsed into the payload by [`crate::job`]).
#[derive(Debug, Clone, Default)]
pub struct JobSettings {
    pub service_id: Option<Sourced<String>>,
    pub status: Option<Sourced<String>>,
    pub job_id: Option<Sourced<String>>,
    pub commit_sha: Option<Sourced<String>>,
    pub repo_id: Option<Sourced<String>>,
    pub repo_name: Option<Sourced<String>>,
    pub triggered_by: Option<Sourced<String>>,
    pub job_type: Option<Sourced<String>>,
    pub job_start_time: Option<Sourced<String>>,
    pub job_duration: Option<Sourced<String>>,
    pub scope: Scope,
    /// `--field` specs, or `ALLSTACKS_FIELDS` lines when no flag is given.
    pub field_specs: Vec<Sourced<String>>,
    pub fields_json: Option<Sourced<String>>,
    pub no_context: bool,
    pub cancelled_as: CancelledAs,
    pub needs_json: Option<Sourced<String>>,
    pub state_file: Option<PathBuf>,
    /// `--environments`: name globs; empty means every job.
    pub environments: Vec<String>,
    /// `--environment`: the environment this job deploys to, above the CI provider's.
    pub environment: Option<Sourced<String>>,
    /// `--deployment-states`, lower case.
    pub deployment_states: Vec<String>,
    /// `--default-status`: below every other status source.
    pub default_status: Option<Sourced<String>>,
}

/// How to deliver.
#[derive(Debug, Clone)]
pub struct DeliverySettings {
    pub url: Option<Sourced<String>>,
    pub company_id: Option<Sourced<String>>,
    /// Never printed; `Ui::add_secret` masks it everywhere.
    pub token: Option<String>,
    /// A token was given but refused (the error says why), so "token is required" would be
    /// wrong.
    pub token_refused: bool,
    pub dry_run: bool,
    pub strict: bool,
    pub timeout: Duration,
    pub retries: u32,
    pub ca_cert: Option<PathBuf>,
    pub allow_http: bool,
    pub outbox: Option<PathBuf>,
    pub output_json: bool,
    pub verbosity: i8,
}

impl Default for DeliverySettings {
    fn default() -> DeliverySettings {
        DeliverySettings {
            url: None,
            company_id: None,
            token: None,
            token_refused: false,
            dry_run: false,
            strict: false,
            timeout: Duration::from_secs(60),
            retries: 3,
            ca_cert: None,
            allow_http: false,
            outbox: None,
            output_json: false,
            verbosity: 0,
        }
    }
}

/// The `ALLSTACKS_*` variables, read with envy (`ALLSTACKS_SERVICE_ID` → `service_id`). All are
/// strings here: parsing happens once, below or in `job`, so errors can name the variable.
#[derive(Debug, Default, Deserialize)]
struct Vars {
    url: Option<String>,
    company_id: Option<String>,
    token: Option<String>,
    token_file: Option<String>,
    service_id: Option<String>,
    status: Option<String>,
    job_id: Option<String>,
    commit_sha: Option<String>,
    repo_id: Option<String>,
    repo_name: Option<String>,
    triggered_by: Option<String>,
    job_type: Option<String>,
    job_start_time: Option<String>,
    job_duration: Option<String>,
    scope: Option<String>,
    fields: Option<String>,
    fields_json: Option<String>,
    no_context: Option<String>,
    cancelled_as: Option<String>,
    needs_json: Option<String>,
    strict: Option<String>,
    dry_run: Option<String>,
    timeout: Option<String>,
    retries: Option<String>,
    ca_cert: Option<String>,
    allow_http: Option<String>,
    outbox: Option<String>,
    state_file: Option<String>,
    output: Option<String>,
    environments: Option<String>,
    environment: Option<String>,
    deployment_states: Option<String>,
    default_status: Option<String>,
}

impl Vars {
    /// Reads the variables; `Env` has already dropped empty values, so every field here is a
    /// real value. envy cannot fail on all-`Option<String>` fields, hence the default.
    fn from(env: &Env) -> Vars {
        envy::prefixed("ALLSTACKS_")
            .from_iter(env.pairs())
            .unwrap_or_default()
    }
}

/// The flag when given (and not blank), else the variable named after it
/// (`--service-id` ↔ `ALLSTACKS_SERVICE_ID`), each tagged with its name.
pub(crate) fn pick(
    flag: Option<String>,
    flag_name: &str,
    var_value: Option<String>,
) -> Option<Sourced<String>> {
    flag.filter(|v| !v.trim().is_empty())
        .map(|v| Sourced::new(v, flag_name))
        .or_else(|| var_value.map(|v| Sourced::new(v, var_of(flag_name))))
}

/// `--service-id` → `ALLSTACKS_SERVICE_ID`.
fn var_of(flag_name: &str) -> String {
    format!(
        "ALLSTACKS_{}",
        flag_name
            .trim_start_matches('-')
            .replace('-', "_")
            .to_ascii_uppercase()
    )
}

pub(crate) fn pick_path(flag: Option<PathBuf>, var_value: Option<String>) -> Option<PathBuf> {
    flag.filter(|p| !p.as_os_str().is_empty())
        .or_else(|| var_value.map(PathBuf::from))
}

/// A boolean flag, or its variable (`true`/`1`/`yes`/`on`, `false`/`0`/`no`/`off`).
fn pick_bool(flag: bool, var_value: Option<String>, var: &str, errors: &mut Vec<String>) -> bool {
    if flag {
        return true;
    }
    let Some(v) = var_value else {
        return false;
    };
    parse_bool(&v).unwrap_or_else(|| {
        let v = v.trim().to_ascii_lowercase();
        errors.push(format!(
            "{var} must be true or false, got {v:?} (from {var})"
        ));
        false
    })
}

/// Merges the job flags with the environment.
pub fn job(args: JobArgs, env: &Env, errors: &mut Vec<String>) -> JobSettings {
    let vars = Vars::from(env);
    JobSettings {
        scope: scope(pick(args.scope, "--scope", vars.scope), errors),
        cancelled_as: cancelled_as(
            pick(args.cancelled_as, "--cancelled-as", vars.cancelled_as),
            errors,
        ),
        field_specs: field_specs(args.fields, vars.fields),
        no_context: pick_bool(
            args.no_context,
            vars.no_context,
            "ALLSTACKS_NO_CONTEXT",
            errors,
        ),
        service_id: pick(args.service_id, "--service-id", vars.service_id),
        status: pick(args.status, "--status", vars.status),
        job_id: pick(args.job_id, "--job-id", vars.job_id),
        commit_sha: pick(args.commit_sha, "--commit-sha", vars.commit_sha),
        repo_id: pick(args.repo_id, "--repo-id", vars.repo_id),
        repo_name: pick(args.repo_name, "--repo-name", vars.repo_name),
        triggered_by: pick(args.triggered_by, "--triggered-by", vars.triggered_by),
        job_type: pick(args.job_type, "--job-type", vars.job_type),
        job_start_time: pick(args.job_start_time, "--job-start-time", vars.job_start_time),
        job_duration: pick(args.job_duration, "--job-duration", vars.job_duration),
        fields_json: pick(args.fields_json, "--fields-json", vars.fields_json),
        needs_json: pick(args.needs_json, "--needs-json", vars.needs_json),
        state_file: pick_path(args.state_file, vars.state_file),
        environments: pick(args.environments, "--environments", vars.environments)
            .map(|l| crate::glob::list(&l.value))
            .unwrap_or_default(),
        environment: pick(args.environment, "--environment", vars.environment),
        deployment_states: deployment_states(
            pick(
                args.deployment_states,
                "--deployment-states",
                vars.deployment_states,
            ),
            errors,
        ),
        default_status: pick(args.default_status, "--default-status", vars.default_status),
    }
}

/// The variables that hold for every record a long-running command reports (`serve`): the
/// service, job type, fields and filters.
const RECORD_VARS: &[&str] = &[
    "ALLSTACKS_SERVICE_ID",
    "ALLSTACKS_JOB_TYPE",
    "ALLSTACKS_FIELDS",
    "ALLSTACKS_FIELDS_JSON",
    "ALLSTACKS_NO_CONTEXT",
    "ALLSTACKS_CANCELLED_AS",
    "ALLSTACKS_ENVIRONMENTS",
    "ALLSTACKS_DEPLOYMENT_STATES",
];

/// The job settings of records that arrive one after another (`serve`). The variables that
/// describe one CI job (`ALLSTACKS_STATUS`, `ALLSTACKS_COMMIT_SHA`, `ALLSTACKS_JOB_ID`, ...)
/// would stamp every record alike, so only [`RECORD_VARS`] are read.
pub fn record_job(args: JobArgs, env: &Env, errors: &mut Vec<String>) -> JobSettings {
    let env = Env::from_pairs(
        env.pairs()
            .filter(|(k, _)| RECORD_VARS.contains(&k.as_str())),
    );
    job(args, &env, errors)
}

/// `--deployment-states`: GitHub's deployment states, checked; the default when not given.
fn deployment_states(given: Option<Sourced<String>>, errors: &mut Vec<String>) -> Vec<String> {
    const KNOWN: &[&str] = &[
        "success",
        "failure",
        "error",
        "inactive",
        "in_progress",
        "queued",
        "pending",
        "waiting",
    ];
    let Some(given) = given else {
        return crate::events::github::DEFAULT_STATES
            .iter()
            .map(|s| s.to_string())
            .collect();
    };
    let states: Vec<String> = crate::glob::list(&given.value.to_ascii_lowercase());
    for s in &states {
        if !KNOWN.contains(&s.as_str()) {
            errors.push(format!(
                "deployment-states: {s:?} is not a GitHub deployment state (from {}); use \
                 {}",
                given.source,
                KNOWN.join(", ")
            ));
        }
    }
    states
}

fn scope(given: Option<Sourced<String>>, errors: &mut Vec<String>) -> Scope {
    let Some(s) = given else {
        return Scope::Pipeline;
    };
    match s.value.trim().to_ascii_lowercase().as_str() {
        "job" => Scope::Job,
        "pipeline" | "run" | "workflow" => Scope::Pipeline,
        other => {
            errors.push(format!(
                "scope must be job or pipeline, got {other:?} (from {})",
                s.source
            ));
            Scope::Pipeline
        }
    }
}

fn cancelled_as(given: Option<Sourced<String>>, errors: &mut Vec<String>) -> CancelledAs {
    let Some(s) = given else {
        return CancelledAs::Failed;
    };
    CancelledAs::parse(&s.value).unwrap_or_else(|| {
        errors.push(format!(
            "cancelled-as must be failed, on-hold or skip, got {:?} (from {})",
            s.value, s.source
        ));
        CancelledAs::Failed
    })
}

/// `--field` specs, or `ALLSTACKS_FIELDS` lines when no flag is given.
fn field_specs(flags: Vec<String>, var: Option<String>) -> Vec<Sourced<String>> {
    if flags.is_empty() {
        return var
            .as_deref()
            .map(|t| crate::fields::lines_of(t, "ALLSTACKS_FIELDS"))
            .unwrap_or_default();
    }
    flags
        .into_iter()
        .map(|f| Sourced::new(f, "--field"))
        .collect()
}

/// The token: `--token`, else `ALLSTACKS_TOKEN`, else the file named by `--token-file` /
/// `ALLSTACKS_TOKEN_FILE`. A bad token is an error that says what is wrong with it and shows
/// none of it (SPEC.md, Security rules: a token is one line of visible characters).
fn token(
    flag: Option<String>,
    file_flag: Option<PathBuf>,
    vars: &Vars,
    env: &Env,
    errors: &mut Vec<String>,
) -> Option<String> {
    let mut check = |raw: &str, source: &str| match one_line_token(raw) {
        Ok(t) => Some(t),
        Err(why) => {
            errors.push(format!(
                "the token (from {source}) {why}; it is not shown. A token is one line of \
                 visible characters"
            ));
            None
        }
    };
    if let Some(t) = flag.filter(|t| !t.trim().is_empty()) {
        return check(&t, "--token");
    }
    if let Some(t) = &vars.token {
        return check(t, "ALLSTACKS_TOKEN");
    }
    if env.is_not_utf8("ALLSTACKS_TOKEN") {
        errors.push(
            "the token (from ALLSTACKS_TOKEN) is not UTF-8 text; it is not shown. A token is one \
             line of visible characters"
                .into(),
        );
        return None;
    }
    let path = pick_path(file_flag, vars.token_file.clone())?;
    let source = format!("token file {}", path.display());
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() > MAX_TOKEN_FILE => {
            errors.push(format!(
                "the {source} is larger than {MAX_TOKEN_FILE} bytes: not a token"
            ));
            None
        }
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) if text.trim().is_empty() => {
                errors.push(format!("the {source} is empty"));
                None
            }
            Ok(text) => check(&text, &source),
            Err(_) => {
                errors.push(format!(
                    "the token (from {source}) is not UTF-8 text; it is not shown"
                ));
                None
            }
        },
        Err(e) => {
            errors.push(format!("cannot read the {source}: {e}"));
            None
        }
    }
}

/// A token file is read only up to this size: a token is a few dozen characters.
const MAX_TOKEN_FILE: usize = 64 * 1024;

/// The token without one trailing line break (a file's) and surrounding spaces; `Err` says what
/// makes it unusable, without quoting it.
pub fn one_line_token(raw: &str) -> Result<String, &'static str> {
    let t = raw
        .strip_suffix("\r\n")
        .or_else(|| raw.strip_suffix('\n'))
        .unwrap_or(raw);
    let t = t.trim_matches([' ', '\t']);
    if t.is_empty() {
        return Err("is blank");
    }
    if t.contains(['\n', '\r']) {
        return Err("has a line break inside");
    }
    if t.chars().any(char::is_whitespace) {
        return Err("has whitespace inside");
    }
    if t.chars().any(char::is_control) {
        return Err("has control characters inside");
    }
    Ok(t.to_string())
}

/// Merges the delivery flags with the environment.
pub fn delivery(args: ConnArgs, env: &Env, errors: &mut Vec<String>) -> DeliverySettings {
    let vars = Vars::from(env);
    let before = errors.len();
    let token = token(args.token, args.token_file, &vars, env, errors);
    let mut out = DeliverySettings {
        token_refused: token.is_none() && errors.len() > before,
        token,
        dry_run: pick_bool(args.dry_run, vars.dry_run, "ALLSTACKS_DRY_RUN", errors),
        strict: pick_bool(args.strict, vars.strict, "ALLSTACKS_STRICT", errors),
        allow_http: pick_bool(
            args.allow_http,
            vars.allow_http,
            "ALLSTACKS_ALLOW_HTTP",
            errors,
        ),
        url: pick(args.url, "--url", vars.url),
        company_id: pick(args.company_id, "--company-id", vars.company_id),
        ca_cert: pick_path(args.ca_cert, vars.ca_cert),
        outbox: pick_path(args.outbox, vars.outbox),
        verbosity: args.verbosity.level(),
        ..DeliverySettings::default()
    };
    if let Some(t) = pick(args.timeout, "--timeout", vars.timeout) {
        match t.value.trim().parse::<f64>() {
            Ok(secs) if secs > 0.0 && secs <= 86_400.0 => {
                out.timeout = Duration::from_secs_f64(secs);
            }
            _ => errors.push(format!(
                "timeout must be a number of seconds between 0 and 86400, got {:?} (from {})",
                t.value, t.source
            )),
        }
    }
    if let Some(r) = pick(args.retries, "--retries", vars.retries) {
        match r.value.trim().parse::<u32>() {
            Ok(n) if n <= 100 => out.retries = n,
            _ => errors.push(format!(
                "retries must be a whole number from 0 to 100, got {:?} (from {})",
                r.value, r.source
            )),
        }
    }
    if let Some(o) = pick(args.output, "--output", vars.output) {
        match o.value.trim().to_ascii_lowercase().as_str() {
            "json" => out.output_json = true,
            "text" => {}
            other => errors.push(format!(
                "output must be text or json, got {other:?} (from {})",
                o.source
            )),
        }
    }
    out
}
