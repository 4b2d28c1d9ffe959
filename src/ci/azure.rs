//! Azure Pipelines (`TF_BUILD`, which Azure sets to `True`).
//!
//! Predefined variables reach scripts upper-cased with `.` turned into `_`
//! (`Build.SourceVersion` → `BUILD_SOURCEVERSION`). Azure gives the requester's email, the
//! pipeline's start time and, in any step, the job's status so far (`AGENT_JOBSTATUS`).

use super::vars;
use crate::client;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `TF_BUILD` marker is set (Azure writes `True`; see [`Env::marker`]).
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("TF_BUILD") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Azure);
    ctx.commit_sha = env.sourced("BUILD_SOURCEVERSION");
    ctx.repo_name = repo_name(env);
    ctx.repo_id = env.sourced("BUILD_REPOSITORY_ID");
    ctx.triggered_by = env.sourced_first(&["BUILD_REQUESTEDFOREMAIL", "BUILD_REQUESTEDFOR"]);
    ctx.pipeline_id = env.sourced("BUILD_BUILDID");
    // SYSTEM_JOBID is a GUID unique within the run; the build id keeps the pair readable.
    ctx.job_id = vars::joined(env, &["BUILD_BUILDID", "SYSTEM_JOBID"]);
    ctx.pipeline_started = ctx.time_from(env, "SYSTEM_PIPELINESTARTTIME");
    ctx.status = vars::status_from(
        &mut ctx,
        env,
        "AGENT_JOBSTATUS",
        &[
            "Succeeded",
            "SucceededWithIssues",
            "Failed",
            "Canceled",
            "Skipped",
        ],
        &[],
    );

    let pipeline_url = match (
        env.get("SYSTEM_COLLECTIONURI"),
        env.get("SYSTEM_TEAMPROJECT"),
        env.get("BUILD_BUILDID"),
    ) {
        (Some(collection), Some(project), Some(build)) => Some(format!(
            "{}/{}/_build/results?buildId={}",
            collection.trim_end_matches('/'),
            client::encode_component(project),
            client::encode_component(build),
        )),
        _ => None,
    };
    let job_url = match (&pipeline_url, env.get("SYSTEM_JOBID")) {
        (Some(url), Some(job)) => Some(format!(
            "{url}&view=logs&j={}",
            client::encode_component(job)
        )),
        _ => None,
    };
    ctx.add_context("pipeline_url", pipeline_url);
    ctx.add_context("job_url", job_url);
    ctx.add_context("branch", branch(env));
    ctx.add_context("environment", env.get("ENVIRONMENT_NAME"));
    ctx.add_context("workflow", env.get("BUILD_DEFINITIONNAME"));
    ctx.add_context("run_attempt", env.get("SYSTEM_JOBATTEMPT"));
    ctx.add_context("trigger_event", env.get("BUILD_REASON"));
    Some(ctx)
}

/// GitHub and Bitbucket repositories are named `owner/name`; Azure Repos only `name`, so the
/// URI (`https://dev.azure.com/org/project/_git/name`) gives `org/project/name`. A bare name
/// is still better than nothing when the URI says no more (TFVC: `https://dev.azure.com/org/`).
fn repo_name(env: &Env) -> Option<Sourced<String>> {
    let name = env.sourced("BUILD_REPOSITORY_NAME");
    if name.as_ref().is_some_and(|n| n.value.contains('/')) {
        return name;
    }
    env.get("BUILD_REPOSITORY_URI")
        .and_then(crate::git::repo_slug_from_url)
        .map(|slug| Sourced::new(slug, "BUILD_REPOSITORY_URI"))
        .or(name)
}

