//! `report` (and the reporting half of `run`): one job from the environment, validated,
//! delivered, and told about.

use std::cell::RefCell;
use std::path::Path;
use std::time::Instant;

use super::{Outcome, Trouble, fail, ui_for};
use crate::ci;
use crate::cli::{ConnArgs, JobArgs};
use crate::context::{CiContext, Provider};
use crate::delivery::{self, Delivered, Delivery, Kept};
use crate::env::{Env, Sourced};
use crate::job::{Job, Provenance};
use crate::resolve::{self, Inputs, Plan, Wrapped};
use crate::settings::{self, DeliverySettings, JobSettings, Scope};
use crate::sink::{self, ResultLine};
use crate::timefmt::now_epoch;
use crate::ui::Ui;
use crate::{github_api, state};

/// `report`: works out the job, validates it, posts it (or prints it with `--dry-run`).
pub fn report(
    job_args: JobArgs,
    conn: ConnArgs,
    wrapped: Option<Wrapped>,
    env: &Env,
    cwd: &Path,
) -> Outcome {
    let mut errors = Vec::new();
    let d = settings::delivery(conn, env, &mut errors);
    let ui = ui_for(&d, env);
    let js = settings::job(job_args, env, &mut errors);
    let cx = Cx {
        d: &d,
        ui: &ui,
        env,
        outcome: Outcome::new(&d),
    };
    let mut ci = ci::detect(env);
    ui.debug(&format!("CI provider: {}", ci.provider.id()));
    deployed_commit_time(&mut ci, cwd);
    let state_file = state::StateFile::read(
        js.state_file
            .clone()
            .unwrap_or_else(|| state::default_path(env, cwd)),
    );
    let (planned, warnings) = plan(&js, &ci, &state_file, wrapped, env, cwd);
    for w in &warnings {
        ui.warn(w);
    }
    let conn = delivery::check_connection(&d);
    let missing = conn.missing();
    errors.extend(conn.invalid);
    let (job, provenance) = match planned {
        // Nothing is sent for a skipped job, so a missing connection setting does not matter.
        Ok(Plan::Skip { reason }) => return cx.skipped(&reason),
        Ok(Plan::Send { job, provenance }) => (job, provenance),
        Err(job_errors) => {
            errors.extend(job_errors);
            return cx.invalid(&errors, &missing);
        }
    };
    if !errors.is_empty() || (!missing.is_empty() && !d.dry_run) {
        return cx.invalid(&errors, &missing);
    }
    sink::github_outputs(env, &ui, &job);
    if d.dry_run {
        for e in &missing {
            ui.warn(&format!("{e} (nothing is sent with --dry-run)"));
        }
        dry_run(&job, &provenance, conn.url.as_deref(), &ui, env);
        return cx.outcome;
    }
    let (Some(url), Some(token)) = (conn.url, d.token.as_deref()) else {
        return cx.outcome; // both present: `missing` was empty
    };
    let outbox = delivery::outbox_dir(&d, env, in_ci(&ci, env));
    let delivery = match Delivery::new(&d, env, token, &url, outbox) {
        Ok(delivery) => delivery,
        Err(f) => {
            // An unreadable --ca-cert, a token that cannot go in a header: our configuration,
            // not the delivery (exit 2 under --strict, like any invalid setting).
            fail(&ui, d.strict, f.message());
            return cx.outcome.with(Trouble::Invalid);
        }
    };
    cx.deliver(&delivery, &job, &provenance, &state_file)
}

/// What would keep `run`'s report from being sent, found before its command starts
/// (`run --strict`): invalid settings, a missing connection setting (unless `--dry-run`), a job
/// that breaks a rule of the webhook. The command's own start and exit are not known yet:
/// stand-ins take their place, so nothing is looked up for them.
pub(super) fn problems(job_args: &JobArgs, conn: &ConnArgs, env: &Env, cwd: &Path) -> Vec<String> {
    let mut errors = Vec::new();
    let d = settings::delivery(conn.clone(), env, &mut errors);
    let mut js = settings::job(job_args.clone(), env, &mut errors);
    let now = now_epoch();
    js.job_start_time
        .get_or_insert_with(|| Sourced::new(now.to_string(), "the command's start"));
    let wrapped = Wrapped {
        start: now,
        status: Sourced::new("0".to_string(), "the command's exit"),
    };
    let ci = ci::detect(env);
    let state_file = state::StateFile::read(
        js.state_file
            .clone()
            .unwrap_or_else(|| state::default_path(env, cwd)),
    );
    let (planned, _) = plan(&js, &ci, &state_file, Some(wrapped), env, cwd);
    if let Err(job_errors) = planned {
        errors.extend(job_errors);
    }
    let conn = delivery::check_connection(&d);
    errors.extend(conn.invalid.iter().cloned());
    if d.dry_run {
        return errors;
    }
    errors.extend(conn.missing());
    if let (Some(url), Some(token)) = (&conn.url, &d.token) {
        if let Err(f) = Delivery::new(&d, env, token, url, None) {
            errors.push(f.message().to_string());
        }
    }
    errors
}

