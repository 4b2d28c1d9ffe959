//! Vela (`VELA`).
//!
//! Vela gives the commit, the repository's full name and clone URL, the build number and
//! link, the commit author and sender, the build's created and started times (epoch
//! seconds) and the current step's start, the build's status so far, and for deployment
//! builds the target environment.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `VELA` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("VELA") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Vela);
    ctx.commit_sha = env.sourced("VELA_BUILD_COMMIT");
    ctx.repo_name = env
        .sourced("VELA_REPO_FULL_NAME")
        .or_else(|| vars::slug_from_parts(env, "VELA_REPO_ORG", "VELA_REPO_NAME"))
        .or_else(|| vars::slug_from_url(&mut ctx, env, "VELA_REPO_CLONE"));
    ctx.triggered_by = triggered_by(env);
    // The build number counts per repository, and the repository is part of the link; the
    // number is what Vela shows, after the repository (`{repo}#{number}`). A Vela build runs
    // its steps in one place: both scopes.
    ctx.pipeline_id = env.sourced("VELA_BUILD_NUMBER");
    ctx.job_id = ctx.pipeline_id.clone();
    (ctx.pipeline_id_per_repo, ctx.job_id_per_repo) = (true, true);
    // Started, else created (a build waiting for approval has no start yet).
    ctx.pipeline_started = match env.get("VELA_BUILD_STARTED") {
        Some(_) => ctx.time_from(env, "VELA_BUILD_STARTED"),
        None => ctx.time_from(env, "VELA_BUILD_CREATED"),
    };
    ctx.job_started = ctx.time_from(env, "VELA_STEP_STARTED");
    ctx.status = vars::status_from(
        &mut ctx,
        env,
        "VELA_BUILD_STATUS",
        &["success", "failure", "error", "killed", "canceled"],
        &["running", "pending", "pending approval"],
    );

    ctx.add_context("pipeline_url", env.get("VELA_BUILD_LINK"));
    let branch = (!env.has("VELA_BUILD_TAG"))
        .then(|| env.first(&["VELA_PULL_REQUEST_SOURCE", "VELA_BUILD_BRANCH"]))
        .flatten()
        .map(|(_, v)| v);
    ctx.add_context("branch", branch);
    ctx.add_context(
        "environment",
        env.first(&["VELA_DEPLOYMENT", "VELA_BUILD_TARGET"])
            .map(|(_, v)| v),
    );
    ctx.add_context("trigger_event", env.get("VELA_BUILD_EVENT"));
    Some(ctx)
}

/// The sender (who pushed, opened the pull request or created the deployment) is the one
/// deploying; the commit author's email (push events only) and login come after.
fn triggered_by(env: &Env) -> Option<Sourced<String>> {
    env.sourced_first(&[
        "VELA_BUILD_SENDER",
        "VELA_BUILD_AUTHOR_EMAIL",
        "VELA_BUILD_AUTHOR",
    ])
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    /// `VELA_BUILD_STATUS=running` is not an outcome and is dropped quietly.
    #[test]
    fn vela_push() {
        let (got, warnings) = detect_fixture("vela", "push");
        let want = CiContext {
            commit_sha: s(
                "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
                "VELA_BUILD_COMMIT",
            ),
            repo_name: s("octocat/hello-world", "VELA_REPO_FULL_NAME"),
            triggered_by: s("NealColeman", "VELA_BUILD_SENDER"),
            pipeline_id: s("1", "VELA_BUILD_NUMBER"),
            job_id: s("1", "VELA_BUILD_NUMBER"),
            pipeline_started: t(1_556_730_001, "VELA_BUILD_STARTED"),
            job_started: t(1_556_730_042, "VELA_STEP_STARTED"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://vela.example.com/octocat/hello-world/1",
                ),
                ("branch", "main"),
                ("trigger_event", "push"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Vela)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn vela_deployment() {
        let (got, warnings) = detect_fixture("vela", "deployment");
        let want = CiContext {
            commit_sha: s(
                "2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f",
                "VELA_BUILD_COMMIT",
            ),
            repo_name: s("acme/web", "VELA_REPO_FULL_NAME"),
            triggered_by: s("jane", "VELA_BUILD_SENDER"),
            pipeline_id: s("12", "VELA_BUILD_NUMBER"),
            job_id: s("12", "VELA_BUILD_NUMBER"),
            pipeline_started: t(1_717_228_800, "VELA_BUILD_STARTED"),
            job_started: t(1_717_228_860, "VELA_STEP_STARTED"),
            status: s("failure", "VELA_BUILD_STATUS"),
            context: fields(&[
                ("pipeline_url", "https://vela.example.com/acme/web/12"),
                ("branch", "main"),
                ("environment", "production"),
                ("trigger_event", "deployment"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Vela)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn vela_unknown_status_warns() {
        let mut env = fixture("vela", "deployment");
        env.insert("VELA_BUILD_STATUS", "exploded");
        let ctx = detect(&env);
        assert_eq!(ctx.status, None);
        assert_one_warning(&ctx.warnings, "ignoring VELA_BUILD_STATUS=");
    }
}
