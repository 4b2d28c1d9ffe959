//! Woodpecker CI (`CI=woodpecker`).
//!
//! The "job" scope is the workflow (one file under `.woodpecker/`, run on one agent like a
//! Drone stage), identified within the pipeline by its name; Woodpecker has no workflow start
//! time, so the job start is the current step's (`CI_STEP_STARTED`). That is exact when the
//! deploy runs in the same step (`allstacks-cd run -- ./deploy.sh`).

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless `CI` is `woodpecker`.
pub fn detect(env: &Env) -> Option<CiContext> {
    if env.get("CI") != Some("woodpecker") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Woodpecker);
    ctx.commit_sha = env.sourced("CI_COMMIT_SHA");
    ctx.repo_name = env
        .sourced("CI_REPO")
        .or_else(|| vars::slug_from_parts(env, "CI_REPO_OWNER", "CI_REPO_NAME"))
        .or_else(|| vars::slug_from_url(&mut ctx, env, "CI_REPO_CLONE_URL"));
    ctx.repo_id = env.sourced("CI_REPO_REMOTE_ID");
    ctx.triggered_by = triggered_by(env);
    ctx.pipeline_id = env.sourced("CI_PIPELINE_NUMBER");
    ctx.job_id = vars::joined(env, &["CI_PIPELINE_NUMBER", "CI_WORKFLOW_NAME"]);
    ctx.pipeline_started = ctx.time_from(env, "CI_PIPELINE_STARTED");
    ctx.job_started = ctx.time_from(env, "CI_STEP_STARTED");
    ctx.status = vars::status_from(
        &mut ctx,
        env,
        "CI_PIPELINE_STATUS",
        &["success", "failure"],
        &[],
    );

    // CI_PIPELINE_LINK is the name before Woodpecker 2.
    let pipeline_url = env
        .first(&["CI_PIPELINE_URL", "CI_PIPELINE_LINK"])
        .map(|(_, v)| v);
    ctx.add_context("pipeline_url", pipeline_url);
    ctx.add_context("job_url", env.get("CI_STEP_URL"));
    // CI_COMMIT_BRANCH is a pull request's target branch.
    let branch = (!env.has("CI_COMMIT_TAG"))
        .then(|| env.first(&["CI_COMMIT_SOURCE_BRANCH", "CI_COMMIT_BRANCH"]))
        .flatten()
        .map(|(_, v)| v);
    ctx.add_context("branch", branch);
    ctx.add_context("environment", env.get("CI_PIPELINE_DEPLOY_TARGET"));
    ctx.add_context("workflow", env.get("CI_WORKFLOW_NAME"));
    ctx.add_context("trigger_event", env.get("CI_PIPELINE_EVENT"));
    Some(ctx)
}

/// CI_PIPELINE_AUTHOR is whoever started a manual or deployment pipeline; for pushes it is
/// the forge's sender, and the commit author's email is the better match there.
fn triggered_by(env: &Env) -> Option<Sourced<String>> {
    let by_hand = matches!(env.get("CI_PIPELINE_EVENT"), Some("manual" | "deployment"));
    let person = env.sourced("CI_PIPELINE_AUTHOR").filter(|_| by_hand);
    person.or_else(|| {
        env.sourced_first(&[
            "CI_COMMIT_AUTHOR_EMAIL",
            "CI_COMMIT_AUTHOR",
            "CI_PIPELINE_AUTHOR",
        ])
    })
}
