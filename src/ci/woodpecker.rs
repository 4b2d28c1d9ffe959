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
    // Pipeline numbers count per repository: `{repo}#{number}` once the repository is known.
    ctx.pipeline_id = env.sourced("CI_PIPELINE_NUMBER");
    ctx.job_id = vars::joined(env, &["CI_PIPELINE_NUMBER", "CI_WORKFLOW_NAME"]);
    (ctx.pipeline_id_per_repo, ctx.job_id_per_repo) = (true, true);
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

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn woodpecker_push() {
        let (got, warnings) = detect_fixture("woodpecker", "push");
        let want = CiContext {
            commit_sha: s("eba09b46064473a1d345da7abf28b477468e8dbd", "CI_COMMIT_SHA"),
            repo_name: s("acme/web", "CI_REPO"),
            repo_id: s("82", "CI_REPO_REMOTE_ID"),
            triggered_by: s("mona@example.com", "CI_COMMIT_AUTHOR_EMAIL"),
            pipeline_id: s("8", "CI_PIPELINE_NUMBER"),
            job_id: s("8-deploy", "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME"),
            pipeline_started: t(1_722_617_519, "CI_PIPELINE_STARTED"),
            job_started: t(1_722_617_540, "CI_STEP_STARTED"),
            status: s("success", "CI_PIPELINE_STATUS"),
            context: fields(&[
                ("pipeline_url", "https://ci.example.com/repos/7/pipeline/8"),
                ("job_url", "https://ci.example.com/repos/7/pipeline/8/3"),
                ("branch", "main"),
                ("workflow", "deploy"),
                ("trigger_event", "push"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Woodpecker)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn woodpecker_deployment_with_drone_variables() {
        let (got, warnings) = detect_fixture("woodpecker", "deployment");
        let want = CiContext {
            commit_sha: s("eba09b46064473a1d345da7abf28b477468e8dbd", "CI_COMMIT_SHA"),
            repo_name: s("acme/web", "CI_REPO"),
            repo_id: s("82", "CI_REPO_REMOTE_ID"),
            triggered_by: s("jane", "CI_PIPELINE_AUTHOR"),
            pipeline_id: s("9", "CI_PIPELINE_NUMBER"),
            job_id: s("9-release", "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME"),
            pipeline_started: t(1_722_620_000, "CI_PIPELINE_STARTED"),
            job_started: t(1_722_620_030, "CI_STEP_STARTED"),
            status: s("failure", "CI_PIPELINE_STATUS"),
            context: fields(&[
                ("pipeline_url", "https://ci.example.com/repos/7/pipeline/9"),
                ("branch", "main"),
                ("environment", "production"),
                ("workflow", "release"),
                ("trigger_event", "deployment"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Woodpecker)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn woodpecker_repo_from_owner_and_name() {
        let (got, warnings) = detect_fixture("woodpecker", "owner_name");
        let want = CiContext {
            commit_sha: s("5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80", "CI_COMMIT_SHA"),
            repo_name: s("acme/web", "CI_REPO_OWNER, CI_REPO_NAME"),
            pipeline_id: s("12", "CI_PIPELINE_NUMBER"),
            job_id: s("12-deploy", "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME"),
            context: fields(&[
                ("branch", "main"),
                ("workflow", "deploy"),
                ("trigger_event", "push"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Woodpecker)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn woodpecker_repo_from_clone_url() {
        let (got, warnings) = detect_fixture("woodpecker", "clone_url");
        let want = CiContext {
            commit_sha: s("6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091", "CI_COMMIT_SHA"),
            repo_name: s("platform/billing", "CI_REPO_CLONE_URL"),
            pipeline_id: s("13", "CI_PIPELINE_NUMBER"),
            job_id: s("13-deploy", "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME"),
            context: fields(&[
                ("branch", "main"),
                ("workflow", "deploy"),
                ("trigger_event", "push"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Woodpecker)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
