//! The four commands. Each turns flags + environment into settings, does its work, and returns
//! an [`Outcome`]; [`crate::run`] turns that into the exit code in one place.

use std::cell::RefCell;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::Context;
use std::time::Instant;

use crate::ci::{self, CiContext};
use crate::cli::{ConnArgs, FlushArgs, JobArgs, RunArgs, StartArgs};
use crate::client::{self, Failure, Sender};
use crate::env::{Env, Sourced};
use crate::job::{self, Inputs, Plan, Wrapped};
use crate::outbox::{self, Claim, Saved};
use crate::settings::{self, DeliverySettings, Scope};
use crate::ui::Ui;
use crate::{github, github_api, now_epoch};

/// What went wrong, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trouble {
    /// Invalid input or configuration (exit 2 under `--strict` or `--dry-run`).
    Invalid,
    /// Delivery failed (exit 1 under `--strict`).
    Delivery,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub trouble: Option<Trouble>,
    pub strict: bool,
    pub dry_run: bool,
}

impl Outcome {
    /// SPEC.md's exit codes for `report`, `flush` and `start`.
    pub fn exit_code(self) -> i32 {
        match self.trouble {
            None => 0,
            Some(Trouble::Invalid) if self.strict || self.dry_run => 2,
            Some(Trouble::Delivery) if self.strict => 1,
            Some(_) => 0,
        }
    }
}

