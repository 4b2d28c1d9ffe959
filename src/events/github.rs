//! GitHub records: a deployment with one of its statuses, and a workflow run (SPEC
//! `spec/deployments.md`). The same types read an event payload (`GITHUB_EVENT_PATH`), an API
//! answer (`/deployments`, `/statuses`, `/actions/runs`) and a webhook body: GitHub gives the
//! objects the same shape in all three. Only the fields used here are read; the rest of a
//! document is skipped unread.

use serde::Deserialize;

use super::{tagged, time};
use crate::context::{CiContext, Provider};
use crate::env::Sourced;

/// `repository` of an event, or the repository an API call was made for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Repository {
    pub full_name: Option<String>,
    pub id: Option<u64>,
}

/// A user or bot (`creator`, `actor`, `triggering_actor`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Login {
    pub login: Option<String>,
}

/// The app a deployment was made through (Vercel, Netlify, ...).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct App {
    pub slug: Option<String>,
}

/// A GitHub Deployment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Deployment {
    pub id: u64,
    pub sha: Option<String>,
    pub environment: Option<String>,
    pub created_at: Option<String>,
    pub creator: Option<Login>,
    pub performed_via_github_app: Option<App>,
}

/// One status of a deployment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeploymentStatus {
    pub state: Option<String>,
    pub created_at: Option<String>,
    pub environment_url: Option<String>,
    pub log_url: Option<String>,
    pub target_url: Option<String>,
}

/// A workflow run (one attempt of it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    pub run_attempt: Option<u64>,
    pub name: Option<String>,
    pub head_sha: Option<String>,
    pub head_branch: Option<String>,
    pub event: Option<String>,
    pub status: Option<String>,
    pub conclusion: Option<String>,
    pub html_url: Option<String>,
    pub run_started_at: Option<String>,
    pub updated_at: Option<String>,
    /// When the run (its first attempt) was created: `backfill --since/--until` select by it.
    pub created_at: Option<String>,
    pub actor: Option<Login>,
    pub triggering_actor: Option<Login>,
}

/// The parts of an event payload these records come in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    pub repository: Option<Repository>,
    pub deployment: Option<Deployment>,
    pub deployment_status: Option<DeploymentStatus>,
    pub workflow_run: Option<WorkflowRun>,
    /// `push` events: who pushed.
    pub pusher: Option<Pusher>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Pusher {
    pub email: Option<String>,
}

/// The deployment states reported unless `--deployment-states` says otherwise.
pub const DEFAULT_STATES: &[&str] = &["success", "failure", "error"];

/// A deployment with one of its statuses: the job is the deployment (`deployment-{id}`, shared
/// by all its statuses), from its creation to that status.
pub fn deployment(
    repo: &Repository,
    d: &Deployment,
    s: &DeploymentStatus,
    origin: &str,
) -> CiContext {
    let mut ctx = CiContext::new(Provider::GitHub);
    ctx.event = Some("deployment_status");
    let id = Sourced::new(
        format!("deployment-{}", d.id),
        format!("{origin} deployment.id"),
    );
    ctx.pipeline_id = Some(id.clone());
    ctx.job_id = Some(id);
    ctx.commit_sha = tagged(origin, "deployment.sha", d.sha.as_deref());
    repository(&mut ctx, repo, origin);
    ctx.triggered_by = tagged(
        origin,
        "deployment.creator.login",
        d.creator.as_ref().and_then(|c| c.login.as_deref()),
    );
    ctx.pipeline_started = time(
        &mut ctx,
        origin,
        "deployment.created_at",
        d.created_at.as_deref(),
    );
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = time(
        &mut ctx,
        origin,
        "deployment_status.created_at",
        s.created_at.as_deref(),
    );
    if let Some(state) = tagged(origin, "deployment_status.state", s.state.as_deref()) {
        ctx.status = Some(state_word(&state));
        ctx.deployment_state = Some(state);
    }
    ctx.add_context("environment", d.environment.as_deref());
    ctx.add_context("environment_url", s.environment_url.as_deref());
    ctx.add_context("log_url", s.log_url.as_deref().or(s.target_url.as_deref()));
    ctx.add_context(
        "deployed_by_app",
        d.performed_via_github_app
            .as_ref()
            .and_then(|a| a.slug.as_deref()),
    );
    ctx.add_context("trigger_event", Some("deployment_status"));
    ctx
}

