//! Bitrise (`BITRISE_IO`, or `BITRISE_BUILD_SLUG`).
//!
//! bitrise.io gives the build slug, number, URL and trigger time (epoch seconds) and the
//! build's status so far (`BITRISE_BUILD_STATUS`, 0 or 1). The commit is
//! `BITRISE_GIT_COMMIT` when the build was started for a commit, else what the Git Clone step
//! checked out (`GIT_CLONE_COMMIT_HASH`), which also exports the commit author's email.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `BITRISE_IO` or `BITRISE_BUILD_SLUG` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("BITRISE_IO") && !env.marker("BITRISE_BUILD_SLUG") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Bitrise);
    ctx.commit_sha = env.sourced_first(&["BITRISE_GIT_COMMIT", "GIT_CLONE_COMMIT_HASH"]);
    ctx.repo_name = vars::slug_from_url(&mut ctx, env, "GIT_REPOSITORY_URL");
    ctx.triggered_by = env.sourced("GIT_CLONE_COMMIT_AUTHOR_EMAIL");
    // The slug is unique; BITRISE_BUILD_NUMBER counts per app. A build runs on one VM, so
    // both scopes share it.
    ctx.pipeline_id = env.sourced("BITRISE_BUILD_SLUG");
    ctx.job_id = ctx.pipeline_id.clone();
    ctx.pipeline_started = ctx.time_from(env, "BITRISE_BUILD_TRIGGER_TIMESTAMP");
    ctx.status = vars::exit_code_from(&mut ctx, env, "BITRISE_BUILD_STATUS");

    ctx.add_context("pipeline_url", env.get("BITRISE_BUILD_URL"));
    // On a pull request BITRISE_GIT_BRANCH is the source branch; a tag build has none.
    let branch = (!env.has("BITRISE_GIT_TAG"))
        .then(|| env.get("BITRISE_GIT_BRANCH"))
        .flatten();
    ctx.add_context("branch", branch);
    ctx.add_context("workflow", env.get("BITRISE_TRIGGERED_WORKFLOW_ID"));
    Some(ctx)
}
