//! GitLab records: a deployment (a job that deployed to an environment) and a pipeline. GitLab
//! describes each in two shapes (a webhook body for `serve`, an API object for `backfill`), so
//! the callers fill these plain structs from their own parse, and one function per kind maps it.

use super::{tagged, time};
use crate::context::{CiContext, EnvironmentJob, Provider};
use crate::env::Sourced;
use crate::fields::FieldType;

/// A deployment: the job `deployable_id` deployed `sha` to `environment`.
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    /// The deploying job's id: the `job_id` a job-scope report from that job would send.
    pub deployable_id: u64,
    /// GitLab's own id of the deployment.
    pub deployment_id: Option<u64>,
    pub sha: Option<String>,
    pub project_path: Option<String>,
    pub project_id: Option<u64>,
    pub environment: Option<String>,
    pub environment_tier: Option<String>,
    pub environment_url: Option<String>,
    /// `success`, `failed`, `canceled`; anything else (`running`, `created`, `blocked`) is not
    /// a finished deployment.
    pub status: Option<String>,
    /// When the deploying job started running; `None` for a job that never ran (a manual job
    /// played and cancelled) or when the record does not say (a hook).
    pub started_at: Option<String>,
    /// When the deploying job was created.
    pub created_at: Option<String>,
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
    /// When it started running (the API's single pipeline; hooks do not say).
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// GitLab's running time in seconds (without the time queued).
    pub duration: Option<f64>,
    /// Seconds it waited for a runner.
    pub queued_duration: Option<f64>,
    pub user_email: Option<String>,
    pub username: Option<String>,
    pub web_url: Option<String>,
    pub branch: Option<String>,
    pub source: Option<String>,
    pub name: Option<String>,
    /// When its commit was made (hooks: `commit.timestamp`).
    pub commit_timestamp: Option<String>,
    /// The merge request it ran for (hooks: `merge_request.iid`; else from a
    /// `refs/merge-requests/{iid}/head` ref).
    pub merge_request_iid: Option<i64>,
    /// Its jobs that deploy to an environment, when known (hooks: `builds[]` with an
    /// `environment`; backfill: the project's deployments of this pipeline).
    pub environment_jobs: Option<Vec<EnvironmentJob>>,
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
    ctx.pipeline_started = deployment_start(&mut ctx, d, origin);
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
    ctx.add_context("deployment_id", d.deployment_id.map(|i| i.to_string()));
    ctx
}

/// When the deploying job started: `started_at`; for a job that never started, its
/// `created_at`; else (a hook knows only when the status changed) its end, with a warning, so
/// the duration is 0. Never after the end.
fn deployment_start(ctx: &mut CiContext, d: &Deployment, origin: &str) -> Option<Sourced<i64>> {
    let start = time(
        ctx,
        origin,
        "deployable.started_at",
        d.started_at.as_deref(),
    )
    .or_else(|| {
        time(
            ctx,
            origin,
            "deployable.created_at",
            d.created_at.as_deref(),
        )
    });
    let end = ctx.finished.clone();
    match (start, end) {
        (Some(s), Some(e)) if s.value > e.value => {
            ctx.warnings.push(format!(
                "{} is after {}: the deployment starts at its end (duration 0)",
                s.source, e.source
            ));
            Some(e)
        }
        (Some(s), _) => Some(s),
        (None, Some(e)) => {
            ctx.warnings.push(format!(
                "GitLab does not say when deploying job {} started: it starts at its end \
                 ({}), so its duration is 0",
                d.deployable_id, e.source
            ));
            Some(e)
        }
        (None, None) => None,
    }
}

/// A finished pipeline, reported as the template's pipeline-scope report would be, with GitLab's
/// own running time: start = `started_at`, else `created_at` + `queued_duration`, else
/// `created_at`; duration = `duration` when GitLab gives it.
pub fn pipeline(p: &Pipeline, origin: &str) -> CiContext {
    let mut ctx = CiContext::new(Provider::GitLab);
    ctx.event = Some("pipeline");
    let id = Sourced::new(p.id.to_string(), format!("{origin} id"));
    ctx.pipeline_id = Some(id.clone());
    ctx.job_id = Some(id);
    ctx.commit_sha = tagged(origin, "sha", p.sha.as_deref());
    project(&mut ctx, p.project_path.as_deref(), p.project_id, origin);
    ctx.triggered_by = user(p.user_email.as_deref(), p.username.as_deref(), origin);
    pipeline_times(&mut ctx, p, origin);
    ctx.status = finished_word(
        origin,
        p.status.as_deref(),
        &["success", "failed", "canceled", "skipped", "manual"],
    );
    ctx.environment_jobs = p.environment_jobs.clone();
    ctx.add_context("pipeline_url", p.web_url.as_deref());
    ctx.add_context("branch", p.branch.as_deref());
    ctx.add_context("workflow", p.name.as_deref());
    ctx.add_context("trigger_event", p.source.as_deref());
    if let Some(t) = time(
        &mut ctx,
        origin,
        "commit.timestamp",
        p.commit_timestamp.as_deref(),
    ) {
        ctx.add_typed("commit_time", FieldType::Timestamp, vec![t.value]);
    }
    let queued = p.queued_duration.filter(|q| q.is_finite() && *q >= 0.0);
    let queued: Vec<i64> = queued.map(|q| q.round() as i64).into_iter().collect();
    ctx.add_typed("queued_seconds", FieldType::Duration, queued);
    let mr = p
        .merge_request_iid
        .or_else(|| merge_request_of(p.branch.as_deref()));
    ctx.add_typed(
        "pull_requests",
        FieldType::Integer,
        mr.into_iter().collect(),
    );
    ctx
}

