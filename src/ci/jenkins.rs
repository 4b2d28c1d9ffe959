//! Jenkins (`JENKINS_URL`, or `JENKINS_HOME` inside a build).
//!
//! Jenkins itself says little: the git plugin adds `GIT_COMMIT`, `GIT_URL` (`GIT_URL_1`, ...
//! with several remotes) and `GIT_BRANCH`,
//! multibranch pipelines add `BRANCH_NAME`/`CHANGE_BRANCH`, and the user who started the build
//! is only known with the build-user-vars plugin (`BUILD_USER_EMAIL`, `BUILD_USER_ID`).
//! There is no start time or outcome in the environment (`currentBuild.result` is Groovy).

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless `JENKINS_URL` is set, or `JENKINS_HOME` together with `BUILD_NUMBER` (a shell
/// on the Jenkins controller may export `JENKINS_HOME` outside any build).
pub fn detect(env: &Env) -> Option<CiContext> {
    let detected =
        env.marker("JENKINS_URL") || (env.marker("JENKINS_HOME") && env.marker("BUILD_NUMBER"));
    if !detected {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Jenkins);
    ctx.commit_sha = env.sourced("GIT_COMMIT");
    // A job with several remotes gets GIT_URL_1, GIT_URL_2, ... and no GIT_URL.
    let url_key = if env.has("GIT_URL") {
        "GIT_URL"
    } else {
        "GIT_URL_1"
    };
    ctx.repo_name = vars::slug_from_url(&mut ctx, env, url_key);
    ctx.triggered_by = env.sourced_first(&["BUILD_USER_EMAIL", "BUILD_USER_ID"]);
    // BUILD_TAG (`jenkins-{JOB_NAME}-{BUILD_NUMBER}`) rather than BUILD_NUMBER: the number
    // restarts for every Jenkins job, and one service is often deployed by several jobs.
    // A Jenkins build is a single job, so both scopes get the same id.
    ctx.pipeline_id = env.sourced_first(&["BUILD_TAG", "BUILD_NUMBER"]);
    ctx.job_id = ctx.pipeline_id.clone();

    ctx.add_context("pipeline_url", env.get("BUILD_URL"));
    ctx.add_context("branch", branch(env));
    ctx.add_context("workflow", env.get("JOB_NAME"));
    Some(ctx)
}

/// The branch being built: a pull request's source branch, the multibranch branch, else the
/// git plugin's `GIT_BRANCH` without its remote (`origin/main` → `main`). Tag builds
/// (`TAG_NAME`) have no branch.
fn branch(env: &Env) -> Option<&str> {
    if env.has("TAG_NAME") {
        return None;
    }
    if let Some((_, branch)) = env.first(&["CHANGE_BRANCH", "BRANCH_NAME", "GIT_LOCAL_BRANCH"]) {
        return Some(branch);
    }
    let raw = env.get("GIT_BRANCH")?;
    let raw = raw.strip_prefix("refs/remotes/").unwrap_or(raw);
    let raw = raw.strip_prefix("origin/").unwrap_or(raw);
    vars::branch_from_ref(raw)
}
