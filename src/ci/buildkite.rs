//! Buildkite (`BUILDKITE`, set to `true`).
//!
//! `BUILDKITE_COMMIT` may be `HEAD` for builds started by hand without a commit; it is passed
//! on as is and resolved to a full SHA through the local git checkout later. Buildkite has no
//! start time or outcome variable.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `BUILDKITE` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("BUILDKITE") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Buildkite);
    ctx.commit_sha = env.sourced("BUILDKITE_COMMIT");
    ctx.repo_name = vars::slug_from_url(&mut ctx, env, "BUILDKITE_REPO");
    ctx.triggered_by =
        env.sourced_first(&["BUILDKITE_BUILD_CREATOR_EMAIL", "BUILDKITE_BUILD_CREATOR"]);
    // The build UUID rather than BUILDKITE_BUILD_NUMBER, which restarts for every pipeline.
    ctx.pipeline_id = env.sourced("BUILDKITE_BUILD_ID");
    ctx.job_id = env.sourced("BUILDKITE_JOB_ID");

    let build_url = env.get("BUILDKITE_BUILD_URL");
    // Buildkite's own links to a job are the build page with the job id as fragment.
    let job_url = match (build_url, env.get("BUILDKITE_JOB_ID")) {
        (Some(url), Some(job)) => Some(format!("{url}#{job}")),
        _ => None,
    };
    ctx.add_context("pipeline_url", build_url);
    ctx.add_context("job_url", job_url);
    // For a tag build BUILDKITE_BRANCH holds the tag.
    let branch = env
        .get("BUILDKITE_BRANCH")
        .filter(|b| env.get("BUILDKITE_TAG") != Some(*b));
    ctx.add_context("branch", branch);
    ctx.add_context(
        "environment",
        env.get("BUILDKITE_GITHUB_DEPLOYMENT_ENVIRONMENT"),
    );
    ctx.add_context("workflow", env.get("BUILDKITE_PIPELINE_SLUG"));
    let attempt = run_attempt(&mut ctx, env);
    ctx.add_context("run_attempt", attempt);
    ctx.add_context("trigger_event", env.get("BUILDKITE_SOURCE"));
    Some(ctx)
}

/// BUILDKITE_RETRY_COUNT counts retries from 0; `run_attempt` counts attempts from 1 like
/// GitHub's.
fn run_attempt(ctx: &mut CiContext, env: &Env) -> Option<String> {
    let raw = env.get("BUILDKITE_RETRY_COUNT")?;
    match raw.trim().parse::<u32>() {
        Ok(retries) => Some((u64::from(retries) + 1).to_string()),
        Err(_) => {
            ctx.warnings.push(format!(
                "ignoring BUILDKITE_RETRY_COUNT={raw:?}: expected a whole number"
            ));
            None
        }
    }
}
