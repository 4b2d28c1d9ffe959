//! GitHub Actions (`GITHUB_ACTIONS=true`).
//!
//! The variables give the commit, repository, run and job. Who triggered the run is read from
//! the event payload at `GITHUB_EVENT_PATH` on push events (the pusher's email beats a login),
//! and the deployment environment from a `deployment` event. Start times are not in the
//! environment at all: they come from the REST API (`crate::github_api`).
//!
//! Two events describe another job than the one running: `deployment_status` (a deployment
//! some tool made) and `workflow_run` (a watched run). Then the job is the one in the event
//! (`crate::events::github`), not the reporting job.

use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};
use crate::events::github::{self as record, Event};

/// Where the event payloads come from, as provenance.
const ORIGIN: &str = "GITHUB_EVENT_PATH";

/// `None` unless `GITHUB_ACTIONS` is set (not to `false` or `0`).
pub fn detect(env: &Env) -> Option<CiContext> {
    if !crate::github::is_actions(env) {
        return None;
    }
    let event_name = env.get("GITHUB_EVENT_NAME");
    let mut warnings = Vec::new();
    // Only the events whose payload we use are read, so an unreadable payload on, say, a
    // schedule run does not produce a pointless warning.
    let event = match event_name {
        Some("push" | "deployment" | "deployment_status" | "workflow_run") => {
            read_event(env, &mut warnings)
        }
        _ => None,
    };
    let mut ctx = match event_name.zip(event.as_ref()) {
        Some((name, event)) => {
            described_job(name, event, &mut warnings).unwrap_or_else(|| running_job(env, event))
        }
        None => running_job(env, &Event::default()),
    };
    ctx.warnings.extend(warnings);
    Some(ctx)
}

/// The job an event describes, for the events that describe another job than this one.
fn described_job(name: &str, event: &Event, warnings: &mut Vec<String>) -> Option<CiContext> {
    let repo = event.repository.clone().unwrap_or_default();
    let found = match name {
        "deployment_status" => event
            .deployment
            .as_ref()
            .zip(event.deployment_status.as_ref())
            .map(|(d, s)| record::deployment(&repo, d, s, event.sender.as_ref(), ORIGIN)),
        "workflow_run" => event
            .workflow_run
            .as_ref()
            .map(|run| record::workflow_run(&repo, run, event.workflow.as_ref(), ORIGIN)),
        _ => return None,
    };
    if found.is_none() {
        warnings.push(format!(
            "ignoring GITHUB_EVENT_PATH: the {name} event has no {name} in it; reporting this \
             job instead"
        ));
    }
    found
}

/// This job, from the runner's variables (and, for push and deployment events, the payload).
fn running_job(env: &Env, event: &Event) -> CiContext {
    let mut ctx = CiContext::new(Provider::GitHub);
    ctx.commit_sha = env.sourced("GITHUB_SHA");
    ctx.repo_name = env.sourced("GITHUB_REPOSITORY");
    ctx.repo_id = env.sourced("GITHUB_REPOSITORY_ID");
    let event_name = env.get("GITHUB_EVENT_NAME");
    let pusher = match event_name {
        Some("push") => non_empty(event.pusher.as_ref().and_then(|p| p.email.as_deref())),
        _ => None,
    };
    ctx.triggered_by = pusher
        .map(|email| Sourced::new(email, format!("{ORIGIN} pusher.email")))
        .or_else(|| env.sourced_first(&["GITHUB_TRIGGERING_ACTOR", "GITHUB_ACTOR"]));
    run_ids(&mut ctx, env);
    ctx.add_context("pipeline_url", pipeline_url(env));
    ctx.add_context("workflow", env.get("GITHUB_WORKFLOW"));
    // GITHUB_HEAD_REF is the source branch of a pull request (GITHUB_REF_NAME is then
    // `123/merge`); a tag is not a branch.
    let branch = env.get("GITHUB_HEAD_REF").or_else(|| {
        (env.get("GITHUB_REF_TYPE") != Some("tag"))
            .then(|| env.get("GITHUB_REF_NAME"))
            .flatten()
    });
    ctx.add_context("branch", branch);
    ctx.add_context("run_attempt", env.get("GITHUB_RUN_ATTEMPT"));
    ctx.add_context("trigger_event", event_name);
    let environment = event
        .deployment
        .as_ref()
        .and_then(|d| non_empty(d.environment.as_deref()));
    ctx.add_context("environment", environment);
    ctx
}

