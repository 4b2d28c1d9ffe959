//! AWS CodeBuild (`CODEBUILD_BUILD_ID`).
//!
//! CodeBuild gives the commit, the source URL, the build id and URL, whether the build is
//! succeeding so far, who started it and when (epoch milliseconds). The initiator is not
//! always a person: a build started by CodePipeline is initiated by `codepipeline/NAME`,
//! which names the pipeline, so it becomes the `workflow` context field instead.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `CODEBUILD_BUILD_ID` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("CODEBUILD_BUILD_ID") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::CodeBuild);
    ctx.commit_sha = env.sourced("CODEBUILD_RESOLVED_SOURCE_VERSION");
    ctx.repo_name = repo_name(&mut ctx, env);
    let initiator = env.get("CODEBUILD_INITIATOR").map(str::trim);
    let pipeline = initiator.and_then(|i| i.strip_prefix("codepipeline/"));
    ctx.triggered_by = initiator
        .filter(|i| is_person(i))
        .map(|i| Sourced::new(i.to_string(), "CODEBUILD_INITIATOR"));
    // `project:uuid`, unique per build; a CodeBuild build is one job, so both scopes share it.
    ctx.pipeline_id = env.sourced("CODEBUILD_BUILD_ID");
    ctx.job_id = ctx.pipeline_id.clone();
    ctx.pipeline_started = vars::time_from_millis(&mut ctx, env, "CODEBUILD_START_TIME");
    ctx.status = succeeding(&mut ctx, env);

    let build_url = env
        .first(&["CODEBUILD_BUILD_URL", "CODEBUILD_PUBLIC_BUILD_URL"])
        .map(|(_, v)| v);
    ctx.add_context("pipeline_url", build_url);
    // Only webhook builds name their ref; a tag ref is not a branch.
    let branch = env
        .get("CODEBUILD_WEBHOOK_HEAD_REF")
        .and_then(vars::branch_from_ref);
    ctx.add_context("branch", branch);
    ctx.add_context("workflow", pipeline.filter(|p| !p.is_empty()));
    ctx.add_context("trigger_event", env.get("CODEBUILD_WEBHOOK_EVENT"));
    Some(ctx)
}

/// Whether a `CODEBUILD_INITIATOR` names a person: not a CodePipeline pipeline
/// (`codepipeline/NAME`), the Jenkins plugin (`CodeBuild-Jenkins-Plugin`), or a GitHub
/// webhook delivery (`GitHub-Hookshot/…`).
fn is_person(initiator: &str) -> bool {
    !initiator.is_empty()
        && !initiator.starts_with("codepipeline/")
        && initiator != "CodeBuild-Jenkins-Plugin"
        && !initiator.starts_with("GitHub-Hookshot/")
}

/// `CODEBUILD_SOURCE_REPO_URL` is a clone URL for GitHub, Bitbucket and GitLab, but an
/// `s3://` artifact for S3 sources and CodePipeline, and
/// `https://git-codecommit.REGION.amazonaws.com/v1/repos/NAME` for CodeCommit, whose
/// repositories have a name and no owner.
fn repo_name(ctx: &mut CiContext, env: &Env) -> Option<Sourced<String>> {
    const KEY: &str = "CODEBUILD_SOURCE_REPO_URL";
    let url = env.get(KEY)?.trim();
    if url
        .get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("s3://"))
    {
        return None;
    }
    let codecommit = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .and_then(|rest| rest.split_once('/'))
        .filter(|(host, _)| host.starts_with("git-codecommit."))
        .and_then(|(_, path)| path.strip_prefix("v1/repos/"))
        .map(|name| name.trim_end_matches('/'));
    match codecommit {
        Some(name) if !name.is_empty() && !name.contains('/') => {
            Some(Sourced::new(name.to_string(), KEY))
        }
        _ => vars::slug_from_url(ctx, env, KEY),
    }
}