/// The full branch name: `BUILD_SOURCEBRANCHNAME` keeps only the last path segment
/// (`feature/login` → `login`), so the ref is used instead; for a pull request, its source
/// branch. Tags and other refs give `None`.
fn branch(env: &Env) -> Option<&str> {
    let r = env
        .first(&["SYSTEM_PULLREQUEST_SOURCEBRANCH", "BUILD_SOURCEBRANCH"])
        .map(|(_, v)| v)?;
    // TFVC "branches" are server paths (`$/project`), not git refs.
    if r.starts_with("$/") {
        return None;
    }
    vars::branch_from_ref(r)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn azure_github_repository() {
        let (got, warnings) = detect_fixture("azure", "github_repo");
        let want = CiContext {
            commit_sha: s(
                "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b",
                "BUILD_SOURCEVERSION",
            ),
            repo_name: s("acme/web", "BUILD_REPOSITORY_NAME"),
            triggered_by: s("jane@example.com", "BUILD_REQUESTEDFOREMAIL"),
            pipeline_id: s("2718", "BUILD_BUILDID"),
            job_id: s(
                "2718-12f1170f-54f2-53f3-20dd-22fc7dff55f9",
                "BUILD_BUILDID, SYSTEM_JOBID",
            ),
            pipeline_started: t(1_781_531_130, "SYSTEM_PIPELINESTARTTIME"),
            status: s("Succeeded", "AGENT_JOBSTATUS"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://dev.azure.com/acme/Web%20Platform/_build/results?buildId=2718",
                ),
                (
                    "job_url",
                    "https://dev.azure.com/acme/Web%20Platform/_build/results?buildId=2718&view=logs&j=12f1170f-54f2-53f3-20dd-22fc7dff55f9",
                ),
                ("branch", "feature/login"),
                ("environment", "production"),
                ("workflow", "web-deploy"),
                ("run_attempt", "1"),
                ("trigger_event", "IndividualCI"),
            ]),
            ..CiContext::new(Provider::Azure)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn azure_repos_pull_request() {
        let (got, warnings) = detect_fixture("azure", "azure_repos");
        let want = CiContext {
            commit_sha: s(
                "ab12cd34ef56ab78cd90ef12ab34cd56ef78ab90",
                "BUILD_SOURCEVERSION",
            ),
            repo_name: s("acme/platform/api", "BUILD_REPOSITORY_URI"),
            repo_id: s(
                "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
                "BUILD_REPOSITORY_ID",
            ),
            triggered_by: s("Jane Doe", "BUILD_REQUESTEDFOR"),
            pipeline_id: s("3141", "BUILD_BUILDID"),
            job_id: s(
                "3141-0f1e2d3c-4b5a-5968-7a8b-9c0d1e2f3a4b",
                "BUILD_BUILDID, SYSTEM_JOBID",
            ),
            pipeline_started: t(1_717_228_800, "SYSTEM_PIPELINESTARTTIME"),
            status: s("Failed", "AGENT_JOBSTATUS"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://dev.azure.com/acme/platform/_build/results?buildId=3141",
                ),
                (
                    "job_url",
                    "https://dev.azure.com/acme/platform/_build/results?buildId=3141&view=logs&j=0f1e2d3c-4b5a-5968-7a8b-9c0d1e2f3a4b",
                ),
                ("branch", "feature/retry"),
                ("workflow", "api-ci"),
                ("run_attempt", "2"),
                ("trigger_event", "PullRequest"),
            ]),
            ..CiContext::new(Provider::Azure)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn azure_bare_repository_name_is_the_last_resort() {
        let mut env = fixture("azure", "azure_repos");
        env.insert("BUILD_REPOSITORY_URI", "https://dev.azure.com/acme/");
        assert_eq!(detect(&env).repo_name, s("api", "BUILD_REPOSITORY_NAME"));
    }

    #[test]
    fn azure_unknown_status_and_bad_start_time_warn() {
        let mut env = fixture("azure", "github_repo");
        env.insert("AGENT_JOBSTATUS", "Weird");
        env.insert("SYSTEM_PIPELINESTARTTIME", "15/06/2026 13:45");
        let ctx = detect(&env);
        assert_eq!(ctx.status, None);
        assert_eq!(ctx.pipeline_started, None);
        assert_eq!(ctx.warnings.len(), 2, "{:?}", ctx.warnings);
        assert!(ctx.warnings[0].starts_with("ignoring SYSTEM_PIPELINESTARTTIME: "));
        assert!(ctx.warnings[1].starts_with("ignoring AGENT_JOBSTATUS=\"Weird\""));
    }
}
