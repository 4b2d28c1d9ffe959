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

    ctx.add_context("job_url", env.get("CIRCLE_BUILD_URL"));
    ctx.add_context("branch", env.get("CIRCLE_BRANCH"));
    Some(ctx)
}
