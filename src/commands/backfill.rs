//! `backfill SOURCE`: past deployments reported as live reports of them would have been, each
//! once (spec/backfill.md). Settings → the source's API client → the ledger → the pipeline of
//! [`crate::backfill`] → the summary and the exit code. Always strict: 0 when nothing failed,
//! 1 when a job was not delivered, 2 for invalid settings or a refused token before anything
//! was sent, 130/143 after Ctrl-C/SIGTERM.

use std::cell::OnceCell;
use std::path::Path;
use std::sync::Arc;

use super::ui_for;
use crate::api::{ApiError, Client, Flavor};
use crate::backfill::options::{self, Options, source_id};
use crate::backfill::{self, Control, Ledger, Pipeline, Progress, Source, signal};
use crate::cli::{BackfillArgs, BackfillSource};
use crate::context::{CiContext, Provider};
use crate::delivery::{self, Delivery};
use crate::env::{Env, Sourced};
use crate::resolve;
use crate::settings::{self, DeliverySettings, JobSettings, Scope};
use crate::ui::Ui;

/// `backfill`: returns the exit code.
pub fn backfill(args: BackfillArgs, env: &Env, cwd: &Path) -> i32 {
    signal::install();
    let BackfillArgs {
        source,
        select,
        job,
        conn,
        dry_run,
        output,
    } = args;
    let mut errors = Vec::new();
    // Always strict, no outbox: the ledger says what a re-run retries.
    let d = settings::delivery(conn.into_conn(dry_run, output, None), env, &mut errors);
    let mut js = settings::job(job.into(), env, &mut errors);
    let mut ui = ui_for(&d, env);
    for note in shared_only(&mut js) {
        ui.verbose(&note);
    }
    let remote = OnceCell::new();
    let git_remote = || {
        remote
            .get_or_init(|| crate::git::inspect(cwd).repo_name)
            .clone()
    };
    let opts = options::options(select, source, env, &git_remote, &mut errors);
    let client = api_client(source, env, &mut ui, &d, &mut errors);
    errors.extend(probe(&js));
    let conn = delivery::check_connection(&d);
    errors.extend(conn.invalid.iter().cloned());
    if d.dry_run {
        for m in conn.missing() {
            ui.warn(&format!("{m} (nothing is sent with --dry-run)"));
        }
    } else {
        errors.extend(conn.missing());
    }
    if !errors.is_empty() {
        return invalid(&ui, &errors);
    }
    let ledger = match open_ledger(&opts, &d, &js, conn.url.as_deref(), env) {
        Ok(ledger) => ledger,
        Err(e) => return invalid(&ui, &[e]),
    };
    let progress = Progress::new(&ui, d.dry_run, opts.limit, env);
    let ctl = Arc::new(Control::new(progress, ledger));
    let source = match open(source, client, &opts, &js.environments, cwd, &ctl) {
        Ok(source) => source,
        Err(e) => return finish(&ctl, &d, Err(e)),
    };
    let delivery = match (&conn.url, &d.token, d.dry_run) {
        (Some(url), Some(token), false) => match Delivery::new(&d, env, token, url, None) {
            Ok(delivery) => Some(delivery),
            Err(f) => return invalid(&ui, &[f.message().to_string()]),
        },
        _ => None,
    };
    ctl.progress.info(&starting(&opts, &ctl.ledger, d.dry_run));
    let shower = ctl.clone();
    std::thread::spawn(move || shower.progress.show());
    let pipeline = Pipeline {
        js: &js,
        limit: opts.limit,
        concurrency: opts.concurrency,
        delivery: delivery.as_ref(),
    };
    let result = backfill::run(source, &ctl, &pipeline);
    finish(&ctl, &d, result)
}

/// Settings that describe one run (`ALLSTACKS_STATUS`, `ALLSTACKS_COMMIT_SHA`, ...) do not apply:
/// every backfilled job takes them from its record. Returns a note for each one set.
fn shared_only(js: &mut JobSettings) -> Vec<String> {
    let mut notes = Vec::new();
    for v in [
        &mut js.status,
        &mut js.job_id,
        &mut js.commit_sha,
        &mut js.repo_id,
        &mut js.repo_name,
        &mut js.triggered_by,
        &mut js.job_start_time,
        &mut js.job_duration,
        &mut js.needs_json,
        &mut js.default_status,
    ] {
        if let Some(v) = v.take() {
            notes.push(format!(
                "ignoring {}: backfill takes each job's own value from its record",
                v.source
            ));
        }
    }
    // Here ALLSTACKS_ENVIRONMENT is the `--environment` filter of the records, not a job's.
    js.environment = None;
    js.state_file = None;
    js.scope = Scope::Pipeline;
    notes
}

