//! Buddy (`BUDDY`, or `BUDDY_WORKSPACE_ID`).
//!
//! Buddy gives the commit, the repository slug and URL, the execution id, URL and start
//! time, and the invoker's email. `BUDDY_EXECUTION_*` are the long-documented names; newer
//! workspaces also set `BUDDY_RUN_*` aliases, read first where the two are known to match.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `BUDDY` or `BUDDY_WORKSPACE_ID` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("BUDDY") && !env.marker("BUDDY_WORKSPACE_ID") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Buddy);
    ctx.commit_sha = env.sourced_first(&["BUDDY_RUN_COMMIT", "BUDDY_EXECUTION_REVISION"]);
    ctx.repo_name = env
        .sourced("BUDDY_REPO_SLUG")
        .or_else(|| vars::slug_from_url(&mut ctx, env, "BUDDY_SCM_URL"));
    ctx.triggered_by = env.sourced("BUDDY_INVOKER_EMAIL");
    // BUDDY_EXECUTION_ID counts executions of one pipeline (1, 2, ...), so the pipeline id
    // keeps it apart from other pipelines' executions. An execution runs its actions in one
    // pipeline run, so both scopes share it.
    ctx.pipeline_id = vars::joined(env, &["BUDDY_PIPELINE_ID", "BUDDY_EXECUTION_ID"]);
    ctx.job_id = ctx.pipeline_id.clone();
    ctx.pipeline_started = ctx.time_from(env, "BUDDY_EXECUTION_START_DATE");

    ctx.add_context("pipeline_url", env.get("BUDDY_EXECUTION_URL"));
    let branch = (!env.has("BUDDY_EXECUTION_TAG"))
        .then(|| {
            env.first(&[
                "BUDDY_EXECUTION_PULL_REQUEST_HEAD_BRANCH",
                "BUDDY_RUN_BRANCH",
                "BUDDY_EXECUTION_BRANCH",
            ])
        })
        .flatten()
        .map(|(_, v)| v);
    ctx.add_context("branch", branch);
    ctx.add_context("workflow", env.get("BUDDY_PIPELINE_NAME"));
    Some(ctx)
}
