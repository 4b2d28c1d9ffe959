//! GitLab records: a deployment (a job that deployed to an environment) and a pipeline. GitLab
//! describes each in two shapes (a webhook body for `serve`, an API object for `backfill`), so
//! the callers fill these plain structs from their own parse, and one function per kind maps it.

use super::{tagged, time};
use crate::context::{CiContext, Provider};
use crate::env::Sourced;

/// A deployment: the job `deployable_id` deployed `sha` to `environment`.
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    /// The deploying job's id: the `job_id` a job-scope report from that job would send.
    pub deployable_id: u64,
    pub sha: Option<String>,
    pub project_path: Option<String>,
    pub project_id: Option<u64>,
    pub environment: Option<String>,
    pub environment_tier: Option<String>,
    pub environment_url: Option<String>,
    /// `success`, `failed`, `canceled`; anything else (`running`, `created`, `blocked`) is not
    /// a finished deployment.
    pub status: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// An email when GitLab shows one (`[REDACTED]` and blanks are not).
    pub user_email: Option<String>,
    pub username: Option<String>,
    pub job_url: Option<String>,
    pub pipeline_url: Option<String>,
    pub branch: Option<String>,
}

/// A pipeline.
#[derive(Debug, Clone, Default)]
pub struct Pipeline {
    pub id: u64,
    pub sha: Option<String>,
    pub project_path: Option<String>,
    pub project_id: Option<u64>,
    /// `success`, `failed`, `canceled`, `skipped`, `manual`; others are not finished.
    pub status: Option<String>,
    pub created_at: Option<String>,
    pub finished_at: Option<String>,
    pub user_email: Option<String>,
    pub username: Option<String>,
    pub web_url: Option<String>,
    pub branch: Option<String>,
    pub source: Option<String>,
    pub name: Option<String>,
}

/// A finished deployment, reported as a job-scope report from its deploying job would be.
pub fn deployment(d: &Deployment, origin: &str) -> CiContext {
    let mut ctx = CiContext::new(Provider::GitLab);
    ctx.event = Some("deployment");
    let id = Sourced::new(
        d.deployable_id.to_string(),
        format!("{origin} deployable_id"),
    );
    ctx.pipeline_id = Some(id.clone());
    ctx.job_id = Some(id);
    ctx.commit_sha = tagged(origin, "sha", d.sha.as_deref());
    project(&mut ctx, d.project_path.as_deref(), d.project_id, origin);
    ctx.triggered_by = user(d.user_email.as_deref(), d.username.as_deref(), origin);
    ctx.finished = time(&mut ctx, origin, "finished_at", d.finished_at.as_deref());
    // Without a start (a hook knows only when the status changed), the job starts at its end.
    ctx.pipeline_started = time(&mut ctx, origin, "started_at", d.started_at.as_deref())
        .or_else(|| ctx.finished.clone());
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.status = finished_word(
        origin,
        d.status.as_deref(),
        &["success", "failed", "canceled"],
    );
    ctx.add_context("environment", d.environment.as_deref());
    ctx.add_context("environment_tier", d.environment_tier.as_deref());
    ctx.add_context("environment_url", d.environment_url.as_deref());
    ctx.add_context("job_url", d.job_url.as_deref());
    ctx.add_context("pipeline_url", d.pipeline_url.as_deref());
    ctx.add_context("branch", d.branch.as_deref());
    ctx.add_context("trigger_event", Some("deployment"));
    ctx
}

/// A finished pipeline, reported as the template's pipeline-scope report would be.
pub fn pipeline(p: &Pipeline, origin: &str) -> CiContext {
    let mut ctx = CiContext::new(Provider::GitLab);
    ctx.event = Some("pipeline");
    let id = Sourced::new(p.id.to_string(), format!("{origin} id"));
    ctx.pipeline_id = Some(id.clone());
    ctx.job_id = Some(id);
    ctx.commit_sha = tagged(origin, "sha", p.sha.as_deref());
    project(&mut ctx, p.project_path.as_deref(), p.project_id, origin);
    ctx.triggered_by = user(p.user_email.as_deref(), p.username.as_deref(), origin);
    ctx.pipeline_started = time(&mut ctx, origin, "created_at", p.created_at.as_deref());
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = time(&mut ctx, origin, "finished_at", p.finished_at.as_deref());
    ctx.status = finished_word(
        origin,
        p.status.as_deref(),
        &["success", "failed", "canceled", "skipped", "manual"],
    );
    ctx.add_context("pipeline_url", p.web_url.as_deref());
    ctx.add_context("branch", p.branch.as_deref());
    ctx.add_context("workflow", p.name.as_deref());
    ctx.add_context("trigger_event", p.source.as_deref());
    ctx
}

/// A finished status as the status word; one that is not finished is `skipped` (nothing sent).
fn finished_word(origin: &str, status: Option<&str>, finished: &[&str]) -> Option<Sourced<String>> {
    let raw = status?.trim().to_ascii_lowercase();
    let word = if finished.contains(&raw.as_str()) {
        raw.clone()
    } else {
        "skipped".to_string()
    };
    Some(Sourced::new(word, format!("{origin} status {raw:?}")))
}

fn project(ctx: &mut CiContext, path: Option<&str>, id: Option<u64>, origin: &str) {
    ctx.repo_name = tagged(origin, "project.path_with_namespace", path);
    ctx.repo_id = id.map(|id| Sourced::new(id.to_string(), format!("{origin} project.id")));
}

/// The user's email when it is a real address (GitLab shows `[REDACTED]` or nothing for users
/// who hide theirs), else the username.
fn user(email: Option<&str>, username: Option<&str>, origin: &str) -> Option<Sourced<String>> {
    let email = email
        .map(str::trim)
        .filter(|e| e.contains('@') && !e.contains("REDACTED"));
    tagged(origin, "user.email", email).or_else(|| tagged(origin, "user.username", username))
}
