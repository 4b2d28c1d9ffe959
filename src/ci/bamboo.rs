//! Bamboo (`bamboo_buildKey`, or `bamboo_agentId`).
//!
//! Bamboo exports its variables with a `bamboo_` prefix and dots turned into underscores
//! (`${bamboo.planRepository.1.revision}` → `bamboo_planRepository_1_revision`). It gives the
//! revision and URL of the plan's first repository, the plan and job result keys, the build
//! start (ISO 8601 with milliseconds and offset), the results page, and the user who ran a
//! manual build. Deployment projects add the environment's name.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `bamboo_buildKey` or `bamboo_agentId` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("bamboo_buildKey") && !env.marker("bamboo_agentId") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::Bamboo);
    ctx.commit_sha = env.sourced_first(&[
        "bamboo_planRepository_1_revision",
        "bamboo_planRepository_revision",
    ]);
    let url_key = if env.has("bamboo_planRepository_1_repositoryUrl") {
        "bamboo_planRepository_1_repositoryUrl"
    } else {
        "bamboo_planRepository_repositoryUrl"
    };
    ctx.repo_name = vars::slug_from_url(&mut ctx, env, url_key);
    ctx.triggered_by = env.sourced("bamboo_ManualBuildTriggerReason_userName");
    // The plan result key (`PROJ-PLAN-42`) for the whole build; the job's result key
    // (`PROJ-PLAN-JOB1-42`) for this job.
    ctx.job_id = env.sourced("bamboo_buildResultKey");
    ctx.pipeline_id =
        vars::joined(env, &["bamboo_planKey", "bamboo_buildNumber"]).or_else(|| ctx.job_id.clone());
    ctx.pipeline_started = ctx.time_from(env, "bamboo_buildTimeStamp");

    ctx.add_context("pipeline_url", env.get("bamboo_resultsUrl"));
    ctx.add_context("job_url", env.get("bamboo_buildResultsUrl"));
    ctx.add_context(
        "branch",
        env.first(&[
            "bamboo_planRepository_1_branchName",
            "bamboo_planRepository_branchName",
        ])
        .map(|(_, v)| v),
    );
    ctx.add_context("environment", env.get("bamboo_deploy_environment"));
    ctx.add_context(
        "workflow",
        env.first(&["bamboo_deploy_project", "bamboo_planName"])
            .map(|(_, v)| v),
    );
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn bamboo_plan_job() {
        let (got, warnings) = detect_fixture("bamboo", "plan");
        let want = CiContext {
            commit_sha: s(
                "8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d",
                "bamboo_planRepository_1_revision",
            ),
            repo_name: s("acme/web", "bamboo_planRepository_1_repositoryUrl"),
            triggered_by: s("jdoe", "bamboo_ManualBuildTriggerReason_userName"),
            pipeline_id: s("WEB-REL-42", "bamboo_planKey, bamboo_buildNumber"),
            job_id: s("WEB-REL-DEP-42", "bamboo_buildResultKey"),
            // 10:00 at +02:00.
            pipeline_started: t(1_717_228_800, "bamboo_buildTimeStamp"),
            context: fields(&[
                (
                    "job_url",
                    "https://bamboo.example.com/browse/WEB-REL-DEP-42",
                ),
                ("branch", "main"),
                ("workflow", "Web - Release"),
            ]),
            ..CiContext::new(Provider::Bamboo)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    /// A deployment project: detected by `bamboo_agentId`, the environment and project named.
    #[test]
    fn bamboo_deployment_environment() {
        let (got, warnings) = detect_fixture("bamboo", "deployment");
        let want = CiContext {
            commit_sha: s(
                "9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e",
                "bamboo_planRepository_revision",
            ),
            repo_name: s("acme/web", "bamboo_planRepository_repositoryUrl"),
            pipeline_id: s("WEB-REL-17", "bamboo_planKey, bamboo_buildNumber"),
            job_id: s("WEB-REL-17", "bamboo_buildResultKey"),
            pipeline_started: t(1_717_406_130, "bamboo_buildTimeStamp"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://bamboo.example.com/deploy/viewDeploymentResult.action?deploymentResultId=9830401",
                ),
                ("branch", "main"),
                ("environment", "Production"),
                ("workflow", "Web"),
            ]),
            ..CiContext::new(Provider::Bamboo)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