/// `{run_id}-{attempt}` for the run, and `-{job}` added for this job. A re-run keeps
/// GITHUB_RUN_ID, so the attempt is part of the id; runners older than GITHUB_RUN_ATTEMPT only
/// ever had attempt 1.
fn run_ids(ctx: &mut CiContext, env: &Env) {
    let Some(run_id) = env.get("GITHUB_RUN_ID") else {
        return;
    };
    let (attempt, source) = match env.get("GITHUB_RUN_ATTEMPT") {
        Some(a) => (a, "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
        None => ("1", "GITHUB_RUN_ID"),
    };
    let pipeline = format!("{run_id}-{attempt}");
    ctx.job_id = env
        .get("GITHUB_JOB")
        .map(|job| Sourced::new(format!("{pipeline}-{job}"), format!("{source}, GITHUB_JOB")));
    ctx.pipeline_id = Some(Sourced::new(pipeline, source));
}

/// The run's page; GitHub Enterprise Server has its own host, given by GITHUB_SERVER_URL.
fn pipeline_url(env: &Env) -> Option<String> {
    let (repo, run_id) = env.get("GITHUB_REPOSITORY").zip(env.get("GITHUB_RUN_ID"))?;
    let server = env
        .get("GITHUB_SERVER_URL")
        .unwrap_or("https://github.com")
        .trim_end_matches('/');
    Some(format!("{server}/{repo}/actions/runs/{run_id}"))
}

/// Event files larger than this (GitHub's own cap on webhook payloads) are skipped.
pub const MAX_EVENT: u64 = crate::client::MAX_JSON;

/// The event payload; a missing, oversized or malformed file is a warning and `None`. Only the
/// fields of [`Event`] are kept, so a large file costs its reading, not its size in memory.
fn read_event(env: &Env, warnings: &mut Vec<String>) -> Option<Event> {
    let path = env.get("GITHUB_EVENT_PATH")?;
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            warnings.push(format!(
                "ignoring GITHUB_EVENT_PATH: could not read {path}: {e}"
            ));
            return None;
        }
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size > MAX_EVENT {
        warnings.push(format!(
            "ignoring GITHUB_EVENT_PATH: {path} is larger than {} MiB ({size} bytes)",
            MAX_EVENT / (1024 * 1024)
        ));
        return None;
    }
    let reader = std::io::BufReader::new(std::io::Read::take(file, MAX_EVENT));
    match serde_json::from_reader(reader) {
        Ok(event) => Some(event),
        Err(e) => {
            warnings.push(format!(
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

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn github_push() {
        let (got, warnings) = detect_fixture("github", "push");
        let want = CiContext {
            commit_sha: s("a2e7da86cc392417b0d9f605b28038aae80b002f", "GITHUB_SHA"),
            repo_name: s("acme/web", "GITHUB_REPOSITORY"),
            repo_id: s("123456789", "GITHUB_REPOSITORY_ID"),
            triggered_by: s("octocat@example.com", "GITHUB_EVENT_PATH pusher.email"),
            pipeline_id: s("9876543210-2", "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
            job_id: s(
                "9876543210-2-deploy",
                "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB",
            ),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://github.com/acme/web/actions/runs/9876543210",
                ),
                ("workflow", "Deploy"),
                ("branch", "main"),
                ("run_attempt", "2"),
                ("trigger_event", "push"),
            ]),
            ..CiContext::new(Provider::GitHub)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn github_workflow_dispatch_uses_triggering_actor() {
        let (got, warnings) = detect_fixture("github", "workflow_dispatch");
        let want = CiContext {
            commit_sha: s("a2e7da86cc392417b0d9f605b28038aae80b002f", "GITHUB_SHA"),
            repo_name: s("acme/web", "GITHUB_REPOSITORY"),
            repo_id: s("123456789", "GITHUB_REPOSITORY_ID"),
            triggered_by: s("monalisa", "GITHUB_TRIGGERING_ACTOR"),
            pipeline_id: s("9876543299-1", "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
            job_id: s(
                "9876543299-1-deploy",
                "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB",
            ),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://github.com/acme/web/actions/runs/9876543299",
                ),
                ("workflow", "Deploy"),
                ("branch", "main"),
                ("run_attempt", "1"),
                ("trigger_event", "workflow_dispatch"),
            ]),
            ..CiContext::new(Provider::GitHub)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn github_deployment_event_gives_environment() {
        let (got, warnings) = detect_fixture("github", "deployment");
        let want = CiContext {
            commit_sha: s("a2e7da86cc392417b0d9f605b28038aae80b002f", "GITHUB_SHA"),
            repo_name: s("acme/web", "GITHUB_REPOSITORY"),
            repo_id: s("123456789", "GITHUB_REPOSITORY_ID"),
            triggered_by: s("monalisa", "GITHUB_ACTOR"),
            pipeline_id: s("9876543300-1", "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
            job_id: s(
                "9876543300-1-release",
                "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB",
            ),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://github.com/acme/web/actions/runs/9876543300",
                ),
                ("workflow", "Release"),
                ("branch", "main"),
                ("run_attempt", "1"),
                ("trigger_event", "deployment"),
                ("environment", "production"),
            ]),
            ..CiContext::new(Provider::GitHub)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn github_pull_request_branch_is_head_ref() {
        let (got, warnings) = detect_fixture("github", "pull_request");
        let want = CiContext {
            commit_sha: s("0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5", "GITHUB_SHA"),
            repo_name: s("acme/web", "GITHUB_REPOSITORY"),
            repo_id: s("123456789", "GITHUB_REPOSITORY_ID"),
            triggered_by: s("monalisa", "GITHUB_TRIGGERING_ACTOR"),
            pipeline_id: s("9876543301-1", "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
            job_id: s(
                "9876543301-1-preview",
                "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB",
            ),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://github.com/acme/web/actions/runs/9876543301",
                ),
                ("workflow", "Preview"),
                ("branch", "feature/login"),
                ("run_attempt", "1"),
                ("trigger_event", "pull_request"),
            ]),
            ..CiContext::new(Provider::GitHub)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn github_enterprise_host_and_missing_attempt() {
        let (got, warnings) = detect_fixture("github", "enterprise");
        let want = CiContext {
            commit_sha: s("d4c3b2a1f0e9d8c7b6a5948372615049f8e7d6c5", "GITHUB_SHA"),
            repo_name: s("platform/billing", "GITHUB_REPOSITORY"),
            triggered_by: s("svc-deploy", "GITHUB_ACTOR"),
            pipeline_id: s("31337-1", "GITHUB_RUN_ID"),
            job_id: s("31337-1-nightly-deploy", "GITHUB_RUN_ID, GITHUB_JOB"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://github.example.com/platform/billing/actions/runs/31337",
                ),
                ("workflow", "Nightly"),
                ("branch", "develop"),
                ("trigger_event", "schedule"),
            ]),
            ..CiContext::new(Provider::GitHub)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn github_bad_event_file_warns_and_falls_back() {
        let (got, warnings) = detect_fixture("github", "bad_event");
        assert_eq!(got.triggered_by, s("hubot", "GITHUB_TRIGGERING_ACTOR"));
        assert_one_warning(&warnings, "ignoring GITHUB_EVENT_PATH: ");
        assert!(warnings[0].contains("is not JSON"), "{warnings:?}");

        let (got, warnings) = detect_fixture("github", "missing_event");
        assert_eq!(got.triggered_by, s("octocat", "GITHUB_ACTOR"));
        assert_one_warning(&warnings, "ignoring GITHUB_EVENT_PATH: could not read ");
    }

    #[test]
    fn github_push_without_pusher_email_uses_actor() {
        // A push event file that is valid JSON but has no pusher.email (pushes by some apps).
        let mut env = fixture("github", "push");
        env.insert(
            "GITHUB_EVENT_PATH",
            root()
                .join("tests/fixtures/github/workflow_dispatch.json")
                .to_string_lossy()
                .into_owned(),
        );
        let ctx = detect(&env);
        assert_eq!(ctx.triggered_by, s("hubot", "GITHUB_TRIGGERING_ACTOR"));
        assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    }

    #[test]
    fn github_tag_is_not_a_branch() {
        let mut env = fixture("github", "push");
        env.insert("GITHUB_REF_TYPE", "tag");
        env.insert("GITHUB_REF_NAME", "v1.0.0");
        let ctx = detect(&env);
        assert!(
            ctx.context.iter().all(|c| c.key != "branch"),
            "{:?}",
            ctx.context
        );
    }
}
