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