/// `report`, and the reporting half of `run`.
pub fn report(
    job_args: JobArgs,
    conn: ConnArgs,
    wrapped: Option<Wrapped>,
    env: &Env,
    cwd: &Path,
) -> Outcome {
    let mut errors = Vec::new();
    let delivery = settings::delivery(conn, env, &mut errors);
    let mut ui = Ui::new(delivery.verbosity, github::is_actions(env));
    // Masked before anything else is printed.
    if let Some(token) = &delivery.token {
        ui.add_secret(token);
    }
    let js = settings::job(job_args, env, &mut errors);
    let mut outcome = Outcome {
        trouble: None,
        strict: delivery.strict,
        dry_run: delivery.dry_run,
    };
    let ci = ci::detect(env);
    ui.debug(&format!("CI provider: {}", ci.provider.id()));

    let state_path = js
        .state_file
        .clone()
        .unwrap_or_else(|| default_state_file(env, cwd));
    let mut warnings = Vec::new();
    let state_start = read_state(&state_path, &mut warnings);
    // Only a state file that held a valid start (one `start` wrote) is ours to delete.
    let state_start_valid = state_start.is_some();
    let api_warnings = RefCell::new(Vec::new());
    let api_start = |scope: Scope| api_start(env, &ci, scope, &api_warnings);
    let git = || crate::git::inspect(cwd);
    let inputs = Inputs {
        ci: &ci,
        git: &git,
        api_start: &api_start,
        state_start,
        wrapped,
        now: now_epoch(),
        cwd,
        os_user: env
            .first(&["USER", "USERNAME", "LOGNAME"])
            .map(|(_, v)| v.to_string()),
    };
    let plan = job::build(&js, &inputs, &mut warnings);
    warnings.extend(api_warnings.into_inner());
    for w in &warnings {
        ui.warn(w);
    }
    let endpoint = client::endpoint(
        delivery.url.as_ref(),
        delivery.company_id.as_ref(),
        delivery.allow_http,
    );
    // A missing URL, company id or token is only a warning with --dry-run (nothing is sent);
    // a value that is there but wrong (bad URL, plain http to another host) is an error.
    let mut conn_errors = Vec::new();
    if let Err(e) = &endpoint {
        let placeholder = Sourced::new("0".to_string(), "placeholder");
        let url_itself_is_bad = delivery.url.is_some()
            && client::endpoint(
                delivery.url.as_ref(),
                delivery.company_id.as_ref().or(Some(&placeholder)),
                delivery.allow_http,
            )
            .is_err();
        if url_itself_is_bad || delivery.company_id.is_some() {
            errors.push(e.clone());
        } else {
            conn_errors.push(e.clone());
        }
    }
    if delivery.token.is_none() && !delivery.token_refused {
        conn_errors.push(
            "token is required: set ALLSTACKS_TOKEN (or --token-file) to a Personal Access Token"
                .into(),
        );
    }
    let plan = match plan {
        Err(job_errors) => {
            errors.extend(job_errors);
            None
        }
        // Nothing is sent for a skipped job, so a missing connection setting does not matter.
        Ok(Plan::Skip { reason }) => {
            ui.info(&reason);
            let _ = github::write_outputs(env, &[("status", "skipped")]);
            print_result(&delivery, None, "skipped", false, 0, None);
            return outcome;
        }
        Ok(Plan::Send { job, provenance }) => Some((job, provenance)),
    };
    if delivery.dry_run {
        for e in &conn_errors {
            ui.warn(&format!("{e} (nothing is sent with --dry-run)"));
        }
    } else {
        errors.extend(conn_errors);
    }
    if !errors.is_empty() {
        outcome.trouble = Some(Trouble::Invalid);
        let hard = delivery.strict || delivery.dry_run;
        for e in &errors {
            if hard {
                ui.error(e);
            } else {
                ui.warn(&format!("not reported: {e}"));
            }
        }
        if !hard {
            ui.warn("nothing was sent; the step goes on (use --strict to fail it)");
        }
        print_result(&delivery, None, "invalid", false, 0, None);
        return outcome;
    }
    let Some((job, provenance)) = plan else {
        return outcome;
    };
    let payload = serde_json::to_string(&job).unwrap_or_default();
    let status_source = provenance
        .iter()
        .find(|p| p.0 == "status")
        .map(|p| p.2.clone())
        .unwrap_or_default();
    let status = job.status.to_string();
    if let Err(e) = github::write_outputs(
        env,
        &[
            ("job-id", &job.job_id),
            ("status", &status),
            ("payload", &payload),
        ],
    ) {
        ui.warn(&format!("could not write GITHUB_OUTPUT: {e}"));
    }
    let mut summary: Vec<(&str, String)> = vec![
        ("job_id", job.job_id.clone()),
        ("status", status.clone()),
        ("commit_sha", job.commit_sha.clone()),
        (
            "repo",
            job.repo_name
                .clone()
                .or(job.repo_id.clone())
                .unwrap_or_default(),
        ),
        ("service_id", job.service_id.to_string()),
        ("start", crate::timefmt::format_rfc3339(job.job_start_time)),
        ("duration", format!("{}s", job.job_duration)),
    ];

    if delivery.dry_run {
        let pretty = serde_json::to_string_pretty(&job).unwrap_or_default();
        println!("{pretty}");
        let width = provenance.iter().map(|p| p.0.len()).max().unwrap_or(0);
        for (field, value, source) in &provenance {
            ui.plain(&format!("{field:width$}  {value}  {source}"));
        }
        if let Ok(url) = &endpoint {
            ui.info(&format!("dry run: would POST to {url}"));
        }
        summary.push(("delivery", "dry run: nothing sent".into()));
        let _ = github::write_summary(env, "allstacks-cd report (dry run)", &summary);
        return outcome;
    }

    // Checked above: both are present when not a dry run.
    let (Ok(url), Some(token)) = (endpoint, delivery.token.as_deref()) else {
        return outcome;
    };
    let options = client_options(&delivery, env, token, &url);
    let sender = match Sender::new(&options) {
        Ok(s) => s,
        Err(f) => {
            // An unreadable --ca-cert, a token that cannot go in a header: our configuration,
            // not the delivery (exit 2 under --strict, like any invalid setting).
            outcome.trouble = Some(Trouble::Invalid);
            fail(&ui, &delivery, f.message());
            return outcome;
        }
    };
    // In CI the default state dir dies with the runner: keep reports only where asked to. An
    // unknown CI system is recognised by the `CI` variable almost all of them set.
    let in_ci = ci.provider.is_ci()
        || env
            .get("CI")
            .is_some_and(|v| !v.eq_ignore_ascii_case("false") && v != "0");
    let outbox_dir = delivery
        .outbox
        .clone()
        .or_else(|| (!in_ci).then(|| outbox::default_dir(env)).flatten());
    // One --timeout for everything this command sends: the saved reports may use half of it,
    // one attempt each, so a dead server cannot double the time the step takes.
    let deadline = sender.deadline();
    if let Some(dir) = &outbox_dir {
        let plan = FlushPlan {
            max_attempts: Some(1),
            deadline: Some(Instant::now() + delivery.timeout / 2),
            url: &url,
            warn_elsewhere: false,
        };
        flush_dir(dir, &sender, &ui, &plan);
    }
    let result = sender.send(&url, payload.as_bytes(), &ui, None, deadline);
    let delivered = result.result.is_ok();
    match &result.result {
        Ok(_) => {
            ui.info(&format!(
                "reported job {} ({status}, from {}) to {url} (HTTP {}, {} attempt{})",
                job.job_id,
                status_source,
                result.http_status.unwrap_or(0),
                result.attempts,
                if result.attempts == 1 { "" } else { "s" }
            ));
            summary.push(("delivery", "delivered".into()));
            if state_start_valid {
                let _ = std::fs::remove_file(&state_path);
            }
        }
        Err(failure) => {
            outcome.trouble = Some(Trouble::Delivery);
            // The server's words can quote the token back; files are not redacted by `Ui`.
            let reason = ui.redact(failure.message());
            let mut message = format!("could not report job {}: {reason}", job.job_id);
            if worth_keeping(failure) {
                match &outbox_dir {
                    Some(dir) => {
                        let saved = Saved {
                            version: 1,
                            url: url.clone(),
                            saved_at: now_epoch(),
                            last_error: reason.clone(),
                            payload: serde_json::to_value(&*job).unwrap_or_default(),
                            rejected: None,
                        };
                        match outbox::save(dir, &saved) {
                            Ok(path) => {
                                message.push_str(&format!(
                                    "; saved to {} (`allstacks-cd flush` re-sends it)",
                                    path.display()
                                ));
                                if state_start_valid {
                                    let _ = std::fs::remove_file(&state_path);
                                }
                            }
                            Err(e) => message.push_str(&format!(
                                "; NOT saved to the outbox {}: {e}",
                                dir.display()
                            )),
                        }
                    }
                    None => message.push_str(
                        "; not kept (set ALLSTACKS_OUTBOX to keep undelivered reports in CI)",
                    ),
                }
            }
            summary.push(("delivery", format!("failed: {reason}")));
            fail(&ui, &delivery, &message);
        }
    }
    let _ = github::write_summary(env, "allstacks-cd report", &summary);
    print_result(
        &delivery,
        Some(&job.job_id),
        &status,
        delivered,
        result.attempts,
        result.http_status,
    );
    outcome
}

