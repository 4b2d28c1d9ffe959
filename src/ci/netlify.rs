//! Netlify (`NETLIFY`, set to `true` in builds).
//!
//! Netlify gives the commit, the repository URL, the deploy and build ids, the deploy context
//! and the branch. Its `CONTEXT` (`production`, `deploy-preview`, `branch-deploy`, `dev` or a
//! branch name) is where the deploy goes, so it is sent as the `environment` context field.
//! There is no user, start time or outcome variable.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `NETLIFY` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("NETLIFY") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Netlify);
    ctx.commit_sha = env.sourced("COMMIT_REF");
    ctx.repo_name = vars::slug_from_url(&mut ctx, env, "REPOSITORY_URL");
    // The deploy is what reaches users; the build that produced it has its own id.
    ctx.pipeline_id = env.sourced("DEPLOY_ID");
    ctx.job_id = env.sourced("BUILD_ID");

    // DEPLOY_URL is this deploy's own unique URL (`https://<deploy id>--<site>.netlify.app`),
    // which stays pointing at exactly what was deployed.
    let pipeline_url = env.get("DEPLOY_URL");
    ctx.add_context("pipeline_url", pipeline_url);
    // HEAD is a pull request's source branch; BRANCH is the same for other deploys.
    ctx.add_context("branch", env.first(&["HEAD", "BRANCH"]).map(|(_, v)| v));
    ctx.add_context("environment", env.get("CONTEXT"));
    Some(ctx)
}
