//! Tests for the providers of `spec/providers.md`, driven by their env fixtures (whole
//! [`CiContext`] comparisons, like `tests.rs`), plus what holds for every provider: each
//! fixture matches exactly one detector (so the order never decides between two), and no
//! value of a provider's variables makes detection panic.

use std::collections::BTreeSet;
use std::fs;

use proptest::prelude::*;

use super::tests::{assert_one_warning, detect_fixture, fields, fixture, provider_dir, root, s, t};
use super::vars::*;
use super::*;

// AppVeyor

/// A Windows image writes `APPVEYOR=True`.
#[test]
fn appveyor_push() {
    let (got, warnings) = detect_fixture("appveyor", "push");
    let want = CiContext {
        commit_sha: s(
            "67c6a0621ed8e14252c9f1edecc85adeb41e60b2",
            "APPVEYOR_REPO_COMMIT",
        ),
        repo_name: s("acme/web", "APPVEYOR_REPO_NAME"),
        triggered_by: s("mona@example.com", "APPVEYOR_REPO_COMMIT_AUTHOR_EMAIL"),
        pipeline_id: s("16586877", "APPVEYOR_BUILD_ID"),
        job_id: s("223msqsfyu1vim73", "APPVEYOR_JOB_ID"),
        context: fields(&[
            (
                "pipeline_url",
                "https://ci.appveyor.com/project/acme/web/builds/16586877",
            ),
            (
                "job_url",
                "https://ci.appveyor.com/project/acme/web/build/job/223msqsfyu1vim73",
            ),
            ("branch", "main"),
        ]),
        ..CiContext::new(Provider::AppVeyor)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// The pull request's source branch, and links on the server given by `APPVEYOR_URL`.
#[test]
fn appveyor_pull_request_on_premise() {
    let (got, warnings) = detect_fixture("appveyor", "pull_request");
    let want = CiContext {
        commit_sha: s(
            "ef2023102ad644dce35319c9c0d9a97b369aae19",
            "APPVEYOR_REPO_COMMIT",
        ),
        repo_name: s("acme/web", "APPVEYOR_REPO_NAME"),
        pipeline_id: s("16428432", "APPVEYOR_BUILD_ID"),
        job_id: s("v8xadmxjx5ys0fhw", "APPVEYOR_JOB_ID"),
        context: fields(&[
            (
                "pipeline_url",
                "https://appveyor.example.com/project/acme/web-app/builds/16428432",
            ),
            (
                "job_url",
                "https://appveyor.example.com/project/acme/web-app/build/job/v8xadmxjx5ys0fhw",
            ),
            ("branch", "feature/login"),
        ]),
        ..CiContext::new(Provider::AppVeyor)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// AWS CodeBuild

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

// Bitrise

#[test]
fn bitrise_push() {
    let (got, warnings) = detect_fixture("bitrise", "push");
    let want = CiContext {
        commit_sha: s(
            "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b",
            "GIT_CLONE_COMMIT_HASH",
        ),
        repo_name: s("acme/mobile", "GIT_REPOSITORY_URL"),
        triggered_by: s("mona@example.com", "GIT_CLONE_COMMIT_AUTHOR_EMAIL"),
        pipeline_id: s("4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8", "BITRISE_BUILD_SLUG"),
        job_id: s("4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8", "BITRISE_BUILD_SLUG"),
        pipeline_started: t(1_717_228_800, "BITRISE_BUILD_TRIGGER_TIMESTAMP"),
        status: s("0", "BITRISE_BUILD_STATUS"),
        context: fields(&[
            (
                "pipeline_url",
                "https://app.bitrise.io/build/4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8",
            ),
            ("branch", "main"),
            ("workflow", "deploy"),
        ]),
        ..CiContext::new(Provider::Bitrise)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Buddy

#[test]
fn buddy_execution() {
    let (got, warnings) = detect_fixture("buddy", "execution");
    let want = CiContext {
        commit_sha: s(
            "e5e13f8b7f8d5c6096a0501dc09b48eef05fea96",
            "BUDDY_RUN_COMMIT",
        ),
        repo_name: s("buddyworks/my-project", "BUDDY_REPO_SLUG"),
        triggered_by: s("mikebenson@buddy.works", "BUDDY_INVOKER_EMAIL"),
        pipeline_id: s("3-27", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
        job_id: s("3-27", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
        pipeline_started: t(1_717_228_800, "BUDDY_EXECUTION_START_DATE"),
        context: fields(&[
            (
                "pipeline_url",
                "https://app.buddy.works/myworkspace/my-project/pipelines/pipeline/3/execution/5d9dc42c422f5a268b389d08",
            ),
            ("branch", "main"),
            ("workflow", "Deploy to Production"),
        ]),
        ..CiContext::new(Provider::Buddy)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// Detected by `BUDDY_WORKSPACE_ID`; a tag build has no branch.
#[test]
fn buddy_legacy_workspace_repo_from_scm_url() {
    let (got, warnings) = detect_fixture("buddy", "legacy_scm_url");
    let want = CiContext {
        commit_sha: s(
            "f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d",
            "BUDDY_EXECUTION_REVISION",
        ),
        repo_name: s("acme/web", "BUDDY_SCM_URL"),
        pipeline_id: s("12-4", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
        job_id: s("12-4", "BUDDY_PIPELINE_ID, BUDDY_EXECUTION_ID"),
        pipeline_started: t(1_717_324_200, "BUDDY_EXECUTION_START_DATE"),
        context: fields(&[
            (
                "pipeline_url",
                "https://app.buddy.works/acme/web/pipelines/pipeline/12/execution/6a0b1c2d3e4f5a6b7c8d9e0f",
            ),
            ("workflow", "Release"),
        ]),
        ..CiContext::new(Provider::Buddy)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Codefresh

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

// Bamboo

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

// Cirrus CI

#[test]
fn cirrus_push() {
    let (got, warnings) = detect_fixture("cirrus-ci", "push");
    let want = CiContext {
        commit_sha: s(
            "0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f",
            "CIRRUS_CHANGE_IN_REPO",
        ),
        repo_name: s("acme/web", "CIRRUS_REPO_FULL_NAME"),
        pipeline_id: s("6123456789012345", "CIRRUS_BUILD_ID"),
        job_id: s("5012345678901234", "CIRRUS_TASK_ID"),
        context: fields(&[
            (
                "pipeline_url",
                "https://cirrus-ci.com/build/6123456789012345",
            ),
            ("job_url", "https://cirrus-ci.com/task/5012345678901234"),
            ("branch", "main"),
            ("workflow", "deploy"),
        ]),
        ..CiContext::new(Provider::Cirrus)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Cloudflare Pages

/// `CF_PAGES=1`; nothing but the commit, branch and URL.
#[test]
fn cloudflare_pages_preview() {
    let (got, warnings) = detect_fixture("cloudflare-pages", "preview");
    let want = CiContext {
        commit_sha: s(
            "1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a",
            "CF_PAGES_COMMIT_SHA",
        ),
        context: fields(&[
            ("pipeline_url", "https://5b243e66.web.pages.dev"),
            ("branch", "feature/login"),
        ]),
        ..CiContext::new(Provider::CloudflarePages)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Netlify

/// `CONTEXT` is the environment; `HEAD` the pull request's branch.
#[test]
fn netlify_deploy_preview() {
    let (got, warnings) = detect_fixture("netlify", "deploy_preview");
    let want = CiContext {
        commit_sha: s("2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b", "COMMIT_REF"),
        repo_name: s("acme/web", "REPOSITORY_URL"),
        pipeline_id: s("5b243e66dd6a547b4fee73ae", "DEPLOY_ID"),
        job_id: s("5d4aeac2ccabf517d2f219b8", "BUILD_ID"),
        context: fields(&[
            (
                "pipeline_url",
                "https://5b243e66dd6a547b4fee73ae--petsof.netlify.app",
            ),
            ("branch", "feature/login"),
            ("environment", "deploy-preview"),
        ]),
        ..CiContext::new(Provider::Netlify)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn netlify_production() {
    let (got, warnings) = detect_fixture("netlify", "production");
    let want = CiContext {
        commit_sha: s("3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c", "COMMIT_REF"),
        repo_name: s("acme/web", "REPOSITORY_URL"),
        pipeline_id: s("66a0b1c2d3e4f5a6b7c8d9e1", "DEPLOY_ID"),
        job_id: s("66a0b1c2d3e4f5a6b7c8d9e0", "BUILD_ID"),
        context: fields(&[
            (
                "pipeline_url",
                "https://66a0b1c2d3e4f5a6b7c8d9e1--petsof.netlify.app",
            ),
            ("branch", "main"),
            ("environment", "production"),
        ]),
        ..CiContext::new(Provider::Netlify)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Vercel

/// `VERCEL=1`; `VERCEL_URL` has no scheme.
#[test]
fn vercel_production() {
    let (got, warnings) = detect_fixture("vercel", "production");
    let want = CiContext {
        commit_sha: s(
            "4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d",
            "VERCEL_GIT_COMMIT_SHA",
        ),
        repo_name: s("acme/web", "VERCEL_GIT_REPO_OWNER, VERCEL_GIT_REPO_SLUG"),
        repo_id: s("117716146", "VERCEL_GIT_REPO_ID"),
        triggered_by: s("monalisa", "VERCEL_GIT_COMMIT_AUTHOR_LOGIN"),
        pipeline_id: s("dpl_7Gw5ZMBpQA8h9GF832KGp7nwbuh3", "VERCEL_DEPLOYMENT_ID"),
        job_id: s("dpl_7Gw5ZMBpQA8h9GF832KGp7nwbuh3", "VERCEL_DEPLOYMENT_ID"),
        context: fields(&[
            ("pipeline_url", "https://web-7q03y4pi5.vercel.app"),
            ("branch", "main"),
            ("environment", "production"),
        ]),
        ..CiContext::new(Provider::Vercel)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// A custom environment: `VERCEL_TARGET_ENV` names it where `VERCEL_ENV` says `preview`.
#[test]
fn vercel_custom_environment() {
    let (got, warnings) = detect_fixture("vercel", "custom_environment");
    let want = CiContext {
        commit_sha: s(
            "5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e",
            "VERCEL_GIT_COMMIT_SHA",
        ),
        repo_name: s("acme/web", "VERCEL_GIT_REPO_OWNER, VERCEL_GIT_REPO_SLUG"),
        repo_id: s("51515151", "VERCEL_GIT_REPO_ID"),
        triggered_by: s("jdoe", "VERCEL_GIT_COMMIT_AUTHOR_LOGIN"),
        pipeline_id: s("dpl_2YxWvUtSrQpOnMlKjIhGfEdCbA98", "VERCEL_DEPLOYMENT_ID"),
        job_id: s("dpl_2YxWvUtSrQpOnMlKjIhGfEdCbA98", "VERCEL_DEPLOYMENT_ID"),
        context: fields(&[
            ("pipeline_url", "https://web-k2j4h5g6f.vercel.app"),
            ("branch", "staging"),
            ("environment", "staging"),
        ]),
        ..CiContext::new(Provider::Vercel)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Render

#[test]
fn render_deploy() {
    let (got, warnings) = detect_fixture("render", "deploy");
    let want = CiContext {
        commit_sha: s(
            "6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f",
            "RENDER_GIT_COMMIT",
        ),
        repo_name: s("acme/web-api", "RENDER_GIT_REPO_SLUG"),
        pipeline_id: s(
            "srv-cq8o1a2j1k3c73b0abcd-7d9f8b6c5-x2x4z",
            "RENDER_INSTANCE_ID",
        ),
        job_id: s(
            "srv-cq8o1a2j1k3c73b0abcd-7d9f8b6c5-x2x4z",
            "RENDER_INSTANCE_ID",
        ),
        context: fields(&[("branch", "main"), ("workflow", "web-api")]),
        ..CiContext::new(Provider::Render)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Heroku

#[test]
fn heroku_ci_test_run() {
    let (got, warnings) = detect_fixture("heroku", "ci");
    let want = CiContext {
        commit_sha: s(
            "7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a",
            "HEROKU_TEST_RUN_COMMIT_VERSION",
        ),
        pipeline_id: s("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "HEROKU_TEST_RUN_ID"),
        job_id: s("0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", "HEROKU_TEST_RUN_ID"),
        context: fields(&[("branch", "main")]),
        ..CiContext::new(Provider::Heroku)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn heroku_release_phase_with_dyno_metadata() {
    let (got, warnings) = detect_fixture("heroku", "release");
    let want = CiContext {
        commit_sha: s(
            "8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b",
            "HEROKU_SLUG_COMMIT",
        ),
        pipeline_id: s("acme-web-v42", "HEROKU_APP_NAME, HEROKU_RELEASE_VERSION"),
        job_id: s("acme-web-v42", "HEROKU_APP_NAME, HEROKU_RELEASE_VERSION"),
        pipeline_started: t(1_717_228_842, "HEROKU_RELEASE_CREATED_AT"),
        context: fields(&[("workflow", "acme-web")]),
        ..CiContext::new(Provider::Heroku)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// Without the labs feature only `SOURCE_VERSION` says what is released.
#[test]
fn heroku_release_phase_without_metadata() {
    let (got, warnings) = detect_fixture("heroku", "release_without_metadata");
    let want = CiContext {
        commit_sha: s("9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c", "SOURCE_VERSION"),
        ..CiContext::new(Provider::Heroku)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Semaphore

/// The promoter beats the workflow's triggerer; a job epilogue knows the job's result.
#[test]
fn semaphore_promotion_epilogue() {
    let (got, warnings) = detect_fixture("semaphore", "promotion");
    let want = CiContext {
        commit_sha: s(
            "5c84719708b9b649b9ef3b56af214f38cee6acde",
            "SEMAPHORE_GIT_SHA",
        ),
        repo_name: s("acme/web", "SEMAPHORE_GIT_REPO_SLUG"),
        triggered_by: s("jane", "SEMAPHORE_PIPELINE_PROMOTED_BY"),
        pipeline_id: s(
            "65ba7b3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            "SEMAPHORE_WORKFLOW_ID",
        ),
        job_id: s("a26d42cf-89ac-4c3f-9e2d-51bb231897bf", "SEMAPHORE_JOB_ID"),
        job_started: t(1_717_228_800, "SEMAPHORE_JOB_CREATION_TIME"),
        status: s("passed", "SEMAPHORE_JOB_RESULT"),
        context: fields(&[
            (
                "pipeline_url",
                "https://acme.semaphoreci.com/workflows/65ba7b3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
            ),
            (
                "job_url",
                "https://acme.semaphoreci.com/jobs/a26d42cf-89ac-4c3f-9e2d-51bb231897bf",
            ),
            ("branch", "main"),
        ]),
        ..CiContext::new(Provider::Semaphore)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// An after-pipeline job: the pipeline's start and result; `none` for the job itself is quiet.
#[test]
fn semaphore_after_pipeline_of_pull_request() {
    let (got, warnings) = detect_fixture("semaphore", "after_pipeline");
    let want = CiContext {
        commit_sha: s(
            "1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e",
            "SEMAPHORE_GIT_SHA",
        ),
        repo_name: s("acme/web", "SEMAPHORE_GIT_REPO_SLUG"),
        // `auto-promotion` is not a person.
        triggered_by: s("octocat", "SEMAPHORE_WORKFLOW_TRIGGERED_BY"),
        pipeline_id: s(
            "75cb8c4f-2d3e-4f60-9bac-1d2e3f4a5b6c",
            "SEMAPHORE_WORKFLOW_ID",
        ),
        job_id: s("b37e53d0-9abd-4d50-af3e-62cc342908c0", "SEMAPHORE_JOB_ID"),
        pipeline_started: t(1_717_229_005, "SEMAPHORE_PIPELINE_STARTED_AT"),
        job_started: t(1_717_229_500, "SEMAPHORE_JOB_CREATION_TIME"),
        status: s("failed", "SEMAPHORE_PIPELINE_RESULT"),
        context: fields(&[
            (
                "pipeline_url",
                "https://acme.semaphoreci.com/workflows/75cb8c4f-2d3e-4f60-9bac-1d2e3f4a5b6c",
            ),
            (
                "job_url",
                "https://acme.semaphoreci.com/jobs/b37e53d0-9abd-4d50-af3e-62cc342908c0",
            ),
            ("branch", "feature/login"),
        ]),
        ..CiContext::new(Provider::Semaphore)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Vela

/// `VELA_BUILD_STATUS=running` is not an outcome and is dropped quietly.
#[test]
fn vela_push() {
    let (got, warnings) = detect_fixture("vela", "push");
    let want = CiContext {
        commit_sha: s(
            "7fd1a60b01f91b314f59955a4e4d4e80d8edf11d",
            "VELA_BUILD_COMMIT",
        ),
        repo_name: s("octocat/hello-world", "VELA_REPO_FULL_NAME"),
        triggered_by: s("NealColeman", "VELA_BUILD_SENDER"),
        pipeline_id: s("1", "VELA_BUILD_NUMBER"),
        job_id: s("1", "VELA_BUILD_NUMBER"),
        pipeline_started: t(1_556_730_001, "VELA_BUILD_STARTED"),
        job_started: t(1_556_730_042, "VELA_STEP_STARTED"),
        context: fields(&[
            (
                "pipeline_url",
                "https://vela.example.com/octocat/hello-world/1",
            ),
            ("branch", "main"),
            ("trigger_event", "push"),
        ]),
        ..CiContext::new(Provider::Vela)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn vela_deployment() {
    let (got, warnings) = detect_fixture("vela", "deployment");
    let want = CiContext {
        commit_sha: s(
            "2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f",
            "VELA_BUILD_COMMIT",
        ),
        repo_name: s("acme/web", "VELA_REPO_FULL_NAME"),
        triggered_by: s("jane", "VELA_BUILD_SENDER"),
        pipeline_id: s("12", "VELA_BUILD_NUMBER"),
        job_id: s("12", "VELA_BUILD_NUMBER"),
        pipeline_started: t(1_717_228_800, "VELA_BUILD_STARTED"),
        job_started: t(1_717_228_860, "VELA_STEP_STARTED"),
        status: s("failure", "VELA_BUILD_STATUS"),
        context: fields(&[
            ("pipeline_url", "https://vela.example.com/acme/web/12"),
            ("branch", "main"),
            ("environment", "production"),
            ("trigger_event", "deployment"),
        ]),
        ..CiContext::new(Provider::Vela)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Harness

/// Harness sets `DRONE=true`; it is Harness, not Drone.
#[test]
fn harness_push() {
    let (got, warnings) = detect_fixture("harness", "push");
    let want = CiContext {
        commit_sha: s(
            "3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a",
            "DRONE_COMMIT_SHA",
        ),
        repo_name: s("acme/web", "DRONE_REPO"),
        triggered_by: s("mona@example.com", "DRONE_COMMIT_AUTHOR_EMAIL"),
        pipeline_id: s("Zb4a9yQeS2uM3oXw1cD7Fg", "HARNESS_EXECUTION_ID"),
        job_id: s(
            "Zb4a9yQeS2uM3oXw1cD7Fg-deploy",
            "HARNESS_EXECUTION_ID, HARNESS_STAGE_ID",
        ),
        pipeline_started: t(1_717_228_800, "DRONE_BUILD_STARTED"),
        job_started: t(1_717_228_860, "DRONE_STAGE_STARTED"),
        status: s("success", "DRONE_BUILD_STATUS"),
        context: fields(&[
            (
                "pipeline_url",
                "https://app.harness.io/ng/account/kmpySmUISimoRrJL6NL73w/ci/orgs/default/projects/web/pipelines/web_release/executions/Zb4a9yQeS2uM3oXw1cD7Fg/pipeline",
            ),
            ("branch", "main"),
            ("workflow", "web_release"),
            ("trigger_event", "push"),
        ]),
        ..CiContext::new(Provider::Harness)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Screwdriver

#[test]
fn screwdriver_main() {
    let (got, warnings) = detect_fixture("screwdriver", "main");
    let want = CiContext {
        commit_sha: s("b5a94cdabf23b21303a0e6d5be5e96bd6300847a", "SD_BUILD_SHA"),
        repo_name: s("d2lam/myPipeline", "SD_PIPELINE_NAME"),
        pipeline_id: s("1234", "SD_EVENT_ID"),
        job_id: s("173", "SD_BUILD_ID"),
        context: fields(&[
            (
                "job_url",
                "https://cd.screwdriver.cd/pipelines/259/builds/173",
            ),
            ("branch", "main"),
            ("workflow", "main"),
        ]),
        ..CiContext::new(Provider::Screwdriver)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// CodeShip

#[test]
fn codeship_basic() {
    let (got, warnings) = detect_fixture("codeship", "basic");
    let want = CiContext {
        commit_sha: s("26e646685c1e625939f6b2de0e5f30b59cc34d60", "CI_COMMIT_ID"),
        repo_name: s("OndraM/ci-detector", "CI_REPO_NAME"),
        triggered_by: s("ondrej@example.com", "CI_COMMITTER_EMAIL"),
        pipeline_id: s("17594878", "CI_BUILD_NUMBER"),
        job_id: s("17594878", "CI_BUILD_NUMBER"),
        context: fields(&[
            (
                "pipeline_url",
                "https://app.codeship.com/projects/169447/builds/17594878",
            ),
            ("branch", "main"),
        ]),
        ..CiContext::new(Provider::Codeship)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// JetBrains Space

#[test]
fn jetbrains_space_push() {
    let (got, warnings) = detect_fixture("jetbrains-space", "push");
    let want = CiContext {
        commit_sha: s(
            "4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b",
            "JB_SPACE_GIT_REVISION",
        ),
        repo_name: s(
            "acme/web",
            "JB_SPACE_PROJECT_KEY, JB_SPACE_GIT_REPOSITORY_NAME",
        ),
        pipeline_id: s("ACME-31", "JB_SPACE_PROJECT_KEY, JB_SPACE_EXECUTION_NUMBER"),
        job_id: s("ACME-31", "JB_SPACE_PROJECT_KEY, JB_SPACE_EXECUTION_NUMBER"),
        context: fields(&[("branch", "main")]),
        ..CiContext::new(Provider::JetBrainsSpace)
    };
    assert_eq!(got, want);
    assert!(warnings.is_empty(), "{warnings:?}");
}

// Scrutinizer

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

// Variations on the fixtures

#[test]
fn appveyor_tag_build_has_no_branch() {
    let mut env = fixture("appveyor", "push");
    env.insert("APPVEYOR_REPO_TAG", "True");
    env.insert("APPVEYOR_REPO_TAG_NAME", "v1.2.0");
    let ctx = detect(&env);
    assert!(ctx.context.iter().all(|c| c.key != "branch"), "{ctx:?}");
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

#[test]
fn heroku_needs_more_than_a_dyno() {
    let env = Env::from_pairs([("DYNO", "web.1"), ("PORT", "5000")]);
    assert_eq!(detect(&env).provider, Provider::Local);
    let env = Env::from_pairs([("DYNO", "release.1"), ("HEROKU_SLUG_COMMIT", "abc123")]);
    assert_eq!(detect(&env).provider, Provider::Heroku);
}

#[test]
fn codeship_name_is_case_insensitive_and_a_bare_repo_name_warns() {
    let mut env = fixture("codeship", "basic");
    env.insert("CI_NAME", "CodeShip");
    env.insert("CI_REPO_NAME", "ci-detector");
    let ctx = detect(&env);
    assert_eq!(ctx.provider, Provider::Codeship);
    assert_eq!(ctx.repo_name, None);
    assert_one_warning(&ctx.warnings, "ignoring CI_REPO_NAME=");
}

#[test]
fn harness_is_never_drone() {
    // Harness always sets DRONE=true; either of its markers is enough to be Harness.
    let env = Env::from_pairs(
        fixture("harness", "push")
            .pairs()
            .filter(|(k, _)| k != "HARNESS_BUILD_ID"),
    );
    assert_eq!(detect(&env).provider, Provider::Harness);
    let mut env = fixture("drone", "push");
    env.insert("HARNESS_PIPELINE_ID", "web_release");
    assert_eq!(detect(&env).provider, Provider::Harness);
    let mut env = fixture("drone", "push");
    env.insert("HARNESS_BUILD_ID", "false");
    assert_eq!(detect(&env).provider, Provider::Drone);
}

#[test]
fn semaphore_tag_has_no_branch() {
    let mut env = fixture("semaphore", "promotion");
    env.insert("SEMAPHORE_GIT_REF_TYPE", "tag");
    env.insert("SEMAPHORE_GIT_BRANCH", "refs/tags/v1.2.3");
    env.insert("SEMAPHORE_GIT_TAG_NAME", "v1.2.3");
    let ctx = detect(&env);
    assert!(ctx.context.iter().all(|c| c.key != "branch"), "{ctx:?}");
}

#[test]
fn screwdriver_local_mode_is_not_a_deploy() {
    let mut env = fixture("screwdriver", "main");
    env.insert("SCREWDRIVER", "false");
    assert_eq!(detect(&env).provider, Provider::Local);
}

#[test]
fn cirrus_tag_has_no_branch() {
    let mut env = fixture("cirrus-ci", "push");
    env.insert("CIRRUS_TAG", "v1.0");
    let ctx = detect(&env);
    assert!(ctx.context.iter().all(|c| c.key != "branch"), "{ctx:?}");
}

#[test]
fn vela_unknown_status_warns() {
    let mut env = fixture("vela", "deployment");
    env.insert("VELA_BUILD_STATUS", "exploded");
    let ctx = detect(&env);
    assert_eq!(ctx.status, None);
    assert_one_warning(&ctx.warnings, "ignoring VELA_BUILD_STATUS=");
}

#[test]
fn time_and_slug_helpers() {
    let env = Env::from_pairs([
        ("MS", "1717228800123"),
        ("NEG", "-1500"),
        ("HUGE", "99999999999999999999999"),
        ("SECS", "1717228800"),
        ("OWNER", "acme/"),
        ("NAME", "/web"),
    ]);
    let mut ctx = CiContext::new(Provider::Local);
    assert_eq!(
        time_from_millis(&mut ctx, &env, "MS"),
        t(1_717_228_800, "MS")
    );
    assert_eq!(time_from_millis(&mut ctx, &env, "NEG"), t(-2, "NEG"));
    assert_eq!(time_from_millis(&mut ctx, &env, "HUGE"), None);
    assert_eq!(time_from_millis(&mut ctx, &env, "UNSET"), None);
    assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
    assert_eq!(
        time_from_seconds_or_millis(&mut ctx, &env, "SECS"),
        t(1_717_228_800, "SECS")
    );
    assert_eq!(
        time_from_seconds_or_millis(&mut ctx, &env, "MS"),
        t(1_717_228_800, "MS")
    );
    assert_eq!(
        slug_from_parts(&env, "OWNER", "NAME"),
        s("acme/web", "OWNER, NAME")
    );
    assert_eq!(slug_from_parts(&env, "OWNER", "UNSET"), None);
}

// Detection order and invariants over every provider

/// The detectors run in SPEC.md's order: the first eleven, then `spec/providers.md`'s table.
#[test]
fn detectors_are_in_spec_order() {
    let ids: Vec<&str> = DETECTORS.iter().map(|(p, _)| p.id()).collect();
    assert_eq!(
        ids,
        [
            "github-actions",
            "gitlab-ci",
            "jenkins",
            "circleci",
            "bitbucket-pipelines",
            "azure-pipelines",
            "buildkite",
            "travis-ci",
            "teamcity",
            "drone",
            "woodpecker",
            "appveyor",
            "aws-codebuild",
            "bitrise",
            "buddy",
            "codefresh",
            "bamboo",
            "cirrus-ci",
            "cloudflare-pages",
            "netlify",
            "vercel",
            "render",
            "heroku",
            "semaphore",
            "vela",
            "harness",
            "screwdriver",
            "codeship",
            "jetbrains-space",
            "scrutinizer",
        ]
    );
    for (provider, detect) in DETECTORS {
        assert_eq!(
            detect(&Env::default()),
            None,
            "{} on an empty environment",
            provider.id()
        );
    }
}

/// No later provider can steal an earlier one's fixture, nor an earlier one a later one's:
/// every fixture under `tests/fixtures/env/<dir>/` is matched by its own detector and by no
/// other, whatever the order, and every provider has a fixture.
#[test]
fn every_fixture_matches_exactly_one_detector() {
    let mut covered = BTreeSet::new();
    let mut seen = 0;
    for dir_entry in fs::read_dir(root().join("tests/fixtures/env")).expect("fixture dir") {
        let dir_path = dir_entry.expect("entry").path();
        let dir = dir_path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name")
            .to_string();
        for case_entry in fs::read_dir(&dir_path).expect("provider dir") {
            let case_path = case_entry.expect("entry").path();
            let case = case_path
                .file_stem()
                .and_then(|n| n.to_str())
                .expect("utf-8 name")
                .to_string();
            let env = fixture(&dir, &case);
            let matched: Vec<Provider> = DETECTORS
                .iter()
                .filter(|(_, detect)| detect(&env).is_some())
                .map(|(p, _)| *p)
                .collect();
            let names: Vec<&str> = matched.iter().map(|p| provider_dir(*p)).collect();
            assert_eq!(names, [dir.as_str()], "{dir}/{case}");
            assert_eq!(detect(&env).provider, matched[0], "{dir}/{case}");
            covered.insert(matched[0].id());
            seen += 1;
        }
    }
    let missing: Vec<&str> = DETECTORS
        .iter()
        .map(|(p, _)| p.id())
        .filter(|id| !covered.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "providers without a fixture: {missing:?}"
    );
    assert!(seen >= 60, "only {seen} fixtures");
}

// No value of a provider's variables makes detection panic

/// Variables that together detect one provider.
type MarkerSet = &'static [(&'static str, &'static str)];

/// Each provider's source and marker sets: the variables a provider reads are the string
/// literals in its file that look like variable names, so a variable added later is covered
/// without editing this list.
const SOURCES: [(Provider, &str, &[MarkerSet]); 30] = [
    (
        Provider::GitHub,
        include_str!("github.rs"),
        &[&[("GITHUB_ACTIONS", "true")]],
    ),
    (
        Provider::GitLab,
        include_str!("gitlab.rs"),
        &[&[("GITLAB_CI", "false")]],
    ),
    (
        Provider::Jenkins,
        include_str!("jenkins.rs"),
        &[&[("JENKINS_URL", "https://j/")]],
    ),
    (
        Provider::CircleCi,
        include_str!("circleci.rs"),
        &[&[("CIRCLECI", "1")]],
    ),
    (
        Provider::Bitbucket,
        include_str!("bitbucket.rs"),
        &[&[("BITBUCKET_BUILD_NUMBER", "7")]],
    ),
    (
        Provider::Azure,
        include_str!("azure.rs"),
        &[&[("TF_BUILD", "True")]],
    ),
    (
        Provider::Buildkite,
        include_str!("buildkite.rs"),
        &[&[("BUILDKITE", "true")]],
    ),
    (
        Provider::Travis,
        include_str!("travis.rs"),
        &[&[("TRAVIS", "true")]],
    ),
    (
        Provider::TeamCity,
        include_str!("teamcity.rs"),
        &[&[("TEAMCITY_VERSION", "2024.03")]],
    ),
    (
        Provider::Drone,
        include_str!("drone.rs"),
        &[&[("DRONE", "true"), ("CI", "drone")]],
    ),
    (
        Provider::Woodpecker,
        include_str!("woodpecker.rs"),
        &[&[("CI", "woodpecker")]],
    ),
    (
        Provider::AppVeyor,
        include_str!("appveyor.rs"),
        &[&[("APPVEYOR", "True")]],
    ),
    (
        Provider::CodeBuild,
        include_str!("codebuild.rs"),
        &[&[("CODEBUILD_BUILD_ID", "p:1")]],
    ),
    (
        Provider::Bitrise,
        include_str!("bitrise.rs"),
        &[&[("BITRISE_IO", "true")], &[("BITRISE_BUILD_SLUG", "abc")]],
    ),
    (
        Provider::Buddy,
        include_str!("buddy.rs"),
        &[&[("BUDDY", "true")], &[("BUDDY_WORKSPACE_ID", "1")]],
    ),
    (
        Provider::Codefresh,
        include_str!("codefresh.rs"),
        &[&[("CF_BUILD_ID", "abc")]],
    ),
    (
        Provider::Bamboo,
        include_str!("bamboo.rs"),
        &[&[("bamboo_buildKey", "A-B-J")], &[("bamboo_agentId", "1")]],
    ),
    (
        Provider::Cirrus,
        include_str!("cirrus.rs"),
        &[&[("CIRRUS_CI", "true")]],
    ),
    (
        Provider::CloudflarePages,
        include_str!("cloudflare_pages.rs"),
        &[&[("CF_PAGES", "1")]],
    ),
    (
        Provider::Netlify,
        include_str!("netlify.rs"),
        &[&[("NETLIFY", "true")]],
    ),
    (
        Provider::Vercel,
        include_str!("vercel.rs"),
        &[&[("VERCEL", "1")]],
    ),
    (
        Provider::Render,
        include_str!("render.rs"),
        &[&[("RENDER", "true")]],
    ),
    (
        Provider::Heroku,
        include_str!("heroku.rs"),
        &[
            &[("HEROKU_TEST_RUN_ID", "x")],
            &[("DYNO", "release.1"), ("SOURCE_VERSION", "abc")],
            &[("DYNO", "release.1"), ("HEROKU_SLUG_COMMIT", "abc")],
        ],
    ),
    (
        Provider::Semaphore,
        include_str!("semaphore.rs"),
        &[&[("SEMAPHORE", "true")]],
    ),
    (
        Provider::Vela,
        include_str!("vela.rs"),
        &[&[("VELA", "true")]],
    ),
    (
        Provider::Harness,
        include_str!("harness.rs"),
        &[
            &[("HARNESS_BUILD_ID", "7"), ("DRONE", "true")],
            &[("HARNESS_PIPELINE_ID", "p")],
        ],
    ),
    (
        Provider::Screwdriver,
        include_str!("screwdriver.rs"),
        &[&[("SCREWDRIVER", "true")]],
    ),
    (
        Provider::Codeship,
        include_str!("codeship.rs"),
        &[&[("CI_NAME", "codeship")]],
    ),
    (
        Provider::JetBrainsSpace,
        include_str!("jetbrains_space.rs"),
        &[&[("JB_SPACE_EXECUTION_NUMBER", "1")]],
    ),
    (
        Provider::Scrutinizer,
        include_str!("scrutinizer.rs"),
        &[&[("SCRUTINIZER", "true")]],
    ),
];

/// The quoted names in `source` that look like environment variables (`"CI_COMMIT_SHA"`,
/// `"bamboo_buildKey"`). `GITHUB_EVENT_PATH` is left out: it names a file to read, which
/// `tests/it/props.rs` covers with generated event files.
fn variables(source: &str) -> Vec<&str> {
    let mut names: Vec<&str> = source
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            let upper = s.len() >= 2
                && s.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
                && s.bytes().next().is_some_and(|b| b.is_ascii_uppercase());
            let bamboo = s.starts_with("bamboo_")
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            (upper || bamboo) && *s != "GITHUB_EVENT_PATH"
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

#[test]
fn every_provider_reads_the_variables_the_property_test_sets() {
    assert_eq!(
        SOURCES.map(|(p, _, _)| p),
        DETECTORS.map(|(p, _)| p),
        "one entry per detector, in order"
    );
    for (provider, source, markers) in SOURCES {
        let vars = variables(source);
        assert!(vars.len() >= 3, "{}: {vars:?}", provider.id());
        for set in markers {
            let env = Env::from_pairs(set.iter().copied());
            assert_eq!(detect(&env).provider, provider, "{set:?}");
        }
    }
    assert!(variables(include_str!("codebuild.rs")).contains(&"CODEBUILD_START_TIME"));
    assert!(variables(include_str!("bamboo.rs")).contains(&"bamboo_buildTimeStamp"));
}

/// Values a CI system might put in a variable, or that a broken one might: anything at all,
/// empty and blank, unicode, very long, numbers of every size (epoch seconds and
/// milliseconds, overflowing ones), malformed times, refs, and URLs of every shape.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        prop::collection::vec(any::<char>(), 0..4000).prop_map(String::from_iter),
        Just(String::new()),
        Just(" ".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("0".to_string()),
        Just("1".to_string()),
        "-?[0-9]{1,30}",
        "[0-9a-fA-F]{0,70}",
        "[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2})?([.,][0-9]{0,9})?)?(Z|[+-][0-9]{1,2}(:?[0-9]{1,2})?)?",
        "refs/(heads|tags|pull|remotes)/[a-z/.]{0,12}",
        "origin/[a-z/]{0,12}",
        "(codepipeline|GitHub-Hookshot)/[a-z0-9]{0,8}",
        "(https?|ssh|s3|file|git)://([a-z]+(:[a-z]*)?@)?[a-z.-]{0,16}(:[0-9]{0,6})?(/[a-zA-Z0-9._~%-]{0,10}){0,6}(\\.git)?/?",
        "https://git-codecommit\\.[a-z0-9-]{0,12}\\.amazonaws\\.com/v1/repos/[a-z/]{0,10}",
        "([a-z]+@)?[a-z.]{0,10}:[a-zA-Z0-9/._-]{0,30}",
        "[a-zA-Z]/[a-z/]{0,12}",
        "[a-z]{0,6}(/[a-z]{0,6}){0,3}",
        "(passed|failed|stopped|canceled|none|running|success|failure|auto-promotion)",
    ]
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        // Regressions are reported in the failure message; no files in the source tree.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    /// For every provider: arbitrary values for the variables it reads, then one of its
    /// marker sets, never make detection panic, and the provider is still a CI system.
    #[test]
    fn no_provider_detection_panics(
        picks in prop::collection::vec((any::<prop::sample::Index>(), value()), 0..32),
        marker_pick in any::<prop::sample::Index>(),
    ) {
        for (provider, source, markers) in SOURCES {
            let vars = variables(source);
            let mut pairs: Vec<(String, String)> = picks
                .iter()
                .map(|(i, v)| (vars[i.index(vars.len())].to_string(), v.clone()))
                .collect();
            // The markers last, so a generated value does not switch them off.
            let set = markers[marker_pick.index(markers.len())];
            pairs.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
            let ctx = detect(&Env::from_pairs(pairs));
            prop_assert!(ctx.provider.is_ci(), "{}: {:?}", provider.id(), ctx.provider);
            for field in &ctx.context {
                prop_assert!(!field.value.is_empty(), "{}: empty {}", provider.id(), field.key);
            }
        }
    }
}