/// What every ending of a report needs: the settings, where to say things, how it stands.
struct Cx<'a> {
    d: &'a DeliverySettings,
    ui: &'a Ui,
    env: &'a Env,
    outcome: Outcome,
}

/// A GitHub deployment's event gives no commit time: when the deployed commit is in the local
/// repository (a workflow that checked it out), its committer time is the `commit_time`.
fn deployed_commit_time(ci: &mut CiContext, cwd: &Path) {
    if ci.event != Some("deployment_status") {
        return;
    }
    let Some(sha) = ci.commit_sha.as_ref().map(|c| c.value.clone()) else {
        return;
    };
    if let Some(t) = crate::git::commit_time(cwd, &sha) {
        ci.add_typed("commit_time", crate::fields::FieldType::Timestamp, vec![t]);
    }
}

/// The job from the environment: detection, git, the `start` state file, the GitHub API.
pub(super) fn plan(
    js: &JobSettings,
    ci: &CiContext,
    state_file: &state::StateFile,
    wrapped: Option<Wrapped>,
    env: &Env,
    cwd: &Path,
) -> (Result<Plan, Vec<String>>, Vec<String>) {
    let mut warnings = state_file.warnings.clone();
    let api_warnings = RefCell::new(Vec::new());
    let api_start = |scope: Scope| api_start(env, ci, scope, &api_warnings);
    let git = || crate::git::inspect(cwd);
    let inputs = Inputs {
        ci,
        git: &git,
        api_start: &api_start,
        state_start: state_file.start.clone(),
        wrapped,
        now: now_epoch(),
        cwd: Some(cwd),
        os_user: env
            .first(&["USER", "USERNAME", "LOGNAME"])
            .map(|(_, v)| v.to_string()),
        start_now: true,
    };
    let planned = resolve::plan(js, &inputs, &mut warnings);
    warnings.extend(api_warnings.into_inner());
    (planned, warnings)
}

/// The start of this GitHub run or job from the API; a failure is a warning.
fn api_start(
    env: &Env,
    ci: &CiContext,
    scope: Scope,
    warnings: &RefCell<Vec<String>>,
) -> Option<Sourced<i64>> {
    if ci.provider != Provider::GitHub {
        return None;
    }
    match github_api::start_time(env, scope == Scope::Job, std::time::Duration::from_secs(5)) {
        Ok(t) => t,
        Err(e) => {
            warnings.borrow_mut().push(format!(
                "could not read the start time from the GitHub API: {e}"
            ));
            None
        }
    }
}

/// In a CI system, known or not (almost all of them set `CI`).
pub(super) fn in_ci(ci: &CiContext, env: &Env) -> bool {
    ci.provider.is_ci()
        || env
            .get("CI")
            .is_some_and(|v| !v.eq_ignore_ascii_case("false") && v != "0")
}

