//! Records of deployments that happened elsewhere, turned into a [`CiContext`]: one function per
//! record kind, shared by every path that meets that record (a GitHub `deployment_status` seen as
//! the event of a workflow, in a `backfill` page, or in a webhook to `serve`).
//!
//! A mapping says what the record tells: its job id, commit, repository, who triggered it, its
//! start and end, its status word and context fields, each tagged with where it came from
//! (`origin` is the prefix: `GITHUB_EVENT_PATH`, `GitHub API`, `webhook`). Precedence, the
//! contract and delivery are the shared stages after it.
//!
//! Argo CD and Flux have no CI job of their own: their records come only as webhook bodies to
//! `serve` (`argocd`, `flux`).

pub mod argocd;
pub mod flux;
pub mod git;
pub mod github;
pub mod gitlab;

use crate::context::CiContext;
use crate::env::Sourced;

/// `Some(value)` tagged `{origin} {field}`, for a present, non-blank value.
fn tagged(origin: &str, field: &str, value: Option<&str>) -> Option<Sourced<String>> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    Some(Sourced::new(value.to_string(), format!("{origin} {field}")))
}

/// A time field: parsed, or a warning on the context and `None`.
fn time(ctx: &mut CiContext, origin: &str, field: &str, raw: Option<&str>) -> Option<Sourced<i64>> {
    let raw = raw.map(str::trim).filter(|v| !v.is_empty())?;
    match crate::timefmt::parse_timestamp(raw) {
        Ok(t) => Some(Sourced::new(t, format!("{origin} {field}"))),
        Err(e) => {
            ctx.warnings.push(format!("ignoring {origin} {field}: {e}"));
            None
        }
    }
}