/// Reports that a later flush may get through: not those the server judged invalid.
fn worth_keeping(f: &Failure) -> bool {
    match f {
        Failure::Rejected { status, .. } => !refuses_the_payload(*status),
        _ => true,
    }
}

/// A 4xx that is about the report itself: sending it again cannot help. 401/403/404 are about
/// the token or the URL, a 3xx or a 5xx about the server: a later flush may get through.
fn refuses_the_payload(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 404)
}

fn fail(ui: &Ui, delivery: &DeliverySettings, message: &str) {
    if delivery.strict {
        ui.error(message);
    } else {
        ui.warn(&format!(
            "{message} (the step goes on; use --strict to fail it)"
        ));
    }
}

/// `--output json`: one line on stdout for scripts.
fn print_result(
    delivery: &DeliverySettings,
    job_id: Option<&str>,
    status: &str,
    delivered: bool,
    attempts: u32,
    http_status: Option<u16>,
) {
    if delivery.output_json && !delivery.dry_run {
        println!(
            "{}",
            serde_json::json!({
                "job_id": job_id,
                "status": status,
                "delivered": delivered,
                "attempts": attempts,
                "http_status": http_status,
            })
        );
    }
}

fn client_options<'a>(
    d: &'a DeliverySettings,
    env: &'a Env,
    token: &'a str,
    url: &'a str,
) -> client::Options<'a> {
    client::Options {
        token,
        timeout: d.timeout,
        retries: d.retries,
        ca_cert: d.ca_cert.as_deref(),
        ssl_cert_file: env.get("SSL_CERT_FILE").map(Path::new),
        url,
    }
}

