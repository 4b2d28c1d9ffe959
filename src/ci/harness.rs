//! Harness CI (`HARNESS_BUILD_ID`, or `HARNESS_PIPELINE_ID`).
//!
//! Harness CI is built on Drone and sets the Drone variables too (`DRONE=true` in every
//! build), so [`super::drone`] rules Harness out. The commit, repository, author and times
//! come from the `DRONE_*` names, which Harness documents as available to every step; the
//! execution's id, the pipeline's identifier and the build link from Harness' own.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `HARNESS_BUILD_ID` or `HARNESS_PIPELINE_ID` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !is_harness(env) {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Harness);
    ctx.commit_sha = env.sourced_first(&["DRONE_COMMIT_SHA", "CI_COMMIT_SHA"]);
    ctx.repo_name = env
        .sourced_first(&["DRONE_REPO", "CI_REPO"])
        .or_else(|| vars::slug_from_parts(env, "DRONE_REPO_NAMESPACE", "DRONE_REPO_NAME"))
        .or_else(|| vars::slug_from_url(&mut ctx, env, "DRONE_GIT_HTTP_URL"));
    // The Git user of the build: the one who pushed or opened the pull request (manual builds
    // often have none; HARNESS_USER_ID is an internal id, not a name).
    ctx.triggered_by = env.sourced_first(&[
        "DRONE_COMMIT_AUTHOR_EMAIL",
        "CI_COMMIT_AUTHOR_EMAIL",
        "DRONE_COMMIT_AUTHOR",
        "CI_COMMIT_AUTHOR",
    ]);
    // The execution's UUID is unique; HARNESS_BUILD_ID counts per pipeline, so it is only
    // used together with the pipeline's identifier. The stage is the job scope.
    ctx.pipeline_id = env
        .sourced("HARNESS_EXECUTION_ID")
        .or_else(|| vars::joined(env, &["HARNESS_PIPELINE_ID", "HARNESS_BUILD_ID"]));
    ctx.job_id = vars::joined(env, &["HARNESS_EXECUTION_ID", "HARNESS_STAGE_ID"]);
    ctx.pipeline_started = ctx.time_from(env, "DRONE_BUILD_STARTED");
    ctx.job_started = ctx.time_from(env, "DRONE_STAGE_STARTED");
    ctx.status = vars::status_from(
        &mut ctx,
        env,
        "DRONE_BUILD_STATUS",
        &["success", "failure", "failed"],
        &[],
    );

    ctx.add_context(
        "pipeline_url",
        env.first(&["CI_BUILD_LINK", "DRONE_BUILD_LINK"])
            .map(|(_, v)| v),
    );
    // On a tag push the branch variables hold `refs/tags/...`, which is not a branch.
    let branch = (!env.has("DRONE_TAG"))
        .then(|| env.first(&["DRONE_SOURCE_BRANCH", "DRONE_BRANCH"]))
        .flatten()
        .and_then(|(_, v)| vars::branch_from_ref(v));
    ctx.add_context("branch", branch);
    ctx.add_context("workflow", env.get("HARNESS_PIPELINE_ID"));
    ctx.add_context("trigger_event", env.get("DRONE_BUILD_EVENT"));
    Some(ctx)
}

/// Harness' own markers; Drone's detector uses this to leave Harness builds alone.
pub fn is_harness(env: &Env) -> bool {
    env.marker("HARNESS_BUILD_ID") || env.marker("HARNESS_PIPELINE_ID")
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    /// Harness sets `DRONE=true`; it is Harness, not Drone.
    #[test]
    fn harness_push() {
        let (got, warnings) = detect_fixture("harness", "push");
        let want = CiContext {
            commit_sha: s(
                "3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a",
                "DRONE_COMMIT_SHA",
            ),
            repo_name: s("acme/web", "DRONE_REPO"),
            triggered_by: s("mona@example.com", "DRONE_COMMIT_AUTHOR_EMAIL"),
            pipeline_id: s("Zb4a9yQeS2uM3oXw1cD7Fg", "HARNESS_EXECUTION_ID"),
            job_id: s(
                "Zb4a9yQeS2uM3oXw1cD7Fg-deploy",
                "HARNESS_EXECUTION_ID, HARNESS_STAGE_ID",
            ),
            pipeline_started: t(1_717_228_800, "DRONE_BUILD_STARTED"),
            job_started: t(1_717_228_860, "DRONE_STAGE_STARTED"),
            status: s("success", "DRONE_BUILD_STATUS"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://app.harness.io/ng/account/kmpySmUISimoRrJL6NL73w/ci/orgs/default/projects/web/pipelines/web_release/executions/Zb4a9yQeS2uM3oXw1cD7Fg/pipeline",
                ),
                ("branch", "main"),
                ("workflow", "web_release"),
                ("trigger_event", "push"),
            ]),
            ..CiContext::new(Provider::Harness)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn harness_is_never_drone() {
        // Harness always sets DRONE=true; either of its markers is enough to be Harness.
        let env = Env::from_pairs(
            fixture("harness", "push")
                .pairs()
                .filter(|(k, _)| k != "HARNESS_BUILD_ID"),
        );
        assert_eq!(detect(&env).provider, Provider::Harness);
        let mut env = fixture("drone", "push");
        env.insert("HARNESS_PIPELINE_ID", "web_release");
        assert_eq!(detect(&env).provider, Provider::Harness);
        let mut env = fixture("drone", "push");
        env.insert("HARNESS_BUILD_ID", "false");
        assert_eq!(detect(&env).provider, Provider::Drone);
    }
}
