//! CloudBees CodeShip (`CI_NAME=codeship`).
//!
//! CodeShip gives the commit, the repository's `owner/name`, the build number (Basic) or id
//! (Pro), the build's page and the committer's email and login. Its other `CI_*` variables
//! do not look like GitLab's (`CI_SERVER_URL`, `CI_PROJECT_PATH`) or Woodpecker's
//! (`CI=woodpecker`), so neither takes a CodeShip build. It has no start time or outcome
//! variable that is documented precisely enough to read.

use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless `CI_NAME` is `codeship` (in any case).
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env
        .get("CI_NAME")
        .is_some_and(|n| n.trim().eq_ignore_ascii_case("codeship"))
    {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Codeship);
    ctx.commit_sha = env.sourced("CI_COMMIT_ID");
    ctx.repo_name = match env.sourced("CI_REPO_NAME") {
        Some(r) if r.value.contains('/') => Some(r),
        Some(r) => {
            ctx.warnings.push(format!(
                "ignoring CI_REPO_NAME={:?}: expected owner/name",
                r.value
            ));
            None
        }
        None => None,
    };
    ctx.triggered_by = env.sourced_first(&["CI_COMMITTER_EMAIL", "CI_COMMITTER_USERNAME"]);
    ctx.pipeline_id = env.sourced_first(&["CI_BUILD_NUMBER", "CI_BUILD_ID"]);
    ctx.job_id = ctx.pipeline_id.clone();

    ctx.add_context("pipeline_url", env.get("CI_BUILD_URL"));
    ctx.add_context("branch", env.get("CI_BRANCH"));
    Some(ctx)
}
