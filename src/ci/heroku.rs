//! Heroku: Heroku CI (`HEROKU_TEST_RUN_ID`), or a release phase (`DYNO` with
//! `SOURCE_VERSION` or `HEROKU_SLUG_COMMIT`).
//!
//! Heroku CI gives the test run's id, commit and branch. A release-phase command only knows
//! what it is deploying when the app has dyno metadata (`heroku labs:enable
//! runtime-dyno-metadata`): the slug's commit, the app's name, and the release's version and
//! creation time. Heroku never gives the repository (a slug has no `.git` either) or a user.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless `HEROKU_TEST_RUN_ID` is set, or `DYNO` together with a commit variable
/// (`DYNO` alone is every running dyno, which says nothing about a deploy).
pub fn detect(env: &Env) -> Option<CiContext> {
    let ci = env.marker("HEROKU_TEST_RUN_ID");
    let release =
        env.marker("DYNO") && (env.marker("SOURCE_VERSION") || env.marker("HEROKU_SLUG_COMMIT"));
    if !ci && !release {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Heroku);
    ctx.commit_sha = env.sourced_first(&[
        "HEROKU_TEST_RUN_COMMIT_VERSION",
        "HEROKU_SLUG_COMMIT",
        "SOURCE_VERSION",
    ]);
    // A test run's UUID; else the release (`v42` counts per app, so the app name keeps two
    // apps' releases apart).
    ctx.pipeline_id = env
        .sourced("HEROKU_TEST_RUN_ID")
        .or_else(|| vars::joined(env, &["HEROKU_APP_NAME", "HEROKU_RELEASE_VERSION"]));
    ctx.job_id = ctx.pipeline_id.clone();
    if !ci {
        ctx.pipeline_started = ctx.time_from(env, "HEROKU_RELEASE_CREATED_AT");
    }

    ctx.add_context("branch", env.get("HEROKU_TEST_RUN_BRANCH"));
    ctx.add_context("workflow", env.get("HEROKU_APP_NAME"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn heroku_ci_test_run() {
        let (got, warnings) = detect_fixture("heroku", "ci");
        let want = CiContext {
            commit_sha: s(
                "7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a",
                "HEROKU_TEST_RUN_COMMIT_VERSION",
            ),
            pipeline_id: s("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "HEROKU_TEST_RUN_ID"),
            job_id: s("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "HEROKU_TEST_RUN_ID"),
            context: fields(&[("branch", "main")]),
            ..CiContext::new(Provider::Heroku)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn heroku_release_phase_with_dyno_metadata() {
        let (got, warnings) = detect_fixture("heroku", "release");
        let want = CiContext {
            commit_sha: s(
                "8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b",
                "HEROKU_SLUG_COMMIT",
            ),
            pipeline_id: s("acme-web-v42", "HEROKU_APP_NAME, HEROKU_RELEASE_VERSION"),
            job_id: s("acme-web-v42", "HEROKU_APP_NAME, HEROKU_RELEASE_VERSION"),
            pipeline_started: t(1_717_228_842, "HEROKU_RELEASE_CREATED_AT"),
            context: fields(&[("workflow", "acme-web")]),
            ..CiContext::new(Provider::Heroku)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// Without the labs feature only `SOURCE_VERSION` says what is released.
    #[test]
    fn heroku_release_phase_without_metadata() {
        let (got, warnings) = detect_fixture("heroku", "release_without_metadata");
        let want = CiContext {
            commit_sha: s("9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c", "SOURCE_VERSION"),
            ..CiContext::new(Provider::Heroku)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn heroku_needs_more_than_a_dyno() {
        let env = Env::from_pairs([("DYNO", "web.1"), ("PORT", "5000")]);
        assert_eq!(detect(&env).provider, Provider::Local);
        let env = Env::from_pairs([("DYNO", "release.1"), ("HEROKU_SLUG_COMMIT", "abc123")]);
        assert_eq!(detect(&env).provider, Provider::Heroku);
    }
}
