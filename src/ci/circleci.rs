//! CircleCI (`CIRCLECI`, `true` on CircleCI; some images set `1`).
//!
//! The "pipeline" scope is the workflow (`CIRCLE_WORKFLOW_ID`): a re-run makes a new workflow,
//! and one CircleCI pipeline can hold several workflows that each report. CircleCI has no
//! start time or outcome variable, and no web URL for the workflow (only the job's).

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `CIRCLECI` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("CIRCLECI") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::CircleCi);
    ctx.commit_sha = env.sourced("CIRCLE_SHA1");
    ctx.repo_name = match (
        env.get("CIRCLE_PROJECT_USERNAME"),
        env.get("CIRCLE_PROJECT_REPONAME"),
    ) {
        (Some(owner), Some(name)) => Some(Sourced::new(
            format!("{owner}/{name}"),
            "CIRCLE_PROJECT_USERNAME, CIRCLE_PROJECT_REPONAME",
        )),
        // GitLab and GitHub App projects no longer get the two variables above.
        _ => vars::slug_from_url(&mut ctx, env, "CIRCLE_REPOSITORY_URL"),
    };
    ctx.triggered_by = env.sourced("CIRCLE_USERNAME");
    ctx.pipeline_id = env.sourced_first(&["CIRCLE_WORKFLOW_ID", "CIRCLE_PIPELINE_ID"]);
    ctx.job_id = env.sourced_first(&["CIRCLE_WORKFLOW_JOB_ID", "CIRCLE_BUILD_NUM"]);
    // The build number counts per project.
    ctx.job_id_per_repo = ctx
        .job_id
        .as_ref()
        .is_some_and(|i| i.source == "CIRCLE_BUILD_NUM");

    ctx.add_context("job_url", env.get("CIRCLE_BUILD_URL"));
    ctx.add_context("branch", env.get("CIRCLE_BRANCH"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn circleci_workflow() {
        let (got, warnings) = detect_fixture("circleci", "workflow");
        let want = CiContext {
            commit_sha: s("3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", "CIRCLE_SHA1"),
            repo_name: s(
                "acme/web",
                "CIRCLE_PROJECT_USERNAME, CIRCLE_PROJECT_REPONAME",
            ),
            triggered_by: s("jdoe", "CIRCLE_USERNAME"),
            pipeline_id: s("6f1c8a2b-3d4e-4f50-9a8b-7c6d5e4f3a2b", "CIRCLE_WORKFLOW_ID"),
            job_id: s(
                "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
                "CIRCLE_WORKFLOW_JOB_ID",
            ),
            context: fields(&[
                ("job_url", "https://circleci.com/gh/acme/web/1234"),
                ("branch", "main"),
            ]),
            ..CiContext::new(Provider::CircleCi)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn circleci_gitlab_project() {
        let (got, warnings) = detect_fixture("circleci", "gitlab_project");
        let want = CiContext {
            commit_sha: s("4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a", "CIRCLE_SHA1"),
            repo_name: s("acme/group/web", "CIRCLE_REPOSITORY_URL"),
            pipeline_id: s("7a2d9b3c-4e5f-4061-8b9c-8d7e6f5a4b3c", "CIRCLE_WORKFLOW_ID"),
            job_id: s("77", "CIRCLE_BUILD_NUM"),
            context: fields(&[
                (
                    "job_url",
                    "https://app.circleci.com/jobs/circleci/AbCdEf/GhIjKl/77",
                ),
                ("branch", "develop"),
            ]),
            job_id_per_repo: true,
            ..CiContext::new(Provider::CircleCi)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
