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
