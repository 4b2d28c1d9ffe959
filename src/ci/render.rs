//! Render (`RENDER`, always `true` on Render).
//!
//! Render gives the commit, branch and `owner/name` of a Git-backed service, the service's id
//! and name, and the instance's id. There is no deploy id, user, start time or outcome: the
//! instance id stands for the deploy (each deploy starts new instances), and the service
//! name is the `workflow`.

use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `RENDER` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("RENDER") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Render);
    ctx.commit_sha = env.sourced("RENDER_GIT_COMMIT");
    ctx.repo_name = env.sourced("RENDER_GIT_REPO_SLUG");
    ctx.pipeline_id = env.sourced("RENDER_INSTANCE_ID");
    ctx.job_id = ctx.pipeline_id.clone();

    ctx.add_context("branch", env.get("RENDER_GIT_BRANCH"));
    ctx.add_context("workflow", env.get("RENDER_SERVICE_NAME"));
    Some(ctx)
}
