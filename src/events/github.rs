//! GitHub records: a deployment with one of its statuses, and a workflow run (SPEC
//! `spec/deployments.md`). The same types read an event payload (`GITHUB_EVENT_PATH`), an API
//! answer (`/deployments`, `/statuses`, `/actions/runs`) and a webhook body: GitHub gives the
//! objects the same shape in all three. Only the fields used here are read; the rest of a
//! document is skipped unread.

use serde::Deserialize;

use super::{failure_reason, seconds_between, tagged, time};
use crate::context::{CiContext, Provider};
use crate::env::Sourced;
use crate::fields::FieldType;

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
    /// The branch, tag or SHA that was deployed.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    pub environment: Option<String>,
    pub created_at: Option<String>,
    pub creator: Option<Login>,
    pub performed_via_github_app: Option<App>,
}

/// One status of a deployment.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeploymentStatus {
    pub state: Option<String>,
    /// The deployer's words on this status (why it failed, on failure).
    pub description: Option<String>,
    /// Who set this status: a webhook's `sender`, in an API answer.
    pub creator: Option<Login>,
    pub created_at: Option<String>,
    pub environment_url: Option<String>,
    pub log_url: Option<String>,
    pub target_url: Option<String>,
}

/// A workflow run (one attempt of it).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    /// Absent before GitHub Enterprise Server 3.3 (attempt 1 is assumed).
    pub run_attempt: Option<u64>,
    /// Empty in some payloads (GitHub's own `workflow_run` example): see [`workflow_name`].
    pub name: Option<String>,
    /// `.github/workflows/deploy.yml` (`...@refs/heads/main` on newer servers).
    pub path: Option<String>,
    #[serde(default)]
    pub pull_requests: Vec<PullRequest>,
    pub head_commit: Option<HeadCommit>,
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

/// A pull request a run is for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PullRequest {
    pub number: Option<i64>,
}

/// The commit a run ran on.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HeadCommit {
    pub timestamp: Option<String>,
}

/// The workflow of a `workflow_run` webhook (top level, beside `workflow_run`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Workflow {
    pub name: Option<String>,
}

/// The parts of an event payload these records come in.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Event {
    pub repository: Option<Repository>,
    pub deployment: Option<Deployment>,
    pub deployment_status: Option<DeploymentStatus>,
    pub workflow_run: Option<WorkflowRun>,
    /// `workflow_run` events: the workflow, whose name the run's may lack. (In a
    /// `workflow_dispatch` event `workflow` is the file's path, a string: not read.)
    #[serde(default, deserialize_with = "object_or_none")]
    pub workflow: Option<Workflow>,
    /// Who caused the event (for `deployment_status`: who set the status).
    pub sender: Option<Login>,
    /// `push` events: who pushed.
    pub pusher: Option<Pusher>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Pusher {
    pub email: Option<String>,
}

/// A value of the expected shape, else `None` (a key that means something else in another event).
fn object_or_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::de::DeserializeOwned,
{
    let value = Option::<serde_json::Value>::deserialize(d)?;
    Ok(value.and_then(|v| serde_json::from_value(v).ok()))
}

/// The deployment states reported unless `--deployment-states` says otherwise.
pub const DEFAULT_STATES: &[&str] = &["success", "failure", "error"];

/// A deployment with one of its statuses: the job is the deployment (`deployment-{id}`, shared
/// by all its statuses), from its creation to that status. `sender` is who set the status (the
/// webhook's `sender`; in an API answer, the status' `creator`).
pub fn deployment(
    repo: &Repository,
    d: &Deployment,
    s: &DeploymentStatus,
    sender: Option<&Login>,
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
    let creator = d.creator.as_ref().and_then(|c| c.login.as_deref());
    ctx.triggered_by = tagged(origin, "deployment.creator.login", creator);
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
    deployment_context(&mut ctx, d, s, sender.or(s.creator.as_ref()));
    ctx
}

