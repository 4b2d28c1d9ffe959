//! Semaphore (`SEMAPHORE`).
//!
//! Semaphore gives the commit, the repository slug, the workflow and job ids, who triggered
//! the workflow or promoted the pipeline, the job's creation time, and in epilogues the
//! job's result; after-pipeline jobs also get the pipeline's start and result.

use super::vars;
use crate::client;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `SEMAPHORE` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("SEMAPHORE") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Semaphore);
    ctx.commit_sha = env.sourced("SEMAPHORE_GIT_SHA");
    ctx.repo_name = env.sourced("SEMAPHORE_GIT_REPO_SLUG");
    ctx.triggered_by = triggered_by(env);
    // The workflow holds the initial pipeline and every promotion (a deploy is usually a
    // promoted pipeline), like a GitHub run or a GitLab pipeline.
    ctx.pipeline_id = env.sourced("SEMAPHORE_WORKFLOW_ID");
    ctx.job_id = env.sourced("SEMAPHORE_JOB_ID");
    // Only after-pipeline jobs know when the pipeline started.
    ctx.pipeline_started = ctx.time_from(env, "SEMAPHORE_PIPELINE_STARTED_AT");
    ctx.job_started = ctx.time_from(env, "SEMAPHORE_JOB_CREATION_TIME");
    ctx.status = status(&mut ctx, env);

    let org = env
        .get("SEMAPHORE_ORGANIZATION_URL")
        .map(|u| u.trim_end_matches('/'));
    let pipeline_url = match (org, env.get("SEMAPHORE_WORKFLOW_ID")) {
        (Some(org), Some(id)) => Some(format!("{org}/workflows/{}", client::encode_component(id))),
        _ => None,
    };
    let job_url = match (org, env.get("SEMAPHORE_JOB_ID")) {
        (Some(org), Some(id)) => Some(format!("{org}/jobs/{}", client::encode_component(id))),
        _ => None,
    };
    ctx.add_context("pipeline_url", pipeline_url);
    ctx.add_context("job_url", job_url);
    ctx.add_context("branch", branch(env));
    Some(ctx)
}

/// Whoever promoted this pipeline (the deploy, usually) beats whoever started the workflow;
/// `auto-promotion` is not a person. The commit's author is the last resort.
fn triggered_by(env: &Env) -> Option<Sourced<String>> {
    env.sourced("SEMAPHORE_PIPELINE_PROMOTED_BY")
        .filter(|p| p.value != "auto-promotion")
        .or_else(|| {
            env.sourced_first(&[
                "SEMAPHORE_WORKFLOW_TRIGGERED_BY",
                "SEMAPHORE_GIT_COMMIT_AUTHOR",
            ])
        })
}

/// The pipeline's result in an after-pipeline job, else the job's result in an epilogue;
/// `none` (not finished yet) is dropped quietly.
fn status(ctx: &mut CiContext, env: &Env) -> Option<Sourced<String>> {
    if env.has("SEMAPHORE_PIPELINE_RESULT") {
        return vars::status_from(
            ctx,
            env,
            "SEMAPHORE_PIPELINE_RESULT",
            &["passed", "failed", "stopped", "canceled"],
            &[],
        );
    }
    vars::status_from(
        ctx,
        env,
        "SEMAPHORE_JOB_RESULT",
        &["passed", "failed", "stopped"],
        &["none"],
    )
}

/// A pull request's source branch, else the branch; a tag build has no branch
/// (`SEMAPHORE_GIT_BRANCH` then holds the tag's ref).
fn branch(env: &Env) -> Option<&str> {
    if env.get("SEMAPHORE_GIT_REF_TYPE") == Some("tag") || env.has("SEMAPHORE_GIT_TAG_NAME") {
        return None;
    }
    let (_, raw) = env.first(&[
        "SEMAPHORE_GIT_PR_BRANCH",
        "SEMAPHORE_GIT_WORKING_BRANCH",
        "SEMAPHORE_GIT_BRANCH",
    ])?;
    vars::branch_from_ref(raw)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    /// The promoter beats the workflow's triggerer; a job epilogue knows the job's result.
    #[test]
    fn semaphore_promotion_epilogue() {
        let (got, warnings) = detect_fixture("semaphore", "promotion");
        let want = CiContext {
            commit_sha: s(
                "5c84719708b9b649b9ef3b56af214f38cee6acde",
                "SEMAPHORE_GIT_SHA",
            ),
            repo_name: s("acme/web", "SEMAPHORE_GIT_REPO_SLUG"),
            triggered_by: s("jane", "SEMAPHORE_PIPELINE_PROMOTED_BY"),
            pipeline_id: s(
                "65ba7b3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                "SEMAPHORE_WORKFLOW_ID",
            ),
            job_id: s("a26d42cf-89ac-4c3f-9e2d-51bb231897bf", "SEMAPHORE_JOB_ID"),
            job_started: t(1_717_228_800, "SEMAPHORE_JOB_CREATION_TIME"),
            status: s("passed", "SEMAPHORE_JOB_RESULT"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://acme.semaphoreci.com/workflows/65ba7b3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                ),
                (
                    "job_url",
                    "https://acme.semaphoreci.com/jobs/a26d42cf-89ac-4c3f-9e2d-51bb231897bf",
                ),
                ("branch", "main"),
            ]),
            ..CiContext::new(Provider::Semaphore)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// An after-pipeline job: the pipeline's start and result; `none` for the job itself is quiet.
    #[test]
    fn semaphore_after_pipeline_of_pull_request() {
        let (got, warnings) = detect_fixture("semaphore", "after_pipeline");
        let want = CiContext {
            commit_sha: s(
                "1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e",
                "SEMAPHORE_GIT_SHA",
            ),
            repo_name: s("acme/web", "SEMAPHORE_GIT_REPO_SLUG"),
            // `auto-promotion` is not a person.
            triggered_by: s("octocat", "SEMAPHORE_WORKFLOW_TRIGGERED_BY"),
            pipeline_id: s(
                "75cb8c4f-2d3e-4f60-9bac-1d2e3f4a5b6c",
                "SEMAPHORE_WORKFLOW_ID",
            ),
            job_id: s("b37e53d0-9abd-4d50-af3e-62cc342908c0", "SEMAPHORE_JOB_ID"),
            pipeline_started: t(1_717_229_005, "SEMAPHORE_PIPELINE_STARTED_AT"),
            job_started: t(1_717_229_500, "SEMAPHORE_JOB_CREATION_TIME"),
            status: s("failed", "SEMAPHORE_PIPELINE_RESULT"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://acme.semaphoreci.com/workflows/75cb8c4f-2d3e-4f60-9bac-1d2e3f4a5b6c",
                ),
                (
                    "job_url",
                    "https://acme.semaphoreci.com/jobs/b37e53d0-9abd-4d50-af3e-62cc342908c0",
                ),
                ("branch", "feature/login"),
            ]),
            ..CiContext::new(Provider::Semaphore)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn semaphore_tag_has_no_branch() {
        let mut env = fixture("semaphore", "promotion");
        env.insert("SEMAPHORE_GIT_REF_TYPE", "tag");
        env.insert("SEMAPHORE_GIT_BRANCH", "refs/tags/v1.2.3");
        env.insert("SEMAPHORE_GIT_TAG_NAME", "v1.2.3");
        let ctx = detect(&env);
        assert!(ctx.context.iter().all(|c| c.key != "branch"), "{ctx:?}");
    }
}
