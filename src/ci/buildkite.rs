//! Buildkite (`BUILDKITE`, set to `true`).
//!
//! `BUILDKITE_COMMIT` may be `HEAD` for builds started by hand without a commit; it is passed
//! on as is and resolved to a full SHA through the local git checkout later. Buildkite has no
//! start time or outcome variable.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `BUILDKITE` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("BUILDKITE") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Buildkite);
    ctx.commit_sha = env.sourced("BUILDKITE_COMMIT");
    ctx.repo_name = vars::slug_from_url(&mut ctx, env, "BUILDKITE_REPO");
    ctx.triggered_by =
        env.sourced_first(&["BUILDKITE_BUILD_CREATOR_EMAIL", "BUILDKITE_BUILD_CREATOR"]);
    // The build UUID rather than BUILDKITE_BUILD_NUMBER, which restarts for every pipeline.
    ctx.pipeline_id = env.sourced("BUILDKITE_BUILD_ID");
    ctx.job_id = env.sourced("BUILDKITE_JOB_ID");

    let build_url = env.get("BUILDKITE_BUILD_URL");
    // Buildkite's own links to a job are the build page with the job id as fragment.
    let job_url = match (build_url, env.get("BUILDKITE_JOB_ID")) {
        (Some(url), Some(job)) => Some(format!("{url}#{job}")),
        _ => None,
    };
    ctx.add_context("pipeline_url", build_url);
    ctx.add_context("job_url", job_url);
    // For a tag build BUILDKITE_BRANCH holds the tag.
    let branch = env
        .get("BUILDKITE_BRANCH")
        .filter(|b| env.get("BUILDKITE_TAG") != Some(*b));
    ctx.add_context("branch", branch);
    ctx.add_context(
        "environment",
        env.get("BUILDKITE_GITHUB_DEPLOYMENT_ENVIRONMENT"),
    );
    ctx.add_context("workflow", env.get("BUILDKITE_PIPELINE_SLUG"));
    let attempt = run_attempt(&mut ctx, env);
    ctx.add_context("run_attempt", attempt);
    ctx.add_context("trigger_event", env.get("BUILDKITE_SOURCE"));
    Some(ctx)
}

/// BUILDKITE_RETRY_COUNT counts retries from 0; `run_attempt` counts attempts from 1 like
/// GitHub's.
fn run_attempt(ctx: &mut CiContext, env: &Env) -> Option<String> {
    let raw = env.get("BUILDKITE_RETRY_COUNT")?;
    match raw.trim().parse::<u32>() {
        Ok(retries) => Some((u64::from(retries) + 1).to_string()),
        Err(_) => {
            ctx.warnings.push(format!(
                "ignoring BUILDKITE_RETRY_COUNT={raw:?}: expected a whole number"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn buildkite_build() {
        let (got, warnings) = detect_fixture("buildkite", "build");
        let want = CiContext {
            commit_sha: s(
                "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0",
                "BUILDKITE_COMMIT",
            ),
            repo_name: s("acme/web", "BUILDKITE_REPO"),
            triggered_by: s("jane@example.com", "BUILDKITE_BUILD_CREATOR_EMAIL"),
            pipeline_id: s("0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b", "BUILDKITE_BUILD_ID"),
            job_id: s("0190a1b3-d4e5-4f6a-9b0c-1d2e3f4a5b6c", "BUILDKITE_JOB_ID"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://buildkite.com/acme/web-deploy/builds/1514",
                ),
                (
                    "job_url",
                    "https://buildkite.com/acme/web-deploy/builds/1514#0190a1b3-d4e5-4f6a-9b0c-1d2e3f4a5b6c",
                ),
                ("branch", "main"),
                ("environment", "production"),
                ("workflow", "web-deploy"),
                ("run_attempt", "2"),
                ("trigger_event", "webhook"),
            ]),
            ..CiContext::new(Provider::Buildkite)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn buildkite_manual_tag_build_passes_head_through() {
        let (got, warnings) = detect_fixture("buildkite", "manual");
        let want = CiContext {
            commit_sha: s("HEAD", "BUILDKITE_COMMIT"),
            repo_name: s("acme/web", "BUILDKITE_REPO"),
            triggered_by: s("Jane Doe", "BUILDKITE_BUILD_CREATOR"),
            pipeline_id: s("0190a1c4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "BUILDKITE_BUILD_ID"),
            job_id: s("0190a1c5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", "BUILDKITE_JOB_ID"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://buildkite.com/acme/web-deploy/builds/1515",
                ),
                (
                    "job_url",
                    "https://buildkite.com/acme/web-deploy/builds/1515#0190a1c5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
                ),
                ("workflow", "web-deploy"),
                ("run_attempt", "1"),
                ("trigger_event", "ui"),
            ]),
            ..CiContext::new(Provider::Buildkite)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn buildkite_bad_retry_count_warns() {
        let mut env = fixture("buildkite", "build");
        env.insert("BUILDKITE_RETRY_COUNT", "-1");
        let ctx = detect(&env);
        assert!(ctx.context.iter().all(|c| c.key != "run_attempt"));
        assert_one_warning(&ctx.warnings, "ignoring BUILDKITE_RETRY_COUNT=\"-1\"");
    }
}