/// A deployment state as a status word: `success` → Succeeded; `failure`, `error` → Failed;
/// `waiting`, `queued`, `pending`, `in_progress` → On Hold; `inactive` (a later deployment
/// replaced this one) and anything else → skipped. The source keeps the state as GitHub wrote it.
fn state_word(state: &Sourced<String>) -> Sourced<String> {
    let raw = state.value.to_ascii_lowercase();
    let word = match raw.as_str() {
        "success" => "success",
        "failure" | "error" => "failed",
        "waiting" | "queued" | "pending" | "in_progress" => "on hold",
        _ => "skipped",
    };
    Sourced::new(word.to_string(), format!("{} {raw:?}", state.source))
}

/// A completed workflow run: the job is the run attempt (`{id}-{attempt}`), as a pipeline-scope
/// report from inside that run would be.
pub fn workflow_run(repo: &Repository, run: &WorkflowRun, origin: &str) -> CiContext {
    let mut ctx = CiContext::new(Provider::GitHub);
    ctx.event = Some("workflow_run");
    let attempt = run.run_attempt.unwrap_or(1);
    let id = Sourced::new(
        format!("{}-{attempt}", run.id),
        format!("{origin} workflow_run.id, workflow_run.run_attempt"),
    );
    ctx.pipeline_id = Some(id.clone());
    ctx.job_id = Some(id);
    ctx.commit_sha = tagged(origin, "workflow_run.head_sha", run.head_sha.as_deref());
    repository(&mut ctx, repo, origin);
    let login = |l: &Option<Login>| l.as_ref().and_then(|l| l.login.clone());
    ctx.triggered_by = tagged(
        origin,
        "workflow_run.triggering_actor.login",
        login(&run.triggering_actor).as_deref(),
    )
    .or_else(|| {
        tagged(
            origin,
            "workflow_run.actor.login",
            login(&run.actor).as_deref(),
        )
    });
    ctx.pipeline_started = time(
        &mut ctx,
        origin,
        "workflow_run.run_started_at",
        run.run_started_at.as_deref(),
    );
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = time(
        &mut ctx,
        origin,
        "workflow_run.updated_at",
        run.updated_at.as_deref(),
    );
    ctx.status = Some(conclusion_word(run, origin));
    ctx.add_context("workflow", run.name.as_deref());
    ctx.add_context("pipeline_url", run.html_url.as_deref());
    ctx.add_context("branch", run.head_branch.as_deref());
    ctx.add_context("trigger_event", run.event.as_deref());
    ctx.add_context("run_attempt", Some(attempt.to_string()));
    ctx
}

/// A run's conclusion as a status word: `success` → Succeeded; `failure`, `timed_out`,
/// `startup_failure` → Failed; `cancelled` → per `--cancelled-as`; `action_required` → On Hold;
/// `skipped`, `neutral`, `stale`, and a run that is not `completed` → skipped.
fn conclusion_word(run: &WorkflowRun, origin: &str) -> Sourced<String> {
    let status = run.status.as_deref().unwrap_or("completed");
    if !status.eq_ignore_ascii_case("completed") {
        return Sourced::new(
            "skipped".to_string(),
            format!("{origin} workflow_run.status {status:?} (not completed)"),
        );
    }
    let raw = run.conclusion.as_deref().unwrap_or("").to_ascii_lowercase();
    let word = match raw.as_str() {
        "success" => "success",
        "failure" | "timed_out" | "startup_failure" => "failed",
        "cancelled" => "cancelled",
        "action_required" => "action required",
        _ => "skipped",
    };
    Sourced::new(
        word.to_string(),
        format!("{origin} workflow_run.conclusion {raw:?}"),
    )
}

fn repository(ctx: &mut CiContext, repo: &Repository, origin: &str) {
    ctx.repo_name = tagged(origin, "repository.full_name", repo.full_name.as_deref());
    ctx.repo_id = repo
        .id
        .map(|id| Sourced::new(id.to_string(), format!("{origin} repository.id")));
}

/// Whether `state` is one of `states` (compared without case).
pub fn state_reported(state: &str, states: &[String]) -> bool {
    states.iter().any(|s| s.eq_ignore_ascii_case(state.trim()))
}
