//! Drone (`DRONE`, but not Woodpecker, which may set Drone-compatible variables, nor Harness
//! CI, which is built on Drone and always sets them).
//!
//! Drone gives the build and stage start times (epoch seconds) and the build's status so far
//! (`DRONE_BUILD_STATUS`, a snapshot taken when the step started).

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `DRONE` marker is set, `CI` is not `woodpecker` and no Harness marker
/// is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("DRONE")
        || env.get("CI") == Some("woodpecker")
        || super::harness::is_harness(env)
    {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Drone);
    ctx.commit_sha = env.sourced_first(&["DRONE_COMMIT_SHA", "DRONE_COMMIT"]);
    ctx.repo_name = env
        .sourced("DRONE_REPO")
        .or_else(|| vars::slug_from_parts(env, "DRONE_REPO_OWNER", "DRONE_REPO_NAME"))
        .or_else(|| vars::slug_from_url(&mut ctx, env, "DRONE_GIT_HTTP_URL"));
    ctx.triggered_by = triggered_by(env);
    // Build numbers count per repository: `{repo}#{number}` once the repository is known.
    ctx.pipeline_id = env.sourced("DRONE_BUILD_NUMBER");
    ctx.job_id = vars::joined(env, &["DRONE_BUILD_NUMBER", "DRONE_STAGE_NUMBER"]);
    (ctx.pipeline_id_per_repo, ctx.job_id_per_repo) = (true, true);
    ctx.pipeline_started = ctx.time_from(env, "DRONE_BUILD_STARTED");
    ctx.job_started = ctx.time_from(env, "DRONE_STAGE_STARTED");
    ctx.status = vars::status_from(
        &mut ctx,
        env,
        "DRONE_BUILD_STATUS",
        &["success", "failure"],
        &[],
    );

    ctx.add_context("pipeline_url", env.get("DRONE_BUILD_LINK"));
    // DRONE_BRANCH is a pull request's target branch; DRONE_SOURCE_BRANCH its source.
    let branch = (!env.has("DRONE_TAG"))
        .then(|| env.first(&["DRONE_SOURCE_BRANCH", "DRONE_BRANCH"]))
        .flatten()
        .map(|(_, v)| v);
    ctx.add_context("branch", branch);
    ctx.add_context("environment", env.get("DRONE_DEPLOY_TO"));
    ctx.add_context("workflow", env.get("DRONE_STAGE_NAME"));
    ctx.add_context("trigger_event", env.get("DRONE_BUILD_EVENT"));
    Some(ctx)
}

/// DRONE_BUILD_TRIGGER is the login of whoever started the build by hand (a promotion, a
/// rollback, a custom build), or `@hook`/`@cron` for automatic builds. A person beats the
/// commit author, who may not be the one deploying; otherwise the author's email, then login.
fn triggered_by(env: &Env) -> Option<Sourced<String>> {
    env.sourced("DRONE_BUILD_TRIGGER")
        .filter(|t| !t.value.starts_with('@'))
        .or_else(|| env.sourced_first(&["DRONE_COMMIT_AUTHOR_EMAIL", "DRONE_COMMIT_AUTHOR"]))
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn drone_push() {
        let (got, warnings) = detect_fixture("drone", "push");
        let want = CiContext {
            commit_sha: s(
                "f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5",
                "DRONE_COMMIT_SHA",
            ),
            repo_name: s("acme/web", "DRONE_REPO"),
            triggered_by: s("mona@example.com", "DRONE_COMMIT_AUTHOR_EMAIL"),
            pipeline_id: s("88", "DRONE_BUILD_NUMBER"),
            job_id: s("88-2", "DRONE_BUILD_NUMBER, DRONE_STAGE_NUMBER"),
            pipeline_started: t(1_714_644_000, "DRONE_BUILD_STARTED"),
            job_started: t(1_714_644_012, "DRONE_STAGE_STARTED"),
            status: s("success", "DRONE_BUILD_STATUS"),
            context: fields(&[
                ("pipeline_url", "https://drone.example.com/acme/web/88"),
                ("branch", "main"),
                ("workflow", "deploy"),
                ("trigger_event", "push"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Drone)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn drone_promotion_names_the_promoter() {
        let (got, warnings) = detect_fixture("drone", "promote");
        let want = CiContext {
            commit_sha: s(
                "f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5",
                "DRONE_COMMIT_SHA",
            ),
            repo_name: s("acme/web", "DRONE_REPO"),
            triggered_by: s("jane", "DRONE_BUILD_TRIGGER"),
            pipeline_id: s("89", "DRONE_BUILD_NUMBER"),
            job_id: s("89-1", "DRONE_BUILD_NUMBER, DRONE_STAGE_NUMBER"),
            pipeline_started: t(1_714_650_000, "DRONE_BUILD_STARTED"),
            job_started: None,
            status: s("failure", "DRONE_BUILD_STATUS"),
            context: fields(&[
                ("pipeline_url", "https://drone.example.com/acme/web/89"),
                ("branch", "main"),
                ("environment", "production"),
                ("workflow", "promote"),
                ("trigger_event", "promote"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Drone)
        };
        assert_eq!(got, want);
        assert_one_warning(&warnings, "ignoring DRONE_STAGE_STARTED: ");
    }

    #[test]
    fn drone_repo_from_owner_and_name() {
        let (got, warnings) = detect_fixture("drone", "owner_name");
        let want = CiContext {
            commit_sha: s(
                "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d",
                "DRONE_COMMIT_SHA",
            ),
            repo_name: s("acme/web", "DRONE_REPO_OWNER, DRONE_REPO_NAME"),
            triggered_by: s("monalisa", "DRONE_COMMIT_AUTHOR"),
            pipeline_id: s("90", "DRONE_BUILD_NUMBER"),
            job_id: s("90-1", "DRONE_BUILD_NUMBER, DRONE_STAGE_NUMBER"),
            pipeline_started: t(1_714_660_000, "DRONE_BUILD_STARTED"),
            context: fields(&[
                ("pipeline_url", "https://drone.example.com/acme/web/90"),
                ("branch", "main"),
                ("trigger_event", "push"),
            ]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Drone)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn drone_repo_from_clone_url() {
        let (got, warnings) = detect_fixture("drone", "clone_url");
        let want = CiContext {
            commit_sha: s(
                "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
                "DRONE_COMMIT_SHA",
            ),
            repo_name: s("platform/billing", "DRONE_GIT_HTTP_URL"),
            pipeline_id: s("91", "DRONE_BUILD_NUMBER"),
            job_id: s("91-1", "DRONE_BUILD_NUMBER, DRONE_STAGE_NUMBER"),
            context: fields(&[("branch", "main"), ("trigger_event", "push")]),
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::Drone)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");

        // A clone URL without owner/name leaves the repository to git, with a warning.
        let mut env = fixture("drone", "clone_url");
        env.insert("DRONE_GIT_HTTP_URL", "https://gitea.example.com/");
        let ctx = detect(&env);
        assert_eq!(ctx.repo_name, None);
        assert_one_warning(&ctx.warnings, "ignoring DRONE_GIT_HTTP_URL: ");
    }
}