fn api_start(
    env: &Env,
    ci: &CiContext,
    scope: Scope,
    warnings: &RefCell<Vec<String>>,
) -> Option<Sourced<i64>> {
    if ci.provider != ci::Provider::GitHub {
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

/// `$RUNNER_TEMP` on GitHub (per job), else inside `.git` (never committed), else the
/// working directory.
fn default_state_file(env: &Env, cwd: &Path) -> PathBuf {
    if let Some(tmp) = env.get("RUNNER_TEMP") {
        return Path::new(tmp).join("allstacks-cd-start.json");
    }
    match crate::git::discover(cwd) {
        Some(git_dir) => git_dir.join("allstacks-cd-start.json"),
        None => cwd.join(".allstacks-cd-start.json"),
    }
}

/// The start `allstacks-cd start` recorded in `path`; a file that is not one (too large, not
/// JSON, no sane `job_start_time`) is a warning and `None`.
fn read_state(path: &Path, warnings: &mut Vec<String>) -> Option<Sourced<i64>> {
    const MAX_STATE: u64 = 64 * 1024;
    let meta = std::fs::metadata(path).ok()?;
    let mut ignore = |why: String| {
        warnings.push(format!("ignoring state file {}: {why}", path.display()));
        None
    };
    if meta.len() > MAX_STATE {
        return ignore(format!("larger than {} KiB", MAX_STATE / 1024));
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: Option<i64> = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("job_start_time")?.as_i64());
    let Some(t) = value else {
        return ignore("it holds no job_start_time".into());
    };
    if let Err(e) = crate::timefmt::check_sane(t, now_epoch()) {
        return ignore(format!("its job_start_time {e}"));
    }
    Some(Sourced::new(t, format!("state file {}", path.display())))
}

/// `start`: records the start time.
pub fn start(args: StartArgs, env: &Env, cwd: &Path) -> Outcome {
    let ui = Ui::new(args.verbosity.level(), github::is_actions(env));
    let mut errors = Vec::new();
    let strict = settings::delivery(ConnArgs::default(), env, &mut errors).strict;
    let mut outcome = Outcome {
        trouble: None,
        strict,
        dry_run: false,
    };
    // The same flag/variable merge as `report`, so both agree on the state file.
    let js = settings::job(
        JobArgs {
            state_file: args.state_file,
            job_start_time: args.job_start_time,
            ..JobArgs::default()
        },
        env,
        &mut errors,
    );
    let path = js
        .state_file
        .unwrap_or_else(|| default_state_file(env, cwd));
    let given = js.job_start_time.map(|t| job::parse_start(&t, now_epoch()));
    let time = match given {
        None => now_epoch(),
        Some(Ok(t)) => t.value,
        Some(Err(e)) => {
            ui.error(&e);
            outcome.trouble = Some(Trouble::Invalid);
            outcome.strict = true; // a usage error: exit 2
            return outcome;
        }
    };
    match write_state(&path, time) {
        Ok(()) => ui.info(&format!(
            "recorded start {} in {}",
            crate::timefmt::format_rfc3339(time),
            path.display()
        )),
        Err(e) => {
            outcome.trouble = Some(Trouble::Delivery);
            let msg = format!("{e:#}");
            if strict {
                ui.error(&msg)
            } else {
                ui.warn(&msg)
            }
        }
    }
    outcome
}

/// Writes the state file through a new temporary file and a rename: a symlink planted at
/// `path` is replaced, never followed, and a reader never sees half a file.
fn write_state(path: &Path, time: i64) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
    }
    let body = serde_json::json!({ "job_start_time": time }).to_string();
    outbox::replace(path, body.as_bytes())
        .with_context(|| format!("cannot write the state file {}", path.display()))
}

