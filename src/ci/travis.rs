//! Travis CI (`TRAVIS`, set to `true`).
//!
//! Travis names no user and gives no start time; `TRAVIS_TEST_RESULT` (0 or 1) is set once the
//! `script` phase has run, so a report from `after_script` or a deploy hook gets the outcome.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `TRAVIS` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("TRAVIS") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Travis);
    ctx.commit_sha = env.sourced("TRAVIS_COMMIT");
    ctx.repo_name = env.sourced("TRAVIS_REPO_SLUG");
    ctx.pipeline_id = env.sourced("TRAVIS_BUILD_ID");
    ctx.job_id = env.sourced("TRAVIS_JOB_ID");
    ctx.status = vars::exit_code_from(&mut ctx, env, "TRAVIS_TEST_RESULT");

    ctx.add_context("pipeline_url", env.get("TRAVIS_BUILD_WEB_URL"));
    ctx.add_context("job_url", env.get("TRAVIS_JOB_WEB_URL"));
    // On a pull request TRAVIS_BRANCH is the target branch; on a tag build it is the tag.
    let branch = env.get("TRAVIS_PULL_REQUEST_BRANCH").or_else(|| {
        (!env.has("TRAVIS_TAG"))
            .then(|| env.get("TRAVIS_BRANCH"))
            .flatten()
    });
    ctx.add_context("branch", branch);
    ctx.add_context("trigger_event", env.get("TRAVIS_EVENT_TYPE"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn travis_push_after_failed_tests() {
        let (got, warnings) = detect_fixture("travis", "push");
        let want = CiContext {
            commit_sha: s("c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1", "TRAVIS_COMMIT"),
            repo_name: s("acme/web", "TRAVIS_REPO_SLUG"),
            pipeline_id: s("1000000123", "TRAVIS_BUILD_ID"),
            job_id: s("1000000456", "TRAVIS_JOB_ID"),
            status: s("1", "TRAVIS_TEST_RESULT"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://app.travis-ci.com/acme/web/builds/1000000123",
                ),
                (
                    "job_url",
                    "https://app.travis-ci.com/acme/web/jobs/1000000456",
                ),
                ("branch", "main"),
                ("trigger_event", "push"),
            ]),
            ..CiContext::new(Provider::Travis)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn travis_pull_request() {
        let (got, warnings) = detect_fixture("travis", "pull_request");
        let want = CiContext {
            commit_sha: s("d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2", "TRAVIS_COMMIT"),
            repo_name: s("acme/web", "TRAVIS_REPO_SLUG"),
            pipeline_id: s("1000000124", "TRAVIS_BUILD_ID"),
            job_id: s("1000000457", "TRAVIS_JOB_ID"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://app.travis-ci.com/acme/web/builds/1000000124",
                ),
                (
                    "job_url",
                    "https://app.travis-ci.com/acme/web/jobs/1000000457",
                ),
                ("branch", "feature/login"),
                ("trigger_event", "pull_request"),
            ]),
            ..CiContext::new(Provider::Travis)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
