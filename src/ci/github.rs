//! GitHub Actions (`GITHUB_ACTIONS=true`).
//!
//! The variables give the commit, repository, run and job. Who triggered the run is read from
//! the event payload at `GITHUB_EVENT_PATH` on push events (the pusher's email beats a login),
//! and the deployment environment from a `deployment` event. Start times are not in the
//! environment at all: they come from the REST API (`crate::github_api`).

use serde::Deserialize;

use super::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless `GITHUB_ACTIONS` is `true`.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !crate::github::is_actions(env) {
        return None;
    }
    let mut ctx = CiContext::new(Provider::GitHub);
    ctx.commit_sha = env.sourced("GITHUB_SHA");
    ctx.repo_name = env.sourced("GITHUB_REPOSITORY");
    ctx.repo_id = env.sourced("GITHUB_REPOSITORY_ID");

    let event_name = env.get("GITHUB_EVENT_NAME");
    // Only the events whose payload we use are read, so an unreadable payload on, say, a
    // schedule run does not produce a pointless warning.
    let event = match event_name {
        Some("push" | "deployment" | "deployment_status") => read_event(&mut ctx, env),
        _ => None,
    };

    let pusher = match (event_name, &event) {
        (Some("push"), Some(event)) => {
            non_empty(event.pusher.as_ref().and_then(|p| p.email.as_deref()))
        }
        _ => None,
    };
    ctx.triggered_by = pusher
        .map(|email| Sourced::new(email, "GITHUB_EVENT_PATH pusher.email"))
        .or_else(|| env.sourced_first(&["GITHUB_TRIGGERING_ACTOR", "GITHUB_ACTOR"]));

    // A re-run keeps GITHUB_RUN_ID, so the attempt is part of the id; runners older than
    // GITHUB_RUN_ATTEMPT only ever had attempt 1.
    let attempt = env.get("GITHUB_RUN_ATTEMPT");
    if let Some(run_id) = env.get("GITHUB_RUN_ID") {
        let (attempt, source) = match attempt {
            Some(a) => (a, "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
            None => ("1", "GITHUB_RUN_ID"),
        };
        let pipeline = format!("{run_id}-{attempt}");
        ctx.job_id = env
            .get("GITHUB_JOB")
            .map(|job| Sourced::new(format!("{pipeline}-{job}"), format!("{source}, GITHUB_JOB")));
        ctx.pipeline_id = Some(Sourced::new(pipeline, source));
    }

    // GitHub Enterprise Server has its own host, given by GITHUB_SERVER_URL.
    let pipeline_url = match (env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")) {
        (Some(repo), Some(run_id)) => {
            let server = env
                .get("GITHUB_SERVER_URL")
                .unwrap_or("https://github.com")
                .trim_end_matches('/');
            Some(format!("{server}/{repo}/actions/runs/{run_id}"))
        }
        _ => None,
    };
    ctx.add_context("pipeline_url", pipeline_url);
    ctx.add_context("workflow", env.get("GITHUB_WORKFLOW"));
    // GITHUB_HEAD_REF is the source branch of a pull request (GITHUB_REF_NAME is then
    // `123/merge`); a tag is not a branch.
    let branch = env.get("GITHUB_HEAD_REF").or_else(|| {
        (env.get("GITHUB_REF_TYPE") != Some("tag"))
            .then(|| env.get("GITHUB_REF_NAME"))
            .flatten()
    });
    ctx.add_context("branch", branch);
    ctx.add_context("run_attempt", attempt);
    ctx.add_context("trigger_event", event_name);
    let environment = event
        .as_ref()
        .and_then(|e| non_empty(e.deployment.as_ref().and_then(|d| d.environment.as_deref())));
    ctx.add_context("environment", environment);
    Some(ctx)
}

/// The parts of the event payload we read; everything else in the file is skipped unread.
#[derive(Debug, Default, Deserialize)]
struct Event {
    pusher: Option<Pusher>,
    deployment: Option<Deployment>,
}

#[derive(Debug, Default, Deserialize)]
struct Pusher {
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Deployment {
    environment: Option<String>,
}

/// Event files larger than this (GitHub's own cap on webhook payloads) are skipped.
pub const MAX_EVENT: u64 = 25 * 1024 * 1024;

/// The event payload; a missing, oversized or malformed file is a warning and `None`. Only the
/// fields of [`Event`] are kept, so a large file costs its reading, not its size in memory.
fn read_event(ctx: &mut CiContext, env: &Env) -> Option<Event> {
    let path = env.get("GITHUB_EVENT_PATH")?;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            ctx.warnings.push(format!(
                "ignoring GITHUB_EVENT_PATH: could not read {path}: {e}"
            ));
            return None;
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > MAX_EVENT {
        ctx.warnings.push(format!(
            "ignoring GITHUB_EVENT_PATH: {path} is larger than {} MiB ({size} bytes)",
            MAX_EVENT / (1024 * 1024)
        ));
        return None;
    }
    let reader = std::io::BufReader::new(std::io::Read::take(file, MAX_EVENT));
    match serde_json::from_reader(reader) {
        Ok(event) => Some(event),
        Err(e) => {
            ctx.warnings.push(format!(
                "ignoring GITHUB_EVENT_PATH: {path} is not JSON of an event's shape: {e}"
            ));
            None
        }
    }
}

fn non_empty(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
