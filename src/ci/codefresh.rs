//! Codefresh (`CF_BUILD_ID`).
//!
//! Codefresh gives the revision, the repository owner and name, the build id, URL and
//! creation time, and the user who started (or restarted) the build. It has no job-level id:
//! a build is one pipeline run.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `CF_BUILD_ID` marker is set. (Cloudflare Pages' markers are `CF_PAGES*`
/// and never include `CF_BUILD_ID`.)
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("CF_BUILD_ID") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Codefresh);
    ctx.commit_sha = env.sourced("CF_REVISION");
    ctx.repo_name = vars::slug_from_parts(env, "CF_REPO_OWNER", "CF_REPO_NAME");
    // For a webhook build this is the user the webhook came from; for a manual (re)start, the
    // person who clicked.
    ctx.triggered_by = env.sourced("CF_BUILD_INITIATOR");
    ctx.pipeline_id = env.sourced("CF_BUILD_ID");
    ctx.job_id = ctx.pipeline_id.clone();
    ctx.pipeline_started = vars::time_from_seconds_or_millis(&mut ctx, env, "CF_BUILD_TIMESTAMP");

    ctx.add_context("pipeline_url", env.get("CF_BUILD_URL"));
    // CF_BRANCH is a pull request's source branch.
    ctx.add_context("branch", env.get("CF_BRANCH"));
    ctx.add_context("workflow", env.get("CF_PIPELINE_NAME"));
    ctx.add_context("trigger_event", env.get("CF_BUILD_TRIGGER"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn codefresh_webhook() {
        let (got, warnings) = detect_fixture("codefresh", "webhook");
        let want = CiContext {
            commit_sha: s("7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c", "CF_REVISION"),
            repo_name: s("acme/web", "CF_REPO_OWNER, CF_REPO_NAME"),
            triggered_by: s("monalisa", "CF_BUILD_INITIATOR"),
            pipeline_id: s("6658d2b0e4b0a1c2d3e4f5a6", "CF_BUILD_ID"),
            job_id: s("6658d2b0e4b0a1c2d3e4f5a6", "CF_BUILD_ID"),
            pipeline_started: t(1_717_228_800, "CF_BUILD_TIMESTAMP"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://g.codefresh.io/build/6658d2b0e4b0a1c2d3e4f5a6",
                ),
                ("branch", "main"),
                ("workflow", "web/deploy"),
                ("trigger_event", "webhook"),
            ]),
            ..CiContext::new(Provider::Codefresh)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn codefresh_timestamp_in_seconds_or_rfc3339() {
        for (raw, want) in [
            ("1717228800", 1_717_228_800),
            ("1717228800999", 1_717_228_800),
            ("2024-06-01T08:00:00Z", 1_717_228_800),
        ] {
            let mut env = fixture("codefresh", "webhook");
            env.insert("CF_BUILD_TIMESTAMP", raw);
            assert_eq!(
                detect(&env).pipeline_started,
                t(want, "CF_BUILD_TIMESTAMP"),
                "{raw}"
            );
        }
        let mut env = fixture("codefresh", "webhook");
        env.insert("CF_BUILD_TIMESTAMP", "yesterday");
        let ctx = detect(&env);
        assert_eq!(ctx.pipeline_started, None);
        assert_one_warning(&ctx.warnings, "ignoring CF_BUILD_TIMESTAMP: ");
    }
}
