//! Vercel (`VERCEL`, set to `1`).
//!
//! With "Automatically expose System Environment Variables" on (the default), Vercel gives
//! the commit, the repository's owner, slug and id, the branch, the deployment's id and URL,
//! the environment, and the commit author's login. There is no start time or outcome.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `VERCEL` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("VERCEL") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Vercel);
    ctx.commit_sha = env.sourced("VERCEL_GIT_COMMIT_SHA");
    ctx.repo_name = vars::slug_from_parts(env, "VERCEL_GIT_REPO_OWNER", "VERCEL_GIT_REPO_SLUG");
    ctx.repo_id = env.sourced("VERCEL_GIT_REPO_ID");
    // The login of the commit's author: the only person Vercel names.
    ctx.triggered_by = env.sourced("VERCEL_GIT_COMMIT_AUTHOR_LOGIN");
    ctx.pipeline_id = env.sourced("VERCEL_DEPLOYMENT_ID");
    ctx.job_id = ctx.pipeline_id.clone();

    // VERCEL_URL is the deployment's own host name, without a scheme.
    let url = env.get("VERCEL_URL").map(|host| {
        if host.contains("://") {
            host.to_string()
        } else {
            format!("https://{host}")
        }
    });
    ctx.add_context("pipeline_url", url);
    ctx.add_context("branch", env.get("VERCEL_GIT_COMMIT_REF"));
    // VERCEL_TARGET_ENV names a custom environment (`staging`) where VERCEL_ENV says
    // `preview`; for the three built-in ones they are the same.
    ctx.add_context(
        "environment",
        env.first(&["VERCEL_TARGET_ENV", "VERCEL_ENV"])
            .map(|(_, v)| v),
    );
    Some(ctx)
}
