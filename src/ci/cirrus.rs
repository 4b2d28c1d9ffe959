//! Cirrus CI (`CIRRUS_CI`).
//!
//! Cirrus gives the commit, the repository's full name, the build and task ids and the
//! branch. It names no user (`CIRRUS_USER_PERMISSION` and `CIRRUS_USER_COLLABORATOR` describe
//! the user's rights, not who they are) and has no start time or outcome variable. Its web
//! pages are `https://cirrus-ci.com/build/{id}` and `/task/{id}` for every repository.

use super::vars;
use crate::client;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `CIRRUS_CI` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("CIRRUS_CI") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Cirrus);
    ctx.commit_sha = env.sourced("CIRRUS_CHANGE_IN_REPO");
    ctx.repo_name = env
        .sourced("CIRRUS_REPO_FULL_NAME")
        .or_else(|| vars::slug_from_parts(env, "CIRRUS_REPO_OWNER", "CIRRUS_REPO_NAME"));
    ctx.pipeline_id = env.sourced("CIRRUS_BUILD_ID");
    ctx.job_id = env.sourced("CIRRUS_TASK_ID");

    let pipeline_url = env.get("CIRRUS_BUILD_ID").map(|id| {
        format!(
            "https://cirrus-ci.com/build/{}",
            client::encode_component(id)
        )
    });
    let job_url = env.get("CIRRUS_TASK_ID").map(|id| {
        format!(
            "https://cirrus-ci.com/task/{}",
            client::encode_component(id)
        )
    });
    ctx.add_context("pipeline_url", pipeline_url);
    ctx.add_context("job_url", job_url);
    // CIRRUS_BRANCH is a pull request's source branch; a tag build has no branch.
    let branch = (!env.has("CIRRUS_TAG"))
        .then(|| env.get("CIRRUS_BRANCH"))
        .flatten();
    ctx.add_context("branch", branch);
    ctx.add_context("workflow", env.get("CIRRUS_TASK_NAME"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn cirrus_push() {
        let (got, warnings) = detect_fixture("cirrus-ci", "push");
        let want = CiContext {
            commit_sha: s(
                "0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f",
                "CIRRUS_CHANGE_IN_REPO",
            ),
            repo_name: s("acme/web", "CIRRUS_REPO_FULL_NAME"),
            pipeline_id: s("6123456789012345", "CIRRUS_BUILD_ID"),
            job_id: s("5012345678901234", "CIRRUS_TASK_ID"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://cirrus-ci.com/build/6123456789012345",
                ),
                ("job_url", "https://cirrus-ci.com/task/5012345678901234"),
                ("branch", "main"),
                ("workflow", "deploy"),
            ]),
            ..CiContext::new(Provider::Cirrus)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn cirrus_tag_has_no_branch() {
        let mut env = fixture("cirrus-ci", "push");
        env.insert("CIRRUS_TAG", "v1.0");
        let ctx = detect(&env);
        assert!(ctx.context.iter().all(|c| c.key != "branch"), "{ctx:?}");
    }
}
