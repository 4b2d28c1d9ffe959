//! Each sender's body, parsed into the record `events` maps (a [`CiContext`]), or the reason it
//! is not a deployment we report. Only the fields used are read; a body that is not JSON, or
//! not of the shape the sender sends, is [`Invalid`] (400), described without quoting it.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::config::{ApiAccess, GithubEvents, GitlabEvents};
use crate::client::Api;
use crate::context::{CiContext, EnvironmentJob};
use crate::events::{argocd, flux, github, gitlab};

/// Where mapped values say they came from (`webhook deployment.sha`).
const ORIGIN: &str = "webhook";

/// What a body holds.
#[derive(Debug)]
pub enum Parsed {
    /// A record to route and plan.
    Record(Box<Record>),
    /// Valid, but not a deployment we report; why.
    Ignored(String),
    /// GitHub's `ping` when a webhook is created: answered 200.
    Ping,
}

/// A deployment, mapped, with what tells it apart from every other whatever delivery carries it.
#[derive(Debug)]
pub struct Record {
    pub ctx: CiContext,
    /// The record's own key (`github deployment_status 9005`): a record sent again under a new
    /// delivery id is the same record. `None` for Argo CD and Flux, whose key is the job's id
    /// and status (known once the job is planned).
    pub key: Option<String>,
    /// When it happened by its own account (epoch seconds), for the 7-day replay window; `None`
    /// when it does not say (Argo CD, Flux).
    pub at: Option<i64>,
}

impl Record {
    fn parsed(ctx: CiContext, key: Option<String>, at: Option<&str>) -> Parsed {
        let at = at.and_then(|t| crate::timefmt::parse_timestamp(t).ok());
        Parsed::Record(Box::new(Record { ctx, key, at }))
    }
}

/// A body that is not JSON, or not of a shape the sender sends (400).
#[derive(Debug)]
pub struct Invalid(pub String);

/// Parses `body` as `T`; the error says where the JSON breaks or stops fitting, never what it
/// holds.
fn parse<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, Invalid> {
    serde_json::from_slice(body).map_err(|e| {
        let at = format!("line {}, column {}", e.line(), e.column());
        Invalid(match e.classify() {
            serde_json::error::Category::Data => {
                format!("the body is JSON, but not {what} (at {at})")
            }
            _ => format!("the body is not JSON (at {at})"),
        })
    })
}

/// A value from outside, cut short for a message.
fn shown(text: &str) -> String {
    text.chars().take(64).collect()
}

/// What identifies a GitHub deployment status, read beside [`GithubHook`] (a run's id, attempt
/// and time are in [`github::WorkflowRun`] already): the status' own id and time.
#[derive(Debug, Default, Deserialize)]
struct GithubKeys {
    deployment_status: Option<StatusKey>,
}

#[derive(Debug, Deserialize)]
struct StatusKey {
    id: Option<u64>,
    updated_at: Option<String>,
    created_at: Option<String>,
}

/// A GitHub webhook body: the event payload, plus its `action`.
#[derive(Debug, Deserialize)]
struct GithubHook {
    action: Option<String>,
    repository: Option<github::Repository>,
    deployment: Option<github::Deployment>,
    deployment_status: Option<github::DeploymentStatus>,
    workflow_run: Option<github::WorkflowRun>,
    workflow: Option<github::Workflow>,
    sender: Option<github::Login>,
}

/// Why a GitHub delivery of event `event` (`X-GitHub-Event`) is not read: `None` for the
/// reported events and `ping`, which need their body.
pub fn github_unread(events: &GithubEvents, event: &str) -> Option<String> {
    let needed = match event {
        "deployment_status" => events.deployment_status,
        "workflow_run" => events.workflow_run,
        "ping" => true,
        _ => false,
    };
    (!needed).then(|| {
        format!(
            "GitHub event {:?} is not reported (ALLSTACKS_GITHUB_EVENTS)",
            shown(event)
        )
    })
}

/// Why a GitLab delivery whose `X-Gitlab-Event` is `event` is not read: `None` for the events
/// reported (`Deployment Hook`, `Pipeline Hook` when enabled).
pub fn gitlab_unread(events: &GitlabEvents, event: &str) -> Option<String> {
    let reported = match event {
        "Deployment Hook" => events.deployment,
        "Pipeline Hook" => events.pipeline,
        _ => false,
    };
    (!reported).then(|| {
        format!(
            "GitLab {:?} events are not reported (ALLSTACKS_GITLAB_EVENTS)",
            shown(event)
        )
    })
}

