//! Provider detection tests, driven by the env fixtures in `tests/fixtures/env/<provider>/`.
//!
//! Each fixture's whole [`CiContext`] is compared, so every field, its source and the context
//! fields (in order) are checked, and so is everything that must stay `None`.

use std::fs;
use std::path::{Path, PathBuf};

use super::vars::*;
use super::*;
use crate::context::ContextField;
use crate::env::Sourced;

pub(super) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub(super) fn fixture_path(provider: &str, case: &str) -> PathBuf {
    root()
        .join("tests/fixtures/env")
        .join(provider)
        .join(format!("{case}.env"))
}

/// Loads a fixture; a relative `GITHUB_EVENT_PATH` is taken relative to the crate root.
pub(super) fn fixture(provider: &str, case: &str) -> Env {
    let path = fixture_path(provider, case);
    let text =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut env = Env::from_env_file(&text);
    if let Some(event) = env.get("GITHUB_EVENT_PATH").map(PathBuf::from) {
        if event.is_relative() {
            env.insert(
                "GITHUB_EVENT_PATH",
                root().join(event).to_string_lossy().into_owned(),
            );
        }
    }
    env
}

pub(super) fn s(value: &str, source: &str) -> Option<Sourced<String>> {
    Some(Sourced::new(value.to_string(), source))
}

pub(super) fn t(value: i64, source: &str) -> Option<Sourced<i64>> {
    Some(Sourced::new(value, source))
}

pub(super) fn fields(pairs: &[(&'static str, &str)]) -> Vec<ContextField> {
    pairs
        .iter()
        .map(|(key, value)| ContextField {
            key,
            value: value.to_string(),
        })
        .collect()
}

/// Detects and splits off the warnings, so the rest can be compared exactly.
pub(super) fn detect_fixture(provider: &str, case: &str) -> (CiContext, Vec<String>) {
    let mut ctx = detect(&fixture(provider, case));
    let warnings = std::mem::take(&mut ctx.warnings);
    (ctx, warnings)
}

pub(super) fn assert_one_warning(warnings: &[String], starts_with: &str) {
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].starts_with(starts_with),
        "warning {:?} should start with {starts_with:?}",
        warnings[0]
    );
}

// GitHub Actions

