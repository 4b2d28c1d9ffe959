//! Scrutinizer (`SCRUTINIZER`).
//!
//! Scrutinizer gives the commit, the branch, the inspection's UUID and the project
//! (`g/owner/name`: a one-letter code for the host, then the repository), from which the
//! inspection's page is built. It names no user and has no start time or outcome variable.

use crate::client;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `SCRUTINIZER` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("SCRUTINIZER") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Scrutinizer);
    ctx.commit_sha = env.sourced("SCRUTINIZER_SHA1");
    let project = env.get("SCRUTINIZER_PROJECT").map(|p| p.trim_matches('/'));
    ctx.repo_name = project
        .and_then(|p| p.split_once('/'))
        .map(|(_, repo)| repo)
        .filter(|repo| repo.contains('/'))
        .map(|repo| Sourced::new(repo.to_string(), "SCRUTINIZER_PROJECT"));
    ctx.pipeline_id = env.sourced("SCRUTINIZER_INSPECTION_UUID");
    ctx.job_id = ctx.pipeline_id.clone();

    let inspection_url = match (project, env.get("SCRUTINIZER_INSPECTION_UUID")) {
        (Some(project), Some(uuid)) if !project.is_empty() => Some(format!(
            "https://scrutinizer-ci.com/{project}/inspections/{}",
            client::encode_component(uuid)
        )),
        _ => None,
    };
    ctx.add_context("pipeline_url", inspection_url);
    ctx.add_context(
        "branch",
        env.first(&["SCRUTINIZER_PR_SOURCE_BRANCH", "SCRUTINIZER_BRANCH"])
            .map(|(_, v)| v),
    );
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn scrutinizer_inspection() {
        let (got, warnings) = detect_fixture("scrutinizer", "inspection");
        let want = CiContext {
            commit_sha: s(
                "5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c",
                "SCRUTINIZER_SHA1",
            ),
            repo_name: s("acme/web", "SCRUTINIZER_PROJECT"),
            pipeline_id: s(
                "8b4f7c21-3d5e-4a6b-9c0d-1e2f3a4b5c6d",
                "SCRUTINIZER_INSPECTION_UUID",
            ),
            job_id: s(
                "8b4f7c21-3d5e-4a6b-9c0d-1e2f3a4b5c6d",
                "SCRUTINIZER_INSPECTION_UUID",
            ),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://scrutinizer-ci.com/g/acme/web/inspections/8b4f7c21-3d5e-4a6b-9c0d-1e2f3a4b5c6d",
                ),
                ("branch", "main"),
            ]),
            ..CiContext::new(Provider::Scrutinizer)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