/// `flush`: re-sends the outbox to the configured endpoint.
pub fn flush(args: FlushArgs, env: &Env) -> Outcome {
    let mut errors = Vec::new();
    let delivery = settings::delivery(args.conn, env, &mut errors);
    let mut ui = Ui::new(delivery.verbosity, github::is_actions(env));
    if let Some(token) = &delivery.token {
        ui.add_secret(token);
    }
    let mut outcome = Outcome {
        trouble: None,
        strict: delivery.strict,
        dry_run: delivery.dry_run,
    };
    let Some(dir) = delivery.outbox.clone().or_else(|| outbox::default_dir(env)) else {
        ui.error("no outbox: set ALLSTACKS_OUTBOX (or --outbox)");
        outcome.trouble = Some(Trouble::Invalid);
        return outcome;
    };
    if dir.exists() {
        if let Err(e) = outbox::check_private_dir(&dir) {
            errors.push(format!("the outbox is not trusted: {e}"));
        }
    }
    // Saved reports go only to the endpoint configured now: a file names its URL, and a file
    // planted in a shared outbox must not get our token sent to its host.
    let endpoint = client::endpoint(
        delivery.url.as_ref(),
        delivery.company_id.as_ref(),
        delivery.allow_http,
    );
    if delivery.dry_run {
        for e in &errors {
            ui.error(e);
        }
        if !errors.is_empty() {
            outcome.trouble = Some(Trouble::Invalid);
            return outcome;
        }
        flush_dry_run(&dir, endpoint.as_ref().ok().map(String::as_str), &ui);
        return outcome;
    }
    let found = outbox::pending(&dir);
    if errors.is_empty() && found.files.is_empty() && found.foreign.is_empty() {
        ui.info(&format!("the outbox {} is empty", dir.display()));
        print_flush(&delivery, &dir, &FlushStats::default());
        return outcome;
    }
    if let Err(e) = &endpoint {
        errors.push(format!(
            "{e} (saved reports are sent only to the endpoint configured now)"
        ));
    }
    if delivery.token.is_none() && !delivery.token_refused {
        errors.push("token is required to flush: set ALLSTACKS_TOKEN (or --token-file)".into());
    }
    let (Ok(url), Some(token), true) = (endpoint, delivery.token.as_deref(), errors.is_empty())
    else {
        for e in &errors {
            ui.error(e);
        }
        outcome.trouble = Some(Trouble::Invalid);
        return outcome;
    };
    let sender = match Sender::new(&client_options(&delivery, env, token, &url)) {
        Ok(s) => s,
        Err(f) => {
            ui.error(f.message());
            outcome.trouble = Some(Trouble::Invalid);
            return outcome;
        }
    };
    let plan = FlushPlan {
        max_attempts: None,
        deadline: None,
        url: &url,
        warn_elsewhere: true,
    };
    let stats = flush_dir(&dir, &sender, &ui, &plan);
    ui.info(&format!(
        "flushed {}: {} delivered, {} rejected (moved to {}), {} kept, {} stuck",
        dir.display(),
        stats.delivered,
        stats.rejected,
        dir.join("rejected").display(),
        stats.kept,
        stats.stuck
    ));
    print_flush(&delivery, &dir, &stats);
    if stats.kept > 0 || stats.rejected > 0 || stats.stuck > 0 {
        outcome.trouble = Some(Trouble::Delivery);
    }
    outcome
}

/// `flush --dry-run`: lists every saved report (and whether it would be sent to the endpoint
/// configured now), prints their payloads as a JSON array, sends nothing.
fn flush_dry_run(dir: &Path, url: Option<&str>, ui: &Ui) {
    let found = outbox::pending(dir);
    warn_foreign(&found, ui);
    let mut list = Vec::new();
    for path in &found.files {
        match outbox::read(path) {
            Ok(saved) => {
                let target = match url {
                    Some(u) if u == saved.url => "the configured endpoint".to_string(),
                    Some(_) => format!("another endpoint ({}): not sent", saved.url),
                    None => saved.url.clone(),
                };
                ui.plain(&format!(
                    "{}  job {}  → {target}  (saved {}, last error: {})",
                    path.display(),
                    saved
                        .payload
                        .get("job_id")
                        .and_then(|j| j.as_str())
                        .unwrap_or("?"),
                    crate::timefmt::format_rfc3339(saved.saved_at),
                    saved.last_error
                ));
                list.push(saved.payload);
            }
            Err(e) => ui.warn(&format!("{} is {e}", path.display())),
        }
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&list).unwrap_or_default()
    );
    ui.info(&format!(
        "{} report(s) in {}; nothing sent (dry run)",
        found.files.len(),
        dir.display()
    ));
}

