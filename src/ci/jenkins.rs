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
    let bare = ctx
        .pipeline_id
        .as_ref()
        .is_some_and(|i| i.source == "BUILD_NUMBER");
    (ctx.pipeline_id_per_repo, ctx.job_id_per_repo) = (bare, bare);

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

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn jenkins_multibranch() {
        let (got, warnings) = detect_fixture("jenkins", "multibranch");
        let want = CiContext {
            commit_sha: s("8e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d", "GIT_COMMIT"),
            repo_name: s("acme/web", "GIT_URL"),
            triggered_by: s("jane@example.com", "BUILD_USER_EMAIL"),
            pipeline_id: s("jenkins-acme-web-main-42", "BUILD_TAG"),
            job_id: s("jenkins-acme-web-main-42", "BUILD_TAG"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://jenkins.example.com/job/acme/job/web/job/main/42/",
                ),
                ("branch", "main"),
                ("workflow", "acme/web/main"),
            ]),
            ..CiContext::new(Provider::Jenkins)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn jenkins_freestyle() {
        let (got, warnings) = detect_fixture("jenkins", "freestyle");
        let want = CiContext {
            commit_sha: s("1f2e3d4c5b6a79880716253443526170f8e9dab1", "GIT_COMMIT"),
            repo_name: s("acme/api", "GIT_URL"),
            triggered_by: s("deployer", "BUILD_USER_ID"),
            pipeline_id: s("jenkins-deploy-api-1337", "BUILD_TAG"),
            job_id: s("jenkins-deploy-api-1337", "BUILD_TAG"),
            // `origin/release/2.x` loses only its remote.
            context: fields(&[("branch", "release/2.x"), ("workflow", "deploy-api")]),
            ..CiContext::new(Provider::Jenkins)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn jenkins_needs_more_than_jenkins_home() {
        let env = Env::from_pairs([("JENKINS_HOME", "/var/lib/jenkins")]);
        assert_eq!(detect(&env).provider, Provider::Local);
    }

    #[test]
    fn jenkins_unreadable_git_url_warns() {
        let mut env = fixture("jenkins", "freestyle");
        env.insert("GIT_URL", "file:///srv/git/api.git");
        let ctx = detect(&env);
        assert_eq!(ctx.repo_name, None);
        assert_one_warning(&ctx.warnings, "ignoring GIT_URL: ");
    }

    #[test]
    fn jenkins_several_remotes_use_git_url_1() {
        let (got, warnings) = detect_fixture("jenkins", "multiple_remotes");
        let want = CiContext {
            commit_sha: s("2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e", "GIT_COMMIT"),
            repo_name: s("acme/web", "GIT_URL_1"),
            pipeline_id: s("jenkins-deploy-web-77", "BUILD_TAG"),
            job_id: s("jenkins-deploy-web-77", "BUILD_TAG"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://jenkins.example.com/job/deploy-web/77/",
                ),
                ("branch", "main"),
                ("workflow", "deploy-web"),
            ]),
            ..CiContext::new(Provider::Jenkins)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");

        // GIT_URL wins when both are set; a GIT_URL_1 without owner/name is a warning.
        let mut env = fixture("jenkins", "multiple_remotes");
        env.insert("GIT_URL", "git@github.com:acme/api.git");
        assert_eq!(detect(&env).repo_name, s("acme/api", "GIT_URL"));
        let mut env = fixture("jenkins", "multiple_remotes");
        env.insert("GIT_URL_1", "https://github.com/");
        let ctx = detect(&env);
        assert_eq!(ctx.repo_name, None);
        assert_one_warning(&ctx.warnings, "ignoring GIT_URL_1: ");
    }
}
