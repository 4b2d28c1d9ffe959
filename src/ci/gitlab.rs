//! GitLab CI (`GITLAB_CI`, or `CI_SERVER_URL` with `CI_PROJECT_PATH`).
//!
//! GitLab gives everything: commit, project path and id, the user's email, pipeline and job
//! ids and start times, and in `after_script` the job's outcome.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless `GITLAB_CI` is set (to anything: gitlab-ci-local sets it to `false`) or both
/// `CI_SERVER_URL` and `CI_PROJECT_PATH` are.
pub fn detect(env: &Env) -> Option<CiContext> {
    let detected = env.has("GITLAB_CI") || (env.has("CI_SERVER_URL") && env.has("CI_PROJECT_PATH"));
    if !detected {
        return None;
    }
    let mut ctx = CiContext::new(Provider::GitLab);
    ctx.commit_sha = env.sourced("CI_COMMIT_SHA");
    ctx.repo_name = env.sourced("CI_PROJECT_PATH");
    ctx.repo_id = env.sourced("CI_PROJECT_ID");
    ctx.triggered_by = env.sourced_first(&["GITLAB_USER_EMAIL", "GITLAB_USER_LOGIN"]);
    ctx.pipeline_id = env.sourced("CI_PIPELINE_ID");
    ctx.job_id = env.sourced("CI_JOB_ID");
    ctx.pipeline_started = ctx.time_from(env, "CI_PIPELINE_CREATED_AT");
    ctx.job_started = ctx.time_from(env, "CI_JOB_STARTED_AT");
    // CI_JOB_STATUS is `running` in `script` and only says how the job ended in
    // `after_script`; `running` must never be reported as an outcome.
    ctx.status = vars::status_from(
        &mut ctx,
        env,
        "CI_JOB_STATUS",
        &["success", "failed", "canceled"],
        &["running"],
    );

    ctx.add_context("pipeline_url", env.get("CI_PIPELINE_URL"));
    ctx.add_context("job_url", env.get("CI_JOB_URL"));
    // Merge request pipelines have no CI_COMMIT_BRANCH; tag pipelines have a ref name that is
    // a tag, not a branch.
    let branch = env
        .first(&["CI_COMMIT_BRANCH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"])
        .map(|(_, v)| v)
        .or_else(|| {
            (!env.has("CI_COMMIT_TAG"))
                .then(|| env.get("CI_COMMIT_REF_NAME"))
                .flatten()
        });
    ctx.add_context("branch", branch);
    ctx.add_context("environment", env.get("CI_ENVIRONMENT_NAME"));
    ctx.add_context("environment_tier", env.get("CI_ENVIRONMENT_TIER"));
    ctx.add_context("environment_url", env.get("CI_ENVIRONMENT_URL"));
    // `environment: {action: stop}` (also prepare, verify, access) is a job that touches an
    // environment without deploying to it.
    if let Some(action) = env
        .get("CI_ENVIRONMENT_ACTION")
        .filter(|a| !a.eq_ignore_ascii_case("start"))
    {
        ctx.not_a_deployment = Some(format!(
            "CI_ENVIRONMENT_ACTION is {action:?}, not \"start\": this job does not deploy to {}",
            env.get("CI_ENVIRONMENT_NAME").unwrap_or("its environment")
        ));
    }
    ctx.add_context("workflow", env.get("CI_PIPELINE_NAME"));
    ctx.add_context("trigger_event", env.get("CI_PIPELINE_SOURCE"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

    #[test]
    fn gitlab_job_script() {
        let (got, warnings) = detect_fixture("gitlab", "pipeline");
        let want = CiContext {
            commit_sha: s("5c3f1d2e8b7a69584736251403f2e1d0c9b8a7f6", "CI_COMMIT_SHA"),
            repo_name: s("platform/backend/api", "CI_PROJECT_PATH"),
            repo_id: s("4242", "CI_PROJECT_ID"),
            triggered_by: s("jane@example.com", "GITLAB_USER_EMAIL"),
            pipeline_id: s("1029384756", "CI_PIPELINE_ID"),
            job_id: s("7654321001", "CI_JOB_ID"),
            pipeline_started: t(1_714_643_890, "CI_PIPELINE_CREATED_AT"),
            job_started: t(1_714_644_281, "CI_JOB_STARTED_AT"),
            // CI_JOB_STATUS=running is ignored, silently.
            status: None,
            context: fields(&[
                (
                    "pipeline_url",
                    "https://gitlab.example.com/platform/backend/api/-/pipelines/1029384756",
                ),
                (
                    "job_url",
                    "https://gitlab.example.com/platform/backend/api/-/jobs/7654321001",
                ),
                ("branch", "main"),
                ("environment", "production"),
                // spec/deployments.md: the tier is a context field too.
                ("environment_tier", "production"),
                ("trigger_event", "push"),
            ]),
            ..CiContext::new(Provider::GitLab)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn gitlab_after_script_of_merge_request_pipeline() {
        let (got, warnings) = detect_fixture("gitlab", "after_script");
        let want = CiContext {
            commit_sha: s("0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d", "CI_COMMIT_SHA"),
            repo_name: s("acme/web", "CI_PROJECT_PATH"),
            repo_id: s("51515151", "CI_PROJECT_ID"),
            triggered_by: s("monalisa", "GITLAB_USER_LOGIN"),
            pipeline_id: s("1100000001", "CI_PIPELINE_ID"),
            job_id: s("7700000001", "CI_JOB_ID"),
            pipeline_started: t(1_717_228_800, "CI_PIPELINE_CREATED_AT"),
            job_started: t(1_717_229_007, "CI_JOB_STARTED_AT"),
            status: s("failed", "CI_JOB_STATUS"),
            context: fields(&[
                (
                    "pipeline_url",
                    "https://gitlab.com/acme/web/-/pipelines/1100000001",
                ),
                ("job_url", "https://gitlab.com/acme/web/-/jobs/7700000001"),
                ("branch", "feature/login"),
                ("workflow", "MR checks"),
                ("trigger_event", "merge_request_event"),
            ]),
            ..CiContext::new(Provider::GitLab)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn gitlab_tag_pipeline_with_bad_time() {
        let (got, warnings) = detect_fixture("gitlab", "tag");
        let want = CiContext {
            commit_sha: s("0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d", "CI_COMMIT_SHA"),
            repo_name: s("acme/web", "CI_PROJECT_PATH"),
            repo_id: s("51515151", "CI_PROJECT_ID"),
            triggered_by: s("jane@example.com", "GITLAB_USER_EMAIL"),
            pipeline_id: s("1100000002", "CI_PIPELINE_ID"),
            job_id: s("7700000002", "CI_JOB_ID"),
            pipeline_started: t(1_717_228_800, "CI_PIPELINE_CREATED_AT"),
            job_started: None,
            status: s("canceled", "CI_JOB_STATUS"),
            // The ref name is the tag: no branch.
            context: fields(&[("trigger_event", "push")]),
            ..CiContext::new(Provider::GitLab)
        };
        assert_eq!(got, want);
        assert_one_warning(&warnings, "ignoring CI_JOB_STARTED_AT: ");
    }

    #[test]
    fn gitlab_ci_local_sets_gitlab_ci_false() {
        let (got, warnings) = detect_fixture("gitlab", "local");
        let want = CiContext {
            commit_sha: s("0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d", "CI_COMMIT_SHA"),
            repo_name: s("acme/web", "CI_PROJECT_PATH"),
            repo_id: s("1217", "CI_PROJECT_ID"),
            triggered_by: s("local@example.com", "GITLAB_USER_EMAIL"),
            pipeline_id: s("1000", "CI_PIPELINE_ID"),
            job_id: s("1001", "CI_JOB_ID"),
            context: fields(&[("branch", "main")]),
            ..CiContext::new(Provider::GitLab)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }

    #[test]
    fn gitlab_detected_by_server_url_and_project_path() {
        let env = Env::from_pairs([
            ("CI_SERVER_URL", "https://gitlab.example.com"),
            ("CI_PROJECT_PATH", "acme/web"),
        ]);
        assert_eq!(detect(&env).provider, Provider::GitLab);
        let env = Env::from_pairs([("CI_SERVER_URL", "https://gitlab.example.com")]);
        assert_eq!(detect(&env).provider, Provider::Local);
    }

    #[test]
    fn gitlab_unknown_job_status_warns() {
        let mut env = fixture("gitlab", "pipeline");
        env.insert("CI_JOB_STATUS", "exploded");
        let ctx = detect(&env);
        assert_eq!(ctx.status, None);
        assert_one_warning(&ctx.warnings, "ignoring CI_JOB_STATUS=\"exploded\"");
    }
}
