//! Bitrise (`BITRISE_IO`, or `BITRISE_BUILD_SLUG`).
//!
//! bitrise.io gives the build slug, number, URL and trigger time (epoch seconds) and the
//! build's status so far (`BITRISE_BUILD_STATUS`, 0 or 1). The commit is
//! `BITRISE_GIT_COMMIT` when the build was started for a commit, else what the Git Clone step
//! checked out (`GIT_CLONE_COMMIT_HASH`), which also exports the commit author's email.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `BITRISE_IO` or `BITRISE_BUILD_SLUG` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("BITRISE_IO") && !env.marker("BITRISE_BUILD_SLUG") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Bitrise);
    ctx.commit_sha = env.sourced_first(&["BITRISE_GIT_COMMIT", "GIT_CLONE_COMMIT_HASH"]);
    ctx.repo_name = vars::slug_from_url(&mut ctx, env, "GIT_REPOSITORY_URL");
    ctx.triggered_by = env.sourced("GIT_CLONE_COMMIT_AUTHOR_EMAIL");
    // The slug is unique; BITRISE_BUILD_NUMBER counts per app. A build runs on one VM, so
    // both scopes share it.
    ctx.pipeline_id = env.sourced("BITRISE_BUILD_SLUG");
    ctx.job_id = ctx.pipeline_id.clone();
    ctx.pipeline_started = ctx.time_from(env, "BITRISE_BUILD_TRIGGER_TIMESTAMP");
    ctx.status = vars::exit_code_from(&mut ctx, env, "BITRISE_BUILD_STATUS");

    ctx.add_context("pipeline_url", env.get("BITRISE_BUILD_URL"));
    // On a pull request BITRISE_GIT_BRANCH is the source branch; a tag build has none.
    let branch = (!env.has("BITRISE_GIT_TAG"))
        .then(|| env.get("BITRISE_GIT_BRANCH"))
        .flatten();
    ctx.add_context("branch", branch);
    ctx.add_context("workflow", env.get("BITRISE_TRIGGERED_WORKFLOW_ID"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn bitrise_push() {
        let (got, warnings) = detect_fixture("bitrise", "push");
        let want = CiContext {
            commit_sha: s(
                "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b",
                "GIT_CLONE_COMMIT_HASH",
            ),
            repo_name: s("acme/mobile", "GIT_REPOSITORY_URL"),
            triggered_by: s("mona@example.com", "GIT_CLONE_COMMIT_AUTHOR_EMAIL"),
            pipeline_id: s("4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8", "BITRISE_BUILD_SLUG"),
            job_id: s("4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8", "BITRISE_BUILD_SLUG"),
            pipeline_started: t(1_717_228_800, "BITRISE_BUILD_TRIGGER_TIMESTAMP"),
            status: s("0", "BITRISE_BUILD_STATUS"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://app.bitrise.io/build/4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
                ),
                ("branch", "main"),
                ("workflow", "deploy"),
            ]),
            ..CiContext::new(Provider::Bitrise)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
