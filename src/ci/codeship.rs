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
    // The build number counts per project.
    let number = ctx
        .pipeline_id
        .as_ref()
        .is_some_and(|i| i.source == "CI_BUILD_NUMBER");
    (ctx.pipeline_id_per_repo, ctx.job_id_per_repo) = (number, number);

    ctx.add_context("pipeline_url", env.get("CI_BUILD_URL"));
    ctx.add_context("branch", env.get("CI_BRANCH"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn codeship_basic() {
        let (got, warnings) = detect_fixture("codeship", "basic");
        let want = CiContext {
            commit_sha: s("26e646685c1e625939f6b2de0e5f30b59cc34d60", "CI_COMMIT_ID"),
            repo_name: s("OndraM/ci-detector", "CI_REPO_NAME"),
            triggered_by: s("ondrej@example.com", "CI_COMMITTER_EMAIL"),
            pipeline_id: s("17594878", "CI_BUILD_NUMBER"),
            job_id: s("17594878", "CI_BUILD_NUMBER"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://app.codeship.com/projects/169447/builds/17594878",
                ),
                ("branch", "main"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Codeship)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn codeship_name_is_case_insensitive_and_a_bare_repo_name_warns() {
        let mut env = fixture("codeship", "basic");
        env.insert("CI_NAME", "CodeShip");
        env.insert("CI_REPO_NAME", "ci-detector");
        let ctx = detect(&env);
        assert_eq!(ctx.provider, Provider::Codeship);
        assert_eq!(ctx.repo_name, None);
        assert_one_warning(&ctx.warnings, "ignoring CI_REPO_NAME=");
    }
}
