//! Bitbucket Pipelines (`BITBUCKET_BUILD_NUMBER` or `BITBUCKET_COMMIT`).
//!
//! Bitbucket names the person who started a step only by an account UUID
//! (`BITBUCKET_STEP_TRIGGERER_UUID`), which is neither an email nor a login, so
//! `triggered_by` is left to the git fallback or `--triggered-by`. `BITBUCKET_EXIT_CODE` is
//! set in `after-script` and carries the step's outcome.

use super::vars;
use crate::client;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless `BITBUCKET_BUILD_NUMBER` or `BITBUCKET_COMMIT` is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("BITBUCKET_BUILD_NUMBER") && !env.marker("BITBUCKET_COMMIT") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Bitbucket);
    ctx.commit_sha = env.sourced("BITBUCKET_COMMIT");
    ctx.repo_name = env.sourced("BITBUCKET_REPO_FULL_NAME");
    ctx.repo_id = env.sourced("BITBUCKET_REPO_UUID");
    // The build number counts per repository; the pipeline's UUID is Bitbucket's own id.
    ctx.pipeline_id = env.sourced("BITBUCKET_PIPELINE_UUID");
    if ctx.pipeline_id.is_none() {
        ctx.pipeline_id = env.sourced("BITBUCKET_BUILD_NUMBER");
        ctx.pipeline_id_per_repo = ctx.pipeline_id.is_some();
    }
    ctx.job_id = env.sourced("BITBUCKET_STEP_UUID");
    ctx.status = vars::exit_code_from(&mut ctx, env, "BITBUCKET_EXIT_CODE");

    let pipeline_url = match (
        env.get("BITBUCKET_GIT_HTTP_ORIGIN"),
        env.get("BITBUCKET_BUILD_NUMBER"),
    ) {
        (Some(origin), Some(number)) => {
            // The documented origin is `http://bitbucket.org/…`; the site itself is https.
            let origin = match origin.strip_prefix("http://") {
                Some(rest) => format!("https://{rest}"),
                None => origin.to_string(),
            };
            let origin = origin.trim_end_matches('/');
            Some(format!("{origin}/pipelines/results/{number}"))
        }
        _ => None,
    };
    let job_url = match (&pipeline_url, env.get("BITBUCKET_STEP_UUID")) {
        (Some(url), Some(step)) => Some(format!("{url}/steps/{}", client::encode_component(step))),
        _ => None,
    };
    ctx.add_context("pipeline_url", pipeline_url);
    ctx.add_context("job_url", job_url);
    ctx.add_context("branch", env.get("BITBUCKET_BRANCH"));
    ctx.add_context("environment", env.get("BITBUCKET_DEPLOYMENT_ENVIRONMENT"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn bitbucket_after_script_of_deployment() {
        let (got, warnings) = detect_fixture("bitbucket", "after_script");
        let want = CiContext {
            commit_sha: s(
                "6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b",
                "BITBUCKET_COMMIT",
            ),
            repo_name: s("acme/web", "BITBUCKET_REPO_FULL_NAME"),
            repo_id: s(
                "{9f7c1a2e-3b4d-4c5e-8f90-a1b2c3d4e5f6}",
                "BITBUCKET_REPO_UUID",
            ),
            pipeline_id: s(
                "{1e2d3c4b-5a69-4788-9a0b-c1d2e3f4a5b6}",
                "BITBUCKET_PIPELINE_UUID",
            ),
            job_id: s(
                "{b4f5c3a1-2d3e-4f5a-8b9c-0d1e2f3a4b5c}",
                "BITBUCKET_STEP_UUID",
            ),
            status: s("1", "BITBUCKET_EXIT_CODE"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://bitbucket.org/acme/web/pipelines/results/318",
                ),
                (
                    "job_url",
                    "https://bitbucket.org/acme/web/pipelines/results/318/steps/%7Bb4f5c3a1-2d3e-4f5a-8b9c-0d1e2f3a4b5c%7D",
                ),
                ("branch", "main"),
                ("environment", "production"),
            ]),
            ..CiContext::new(Provider::Bitbucket)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn bitbucket_script_step() {
        let (got, warnings) = detect_fixture("bitbucket", "script");
        let want = CiContext {
            commit_sha: s(
                "7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c",
                "BITBUCKET_COMMIT",
            ),
            repo_name: s("acme/web", "BITBUCKET_REPO_FULL_NAME"),
            repo_id: s(
                "{9f7c1a2e-3b4d-4c5e-8f90-a1b2c3d4e5f6}",
                "BITBUCKET_REPO_UUID",
            ),
            pipeline_id: s("319", "BITBUCKET_BUILD_NUMBER"),
            job_id: s(
                "{c5a6d4b2-3e4f-4a5b-9c0d-1e2f3a4b5c6d}",
                "BITBUCKET_STEP_UUID",
            ),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://bitbucket.org/acme/web/pipelines/results/319",
                ),
                (
                    "job_url",
                    "https://bitbucket.org/acme/web/pipelines/results/319/steps/%7Bc5a6d4b2-3e4f-4a5b-9c0d-1e2f3a4b5c6d%7D",
                ),
                ("branch", "feature/login"),
            ]),
            pipeline_id_per_repo: true,
            ..CiContext::new(Provider::Bitbucket)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn bitbucket_bad_exit_code_warns() {
        let mut env = fixture("bitbucket", "after_script");
        env.insert("BITBUCKET_EXIT_CODE", "one");
        let ctx = detect(&env);
        assert_eq!(ctx.status, None);
        assert_one_warning(&ctx.warnings, "ignoring BITBUCKET_EXIT_CODE=\"one\"");
    }
}