#[test]
fn github_push() {
    let (got, warnings) = detect_fixture("github", "push");
    let want = CiContext {
        commit_sha: s("a2e7da86cc392417b0d9f605b28038aae80b002f", "GITHUB_SHA"),
        repo_name: s("acme/web", "GITHUB_REPOSITORY"),
        repo_id: s("123456789", "GITHUB_REPOSITORY_ID"),
        triggered_by: s("octocat@example.com", "GITHUB_EVENT_PATH pusher.email"),
        pipeline_id: s("9876543210-2", "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
        job_id: s(
            "9876543210-2-deploy",
            "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB",
        ),
        context: fields(&[
            (
                "pipeline_url",
                "https://github.com/acme/web/actions/runs/9876543210",
            ),
            ("workflow", "Deploy"),
            ("branch", "main"),
            ("run_attempt", "2"),
            ("trigger_event", "push"),
        ]),
        ..CiContext::new(Provider::GitHub)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn github_workflow_dispatch_uses_triggering_actor() {
    let (got, warnings) = detect_fixture("github", "workflow_dispatch");
    let want = CiContext {
        commit_sha: s("a2e7da86cc392417b0d9f605b28038aae80b002f", "GITHUB_SHA"),
        repo_name: s("acme/web", "GITHUB_REPOSITORY"),
        repo_id: s("123456789", "GITHUB_REPOSITORY_ID"),
        triggered_by: s("monalisa", "GITHUB_TRIGGERING_ACTOR"),
        pipeline_id: s("9876543299-1", "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
        job_id: s(
            "9876543299-1-deploy",
            "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB",
        ),
        context: fields(&[
            (
                "pipeline_url",
                "https://github.com/acme/web/actions/runs/9876543299",
            ),
            ("workflow", "Deploy"),
            ("branch", "main"),
            ("run_attempt", "1"),
            ("trigger_event", "workflow_dispatch"),
        ]),
        ..CiContext::new(Provider::GitHub)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn github_deployment_event_gives_environment() {
    let (got, warnings) = detect_fixture("github", "deployment");
    let want = CiContext {
        commit_sha: s("a2e7da86cc392417b0d9f605b28038aae80b002f", "GITHUB_SHA"),
        repo_name: s("acme/web", "GITHUB_REPOSITORY"),
        repo_id: s("123456789", "GITHUB_REPOSITORY_ID"),
        triggered_by: s("monalisa", "GITHUB_ACTOR"),
        pipeline_id: s("9876543300-1", "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
        job_id: s(
            "9876543300-1-release",
            "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB",
        ),
        context: fields(&[
            (
                "pipeline_url",
                "https://github.com/acme/web/actions/runs/9876543300",
            ),
            ("workflow", "Release"),
            ("branch", "main"),
            ("run_attempt", "1"),
            ("trigger_event", "deployment"),
            ("environment", "production"),
        ]),
        ..CiContext::new(Provider::GitHub)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn github_pull_request_branch_is_head_ref() {
    let (got, warnings) = detect_fixture("github", "pull_request");
    let want = CiContext {
        commit_sha: s("0c1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5", "GITHUB_SHA"),
        repo_name: s("acme/web", "GITHUB_REPOSITORY"),
        repo_id: s("123456789", "GITHUB_REPOSITORY_ID"),
        triggered_by: s("monalisa", "GITHUB_TRIGGERING_ACTOR"),
        pipeline_id: s("9876543301-1", "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT"),
        job_id: s(
            "9876543301-1-preview",
            "GITHUB_RUN_ID, GITHUB_RUN_ATTEMPT, GITHUB_JOB",
        ),
        context: fields(&[
            (
                "pipeline_url",
                "https://github.com/acme/web/actions/runs/9876543301",
            ),
            ("workflow", "Preview"),
            ("branch", "feature/login"),
            ("run_attempt", "1"),
            ("trigger_event", "pull_request"),
        ]),
        ..CiContext::new(Provider::GitHub)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn github_enterprise_host_and_missing_attempt() {
    let (got, warnings) = detect_fixture("github", "enterprise");
    let want = CiContext {
        commit_sha: s("d4c3b2a1f0e9d8c7b6a5948372615049f8e7d6c5", "GITHUB_SHA"),
        repo_name: s("platform/billing", "GITHUB_REPOSITORY"),
        triggered_by: s("svc-deploy", "GITHUB_ACTOR"),
        pipeline_id: s("31337-1", "GITHUB_RUN_ID"),
        job_id: s("31337-1-nightly-deploy", "GITHUB_RUN_ID, GITHUB_JOB"),
        context: fields(&[
            (
                "pipeline_url",
                "https://github.example.com/platform/billing/actions/runs/31337",
            ),
            ("workflow", "Nightly"),
            ("branch", "develop"),
            ("trigger_event", "schedule"),
        ]),
        ..CiContext::new(Provider::GitHub)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn github_bad_event_file_warns_and_falls_back() {
    let (got, warnings) = detect_fixture("github", "bad_event");
    assert_eq!(got.triggered_by, s("hubot", "GITHUB_TRIGGERING_ACTOR"));
    assert_one_warning(&warnings, "ignoring GITHUB_EVENT_PATH: ");
    assert!(warnings[0].contains("is not JSON"), "{warnings:?}");

    let (got, warnings) = detect_fixture("github", "missing_event");
    assert_eq!(got.triggered_by, s("octocat", "GITHUB_ACTOR"));
    assert_one_warning(&warnings, "ignoring GITHUB_EVENT_PATH: could not read ");
}

#[test]
fn github_push_without_pusher_email_uses_actor() {
    // A push event file that is valid JSON but has no pusher.email (pushes by some apps).
    let mut env = fixture("github", "push");
    env.insert(
        "GITHUB_EVENT_PATH",
        root()
            .join("tests/fixtures/github/workflow_dispatch.json")
            .to_string_lossy()
            .into_owned(),
    );
    let ctx = detect(&env);
    assert_eq!(ctx.triggered_by, s("hubot", "GITHUB_TRIGGERING_ACTOR"));
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
}

#[test]
fn github_tag_is_not_a_branch() {
    let mut env = fixture("github", "push");
    env.insert("GITHUB_REF_TYPE", "tag");
    env.insert("GITHUB_REF_NAME", "v1.0.0");
    let ctx = detect(&env);
    assert!(
        ctx.context.iter().all(|c| c.key != "branch"),
        "{:?}",
        ctx.context
    );
}

// GitLab CI

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

// Jenkins

#[test]
fn jenkins_multibranch() {
    let (got, warnings) = detect_fixture("jenkins", "multibranch");
    let want = CiContext {
        commit_sha: s("8e5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d", "GIT_COMMIT"),
        repo_name: s("acme/web", "GIT_URL"),
        triggered_by: s("jane@example.com", "BUILD_USER_EMAIL"),
        pipeline_id: s("jenkins-acme-web-main-42", "BUILD_TAG"),
        job_id: s("jenkins-acme-web-main-42", "BUILD_TAG"),
        context: fields(&[
            (
                "pipeline_url",
                "https://jenkins.example.com/job/acme/job/web/job/main/42/",
            ),
            ("branch", "main"),
            ("workflow", "acme/web/main"),
        ]),
        ..CiContext::new(Provider::Jenkins)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn jenkins_freestyle() {
    let (got, warnings) = detect_fixture("jenkins", "freestyle");
    let want = CiContext {
        commit_sha: s("1f2e3d4c5b6a79880716253443526170f8e9dab1", "GIT_COMMIT"),
        repo_name: s("acme/api", "GIT_URL"),
        triggered_by: s("deployer", "BUILD_USER_ID"),
        pipeline_id: s("jenkins-deploy-api-1337", "BUILD_TAG"),
        job_id: s("jenkins-deploy-api-1337", "BUILD_TAG"),
        // `origin/release/2.x` loses only its remote.
        context: fields(&[("branch", "release/2.x"), ("workflow", "deploy-api")]),
        ..CiContext::new(Provider::Jenkins)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn jenkins_needs_more_than_jenkins_home() {
    let env = Env::from_pairs([("JENKINS_HOME", "/var/lib/jenkins")]);
    assert_eq!(detect(&env).provider, Provider::Local);
}

#[test]
fn jenkins_unreadable_git_url_warns() {
    let mut env = fixture("jenkins", "freestyle");
    env.insert("GIT_URL", "file:///srv/git/api.git");
    let ctx = detect(&env);
    assert_eq!(ctx.repo_name, None);
    assert_one_warning(&ctx.warnings, "ignoring GIT_URL: ");
}

#[test]
fn jenkins_several_remotes_use_git_url_1() {
    let (got, warnings) = detect_fixture("jenkins", "multiple_remotes");
    let want = CiContext {
        commit_sha: s("2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e", "GIT_COMMIT"),
        repo_name: s("acme/web", "GIT_URL_1"),
        pipeline_id: s("jenkins-deploy-web-77", "BUILD_TAG"),
        job_id: s("jenkins-deploy-web-77", "BUILD_TAG"),
        context: fields(&[
            (
                "pipeline_url",
                "https://jenkins.example.com/job/deploy-web/77/",
            ),
            ("branch", "main"),
            ("workflow", "deploy-web"),
        ]),
        ..CiContext::new(Provider::Jenkins)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");

    // GIT_URL wins when both are set; a GIT_URL_1 without owner/name is a warning.
    let mut env = fixture("jenkins", "multiple_remotes");
    env.insert("GIT_URL", "git@github.com:acme/api.git");
    assert_eq!(detect(&env).repo_name, s("acme/api", "GIT_URL"));
    let mut env = fixture("jenkins", "multiple_remotes");
    env.insert("GIT_URL_1", "https://github.com/");
    let ctx = detect(&env);
    assert_eq!(ctx.repo_name, None);
    assert_one_warning(&ctx.warnings, "ignoring GIT_URL_1: ");
}

// CircleCI

#[test]
fn circleci_workflow() {
    let (got, warnings) = detect_fixture("circleci", "workflow");
    let want = CiContext {
        commit_sha: s("3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f", "CIRCLE_SHA1"),
        repo_name: s(
            "acme/web",
            "CIRCLE_PROJECT_USERNAME, CIRCLE_PROJECT_REPONAME",
        ),
        triggered_by: s("jdoe", "CIRCLE_USERNAME"),
        pipeline_id: s("6f1c8a2b-3d4e-4f50-9a8b-7c6d5e4f3a2b", "CIRCLE_WORKFLOW_ID"),
        job_id: s(
            "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
            "CIRCLE_WORKFLOW_JOB_ID",
        ),
        context: fields(&[
            ("job_url", "https://circleci.com/gh/acme/web/1234"),
            ("branch", "main"),
        ]),
        ..CiContext::new(Provider::CircleCi)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn circleci_gitlab_project() {
    let (got, warnings) = detect_fixture("circleci", "gitlab_project");
    let want = CiContext {
        commit_sha: s("4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a", "CIRCLE_SHA1"),
        repo_name: s("acme/group/web", "CIRCLE_REPOSITORY_URL"),
        pipeline_id: s("7a2d9b3c-4e5f-4061-8b9c-8d7e6f5a4b3c", "CIRCLE_WORKFLOW_ID"),
        job_id: s("77", "CIRCLE_BUILD_NUM"),
        context: fields(&[
            (
                "job_url",
                "https://app.circleci.com/jobs/circleci/AbCdEf/GhIjKl/77",
            ),
            ("branch", "develop"),
        ]),
        ..CiContext::new(Provider::CircleCi)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Bitbucket Pipelines

#[test]
fn bitbucket_after_script_of_deployment() {
    let (got, warnings) = detect_fixture("bitbucket", "after_script");
    let want = CiContext {
        commit_sha: s(
            "6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b",
            "BITBUCKET_COMMIT",
        ),
        repo_name: s("acme/web", "BITBUCKET_REPO_FULL_NAME"),
        repo_id: s(
            "{9f7c1a2e-3b4d-4c5e-8f90-a1b2c3d4e5f6}",
            "BITBUCKET_REPO_UUID",
        ),
        pipeline_id: s("318", "BITBUCKET_BUILD_NUMBER"),
        job_id: s(
            "{b4f5c3a1-2d3e-4f5a-8b9c-0d1e2f3a4b5c}",
            "BITBUCKET_STEP_UUID",
        ),
        status: s("1", "BITBUCKET_EXIT_CODE"),
        context: fields(&[
            (
                "pipeline_url",
                "https://bitbucket.org/acme/web/pipelines/results/318",
            ),
            (
                "job_url",
                "https://bitbucket.org/acme/web/pipelines/results/318/steps/%7Bb4f5c3a1-2d3e-4f5a-8b9c-0d1e2f3a4b5c%7D",
            ),
            ("branch", "main"),
            ("environment", "production"),
        ]),
        ..CiContext::new(Provider::Bitbucket)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn bitbucket_script_step() {
    let (got, warnings) = detect_fixture("bitbucket", "script");
    let want = CiContext {
        commit_sha: s(
            "7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c",
            "BITBUCKET_COMMIT",
        ),
        repo_name: s("acme/web", "BITBUCKET_REPO_FULL_NAME"),
        repo_id: s(
            "{9f7c1a2e-3b4d-4c5e-8f90-a1b2c3d4e5f6}",
            "BITBUCKET_REPO_UUID",
        ),
        pipeline_id: s("319", "BITBUCKET_BUILD_NUMBER"),
        job_id: s(
            "{c5a6d4b2-3e4f-4a5b-9c0d-1e2f3a4b5c6d}",
            "BITBUCKET_STEP_UUID",
        ),
        context: fields(&[
            (
                "pipeline_url",
                "https://bitbucket.org/acme/web/pipelines/results/319",
            ),
            (
                "job_url",
                "https://bitbucket.org/acme/web/pipelines/results/319/steps/%7Bc5a6d4b2-3e4f-4a5b-9c0d-1e2f3a4b5c6d%7D",
            ),
            ("branch", "feature/login"),
        ]),
        ..CiContext::new(Provider::Bitbucket)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn bitbucket_bad_exit_code_warns() {
    let mut env = fixture("bitbucket", "after_script");
    env.insert("BITBUCKET_EXIT_CODE", "one");
    let ctx = detect(&env);
    assert_eq!(ctx.status, None);
    assert_one_warning(&ctx.warnings, "ignoring BITBUCKET_EXIT_CODE=\"one\"");
}

// Azure Pipelines

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

// Buildkite

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

// Travis CI

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

// TeamCity

#[test]
fn teamcity_build() {
    let (got, warnings) = detect_fixture("teamcity", "build");
    let want = CiContext {
        commit_sha: s(
            "e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4",
            "BUILD_VCS_NUMBER",
        ),
        pipeline_id: s("318", "BUILD_NUMBER"),
        job_id: s("318", "BUILD_NUMBER"),
        context: fields(&[("workflow", "Web / Deploy to production")]),
        ..CiContext::new(Provider::TeamCity)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Drone

#[test]
fn drone_push() {
    let (got, warnings) = detect_fixture("drone", "push");
    let want = CiContext {
        commit_sha: s(
            "f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5",
            "DRONE_COMMIT_SHA",
        ),
        repo_name: s("acme/web", "DRONE_REPO"),
        triggered_by: s("mona@example.com", "DRONE_COMMIT_AUTHOR_EMAIL"),
        pipeline_id: s("88", "DRONE_BUILD_NUMBER"),
        job_id: s("88-2", "DRONE_BUILD_NUMBER, DRONE_STAGE_NUMBER"),
        pipeline_started: t(1_714_644_000, "DRONE_BUILD_STARTED"),
        job_started: t(1_714_644_012, "DRONE_STAGE_STARTED"),
        status: s("success", "DRONE_BUILD_STATUS"),
        context: fields(&[
            ("pipeline_url", "https://drone.example.com/acme/web/88"),
            ("branch", "main"),
            ("workflow", "deploy"),
            ("trigger_event", "push"),
        ]),
        ..CiContext::new(Provider::Drone)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn drone_promotion_names_the_promoter() {
    let (got, warnings) = detect_fixture("drone", "promote");
    let want = CiContext {
        commit_sha: s(
            "f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5",
            "DRONE_COMMIT_SHA",
        ),
        repo_name: s("acme/web", "DRONE_REPO"),
        triggered_by: s("jane", "DRONE_BUILD_TRIGGER"),
        pipeline_id: s("89", "DRONE_BUILD_NUMBER"),
        job_id: s("89-1", "DRONE_BUILD_NUMBER, DRONE_STAGE_NUMBER"),
        pipeline_started: t(1_714_650_000, "DRONE_BUILD_STARTED"),
        job_started: None,
        status: s("failure", "DRONE_BUILD_STATUS"),
        context: fields(&[
            ("pipeline_url", "https://drone.example.com/acme/web/89"),
            ("branch", "main"),
            ("environment", "production"),
            ("workflow", "promote"),
            ("trigger_event", "promote"),
        ]),
        ..CiContext::new(Provider::Drone)
    };
    assert_eq!(got, want);
    assert_one_warning(&warnings, "ignoring DRONE_STAGE_STARTED: ");
}

#[test]
fn drone_repo_from_owner_and_name() {
    let (got, warnings) = detect_fixture("drone", "owner_name");
    let want = CiContext {
        commit_sha: s(
            "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d",
            "DRONE_COMMIT_SHA",
        ),
        repo_name: s("acme/web", "DRONE_REPO_OWNER, DRONE_REPO_NAME"),
        triggered_by: s("monalisa", "DRONE_COMMIT_AUTHOR"),
        pipeline_id: s("90", "DRONE_BUILD_NUMBER"),
        job_id: s("90-1", "DRONE_BUILD_NUMBER, DRONE_STAGE_NUMBER"),
        pipeline_started: t(1_714_660_000, "DRONE_BUILD_STARTED"),
        context: fields(&[
            ("pipeline_url", "https://drone.example.com/acme/web/90"),
            ("branch", "main"),
            ("trigger_event", "push"),
        ]),
        ..CiContext::new(Provider::Drone)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn drone_repo_from_clone_url() {
    let (got, warnings) = detect_fixture("drone", "clone_url");
    let want = CiContext {
        commit_sha: s(
            "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
            "DRONE_COMMIT_SHA",
        ),
        repo_name: s("platform/billing", "DRONE_GIT_HTTP_URL"),
        pipeline_id: s("91", "DRONE_BUILD_NUMBER"),
        job_id: s("91-1", "DRONE_BUILD_NUMBER, DRONE_STAGE_NUMBER"),
        context: fields(&[("branch", "main"), ("trigger_event", "push")]),
        ..CiContext::new(Provider::Drone)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");

    // A clone URL without owner/name leaves the repository to git, with a warning.
    let mut env = fixture("drone", "clone_url");
    env.insert("DRONE_GIT_HTTP_URL", "https://gitea.example.com/");
    let ctx = detect(&env);
    assert_eq!(ctx.repo_name, None);
    assert_one_warning(&ctx.warnings, "ignoring DRONE_GIT_HTTP_URL: ");
}

// Woodpecker

#[test]
fn woodpecker_push() {
    let (got, warnings) = detect_fixture("woodpecker", "push");
    let want = CiContext {
        commit_sha: s("eba09b46064473a1d345da7abf28b477468e8dbd", "CI_COMMIT_SHA"),
        repo_name: s("acme/web", "CI_REPO"),
        repo_id: s("82", "CI_REPO_REMOTE_ID"),
        triggered_by: s("mona@example.com", "CI_COMMIT_AUTHOR_EMAIL"),
        pipeline_id: s("8", "CI_PIPELINE_NUMBER"),
        job_id: s("8-deploy", "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME"),
        pipeline_started: t(1_722_617_519, "CI_PIPELINE_STARTED"),
        job_started: t(1_722_617_540, "CI_STEP_STARTED"),
        status: s("success", "CI_PIPELINE_STATUS"),
        context: fields(&[
            ("pipeline_url", "https://ci.example.com/repos/7/pipeline/8"),
            ("job_url", "https://ci.example.com/repos/7/pipeline/8/3"),
            ("branch", "main"),
            ("workflow", "deploy"),
            ("trigger_event", "push"),
        ]),
        ..CiContext::new(Provider::Woodpecker)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn woodpecker_deployment_with_drone_variables() {
    let (got, warnings) = detect_fixture("woodpecker", "deployment");
    let want = CiContext {
        commit_sha: s("eba09b46064473a1d345da7abf28b477468e8dbd", "CI_COMMIT_SHA"),
        repo_name: s("acme/web", "CI_REPO"),
        repo_id: s("82", "CI_REPO_REMOTE_ID"),
        triggered_by: s("jane", "CI_PIPELINE_AUTHOR"),
        pipeline_id: s("9", "CI_PIPELINE_NUMBER"),
        job_id: s("9-release", "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME"),
        pipeline_started: t(1_722_620_000, "CI_PIPELINE_STARTED"),
        job_started: t(1_722_620_030, "CI_STEP_STARTED"),
        status: s("failure", "CI_PIPELINE_STATUS"),
        context: fields(&[
            ("pipeline_url", "https://ci.example.com/repos/7/pipeline/9"),
            ("branch", "main"),
            ("environment", "production"),
            ("workflow", "release"),
            ("trigger_event", "deployment"),
        ]),
        ..CiContext::new(Provider::Woodpecker)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn woodpecker_repo_from_owner_and_name() {
    let (got, warnings) = detect_fixture("woodpecker", "owner_name");
    let want = CiContext {
        commit_sha: s("5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80", "CI_COMMIT_SHA"),
        repo_name: s("acme/web", "CI_REPO_OWNER, CI_REPO_NAME"),
        pipeline_id: s("12", "CI_PIPELINE_NUMBER"),
        job_id: s("12-deploy", "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME"),
        context: fields(&[
            ("branch", "main"),
            ("workflow", "deploy"),
            ("trigger_event", "push"),
        ]),
        ..CiContext::new(Provider::Woodpecker)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn woodpecker_repo_from_clone_url() {
    let (got, warnings) = detect_fixture("woodpecker", "clone_url");
    let want = CiContext {
        commit_sha: s("6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091", "CI_COMMIT_SHA"),
        repo_name: s("platform/billing", "CI_REPO_CLONE_URL"),
        pipeline_id: s("13", "CI_PIPELINE_NUMBER"),
        job_id: s("13-deploy", "CI_PIPELINE_NUMBER, CI_WORKFLOW_NAME"),
        context: fields(&[
            ("branch", "main"),
            ("workflow", "deploy"),
            ("trigger_event", "push"),
        ]),
        ..CiContext::new(Provider::Woodpecker)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Detection order and invariants over every fixture

#[test]
fn no_provider_is_local() {
    assert_eq!(detect(&Env::default()), CiContext::new(Provider::Local));
    let env = Env::from_pairs([("CI", "true"), ("HOME", "/home/me"), ("DRONE", "false")]);
    assert_eq!(detect(&env), CiContext::new(Provider::Local));
}

#[test]
fn first_provider_in_spec_order_wins() {
    let mut env = fixture("github", "push");
    env.insert("GITLAB_CI", "true");
    env.insert("JENKINS_URL", "https://jenkins.example.com/");
    assert_eq!(detect(&env).provider, Provider::GitHub);

    let mut env = fixture("drone", "push");
    env.insert("TEAMCITY_VERSION", "2024.03");
    assert_eq!(detect(&env).provider, Provider::TeamCity);
}

pub(super) fn provider_dir(provider: Provider) -> &'static str {
    match provider {
        Provider::GitHub => "github",
        Provider::GitLab => "gitlab",
        Provider::Jenkins => "jenkins",
        Provider::CircleCi => "circleci",
        Provider::Bitbucket => "bitbucket",
        Provider::Azure => "azure",
        Provider::Buildkite => "buildkite",
        Provider::Travis => "travis",
        Provider::TeamCity => "teamcity",
        Provider::Drone => "drone",
        Provider::Woodpecker => "woodpecker",
        // The providers of spec/providers.md keep their fixtures under their id.
        other => other.id(),
    }
}

/// Every fixture is detected as the provider its folder names, and only ever yields the
/// context keys SPEC.md allows, each once.
#[test]
fn every_fixture_detects_its_provider() {
    // `environment_tier` and `environment_url` from spec/deployments.md (GitLab).
    const KEYS: [&str; 9] = [
        "pipeline_url",
        "job_url",
        "branch",
        "environment",
        "environment_tier",
        "environment_url",
        "workflow",
        "run_attempt",
        "trigger_event",
    ];
    let mut seen = 0;
    let dir = root().join("tests/fixtures/env");
    for provider_entry in fs::read_dir(&dir).expect("fixture dir") {
        let provider_path = provider_entry.expect("entry").path();
        let provider = provider_path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_string();
        for case_entry in fs::read_dir(&provider_path).expect("provider dir") {
            let case_path = case_entry.expect("entry").path();
            let case = case_path
                .file_stem()
                .and_then(|n| n.to_str())
                .expect("utf-8 name")
                .to_string();
            let ctx = detect(&fixture(&provider, &case));
            assert_eq!(provider_dir(ctx.provider), provider, "{provider}/{case}");
            for (i, field) in ctx.context.iter().enumerate() {
                assert!(
                    KEYS.contains(&field.key),
                    "{provider}/{case}: {}",
                    field.key
                );
                assert!(
                    ctx.context[..i].iter().all(|c| c.key != field.key),
                    "{provider}/{case}: {} twice",
                    field.key
                );
            }
            assert!(ctx.commit_sha.is_some(), "{provider}/{case}: no commit");
            // Cloudflare Pages has no build id, nor a Heroku release phase without dyno
            // metadata: SPEC.md's `{sha}-{start}` job id applies.
            let no_id = provider == "cloudflare-pages"
                || (provider == "heroku" && case == "release_without_metadata");
            assert_eq!(
                ctx.pipeline_id.is_none(),
                no_id,
                "{provider}/{case}: pipeline id {:?}",
                ctx.pipeline_id
            );
            seen += 1;
        }
    }
    assert!(seen >= 60, "only {seen} fixtures found");
}

// Helpers

#[test]
fn helpers() {
    assert_eq!(encode_component("Web Platform"), "Web%20Platform");
    assert_eq!(encode_component("{ab-12}"), "%7Bab-12%7D");
    assert_eq!(encode_component("a.b_c~d"), "a.b_c~d");
    assert_eq!(branch_from_ref("refs/heads/feature/x"), Some("feature/x"));
    assert_eq!(branch_from_ref("refs/tags/v1"), None);
    assert_eq!(branch_from_ref("refs/pull/7/merge"), None);
    assert_eq!(branch_from_ref("main"), Some("main"));
    let env = Env::from_pairs([("A", "1"), ("B", "x")]);
    assert_eq!(joined(&env, &["A", "B"]), s("1-x", "A, B"));
    assert_eq!(joined(&env, &["A", "C"]), None);
    for on in ["true", "True", "TRUE", "1", "yes", "circleci", " true "] {
        assert!(Env::from_pairs([("M", on)]).marker("M"), "{on:?}");
    }
    for off in ["", " ", "false", "False", "FALSE", "0", " 0 "] {
        assert!(!Env::from_pairs([("M", off)]).marker("M"), "{off:?}");
    }
    assert!(!Env::default().marker("M"));
}

/// A marker set to another value than `true` (`CIRCLECI=1` in some images) still detects its
/// provider; `false` and `0` switch it off. GitLab is the exception: `GITLAB_CI=false` is
/// gitlab-ci-local, which is still GitLab.
#[test]
fn markers_count_unless_false_or_zero() {
    let cases = [
        ("circleci", "workflow", "CIRCLECI", Provider::CircleCi),
        ("azure", "github_repo", "TF_BUILD", Provider::Azure),
        ("buildkite", "build", "BUILDKITE", Provider::Buildkite),
        ("travis", "push", "TRAVIS", Provider::Travis),
        ("drone", "push", "DRONE", Provider::Drone),
        ("teamcity", "build", "TEAMCITY_VERSION", Provider::TeamCity),
        ("jenkins", "multibranch", "JENKINS_URL", Provider::Jenkins),
    ];
    for (dir, case, key, provider) in cases {
        // Jenkins' other marker would still detect it.
        let base = Env::from_pairs(
            fixture(dir, case)
                .pairs()
                .filter(|(k, _)| k != "JENKINS_HOME"),
        );
        for on in ["1", "yes", "TRUE", "True"] {
            let mut env = base.clone();
            env.insert(key, on);
            assert_eq!(detect(&env).provider, provider, "{key}={on}");
        }
        for off in ["0", "false", "False"] {
            let mut env = base.clone();
            env.insert(key, off);
            assert_ne!(detect(&env).provider, provider, "{key}={off}");
        }
    }
    let mut env = fixture("gitlab", "pipeline");
    env.insert("GITLAB_CI", "0");
    assert_eq!(detect(&env).provider, Provider::GitLab);
}