fn deployment_context(
    ctx: &mut CiContext,
    d: &Deployment,
    s: &DeploymentStatus,
    sender: Option<&Login>,
) {
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
    ctx.add_context("deployment_id", Some(d.id.to_string()));
    ctx.add_context("branch", super::branch_of(d.git_ref.as_deref()));
    let creator = d.creator.as_ref().and_then(|c| c.login.as_deref());
    let sender = sender.and_then(|l| l.login.as_deref());
    if let (Some(c), Some(s)) = (creator, sender) {
        if !c.eq_ignore_ascii_case(s) {
            ctx.add_context("creator", Some(c));
        }
    }
    let failed = s
        .state
        .as_deref()
        .is_some_and(|st| st.eq_ignore_ascii_case("failure") || st.eq_ignore_ascii_case("error"));
    if failed {
        ctx.add_context("failure_reason", failure_reason(s.description.as_deref()));
    }
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

/// The name of a run's workflow: `workflow_run.name`, else the webhook's top-level
/// `workflow.name`, else the file name of `workflow_run.path` (`deploy.yml`). What
/// `ALLSTACKS_WORKFLOWS` and routes match, and the `workflow` context field.
pub fn workflow_name(
    run: &WorkflowRun,
    workflow: Option<&Workflow>,
    origin: &str,
) -> Option<Sourced<String>> {
    let top = workflow.and_then(|w| w.name.as_deref());
    let file = run.path.as_deref().map(|p| {
        let p = p.split('@').next().unwrap_or(p);
        p.rsplit('/').next().unwrap_or(p)
    });
    tagged(origin, "workflow_run.name", run.name.as_deref())
        .or_else(|| tagged(origin, "workflow.name", top))
        .or_else(|| tagged(origin, "workflow_run.path", file))
}

/// A completed workflow run: the job is the run attempt (`{id}-{attempt}`), as a pipeline-scope
/// report from inside that run would be. `workflow` is the webhook's top-level workflow, when
/// the run comes in one. A run listing of an older GitHub Enterprise Server has no
/// `run_attempt` (attempt 1) and no `run_started_at` (the run's `created_at`).
pub fn workflow_run(
    repo: &Repository,
    run: &WorkflowRun,
    workflow: Option<&Workflow>,
    origin: &str,
) -> CiContext {
    let mut ctx = CiContext::new(Provider::GitHub);
    ctx.event = Some("workflow_run");
    let attempt = run.run_attempt.unwrap_or(1);
    let id_source = match run.run_attempt {
        Some(_) => format!("{origin} workflow_run.id, workflow_run.run_attempt"),
        None => format!("{origin} workflow_run.id (no run_attempt: attempt 1)"),
    };
    let id = Sourced::new(format!("{}-{attempt}", run.id), id_source);
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
    let queued = run_times(&mut ctx, run, origin);
    ctx.status = Some(conclusion_word(run, origin));
    let name = workflow_name(run, workflow, origin);
    ctx.add_context("workflow", name.map(|n| n.value));
    ctx.add_context("pipeline_url", run.html_url.as_deref());
    ctx.add_context("branch", run.head_branch.as_deref());
    ctx.add_context("trigger_event", run.event.as_deref());
    ctx.add_context("run_attempt", Some(attempt.to_string()));
    let commit = run
        .head_commit
        .as_ref()
        .and_then(|c| c.timestamp.as_deref());
    if let Some(t) = time(
        &mut ctx,
        origin,
        "workflow_run.head_commit.timestamp",
        commit,
    ) {
        ctx.add_typed("commit_time", FieldType::Timestamp, vec![t.value]);
    }
    ctx.add_typed(
        "queued_seconds",
        FieldType::Duration,
        queued.into_iter().collect(),
    );
    let numbers = run.pull_requests.iter().filter_map(|p| p.number).collect();
    ctx.add_typed("pull_requests", FieldType::Integer, numbers);
    ctx
}

/// A run's start (`run_started_at`, else `created_at`) and end; the seconds it queued.
fn run_times(ctx: &mut CiContext, run: &WorkflowRun, origin: &str) -> Option<i64> {
    let created = time(
        ctx,
        origin,
        "workflow_run.created_at",
        run.created_at.as_deref(),
    );
    let started = time(
        ctx,
        origin,
        "workflow_run.run_started_at",
        run.run_started_at.as_deref(),
    );
    let queued = seconds_between(created.as_ref(), started.as_ref());
    ctx.pipeline_started = started.or_else(|| {
        created.map(|c| {
            Sourced::new(
                c.value,
                format!("{origin} workflow_run.created_at (no run_started_at)"),
            )
        })
    });
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = time(
        ctx,
        origin,
        "workflow_run.updated_at",
        run.updated_at.as_deref(),
    );
    queued
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A file of `tests/fixtures/platforms/github/` (GitHub's own payloads; see the README there).
    fn published<T: serde::de::DeserializeOwned>(name: &str) -> T {
        let path = format!(
            "{}/tests/fixtures/platforms/github/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("JSON")
    }

    fn field<'a>(ctx: &'a CiContext, key: &str) -> Option<&'a str> {
        ctx.field(key).map(|c| c.value.as_str())
    }

    #[test]
    fn the_workflow_name_when_the_run_has_none() {
        let event: Event = published("workflow_run.completed.json");
        let run = event.workflow_run.expect("a run");
        assert_eq!(run.name.as_deref(), Some(""));
        let name = workflow_name(&run, event.workflow.as_ref(), "webhook").unwrap();
        assert_eq!(
            (name.value.as_str(), name.source.as_str()),
            ("test", "webhook workflow.name")
        );
        // An API listing has no top-level workflow: the file name of the run's path.
        let name = workflow_name(&run, None, "GitHub API").unwrap();
        assert_eq!(name.value, "test.yml");
        // GitHub's API example run: its own name; without one, the file without `@ref`.
        let page: serde_json::Value = published("api.workflow-runs.json");
        let mut run: WorkflowRun =
            serde_json::from_value(page["workflow_runs"][0].clone()).expect("a run");
        assert_eq!(
            workflow_name(&run, None, "GitHub API").unwrap().value,
            "Build"
        );
        run.name = None;
        assert_eq!(
            workflow_name(&run, None, "GitHub API").unwrap().value,
            "build.yml"
        );
    }

    #[test]
    fn a_run_of_an_old_enterprise_server_is_attempt_1_from_its_creation() {
        let page: serde_json::Value = published("runs.ghes-without-attempt.json");
        let run: WorkflowRun =
            serde_json::from_value(page["workflow_runs"][0].clone()).expect("a run");
        let ctx = workflow_run(&Repository::default(), &run, None, "GitHub API");
        let id = ctx.job_id.clone().unwrap();
        assert_eq!(id.value, "289782451-1");
        assert_eq!(
            id.source,
            "GitHub API workflow_run.id (no run_attempt: attempt 1)"
        );
        let start = ctx.pipeline_started.clone().unwrap();
        assert_eq!(start.value, 1_601_915_604);
        assert_eq!(
            start.source,
            "GitHub API workflow_run.created_at (no run_started_at)"
        );
        assert_eq!(field(&ctx, "queued_seconds"), None);
    }

    #[test]
    fn a_runs_times_and_pull_requests() {
        let event: Event = published("workflow_run.completed.with-pull-requests.json");
        let run = event.workflow_run.expect("a run");
        let ctx = workflow_run(&Repository::default(), &run, event.workflow.as_ref(), "x");
        let typed = |key| ctx.field(key).and_then(|c| c.typed.clone());
        assert_eq!(
            typed("commit_time"),
            Some((FieldType::Timestamp, vec![1_601_915_527]))
        );
        assert_eq!(
            typed("queued_seconds"),
            Some((FieldType::Duration, vec![25]))
        );
        assert_eq!(typed("pull_requests"), Some((FieldType::Integer, vec![2])));
    }

    #[test]
    fn a_deployment_names_its_creator_only_when_someone_else_sent_the_status() {
        let event: Event = published("deployment_status.gh-pages.json");
        let (d, s) = (event.deployment.unwrap(), event.deployment_status.unwrap());
        let repo = event.repository.unwrap_or_default();
        let ctx = deployment(&repo, &d, &s, event.sender.as_ref(), "webhook");
        assert_eq!(field(&ctx, "creator"), Some("github-pages[bot]"));
        assert_eq!(ctx.triggered_by.unwrap().value, "github-pages[bot]");
        let event: Event = published("deployment_status.success.json");
        let (d, s) = (event.deployment.unwrap(), event.deployment_status.unwrap());
        let ctx = deployment(&repo, &d, &s, event.sender.as_ref(), "webhook");
        assert_eq!(field(&ctx, "creator"), None);
        assert_eq!(field(&ctx, "deployment_id"), Some("145988746"));
        assert_eq!(field(&ctx, "branch"), Some("master"));
        // On failure, the status' description is the reason.
        let failed = DeploymentStatus {
            state: Some("failure".into()),
            description: Some("Build failed:\nexit 1".into()),
            ..s
        };
        let ctx = deployment(&repo, &d, &failed, None, "webhook");
        assert_eq!(
            field(&ctx, "failure_reason"),
            Some("Build failed:\\nexit 1")
        );
    }
}