fn warn_foreign(found: &outbox::Pending, ui: &Ui) {
    for path in &found.foreign {
        ui.warn(&format!(
            "skipping {}: it belongs to another user, and is never sent with your token",
            path.display()
        ));
    }
}

/// `flush --output json`: one line for scripts.
fn print_flush(delivery: &DeliverySettings, dir: &Path, stats: &FlushStats) {
    if delivery.output_json {
        println!(
            "{}",
            serde_json::json!({
                "outbox": dir.display().to_string(),
                "delivered": stats.delivered,
                "rejected": stats.rejected,
                "kept": stats.kept,
                "stuck": stats.stuck,
                "other_endpoint": stats.elsewhere,
                "not_ours": stats.foreign,
            })
        );
    }
}

#[derive(Debug, Default)]
struct FlushStats {
    delivered: usize,
    rejected: usize,
    /// Not delivered this time (server down, no time left): still in the outbox.
    kept: usize,
    /// Could not be claimed (read-only, no permission): a failure, never "someone else's".
    stuck: usize,
    /// Saved for another endpoint: left in place, never sent with this token.
    elsewhere: usize,
    /// Owned by another user: never read.
    foreign: usize,
}

/// How far a flush goes.
struct FlushPlan<'a> {
    /// `Some(1)` before a report's own job; `None`: the configured retries.
    max_attempts: Option<u32>,
    /// No send starts after this (before a report: its share of `--timeout`).
    deadline: Option<Instant>,
    /// The endpoint configured now: only reports saved for it are sent.
    url: &'a str,
    /// Warn about reports saved for another endpoint (`flush`), or only mention them at `-v`
    /// (before every report, where they would repeat).
    warn_elsewhere: bool,
}

/// Sends every saved report for `plan.url` in `dir`, oldest first. Stops at the first failure
/// that is not about the report itself (server down, token refused, TLS): the rest would fail
/// the same way.
fn flush_dir(dir: &Path, sender: &Sender, ui: &Ui, plan: &FlushPlan) -> FlushStats {
    let mut stats = FlushStats::default();
    let found = outbox::pending(dir);
    warn_foreign(&found, ui);
    stats.foreign = found.foreign.len();
    let files = found.files;
    let total = files.len();
    let mut elsewhere = Vec::new();
    for (i, path) in files.iter().enumerate() {
        if plan.deadline.is_some_and(|d| Instant::now() >= d) {
            ui.verbose(&format!(
                "no time left to flush {}: {} saved report(s) wait for the next run",
                dir.display(),
                total - i
            ));
            stats.kept += total - i;
            break;
        }
        let claim = match Claim::take(path) {
            Ok(Some(claim)) => claim,
            Ok(None) => continue, // another flush is sending it
            Err(e) => {
                ui.warn(&format!(
                    "cannot claim {} for sending: {e}; it stays unsent",
                    path.display()
                ));
                stats.stuck += 1;
                continue;
            }
        };
        let saved = match claim.read() {
            Ok(s) => s,
            Err(e) => {
                ui.warn(&format!("{}: {e}; moved to rejected/", path.display()));
                let _ = claim.reject(&e);
                stats.rejected += 1;
                continue;
            }
        };
        if saved.url != plan.url {
            let _ = claim.leave();
            elsewhere.push((path.clone(), saved.url));
            continue;
        }
        let body = serde_json::to_vec(&saved.payload).unwrap_or_default();
        // Each saved report gets a full --timeout unless the plan caps the whole flush.
        let deadline = plan.deadline.unwrap_or_else(|| sender.deadline());
        let result = sender.send(plan.url, &body, ui, plan.max_attempts, deadline);
        match result.result {
            Ok(_) => {
                ui.info(&format!("delivered saved report {}", path.display()));
                if let Err(e) = claim.delivered() {
                    ui.warn(&format!(
                        "delivered, but could not delete {}: {e}",
                        path.display()
                    ));
                }
                stats.delivered += 1;
            }
            Err(Failure::Rejected { status, message }) if refuses_the_payload(status) => {
                ui.warn(&format!(
                    "saved report {} was rejected: {message}",
                    path.display()
                ));
                // Files are not redacted by `Ui`: the server's words may quote the token.
                match claim.reject(&ui.redact(&message)) {
                    Ok(to) => ui.info(&format!("moved it to {}", to.display())),
                    Err(e) => ui.warn(&format!("could not move it aside: {e}")),
                }
                stats.rejected += 1;
            }
            Err(failure) => {
                let _ = claim.release(Some(&ui.redact(failure.message())));
                ui.warn(&format!(
                    "saved report {} not delivered: {}",
                    path.display(),
                    failure.message()
                ));
                stats.kept += total - i;
                break;
            }
        }
    }
    stats.elsewhere = elsewhere.len();
    for (path, url) in &elsewhere {
        let say = |m: &str| {
            if plan.warn_elsewhere {
                ui.warn(m)
            } else {
                ui.verbose(m)
            }
        };
        say(&format!(
            "{} was saved for another webhook URL ({}): left in place, never sent with the token \
             for {}",
            path.display(),
            client::redact_userinfo(url),
            plan.url
        ));
    }
    stats
}

