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

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    /// `CONTEXT` is the environment; `HEAD` the pull request's branch.
    #[test]
    fn netlify_deploy_preview() {
        let (got, warnings) = detect_fixture("netlify", "deploy_preview");
        let want = CiContext {
            commit_sha: s("2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b", "COMMIT_REF"),
            repo_name: s("acme/web", "REPOSITORY_URL"),
            pipeline_id: s("5b243e66dd6a547b4fee73ae", "DEPLOY_ID"),
            job_id: s("5d4aeac2ccabf517d2f219b8", "BUILD_ID"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://5b243e66dd6a547b4fee73ae--petsof.netlify.app",
                ),
                ("branch", "feature/login"),
                ("environment", "deploy-preview"),
            ]),
            ..CiContext::new(Provider::Netlify)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn netlify_production() {
        let (got, warnings) = detect_fixture("netlify", "production");
        let want = CiContext {
            commit_sha: s("3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c", "COMMIT_REF"),
            repo_name: s("acme/web", "REPOSITORY_URL"),
            pipeline_id: s("66a0b1c2d3e4f5a6b7c8d9e1", "DEPLOY_ID"),
            job_id: s("66a0b1c2d3e4f5a6b7c8d9e0", "BUILD_ID"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://66a0b1c2d3e4f5a6b7c8d9e1--petsof.netlify.app",
                ),
                ("branch", "main"),
                ("environment", "production"),
            ]),
            ..CiContext::new(Provider::Netlify)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