impl Cx<'_> {
    fn skipped(&self, reason: &str) -> Outcome {
        self.ui.info(reason);
        sink::github_skipped(self.env);
        result_line(self.d, None, "skipped", None);
        self.outcome
    }

    /// Nothing is sent: the problems are errors under `--strict`/`--dry-run`, else warnings.
    fn invalid(&self, errors: &[String], missing: &[String]) -> Outcome {
        let (d, ui) = (self.d, self.ui);
        let hard = d.strict || d.dry_run;
        // With --dry-run a missing setting is only a warning: nothing would be sent anyway.
        let missing_are_errors = !d.dry_run;
        for e in errors
            .iter()
            .chain(missing.iter().filter(|_| missing_are_errors))
        {
            if hard {
                ui.error(e);
            } else {
                ui.warn(&format!("not reported: {e}"));
            }
        }
        if d.dry_run {
            for e in missing {
                ui.warn(&format!("{e} (nothing is sent with --dry-run)"));
            }
        }
        if !hard {
            ui.warn("nothing was sent; the step goes on (use --strict to fail it)");
        }
        result_line(d, None, "invalid", None);
        self.outcome.with(Trouble::Invalid)
    }

    /// Flushes what was saved for this endpoint, sends the job, and says what became of it.
    fn deliver(
        &self,
        delivery: &Delivery,
        job: &Job,
        provenance: &Provenance,
        state_file: &state::StateFile,
    ) -> Outcome {
        let (d, ui) = (self.d, self.ui);
        // One --timeout for everything this command sends.
        let deadline = Instant::now() + d.timeout;
        delivery.flush_first(ui);
        let delivered = delivery.send(job, ui, deadline);
        let status = job.status().to_string();
        let summary = match &delivered.result {
            Ok(()) => {
                ui.info(&reported(job, provenance, delivery.url(), &delivered));
                state_file.consume();
                "delivered".to_string()
            }
            Err(failure) => {
                let reason = ui.redact(failure.message());
                let kept = kept_message(&delivered, state_file);
                let message = format!("could not report job {}: {reason}{kept}", job.job_id());
                fail(ui, d.strict, &message);
                format!("failed: {reason}")
            }
        };
        sink::github_summary(self.env, "allstacks-cd report", job, &summary);
        result_line(d, Some(job.job_id()), &status, Some(&delivered));
        match delivered.result {
            Ok(()) => self.outcome,
            Err(_) => self.outcome.with(Trouble::Delivery),
        }
    }
}

/// `reported job 1234-1 (Succeeded, from --status) to URL (HTTP 201, 1 attempt)`.
fn reported(job: &Job, provenance: &Provenance, url: &str, delivered: &Delivered) -> String {
    let from = provenance
        .iter()
        .find(|p| p.0 == "status")
        .map(|p| p.2.as_str())
        .unwrap_or_default();
    format!(
        "reported job {} ({}, from {from}) to {url} (HTTP {}, {} attempt{})",
        job.job_id(),
        job.status(),
        delivered.http_status.unwrap_or(0),
        delivered.attempts,
        if delivered.attempts == 1 { "" } else { "s" }
    )
}

/// `--dry-run`: the payload on stdout, where each field came from on stderr.
fn dry_run(job: &Job, provenance: &Provenance, url: Option<&str>, ui: &Ui, env: &Env) {
    print_job(job, provenance, ui);
    if let Some(url) = url {
        ui.info(&format!("dry run: would POST to {url}"));
    }
    sink::github_summary(
        env,
        "allstacks-cd report (dry run)",
        job,
        "dry run: nothing sent",
    );
}

/// The payload on stdout, and where each field came from on stderr (`--dry-run`, `check`).
pub(super) fn print_job(job: &Job, provenance: &Provenance, ui: &Ui) {
    let pretty = serde_json::to_string_pretty(job).unwrap_or_default();
    crate::ui::print_line(&pretty);
    let width = provenance.iter().map(|p| p.0.len()).max().unwrap_or(0);
    for (field, value, source) in provenance {
        ui.plain(&format!("{field:width$}  {value}  {source}"));
    }
}

/// What the failure message adds about the outbox.
fn kept_message(delivered: &Delivered, state_file: &state::StateFile) -> String {
    match &delivered.kept {
        Kept::Saved(path) => {
            state_file.consume();
            format!(
                "; saved to {} (`allstacks-cd flush` re-sends it)",
                path.display()
            )
        }
        Kept::NotSaved { dir, why } => {
            format!("; NOT saved to the outbox {}: {why}", dir.display())
        }
        Kept::NoOutbox => {
            "; not kept (set ALLSTACKS_OUTBOX to keep undelivered reports in CI)".into()
        }
        Kept::NotNeeded | Kept::Refused => String::new(),
    }
}

fn result_line(
    d: &DeliverySettings,
    job_id: Option<&str>,
    status: &str,
    delivered: Option<&Delivered>,
) {
    if !d.output_json || d.dry_run {
        return;
    }
    sink::json_result(&ResultLine {
        job_id,
        status,
        delivered: delivered.is_some_and(|x| x.result.is_ok()),
        attempts: delivered.map_or(0, |x| x.attempts),
        http_status: delivered.and_then(|x| x.http_status),
    });
}
