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

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn render_deploy() {
        let (got, warnings) = detect_fixture("render", "deploy");
        let want = CiContext {
            commit_sha: s(
                "6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
                "RENDER_GIT_COMMIT",
            ),
            repo_name: s("acme/web-api", "RENDER_GIT_REPO_SLUG"),
            pipeline_id: s(
                "srv-cq8o1a2j1k3c73b0abcd-7d9f8b6c5-x2x4z",
                "RENDER_INSTANCE_ID",
            ),
            job_id: s(
                "srv-cq8o1a2j1k3c73b0abcd-7d9f8b6c5-x2x4z",
                "RENDER_INSTANCE_ID",
            ),
            context: fields(&[("branch", "main"), ("workflow", "web-api")]),
            ..CiContext::new(Provider::Render)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
