//! Cloudflare Pages (`CF_PAGES`, set to `1` in the build).
//!
//! Pages gives only the commit, the branch and the deployment's own URL: no repository, build
//! id, user or time. The repository comes from the build's git checkout, the job id from the
//! commit and start (see SPEC.md), the start from `allstacks-cd run`.

use crate::context::{CiContext, Provider};
use crate::env::Env;

/// `None` unless the `CF_PAGES` marker is set.
pub fn detect(env: &Env) -> Option<CiContext> {
    if !env.marker("CF_PAGES") {
        return None;
    }
    let mut ctx = CiContext::new(Provider::CloudflarePages);
    ctx.commit_sha = env.sourced("CF_PAGES_COMMIT_SHA");
    // Each deployment has its own URL (`https://<hash>.<project>.pages.dev`), the only link
    // to it that the build knows.
    ctx.add_context("pipeline_url", env.get("CF_PAGES_URL"));
    ctx.add_context("branch", env.get("CF_PAGES_BRANCH"));
    Some(ctx)
}

#[cfg(test)]
mod tests {
    use crate::ci::test_support::*;

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
}
