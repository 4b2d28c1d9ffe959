//! GitLab CI (`GITLAB_CI`, or `CI_SERVER_URL` with `CI_PROJECT_PATH`).
//!
//! GitLab gives everything: commit, project path and id, the user's email, pipeline and job
//! ids and start times, and in `after_script` the job's outcome.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless `GITLAB_CI` is set (to anything: gitlab-ci-local sets it to `false`) or both
/// `CI_SERVER_URL` and `CI_PROJECT_PATH` are.
pub fn detect(env: &Env) -> Option<CiContext> {
    let detected = env.has("GITLAB_CI") || (env.has("CI_SERVER_URL") && env.has("CI_PROJECT_PATH"));
    if !detected {
        return None;
    }
    let mut ctx = CiContext::new(Provider::GitLab);
    ctx.commit_sha = env.sourced("CI_COMMIT_SHA");
    ctx.repo_name = env.sourced("CI_PROJECT_PATH");
    ctx.repo_id = env.sourced("CI_PROJECT_ID");
    ctx.triggered_by = env.sourced_first(&["GITLAB_USER_EMAIL", "GITLAB_USER_LOGIN"]);
    ctx.pipeline_id = env.sourced("CI_PIPELINE_ID");
    ctx.job_id = env.sourced("CI_JOB_ID");
    ctx.pipeline_started = ctx.time_from(env, "CI_PIPELINE_CREATED_AT");
    ctx.job_started = ctx.time_from(env, "CI_JOB_STARTED_AT");
    // CI_JOB_STATUS is `running` in `script` and only says how the job ended in
    // `after_script`; `running` must never be reported as an outcome.
    ctx.status = vars::status_from(
        &mut ctx,
        env,
        "CI_JOB_STATUS",
        &["success", "failed", "canceled"],
        &["running"],
    );

    ctx.add_context("pipeline_url", env.get("CI_PIPELINE_URL"));
    ctx.add_context("job_url", env.get("CI_JOB_URL"));
    // Merge request pipelines have no CI_COMMIT_BRANCH; tag pipelines have a ref name that is
    // a tag, not a branch.
    let branch = env
        .first(&["CI_COMMIT_BRANCH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"])
        .map(|(_, v)| v)
        .or_else(|| {
            (!env.has("CI_COMMIT_TAG"))
                .then(|| env.get("CI_COMMIT_REF_NAME"))
                .flatten()
        });
    ctx.add_context("branch", branch);
    ctx.add_context("environment", env.get("CI_ENVIRONMENT_NAME"));
    ctx.add_context("environment_tier", env.get("CI_ENVIRONMENT_TIER"));
    ctx.add_context("environment_url", env.get("CI_ENVIRONMENT_URL"));
    // `environment: {action: stop}` (also prepare, verify, access) is a job that touches an
    // environment without deploying to it.
    if let Some(action) = env
        .get("CI_ENVIRONMENT_ACTION")
        .filter(|a| !a.eq_ignore_ascii_case("start"))
    {
        ctx.not_a_deployment = Some(format!(
            "CI_ENVIRONMENT_ACTION is {action:?}, not \"start\": this job does not deploy to {}",
            env.get("CI_ENVIRONMENT_NAME").unwrap_or("its environment")
        ));
    }
    ctx.add_context("workflow", env.get("CI_PIPELINE_NAME"));
    ctx.add_context("trigger_event", env.get("CI_PIPELINE_SOURCE"));
    Some(ctx)
}
