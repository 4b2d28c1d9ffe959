//! TeamCity (`TEAMCITY_VERSION`).
//!
//! TeamCity puts few of its parameters into the environment by default: the commit
//! (`BUILD_VCS_NUMBER`, with a single VCS root), the build number and the configuration's
//! names. The VCS root URL, branch, internal build id and triggering user are configuration
//! parameters (`%vcsroot.url%`, `%teamcity.build.branch%`, …) that a build step can pass on as
//! `ALLSTACKS_*` variables; the repository otherwise comes from the agent's git checkout.

use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless `TEAMCITY_VERSION` is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("TEAMCITY_VERSION") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::TeamCity);
    ctx.commit_sha = env.sourced("BUILD_VCS_NUMBER");
    // The build number counts per build configuration (and can be customised); it is what
    // TeamCity shows, and a TeamCity build is a single job, so both scopes share it, after the
    // repository (`{repo}#{number}`).
    ctx.pipeline_id = env.sourced("BUILD_NUMBER");
    ctx.job_id = ctx.pipeline_id.clone();
    (ctx.pipeline_id_per_repo, ctx.job_id_per_repo) = (true, true);

    // TeamCity itself shows a configuration as "Project / Configuration".
    let workflow = match (
        env.get("TEAMCITY_PROJECT_NAME"),
        env.get("TEAMCITY_BUILDCONF_NAME"),
    ) {
        (Some(project), Some(conf)) => Some(format!("{project} / {conf}")),
        (project, conf) => conf.or(project).map(str::to_string),
    };
    ctx.add_context("workflow", workflow);
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

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
            pipeline_id_per_repo: true,
            job_id_per_repo: true,
            ..CiContext::new(Provider::TeamCity)
        };
        assert_eq!(got, want);
        assert!(warnings.is_empty(), "{warnings:?}");
    }
}