/// The settings that apply to every job, checked once on a complete record: a missing service
/// id or a bad `--field` is one error, not a skipped job per record.
fn probe(js: &JobSettings) -> Vec<String> {
    let now = crate::timefmt::now_epoch();
    let mut ctx = CiContext::new(Provider::Local);
    let s = |v: &str| Some(Sourced::new(v.to_string(), "probe"));
    ctx.job_id = s("probe");
    ctx.pipeline_id = s("probe");
    ctx.commit_sha = s(&"0".repeat(40));
    ctx.repo_name = s("probe/probe");
    ctx.status = s("success");
    ctx.pipeline_started = Some(Sourced::new(now - 60, "probe"));
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = Some(Sourced::new(now, "probe"));
    resolve::plan_record(js, &ctx, now, &mut Vec::new())
        .err()
        .unwrap_or_default()
}

/// The API client of `source` (`None` for git-tags), with its token checked and registered as
/// a secret; problems go to `errors`.
fn api_client(
    source: BackfillSource,
    env: &Env,
    ui: &mut Ui,
    d: &DeliverySettings,
    errors: &mut Vec<String>,
) -> Option<Client> {
    let (flavor, base, what) = match source {
        BackfillSource::GitTags => return None,
        BackfillSource::GithubRuns | BackfillSource::GithubDeployments => {
            let base = env
                .get("GITHUB_API_URL")
                .unwrap_or("https://api.github.com");
            (Flavor::GitHub, base.to_string(), "GITHUB_API_URL")
        }
        BackfillSource::GitlabDeployments | BackfillSource::GitlabPipelines => {
            match gitlab_base(env) {
                Some((base, what)) => (Flavor::GitLab, base, what),
                None => {
                    errors.push(
                        "the GitLab API is unknown: set GITLAB_API_URL (e.g. \
                         https://gitlab.example.com/api/v4), or CI_SERVER_URL"
                            .into(),
                    );
                    return None;
                }
            }
        }
    };
    let token = api_token(flavor, env, ui, errors);
    let auth = token.map(|(name, t)| match flavor {
        Flavor::GitHub => ("authorization", format!("Bearer {t}")),
        Flavor::GitLab => (name, t),
    });
    let auth = auth.as_ref().map(|(name, value)| (*name, value.as_str()));
    match Client::new(&base, what, flavor, auth, d.timeout) {
        Ok(client) => Some(client),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// `CI_API_V4_URL`, else `GITLAB_API_URL`, else `{CI_SERVER_URL}/api/v4`, with its variable.
/// No default: a `GITLAB_TOKEN` meant for a company's GitLab must not go to gitlab.com.
fn gitlab_base(env: &Env) -> Option<(String, &'static str)> {
    if let Some(v) = env.get("CI_API_V4_URL") {
        return Some((v.to_string(), "CI_API_V4_URL"));
    }
    if let Some(v) = env.get("GITLAB_API_URL") {
        return Some((v.to_string(), "GITLAB_API_URL"));
    }
    let server = env.get("CI_SERVER_URL")?;
    Some((
        format!("{}/api/v4", server.trim_end_matches('/')),
        "CI_SERVER_URL",
    ))
}

/// The API token and the header it goes in: GitHub `GITHUB_TOKEN`; GitLab `GITLAB_TOKEN`
/// (`PRIVATE-TOKEN`), else `CI_JOB_TOKEN` (`JOB-TOKEN`). One line of visible characters, never
/// shown; without one, only public repositories can be read.
fn api_token(
    flavor: Flavor,
    env: &Env,
    ui: &mut Ui,
    errors: &mut Vec<String>,
) -> Option<(&'static str, String)> {
    let candidates: &[(&str, &'static str)] = match flavor {
        Flavor::GitHub => &[("GITHUB_TOKEN", "authorization")],
        Flavor::GitLab => &[
            ("GITLAB_TOKEN", "private-token"),
            ("CI_JOB_TOKEN", "job-token"),
        ],
    };
    for (var, header) in candidates {
        if env.is_not_utf8(var) {
            errors.push(format!("{var} is not UTF-8 text; it is not shown"));
            return None;
        }
        let Some(raw) = env.get(var) else { continue };
        return match settings::one_line_token(raw) {
            Ok(token) => {
                ui.add_secret(&token);
                Some((header, token))
            }
            Err(why) => {
                errors.push(format!(
                    "the token in {var} {why}; it is not shown. A token is one line of visible \
                     characters"
                ));
                None
            }
        };
    }
    let names: Vec<&str> = candidates.iter().map(|c| c.0).collect();
    ui.warn(&format!(
        "no {} set: the {} is read without a token (public projects only, with a low rate limit)",
        names.join(" or "),
        flavor.name()
    ));
    None
}

/// The ledger (`--dry-run`: one in memory); `Err` for a ledger that cannot be used.
fn open_ledger(
    o: &Options,
    d: &DeliverySettings,
    js: &JobSettings,
    url: Option<&str>,
    env: &Env,
) -> Result<Ledger, String> {
    if d.dry_run {
        return Ok(Ledger::in_memory());
    }
    let (path, default) = options::ledger_path(o, env).ok_or(
        "no place for the ledger: set --ledger FILE (or XDG_STATE_HOME or HOME)".to_string(),
    )?;
    if default {
        options::ensure_ledger_dir(&path)?;
    }
    let service = js.service_id.as_ref().map_or("", |s| s.value.trim());
    Ledger::open(&path, &format!("{} service {service}", url.unwrap_or("")))
}

/// The source, opened: its first API call checks the repository or project and the token.
fn open(
    source: BackfillSource,
    client: Option<Client>,
    o: &Options,
    environments: &[String],
    cwd: &Path,
    ctl: &Control,
) -> Result<Box<dyn Source>, ApiError> {
    use crate::backfill::{github, gitlab, tags};
    let no_client = || ApiError::Other("no API client".into());
    Ok(match source {
        BackfillSource::GitTags => Box::new(tags::Tags::new(cwd, o, ctl)?),
        BackfillSource::GithubRuns => {
            Box::new(github::Runs::new(client.ok_or_else(no_client)?, o, ctl)?)
        }
        BackfillSource::GithubDeployments => Box::new(github::Deployments::new(
            client.ok_or_else(no_client)?,
            o,
            ctl,
        )?),
        BackfillSource::GitlabDeployments => Box::new(gitlab::Deployments::new(
            client.ok_or_else(no_client)?,
            o,
            ctl,
        )?),
        BackfillSource::GitlabPipelines => Box::new(gitlab::Pipelines::new(
            client.ok_or_else(no_client)?,
            o,
            environments,
            ctl,
        )?),
    })
}

/// The opening line: what is read, and where the ledger is.
fn starting(o: &Options, ledger: &Ledger, dry_run: bool) -> String {
    let what = o
        .repo
        .as_ref()
        .or(o.project.as_ref())
        .map_or(String::new(), |r| format!(" of {}", r.value));
    let kept = match (dry_run, ledger.path()) {
        (true, _) => "dry run: payloads on stdout, nothing sent, no ledger".to_string(),
        (false, Some(p)) => format!(
            "ledger {} ({} job(s) delivered before)",
            p.display(),
            ledger.recorded
        ),
        (false, None) => "no ledger".to_string(),
    };
    format!("backfill {}{what}: {kept}", source_id(o.source))
}

fn invalid(ui: &Ui, errors: &[String]) -> i32 {
    for e in errors {
        ui.error(e);
    }
    ui.error("nothing was read or sent");
    2
}

/// Says how it ended (the summary is the last line on stderr) and returns the exit code.
fn finish(ctl: &Control, d: &DeliverySettings, result: Result<(), ApiError>) -> i32 {
    let p = &ctl.progress;
    p.finish();
    let s = p.counts.snapshot();
    let attempted = s.sent + s.failed + s.unsent + s.printed > 0;
    let code = match (&result, signal::caught()) {
        (_, Some(sig)) => {
            p.info(&format!(
                "stopped by {}: {} queued job(s) were not sent; a re-run sends them",
                signal::name(sig),
                s.unsent
            ));
            signal::exit_code(sig)
        }
        (Err(e @ (ApiError::Refused(_) | ApiError::NotFound(_))), None) => {
            p.error(e.message());
            if attempted { 1 } else { 2 }
        }
        (Err(ApiError::Other(e)), None) => {
            p.error(&format!("{e}; a re-run continues where this one stopped"));
            1
        }
        (_, None) if ctl.halted().is_some() || s.failed > 0 => 1,
        _ => 0,
    };
    p.ui()
        .result(&format!("allstacks-cd: backfill: {}", s.line(d.dry_run)));
    if d.output_json && !d.dry_run {
        let line = serde_json::json!({
            "found": s.found,
            "sent": s.sent,
            "already_sent": s.already,
            "skipped": s.skipped,
            "failed": s.failed,
            "not_sent": s.unsent,
            "exit_code": code,
        });
        crate::ui::print_line(&line.to_string());
    }
    code
}