fn pipeline_times(ctx: &mut CiContext, p: &Pipeline, origin: &str) {
    let queued = p.queued_duration.filter(|q| q.is_finite() && *q >= 0.0);
    let created = time(ctx, origin, "created_at", p.created_at.as_deref());
    ctx.pipeline_started = time(ctx, origin, "started_at", p.started_at.as_deref()).or_else(|| {
        let c = created?;
        Some(match queued {
            Some(q) => Sourced::new(
                c.value + q.round() as i64,
                format!("{origin} created_at + queued_duration"),
            ),
            None => c,
        })
    });
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = time(ctx, origin, "finished_at", p.finished_at.as_deref());
    ctx.duration = p
        .duration
        .filter(|d| d.is_finite() && *d >= 0.0)
        .map(|d| Sourced::new(d.round() as i64, format!("{origin} duration")));
}

/// The merge request of a merge request pipeline's ref, `refs/merge-requests/{iid}/head`.
fn merge_request_of(git_ref: Option<&str>) -> Option<i64> {
    let rest = git_ref?.strip_prefix("refs/merge-requests/")?;
    rest.split('/').next()?.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, env: &str, status: &str) -> EnvironmentJob {
        EnvironmentJob {
            id,
            name: format!("deploy-{id}"),
            environment: env.into(),
            status: status.into(),
            source: "test builds[]".into(),
        }
    }

    fn pipeline_with(jobs: Vec<EnvironmentJob>) -> CiContext {
        pipeline(
            &Pipeline {
                id: 31,
                status: Some("success".into()),
                environment_jobs: Some(jobs),
                ..Pipeline::default()
            },
            "webhook",
        )
    }

    #[test]
    fn a_pipeline_deployed_where_its_job_ran() {
        let prod = |e: &str| crate::glob::matches("prod*", e);
        let ctx = pipeline_with(vec![
            job(1, "production", "failed"),
            job(2, "staging", "success"),
            job(3, "production", "success"),
        ]);
        let narrowed = ctx.deployed_to(&prod, "f").unwrap().unwrap();
        assert_eq!(narrowed.environment(), Some("production"));
        let status = narrowed.status.unwrap();
        assert_eq!(status.value, "success", "the latest job that ran (a retry)");
        assert_eq!(status.source, "test builds[] job \"deploy-3\" (3) status");
        for (jobs, why) in [
            (
                vec![job(4, "production", "manual")],
                "deploy job \"deploy-4\" to \"production\" is manual (from test builds[]): the \
                 pipeline did not deploy there",
            ),
            (
                vec![job(5, "staging", "success")],
                "the pipeline ran no job for an environment in f: it did not deploy there",
            ),
        ] {
            assert_eq!(
                pipeline_with(jobs).deployed_to(&prod, "f"),
                Some(Err(why.into()))
            );
        }
        assert_eq!(
            pipeline(&Pipeline::default(), "x").deployed_to(&prod, "f"),
            None
        );
    }

    #[test]
    fn a_pipelines_own_times() {
        let p = Pipeline {
            created_at: Some("2016-08-12T15:23:28Z".into()),
            finished_at: Some("2016-08-12T15:26:29Z".into()),
            duration: Some(63.0),
            queued_duration: Some(2.4),
            ..Pipeline::default()
        };
        let ctx = pipeline(&p, "webhook");
        let start = ctx.pipeline_started.clone().unwrap();
        assert_eq!(start.value, 1_471_015_410);
        assert_eq!(start.source, "webhook created_at + queued_duration");
        assert_eq!(ctx.duration.clone().unwrap().value, 63);
        let started = Pipeline {
            started_at: Some("2016-08-12T15:24:00Z".into()),
            ..p.clone()
        };
        assert_eq!(
            pipeline(&started, "x").pipeline_started.unwrap().value,
            1_471_015_440
        );
        let bare = Pipeline {
            queued_duration: None,
            duration: None,
            ..p
        };
        let ctx = pipeline(&bare, "x");
        assert_eq!(ctx.pipeline_started.unwrap().value, 1_471_015_408);
        assert_eq!(ctx.duration, None);
        assert_eq!(
            merge_request_of(Some("refs/merge-requests/12/head")),
            Some(12)
        );
        assert_eq!(merge_request_of(Some("main")), None);
    }

    #[test]
    fn a_deployment_never_starts_after_its_end() {
        let d = |started: Option<&str>, created: Option<&str>| Deployment {
            deployable_id: 796,
            started_at: started.map(str::to_string),
            created_at: created.map(str::to_string),
            finished_at: Some("2021-04-28T19:50:00Z".into()),
            status: Some("success".into()),
            ..Deployment::default()
        };
        let ctx = deployment(&d(None, Some("2021-04-28T19:49:30Z")), "x");
        assert_eq!(ctx.pipeline_started.unwrap().value, 1_619_639_370);
        assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
        let ctx = deployment(&d(None, None), "x");
        assert_eq!(ctx.pipeline_started.unwrap().value, 1_619_639_400);
        assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
        let ctx = deployment(&d(Some("2021-04-28T19:55:00Z"), None), "x");
        assert_eq!(ctx.pipeline_started.unwrap().value, 1_619_639_400);
        assert!(ctx.warnings[0].contains("is after"), "{:?}", ctx.warnings);
    }

    #[test]
    fn users_without_a_public_email_are_their_username() {
        for email in [Some("[REDACTED]"), Some(""), None] {
            let who = user(email, Some("root"), "webhook").unwrap();
            assert_eq!(who.value, "root", "{email:?}");
        }
    }
}
