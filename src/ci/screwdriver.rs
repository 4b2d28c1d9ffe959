//! Screwdriver (`SCREWDRIVER`; `false` in `sd-local` builds, which are not deploys).
//!
//! Screwdriver gives the commit, the pipeline's name (its repository, `owner/name`), the
//! event id (one run of the pipeline's workflow), the build id (this job's run) and the
//! build's page. It names no user and has no start time or outcome variable.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `SCREWDRIVER` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("SCREWDRIVER") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Screwdriver);
    ctx.commit_sha = env.sourced("SD_BUILD_SHA");
    // A pipeline is named after its SCM repository (`d2lam/myPipeline`).
    ctx.repo_name = env
        .sourced("SD_PIPELINE_NAME")
        .or_else(|| vars::slug_from_url(&mut ctx, env, "SCM_URL"));
    ctx.pipeline_id = env.sourced("SD_EVENT_ID");
    ctx.job_id = env.sourced("SD_BUILD_ID");

    ctx.add_context("job_url", env.get("SD_UI_BUILD_URL"));
    // GIT_BRANCH is `origin/main`, or `origin/refs/pull/...` for a pull request.
    let branch = env
        .get("GIT_BRANCH")
        .map(|b| b.strip_prefix("origin/").unwrap_or(b))
        .and_then(vars::branch_from_ref);
    ctx.add_context("branch", branch);
    ctx.add_context("workflow", env.get("SD_JOB_NAME"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn screwdriver_main() {
        let (got, warnings) = detect_fixture("screwdriver", "main");
        let want = CiContext {
            commit_sha: s("b5a94cdabf23b21303a0e6d5be5e96bd6300847a", "SD_BUILD_SHA"),
            repo_name: s("d2lam/myPipeline", "SD_PIPELINE_NAME"),
            pipeline_id: s("1234", "SD_EVENT_ID"),
            job_id: s("173", "SD_BUILD_ID"),
            context: fields(&[
                (
                    "job_url",
                    "https://cd.screwdriver.cd/pipelines/259/builds/173",
                ),
                ("branch", "main"),
                ("workflow", "main"),
            ]),
            ..CiContext::new(Provider::Screwdriver)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn screwdriver_local_mode_is_not_a_deploy() {
        let mut env = fixture("screwdriver", "main");
        env.insert("SCREWDRIVER", "false");
        assert_eq!(detect(&env).provider, Provider::Local);
    }
}