/// A GitHub delivery of event `event` (`X-GitHub-Event`).
pub fn github(events: &GithubEvents, event: &str, body: &[u8]) -> Result<Parsed, Invalid> {
    if let Some(why) = github_unread(events, event) {
        return Ok(Parsed::Ignored(why));
    }
    if event == "ping" {
        parse::<serde::de::IgnoredAny>(body, "an event")?;
        return Ok(Parsed::Ping);
    }
    let what = format!("a GitHub {event} event");
    let hook: GithubHook = parse(body, &what)?;
    let keys: GithubKeys = parse(body, &what)?;
    let shape = || Invalid(format!("the body is JSON, but not {what}"));
    let repo = hook.repository.ok_or_else(shape)?;
    if event == "deployment_status" {
        let (Some(d), Some(s), Some(k)) = (
            hook.deployment,
            hook.deployment_status,
            keys.deployment_status,
        ) else {
            return Err(shape());
        };
        let ctx = github::deployment(&repo, &d, &s, hook.sender.as_ref(), ORIGIN);
        // A status without an id (never seen) is told apart by its deployment and time.
        let key = match k.id {
            Some(id) => format!("github deployment_status {id}"),
            None => format!(
                "github deployment {} status at {}",
                d.id,
                shown(k.created_at.as_deref().unwrap_or(""))
            ),
        };
        let at = k.updated_at.as_deref().or(k.created_at.as_deref());
        return Ok(Record::parsed(ctx, Some(key), at));
    }
    let run = hook.workflow_run.ok_or_else(shape)?;
    let action = hook.action.unwrap_or_default();
    if action != "completed" {
        return Ok(Parsed::Ignored(format!(
            "workflow_run action {:?} is not \"completed\"",
            shown(&action)
        )));
    }
    let workflow = hook.workflow.as_ref();
    let name = github::workflow_name(&run, workflow, ORIGIN).map_or(String::new(), |n| n.value);
    if !crate::glob::any(&events.workflows, &name) {
        return Ok(Parsed::Ignored(format!(
            "workflow {:?} is not one of ALLSTACKS_WORKFLOWS ({})",
            shown(&name),
            events.workflows.join(",")
        )));
    }
    let key = format!(
        "github workflow_run {} attempt {}",
        run.id,
        run.run_attempt.unwrap_or(1)
    );
    let ctx = github::workflow_run(&repo, &run, workflow, ORIGIN);
    Ok(Record::parsed(ctx, Some(key), run.updated_at.as_deref()))
}

