//! Buddy (`BUDDY`, or `BUDDY_WORKSPACE_ID`).
//!
//! Buddy gives the commit, the repository slug and URL, the execution id, URL and start
//! time, and the invoker's email. `BUDDY_EXECUTION_*` are the long-documented names; newer
//! workspaces also set `BUDDY_RUN_*` aliases, read first where the two are known to match.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `BUDDY` or `BUDDY_WORKSPACE_ID` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("BUDDY") && !env.marker("BUDDY_WORKSPACE_ID") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Buddy);
    ctx.commit_sha = env.sourced_first(&["BUDDY_RUN_COMMIT", "BUDDY_EXECUTION_REVISION"]);
    ctx.repo_name = env
        .sourced("BUDDY_REPO_SLUG")
        .or_else(|| vars::slug_from_url(&mut ctx, env, "BUDDY_SCM_URL"));
    ctx.triggered_by = env.sourced("BUDDY_INVOKER_EMAIL");
    // BUDDY_EXECUTION_ID counts executions of one pipeline (1, 2, ...), so the pipeline id
    // keeps it apart from other pipelines' executions. An execution runs its actions in one
    // pipeline run, so both scopes share it.
    ctx.pipeline_id = vars::joined(env, &["BUDDY_PIPELINE_ID", "BUDDY_EXECUTION_ID"]);
    ctx.job_id = ctx.pipeline_id.clone();
    ctx.pipeline_started = ctx.time_from(env, "BUDDY_EXECUTION_START_DATE");

    ctx.add_context("pipeline_url", env.get("BUDDY_EXECUTION_URL"));
    let branch = (!env.has("BUDDY_EXECUTION_TAG"))
        .then(|| {
            env.first(&[
                "BUDDY_EXECUTION_PULL_REQUEST_HEAD_BRANCH",
                "BUDDY_RUN_BRANCH",
                "BUDDY_EXECUTION_BRANCH",
            ])
        })
        .flatten()
        .map(|(_, v)| v);
    ctx.add_context("branch", branch);
    ctx.add_context("workflow", env.get("BUDDY_PIPELINE_NAME"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn buddy_execution() {
        let (got, warnings) = detect_fixture("buddy", "execution");
        let want = CiContext {
            commit_sha: s(
                "e5e13f8b7f8d5c6096a0501dc09b48eef05fea96",
                "BUDDY_RUN_COMMIT",
            ),
            repo_name: s("buddyworks/my-project", "BUDDY_REPO_SLUG"),
            triggered_by: s("mikebenson@buddy.works", "BUDDY_INVOKER_EMAIL"),
            pipeline_id: s("3-27", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
            job_id: s("3-27", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
            pipeline_started: t(1_717_228_800, "BUDDY_EXECUTION_START_DATE"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://app.buddy.works/myworkspace/my-project/pipelines/pipeline/3/execution/5d9dc42c422f5a268b389d08",
                ),
                ("branch", "main"),
                ("workflow", "Deploy to Production"),
            ]),
            ..CiContext::new(Provider::Buddy)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// Detected by `BUDDY_WORKSPACE_ID`; a tag build has no branch.
    #[test]
    fn buddy_legacy_workspace_repo_from_scm_url() {
        let (got, warnings) = detect_fixture("buddy", "legacy_scm_url");
        let want = CiContext {
            commit_sha: s(
                "f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d",
                "BUDDY_EXECUTION_REVISION",
            ),
            repo_name: s("acme/web", "BUDDY_SCM_URL"),
            pipeline_id: s("12-4", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
            job_id: s("12-4", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
            pipeline_started: t(1_717_324_200, "BUDDY_EXECUTION_START_DATE"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://app.buddy.works/acme/web/pipelines/pipeline/12/execution/6a0b1c2d3e4f5a6b7c8d9e0f",
                ),
                ("workflow", "Release"),
            ]),
            ..CiContext::new(Provider::Buddy)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
