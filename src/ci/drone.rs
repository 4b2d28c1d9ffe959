//! Drone (`DRONE`, but not Woodpecker, which may set Drone-compatible variables, nor Harness
//! CI, which is built on Drone and always sets them).
//!
//! Drone gives the build and stage start times (epoch seconds) and the build's status so far
//! (`DRONE_BUILD_STATUS`, a snapshot taken when the step started).

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `DRONE` marker is set, `CI` is not `woodpecker` and no Harness marker
/// is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("DRONE")
        || env.get("CI") == Some("woodpecker")
        || super::harness::is_harness(env)
    {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Drone);
    ctx.commit_sha = env.sourced_first(&["DRONE_COMMIT_SHA", "DRONE_COMMIT"]);
    ctx.repo_name = env
        .sourced("DRONE_REPO")
        .or_else(|| vars::slug_from_parts(env, "DRONE_REPO_OWNER", "DRONE_REPO_NAME"))
        .or_else(|| vars::slug_from_url(&mut ctx, env, "DRONE_GIT_HTTP_URL"));
    ctx.triggered_by = triggered_by(env);
    ctx.pipeline_id = env.sourced("DRONE_BUILD_NUMBER");
    ctx.job_id = vars::joined(env, &["DRONE_BUILD_NUMBER", "DRONE_STAGE_NUMBER"]);
    ctx.pipeline_started = ctx.time_from(env, "DRONE_BUILD_STARTED");
    ctx.job_started = ctx.time_from(env, "DRONE_STAGE_STARTED");
    ctx.status = vars::status_from(
        &mut ctx,
        env,
        "DRONE_BUILD_STATUS",
        &["success", "failure"],
        &[],
    );

    ctx.add_context("pipeline_url", env.get("DRONE_BUILD_LINK"));
    // DRONE_BRANCH is a pull request's target branch; DRONE_SOURCE_BRANCH its source.
    let branch = (!env.has("DRONE_TAG"))
        .then(|| env.first(&["DRONE_SOURCE_BRANCH", "DRONE_BRANCH"]))
        .flatten()
        .map(|(_, v)| v);
    ctx.add_context("branch", branch);
    ctx.add_context("environment", env.get("DRONE_DEPLOY_TO"));
    ctx.add_context("workflow", env.get("DRONE_STAGE_NAME"));
    ctx.add_context("trigger_event", env.get("DRONE_BUILD_EVENT"));
    Some(ctx)
}

/// DRONE_BUILD_TRIGGER is the login of whoever started the build by hand (a promotion, a
/// rollback, a custom build), or `@hook`/`@cron` for automatic builds. A person beats the
/// commit author, who may not be the one deploying; otherwise the author's email, then login.
fn triggered_by(env: &Env) -> Option<Sourced<String>> {
    env.sourced("DRONE_BUILD_TRIGGER")
        .filter(|t| !t.value.starts_with('@'))
        .or_else(|| env.sourced_first(&["DRONE_COMMIT_AUTHOR_EMAIL", "DRONE_COMMIT_AUTHOR"]))
}
