//! JetBrains Space Automation (`JB_SPACE_EXECUTION_NUMBER`).
//!
//! Space gives the revision, the branch ref, the project key, the repository's name and the
//! execution number. The repository is named `{project key}/{repository}` with the key in
//! lower case, as in Space's own Git URLs. There is no user, start time, outcome or URL.

use super::vars;
use crate::context::{CiContext, Provider};
use crate::env::{Env, Sourced};

/// `None` unless the `JB_SPACE_EXECUTION_NUMBER` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("JB_SPACE_EXECUTION_NUMBER") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::JetBrainsSpace);
    ctx.commit_sha = env.sourced("JB_SPACE_GIT_REVISION");
    ctx.repo_name = match (
        env.get("JB_SPACE_PROJECT_KEY"),
        env.get("JB_SPACE_GIT_REPOSITORY_NAME"),
    ) {
        (Some(key), Some(repo)) => Some(Sourced::new(
            format!("{}/{repo}", key.to_ascii_lowercase()),
            "JB_SPACE_PROJECT_KEY, JB_SPACE_GIT_REPOSITORY_NAME",
        )),
        _ => None,
    };
    // The execution number counts per project: the project key keeps projects apart.
    ctx.pipeline_id = vars::joined(env, &["JB_SPACE_PROJECT_KEY", "JB_SPACE_EXECUTION_NUMBER"]);
    ctx.job_id = ctx.pipeline_id.clone();

    ctx.add_context(
        "branch",
        env.get("JB_SPACE_GIT_BRANCH")
            .and_then(vars::branch_from_ref),
    );
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

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
}
