//! Bitbucket Pipelines (`BITBUCKET_BUILD_NUMBER` or `BITBUCKET_COMMIT`).
//!
//! Bitbucket names the person who started a step only by an account UUID
//! (`BITBUCKET_STEP_TRIGGERER_UUID`), which is neither an email nor a login, so
//! `triggered_by` is left to the git fallback or `--triggered-by`. `BITBUCKET_EXIT_CODE` is
//! set in `after-script` and carries the step's outcome.

use super::vars;
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
    ctx.pipeline_id = env.sourced("BITBUCKET_BUILD_NUMBER");
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
        (Some(url), Some(step)) => Some(format!("{url}/steps/{}", vars::encode_component(step))),
        _ => None,
    };
    ctx.add_context("pipeline_url", pipeline_url);
    ctx.add_context("job_url", job_url);
    ctx.add_context("branch", env.get("BITBUCKET_BRANCH"));
    ctx.add_context("environment", env.get("BITBUCKET_DEPLOYMENT_ENVIRONMENT"));
    Some(ctx)
}