/// `CODEBUILD_BUILD_SUCCEEDING` is `1` while no phase has failed and `0` after one did; it is
/// passed on as a status word, since a bare `1` would read as a failing exit code.
fn succeeding(ctx: &mut CiContext, env: &Env) -> Option<Sourced<String>> {
    const KEY: &str = "CODEBUILD_BUILD_SUCCEEDING";
    let raw = env.get(KEY)?;
    let word = match raw.trim() {
        "1" => "succeeded",
        "0" => "failed",
        _ => {
            ctx.warnings
                .push(format!("ignoring {KEY}={raw:?}: expected 1 or 0"));
            return None;
        }
    };
    Some(Sourced::new(word.to_string(), KEY))
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    /// A webhook build: `GitHub-Hookshot/…` started it, which is not a person.
    #[test]
    fn codebuild_webhook() {
        let (got, warnings) = detect_fixture("aws-codebuild", "webhook");
        let want = CiContext {
            commit_sha: s(
                "9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b",
                "CODEBUILD_RESOLVED_SOURCE_VERSION",
            ),
            repo_name: s("acme/web", "CODEBUILD_SOURCE_REPO_URL"),
            pipeline_id: s(
                "web-deploy:b1e6661e-e4f2-4156-9ab9-82a19e5b1c2d",
                "CODEBUILD_BUILD_ID",
            ),
            job_id: s(
                "web-deploy:b1e6661e-e4f2-4156-9ab9-82a19e5b1c2d",
                "CODEBUILD_BUILD_ID",
            ),
            // 1717228800123 ms.
            pipeline_started: t(1_717_228_800, "CODEBUILD_START_TIME"),
            status: s("succeeded", "CODEBUILD_BUILD_SUCCEEDING"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://eu-west-1.console.aws.amazon.com/codebuild/home?region=eu-west-1#/builds/web-deploy:b1e6661e-e4f2-4156-9ab9-82a19e5b1c2d/view/new",
                ),
                ("branch", "main"),
                ("trigger_event", "PUSH"),
            ]),
            ..CiContext::new(Provider::CodeBuild)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// `codepipeline/web-release` names the pipeline: no `triggered_by`, and the S3 source is no repository (quietly).
    #[test]
    fn codebuild_codepipeline_initiator_is_a_workflow() {
        let (got, warnings) = detect_fixture("aws-codebuild", "codepipeline");
        let want = CiContext {
            commit_sha: s(
                "3f2e1d0c9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e",
                "CODEBUILD_RESOLVED_SOURCE_VERSION",
            ),
            pipeline_id: s(
                "web-release-deploy:7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
                "CODEBUILD_BUILD_ID",
            ),
            job_id: s(
                "web-release-deploy:7d3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a",
                "CODEBUILD_BUILD_ID",
            ),
            pipeline_started: t(1_717_232_400, "CODEBUILD_START_TIME"),
            status: s("failed", "CODEBUILD_BUILD_SUCCEEDING"),
            context: fields(&[("workflow", "web-release")]),
            ..CiContext::new(Provider::CodeBuild)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn codebuild_codecommit_and_iam_user() {
        let (got, warnings) = detect_fixture("aws-codebuild", "codecommit");
        let want = CiContext {
            commit_sha: s(
                "4e5d6c7b8a9f0e1d2c3b4a5f6e7d8c9b0a1f2e3d",
                "CODEBUILD_RESOLVED_SOURCE_VERSION",
            ),
            // CodeCommit repositories have a name and no owner.
            repo_name: s("billing", "CODEBUILD_SOURCE_REPO_URL"),
            triggered_by: s("deployer", "CODEBUILD_INITIATOR"),
            pipeline_id: s(
                "billing-deploy:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                "CODEBUILD_BUILD_ID",
            ),
            job_id: s(
                "billing-deploy:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
                "CODEBUILD_BUILD_ID",
            ),
            // Milliseconds are cut, not rounded.
            pipeline_started: t(1_717_236_000, "CODEBUILD_START_TIME"),
            context: fields(&[(
                "pipeline_url",
                "https://public-build.codebuild.example.com/project/billing-deploy/build/7",
            )]),
            ..CiContext::new(Provider::CodeBuild)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn codebuild_malformed_values_warn() {
        let mut env = fixture("aws-codebuild", "webhook");
        env.insert("CODEBUILD_START_TIME", "2024-06-01T08:00:00Z");
        let ctx = detect(&env);
        assert_eq!(ctx.pipeline_started, None);
        assert_one_warning(&ctx.warnings, "ignoring CODEBUILD_START_TIME=");

        let mut env = fixture("aws-codebuild", "webhook");
        env.insert("CODEBUILD_BUILD_SUCCEEDING", "true");
        let ctx = detect(&env);
        assert_eq!(ctx.status, None);
        assert_one_warning(&ctx.warnings, "ignoring CODEBUILD_BUILD_SUCCEEDING=");

        let mut env = fixture("aws-codebuild", "webhook");
        env.insert("CODEBUILD_SOURCE_REPO_URL", "https://github.com/");
        let ctx = detect(&env);
        assert_eq!(ctx.repo_name, None);
        assert_one_warning(&ctx.warnings, "ignoring CODEBUILD_SOURCE_REPO_URL: ");
    }

    #[test]
    fn codebuild_initiators_that_are_not_people() {
        for (initiator, person, workflow) in [
            ("codepipeline/web-release", None, Some("web-release")),
            ("CodeBuild-Jenkins-Plugin", None, None),
            ("GitHub-Hookshot/8f9a07e", None, None),
            ("jane.doe", Some("jane.doe"), None),
        ] {
            let mut env = fixture("aws-codebuild", "codecommit");
            env.insert("CODEBUILD_INITIATOR", initiator);
            let ctx = detect(&env);
            assert_eq!(
                ctx.triggered_by.map(|t| t.value).as_deref(),
                person,
                "{initiator}"
            );
            let got = ctx.context.iter().find(|c| c.key == "workflow");
            assert_eq!(got.map(|c| c.value.as_str()), workflow, "{initiator}");
        }
    }
}
