//! AppVeyor (`APPVEYOR`: `True` on Windows images, `true` on Ubuntu).
//!
//! AppVeyor gives the commit, the `owner/name` slug, build and job ids and the commit author's
//! email. It names nobody who started the build and has no start time or outcome variable;
//! the web links are built from the server URL, account and project slug.

use crate::client;
use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `APPVEYOR` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("APPVEYOR") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::AppVeyor);
    ctx.commit_sha = env.sourced("APPVEYOR_REPO_COMMIT");
    ctx.repo_name = env.sourced("APPVEYOR_REPO_NAME");
    // The author's email is the only person AppVeyor names (there is no committer variable).
    ctx.triggered_by = env.sourced("APPVEYOR_REPO_COMMIT_AUTHOR_EMAIL");
    // APPVEYOR_BUILD_ID is unique across projects, unlike APPVEYOR_BUILD_NUMBER.
    ctx.pipeline_id = env.sourced("APPVEYOR_BUILD_ID");
    ctx.job_id = env.sourced("APPVEYOR_JOB_ID");

    // https://ci.appveyor.com/project/{account}/{slug}/builds/{build id}, and
    // .../build/job/{job id}; on-premise servers give their own APPVEYOR_URL.
    let project = match (
        env.get("APPVEYOR_ACCOUNT_NAME"),
        env.get("APPVEYOR_PROJECT_SLUG"),
    ) {
        (Some(account), Some(slug)) => Some(format!(
            "{}/project/{}/{}",
            env.get("APPVEYOR_URL")
                .unwrap_or("https://ci.appveyor.com")
                .trim_end_matches('/'),
            client::encode_component(account),
            client::encode_component(slug),
        )),
        _ => None,
    };
    let pipeline_url = match (&project, env.get("APPVEYOR_BUILD_ID")) {
        (Some(p), Some(build)) => Some(format!("{p}/builds/{}", client::encode_component(build))),
        _ => None,
    };
    let job_url = match (&project, env.get("APPVEYOR_JOB_ID")) {
        (Some(p), Some(job)) => Some(format!("{p}/build/job/{}", client::encode_component(job))),
        _ => None,
    };
    ctx.add_context("pipeline_url", pipeline_url);
    ctx.add_context("job_url", job_url);
    // APPVEYOR_REPO_BRANCH is a pull request's base branch; a tag build has no branch.
    let branch = (!env.marker("APPVEYOR_REPO_TAG"))
        .then(|| {
            env.first(&[
                "APPVEYOR_PULL_REQUEST_HEAD_REPO_BRANCH",
                "APPVEYOR_REPO_BRANCH",
            ])
        })
        .flatten()
        .map(|(_, v)| v);
    ctx.add_context("branch", branch);
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

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

    #[test]
    fn appveyor_tag_build_has_no_branch() {
        let mut env = fixture("appveyor", "push");
        env.insert("APPVEYOR_REPO_TAG", "True");
        env.insert("APPVEYOR_REPO_TAG_NAME", "v1.2.0");
        let ctx = detect(&env);
        assert!(ctx.context.iter().all(|c| c.key != "branch"), "{ctx:?}");
    }
}
