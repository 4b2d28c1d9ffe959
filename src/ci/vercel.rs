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

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    /// `VERCEL=1`; `VERCEL_URL` has no scheme.
    #[test]
    fn vercel_production() {
        let (got, warnings) = detect_fixture("vercel", "production");
        let want = CiContext {
            commit_sha: s(
                "4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d",
                "VERCEL_GIT_COMMIT_SHA",
            ),
            repo_name: s("acme/web", "VERCEL_GIT_REPO_OWNER, VERCEL_GIT_REPO_SLUG"),
            repo_id: s("117716146", "VERCEL_GIT_REPO_ID"),
            triggered_by: s("monalisa", "VERCEL_GIT_COMMIT_AUTHOR_LOGIN"),
            pipeline_id: s("dpl_7Gw5ZMBpQA8h9GF832KGp7nwbuh3", "VERCEL_DEPLOYMENT_ID"),
            job_id: s("dpl_7Gw5ZMBpQA8h9GF832KGp7nwbuh3", "VERCEL_DEPLOYMENT_ID"),
            context: fields(&[
                ("pipeline_url", "https://web-7q03y4pi5.vercel.app"),
                ("branch", "main"),
                ("environment", "production"),
            ]),
            ..CiContext::new(Provider::Vercel)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// A custom environment: `VERCEL_TARGET_ENV` names it where `VERCEL_ENV` says `preview`.
    #[test]
    fn vercel_custom_environment() {
        let (got, warnings) = detect_fixture("vercel", "custom_environment");
        let want = CiContext {
            commit_sha: s(
                "5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e",
                "VERCEL_GIT_COMMIT_SHA",
            ),
            repo_name: s("acme/web", "VERCEL_GIT_REPO_OWNER, VERCEL_GIT_REPO_SLUG"),
            repo_id: s("51515151", "VERCEL_GIT_REPO_ID"),
            triggered_by: s("jdoe", "VERCEL_GIT_COMMIT_AUTHOR_LOGIN"),
            pipeline_id: s("dpl_2YxWvUtSrQpOnMlKjIhGfEdCbA98", "VERCEL_DEPLOYMENT_ID"),
            job_id: s("dpl_2YxWvUtSrQpOnMlKjIhGfEdCbA98", "VERCEL_DEPLOYMENT_ID"),
            context: fields(&[
                ("pipeline_url", "https://web-k2j4h5g6f.vercel.app"),
                ("branch", "staging"),
                ("environment", "staging"),
            ]),
            ..CiContext::new(Provider::Vercel)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
