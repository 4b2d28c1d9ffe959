//! Cloudflare Pages (`CF_PAGES`, set to `1` in the build).
//!
//! Pages gives only the commit, the branch and the deployment's own URL: no repository, build
//! id, user or time. The repository comes from the build's git checkout, the job id from the
//! commit and start (see SPEC.md), the start from `allstacks-cd run`.

use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `CF_PAGES` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("CF_PAGES") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::CloudflarePages);
    ctx.commit_sha = env.sourced("CF_PAGES_COMMIT_SHA");
    // Each deployment has its own URL (`https://<hash>.<project>.pages.dev`), the only link
    // to it that the build knows.
    ctx.add_context("pipeline_url", env.get("CF_PAGES_URL"));
    ctx.add_context("branch", env.get("CF_PAGES_BRANCH"));
    Some(ctx)
}
