//! Codefresh (`CF_BUILD_ID`).
//!
//! Codefresh gives the revision, the repository owner and name, the build id, URL and
//! creation time, and the user who started (or restarted) the build. It has no job-level id:
//! a build is one pipeline run.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `CF_BUILD_ID` marker is set. (Cloudflare Pages' markers are `CF_PAGES*`
/// and never include `CF_BUILD_ID`.)
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("CF_BUILD_ID") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Codefresh);
    ctx.commit_sha = env.sourced("CF_REVISION");
    ctx.repo_name = vars::slug_from_parts(env, "CF_REPO_OWNER", "CF_REPO_NAME");
    // For a webhook build this is the user the webhook came from; for a manual (re)start, the
    // person who clicked.
    ctx.triggered_by = env.sourced("CF_BUILD_INITIATOR");
    ctx.pipeline_id = env.sourced("CF_BUILD_ID");
    ctx.job_id = ctx.pipeline_id.clone();
    ctx.pipeline_started = vars::time_from_seconds_or_millis(&mut ctx, env, "CF_BUILD_TIMESTAMP");

    ctx.add_context("pipeline_url", env.get("CF_BUILD_URL"));
    // CF_BRANCH is a pull request's source branch.
    ctx.add_context("branch", env.get("CF_BRANCH"));
    ctx.add_context("workflow", env.get("CF_PIPELINE_NAME"));
    ctx.add_context("trigger_event", env.get("CF_BUILD_TRIGGER"));
    Some(ctx)
}