/// `run`: runs the command, then reports its outcome.
pub fn run(args: RunArgs, env: &Env, cwd: &Path) -> i32 {
    let start = now_epoch();
    let program = args.command[0].to_string_lossy().into_owned();
    let (code, source) = spawn(&args.command);
    // The code itself is the status word: 0 → Succeeded, anything else → Failed.
    let status = if code == 0 { "0" } else { "1" };
    let wrapped = Wrapped {
        start,
        status: Sourced::new(status.to_string(), format!("{source} of {program}")),
    };
    let outcome = report(args.job, args.conn, Some(wrapped), env, cwd);
    if outcome.trouble.is_some() && outcome.strict && code == 0 {
        1
    } else {
        code
    }
}

/// Runs the command with inherited stdio; returns its exit code (128+N for signal N) and how
/// it ended (`exit code 3`, `signal 9`).
fn spawn(command: &[OsString]) -> (i32, String) {
    let mut cmd = std::process::Command::new(&command[0]);
    cmd.args(&command[1..]);
    signals::shield();
    let status = match cmd.status() {
        Ok(s) => s,
        Err(e) => {
            let code = if e.kind() == std::io::ErrorKind::NotFound {
                127
            } else {
                126
            };
            eprintln!(
                "allstacks-cd: error: cannot run {}: {e}",
                command[0].to_string_lossy()
            );
            return (code, format!("exit code {code}"));
        }
    };
    signals::restore();
    if let Some(code) = status.code() {
        return (code, format!("exit code {code}"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return (128 + sig, format!("signal {sig}"));
        }
    }
    (1, "abnormal exit".into())
}

/// While the wrapped command runs, Ctrl-C and a CI's SIGTERM should stop the command, not us:
/// we stay to report it. A handler (not SIG_IGN, which the child would inherit) does that.
#[cfg(unix)]
mod signals {
    extern "C" fn ignore(_: libc::c_int) {}

    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    pub fn shield() {
        for sig in SIGNALS {
            // SAFETY: installing a handler that does nothing is async-signal-safe.
            unsafe {
                libc::signal(sig, ignore as *const () as libc::sighandler_t);
            }
        }
    }

    pub fn restore() {
        for sig in SIGNALS {
            // SAFETY: restores the default disposition.
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
    }
}

#[cfg(not(unix))]
mod signals {
    pub fn shield() {}
    pub fn restore() {}
}