#[derive(Debug, Default, Deserialize)]
struct Kind {
    object_kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct User {
    username: Option<String>,
    email: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Project {
    id: Option<u64>,
    path_with_namespace: Option<String>,
}

/// A GitLab deployment hook (`object_kind: deployment`).
#[derive(Debug, Deserialize)]
struct DeploymentHook {
    deployment_id: Option<u64>,
    status: Option<String>,
    status_changed_at: Option<String>,
    deployable_id: Option<u64>,
    deployable_url: Option<String>,
    environment: Option<String>,
    environment_tier: Option<String>,
    environment_external_url: Option<String>,
    commit_url: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    user: User,
    #[serde(default)]
    project: Project,
}

/// A GitLab pipeline hook (`object_kind: pipeline`).
#[derive(Debug, Deserialize)]
struct PipelineHook {
    object_attributes: PipelineAttributes,
    #[serde(default)]
    user: User,
    #[serde(default)]
    project: Project,
    commit: Option<HookCommit>,
    merge_request: Option<MergeRequest>,
    #[serde(default)]
    builds: Vec<Build>,
}

#[derive(Debug, Default, Deserialize)]
struct HookCommit {
    timestamp: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct MergeRequest {
    iid: Option<i64>,
}

/// One job of a pipeline hook's `builds[]`.
#[derive(Debug, Deserialize)]
struct Build {
    id: u64,
    name: Option<String>,
    status: Option<String>,
    environment: Option<BuildEnvironment>,
}

#[derive(Debug, Deserialize)]
struct BuildEnvironment {
    name: Option<String>,
    action: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PipelineAttributes {
    id: u64,
    name: Option<String>,
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    sha: Option<String>,
    source: Option<String>,
    status: Option<String>,
    created_at: Option<String>,
    finished_at: Option<String>,
    duration: Option<f64>,
    queued_duration: Option<f64>,
    url: Option<String>,
}

/// A GitLab delivery. With `api`, a deployment's start is its job's `started_at`, read from the
/// API (a failure is a warning, and the deployment starts at its end).
pub fn gitlab(
    events: &GitlabEvents,
    api: Option<&ApiAccess>,
    body: &[u8],
    warnings: &mut Vec<String>,
) -> Result<Parsed, Invalid> {
    let kind = parse::<Kind>(body, "a GitLab event")?
        .object_kind
        .unwrap_or_default();
    match kind.as_str() {
        "deployment" if events.deployment => gitlab_deployment(api, body, warnings),
        "pipeline" if events.pipeline => {
            let hook: PipelineHook = parse(body, "a GitLab pipeline event")?;
            let p = pipeline(hook);
            let key = format!(
                "gitlab pipeline {} {}",
                p.id,
                shown(p.status.as_deref().unwrap_or(""))
            );
            let at = p.finished_at.clone().or_else(|| p.created_at.clone());
            Ok(Record::parsed(
                gitlab::pipeline(&p, ORIGIN),
                Some(key),
                at.as_deref(),
            ))
        }
        _ => Ok(Parsed::Ignored(format!(
            "GitLab {:?} events are not reported (ALLSTACKS_GITLAB_EVENTS)",
            shown(&kind)
        ))),
    }
}

fn gitlab_deployment(
    api: Option<&ApiAccess>,
    body: &[u8],
    warnings: &mut Vec<String>,
) -> Result<Parsed, Invalid> {
    let hook: DeploymentHook = parse(body, "a GitLab deployment event")?;
    let Some(deployable_id) = hook.deployable_id else {
        return Ok(Parsed::Ignored(
            "the GitLab deployment has no deploying job (deployable_id is null)".into(),
        ));
    };
    let finished = matches!(
        hook.status.as_deref(),
        Some("success" | "failed" | "canceled")
    );
    let job = match (api, hook.project.id) {
        (Some(api), Some(project)) if finished => job_times(api, project, deployable_id, warnings),
        _ => Job::default(),
    };
    // Older GitLab versions send no deployment_id: the deploying job stands for it.
    let key = match hook.deployment_id {
        Some(id) => format!("gitlab deployment {id}"),
        None => format!("gitlab deployment of job {deployable_id}"),
    };
    let key = format!("{key} {}", shown(hook.status.as_deref().unwrap_or("")));
    let d = gitlab::Deployment {
        deployable_id,
        deployment_id: hook.deployment_id,
        sha: hook
            .commit_url
            .as_deref()
            .and_then(|u| u.trim_end_matches('/').rsplit('/').next())
            .map(str::to_string),
        project_path: hook.project.path_with_namespace,
        project_id: hook.project.id,
        environment: hook.environment,
        environment_tier: hook.environment_tier,
        environment_url: hook.environment_external_url,
        status: hook.status,
        started_at: job.started_at,
        created_at: job.created_at,
        finished_at: hook.status_changed_at.as_deref().map(hook_time),
        user_email: hook.user.email,
        username: hook.user.username,
        job_url: hook.deployable_url,
        pipeline_url: None,
        branch: hook.git_ref,
    };
    let at = d.finished_at.clone();
    Ok(Record::parsed(
        gitlab::deployment(&d, ORIGIN),
        Some(key),
        at.as_deref(),
    ))
}

fn pipeline(hook: PipelineHook) -> gitlab::Pipeline {
    let a = hook.object_attributes;
    gitlab::Pipeline {
        id: a.id,
        sha: a.sha,
        project_path: hook.project.path_with_namespace,
        project_id: hook.project.id,
        status: a.status,
        created_at: a.created_at.as_deref().map(hook_time),
        started_at: None,
        finished_at: a.finished_at.as_deref().map(hook_time),
        duration: a.duration,
        queued_duration: a.queued_duration,
        user_email: hook.user.email,
        username: hook.user.username,
        web_url: a.url,
        branch: a.git_ref,
        source: a.source,
        name: a.name,
        commit_timestamp: hook.commit.and_then(|c| c.timestamp),
        merge_request_iid: hook.merge_request.and_then(|m| m.iid),
        environment_jobs: Some(deploy_jobs(hook.builds)),
    }
}

/// The jobs of `builds[]` that deploy to an environment (`environment.action` `start`, or none).
fn deploy_jobs(builds: Vec<Build>) -> Vec<EnvironmentJob> {
    builds
        .into_iter()
        .filter_map(|b| {
            let env = b.environment?;
            let action = env.action.as_deref().unwrap_or("start");
            if !action.eq_ignore_ascii_case("start") {
                return None;
            }
            Some(EnvironmentJob {
                id: b.id,
                name: b.name.unwrap_or_default(),
                environment: env.name.filter(|n| !n.trim().is_empty())?,
                status: b.status.unwrap_or_default(),
                source: format!("{ORIGIN} builds[]"),
            })
        })
        .collect()
}

/// GitLab hooks write times as `2021-04-28 21:50:00 +0200` or `2016-08-12 15:23:28 UTC`; the
/// time parser takes `2021-04-28 21:50:00+0200` and `...Z`.
fn hook_time(raw: &str) -> String {
    let t = raw.trim();
    if let Some(utc) = t.strip_suffix(" UTC") {
        return format!("{utc}Z");
    }
    if let Some((head, offset)) = t.rsplit_once(' ') {
        let digits = offset.get(1..).unwrap_or("");
        if offset.starts_with(['+', '-'])
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
        {
            return format!("{head}{offset}");
        }
    }
    t.to_string()
}

#[derive(Debug, Default, Deserialize)]
struct Job {
    started_at: Option<String>,
    created_at: Option<String>,
}

/// The deploying job's `started_at` and `created_at`, from `/projects/{id}/jobs/{job}`
/// (5 seconds at most).
fn job_times(api: &ApiAccess, project: u64, job: u64, warnings: &mut Vec<String>) -> Job {
    let url = format!("{}/projects/{project}/jobs/{job}", api.base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    match get_job(api, &url, deadline) {
        Ok(j) => j,
        Err(why) => {
            warnings.push(format!(
                "could not read the start of GitLab job {job}: {why}; the deployment starts at \
                 its end"
            ));
            Job::default()
        }
    }
}

/// One GET of a GitLab job through the shared API client and its guards.
fn get_job(api: &ApiAccess, url: &str, deadline: std::time::Instant) -> Result<Job, String> {
    let bearer = format!("Bearer {}", api.token);
    let client = Api::new(
        &api.base,
        "the GitLab API URL",
        &[("authorization", &bearer, true)],
    )?;
    let answer = client.get(url, deadline)?;
    if !(200..300).contains(&answer.status) {
        return Err(format!("HTTP {} from {url}", answer.status));
    }
    answer.json(url)
}

/// An Argo CD delivery (the body of the Notifications template).
pub fn argocd(body: &[u8]) -> Result<Parsed, Invalid> {
    let sync: argocd::Sync = parse(body, "the Argo CD notification body")?;
    Ok(Record::parsed(argocd::sync(&sync, ORIGIN), None, None))
}

/// A Flux delivery (a notification-controller event).
pub fn flux(body: &[u8]) -> Result<Parsed, Invalid> {
    let event: flux::Event = parse(body, "a Flux event")?;
    Ok(Record::parsed(
        flux::reconciliation(&event, ORIGIN),
        None,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitlab_times() {
        assert_eq!(
            hook_time("2021-04-28 21:50:00 +0200"),
            "2021-04-28 21:50:00+0200"
        );
        assert_eq!(hook_time("2016-08-12 15:23:28 UTC"), "2016-08-12 15:23:28Z");
        assert_eq!(hook_time("2016-08-12T15:23:28Z"), "2016-08-12T15:23:28Z");
        for (raw, epoch) in [
            ("2021-04-28 21:50:00 +0200", 1_619_639_400),
            ("2016-08-12 15:23:28 UTC", 1_471_015_408),
        ] {
            assert_eq!(
                crate::timefmt::parse_timestamp(&hook_time(raw)),
                Ok(epoch),
                "{raw}"
            );
        }
    }

    fn key(parsed: Result<Parsed, Invalid>) -> (Option<String>, Option<i64>) {
        match parsed {
            Ok(Parsed::Record(r)) => (r.key, r.at),
            other => panic!("not a record: {other:?}"),
        }
    }

    #[test]
    fn records_are_named_and_dated_by_themselves() {
        let events = GithubEvents {
            deployment_status: true,
            workflow_run: true,
            workflows: vec!["*".into()],
        };
        let run = br#"{"action": "completed", "repository": {"full_name": "a/b"},
            "workflow_run": {"id": 6001, "run_attempt": 2, "name": "Deploy",
            "updated_at": "2026-05-01T10:03:20Z"}}"#;
        assert_eq!(
            key(github(&events, "workflow_run", run)),
            (
                Some("github workflow_run 6001 attempt 2".into()),
                Some(1_777_629_800)
            )
        );
        let gitlab_events = GitlabEvents {
            deployment: true,
            pipeline: true,
        };
        let pipeline = br#"{"object_kind": "pipeline", "object_attributes": {"id": 31,
            "status": "failed", "created_at": "2026-05-01 10:00:00 UTC"}}"#;
        assert_eq!(
            key(gitlab(&gitlab_events, None, pipeline, &mut Vec::new())),
            (
                Some("gitlab pipeline 31 failed".into()),
                Some(1_777_629_600)
            ),
            "a pipeline without finished_at is dated by its creation"
        );
        let deployment = br#"{"object_kind": "deployment", "deployable_id": 796,
            "status": "success", "status_changed_at": "2026-05-01 12:03:20 +0200"}"#;
        assert_eq!(
            key(gitlab(&gitlab_events, None, deployment, &mut Vec::new())),
            (
                Some("gitlab deployment of job 796 success".into()),
                Some(1_777_629_800)
            )
        );
        let flux_event = br#"{"involvedObject": {"kind": "Kustomization"}, "reason": "x"}"#;
        assert_eq!(key(flux(flux_event)), (None, None));
    }

    #[test]
    fn bad_bodies_are_described_not_quoted() {
        let Err(Invalid(e)) = argocd(b"{\"app\": \"web\", ") else {
            panic!("truncated JSON is invalid");
        };
        assert!(e.starts_with("the body is not JSON (at line 1"), "{e}");
        let Err(Invalid(e)) = argocd(br#"{"app": ["secret-looking-value"]}"#) else {
            panic!("a list as app is invalid");
        };
        assert!(e.contains("not the Argo CD notification body"), "{e}");
        assert!(!e.contains("secret-looking-value"), "{e}");
    }

    fn published(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/platforms/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).expect("fixture")
    }

    fn record(parsed: Result<Parsed, Invalid>) -> CiContext {
        match parsed {
            Ok(Parsed::Record(record)) => record.ctx,
            other => panic!("not a record: {other:?}"),
        }
    }

    #[test]
    fn a_gitlab_pipeline_hook_lists_its_deploy_jobs() {
        let events = GitlabEvents {
            deployment: true,
            pipeline: true,
        };
        let body = published("gitlab/pipeline_hook.json");
        let ctx = record(gitlab(&events, None, &body, &mut Vec::new()));
        let jobs = ctx.environment_jobs.clone().expect("deploy jobs");
        let seen: Vec<(u64, &str, &str)> = jobs
            .iter()
            .map(|j| (j.id, j.environment.as_str(), j.status.as_str()))
            .collect();
        assert_eq!(
            seen,
            [(380, "production", "skipped"), (379, "staging", "created")]
        );
        assert_eq!(ctx.duration.as_ref().map(|d| d.value), Some(63));
        let typed = |key| ctx.field(key).and_then(|c| c.typed.clone());
        assert_eq!(
            typed("pull_requests"),
            Some((crate::fields::FieldType::Integer, vec![1]))
        );
        assert_eq!(
            typed("commit_time"),
            Some((crate::fields::FieldType::Timestamp, vec![1_471_015_401]))
        );
    }

    #[test]
    fn a_flux_event_in_the_older_revision_format() {
        let ctx = record(flux(&published("flux/event.validation-failed.json")));
        let commit = ctx.commit_sha.clone().unwrap();
        assert_eq!(commit.value, "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1");
        assert_eq!(
            commit.source,
            "webhook metadata.kustomize.toolkit.fluxcd.io/revision"
        );
        assert_eq!(ctx.repo_name, None, "no eventMetadata");
        let reason = ctx.field("failure_reason");
        assert_eq!(
            reason.map(|c| c.value.as_str()),
            Some(
                "ValidationFailed: service/apps/webapp validation error: spec.type: Unsupported value: Ingress"
            )
        );
        let mut source_key = String::from_utf8(published("flux/event.validation-failed.json"))
            .unwrap()
            .replace(
                "kustomize.toolkit.fluxcd.io/revision",
                "source.toolkit.fluxcd.io/revision",
            );
        source_key = source_key.replace("main/731f", "main@sha1:731f");
        let ctx = record(flux(source_key.as_bytes()));
        assert_eq!(
            ctx.commit_sha.unwrap().value,
            "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1"
        );
    }
}
