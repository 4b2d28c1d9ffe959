//! Azure Pipelines (`TF_BUILD`, which Azure sets to `True`).
//!
//! Predefined variables reach scripts upper-cased with `.` turned into `_`
//! (`Build.SourceVersion` → `BUILD_SOURCEVERSION`). Azure gives the requester's email, the
//! pipeline's start time and, in any step, the job's status so far (`AGENT_JOBSTATUS`).

use super::vars;
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
            vars::encode_component(project),
            vars::encode_component(build),
        )),
        _ => None,
    };
    let job_url = match (&pipeline_url, env.get("SYSTEM_JOBID")) {
        (Some(url), Some(job)) => {
            Some(format!("{url}&view=logs&j={}", vars::encode_component(job)))
        }
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
