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

/// The longest `failure_reason` sent (characters).
pub const FAILURE_REASON_MAX: usize = 200;

/// A platform's words on why a deployment failed, fit for a `failure_reason` string field: line
/// breaks and other control characters shown as escapes (`\n`), cut to
/// [`FAILURE_REASON_MAX`] characters (the last one `…` when cut). `None` when blank.
pub fn failure_reason(text: Option<&str>) -> Option<String> {
    let text = crate::ui::neutralise(text?.trim());
    if text.is_empty() {
        return None;
    }
    if text.chars().count() <= FAILURE_REASON_MAX {
        return Some(text);
    }
    let mut cut: String = text.chars().take(FAILURE_REASON_MAX - 1).collect();
    cut.push('…');
    Some(cut)
}

/// A ref that names a branch, not a commit: a deployment of `a2e7da8…` has no branch.
fn branch_of(git_ref: Option<&str>) -> Option<&str> {
    let r = git_ref.map(str::trim).filter(|r| !r.is_empty())?;
    let hex = r.len() >= 7 && r.bytes().all(|b| b.is_ascii_hexdigit());
    (!hex && r != "HEAD").then_some(r)
}

/// Seconds between two times, when both are known and in order.
fn seconds_between(from: Option<&Sourced<i64>>, to: Option<&Sourced<i64>>) -> Option<i64> {
    let (from, to) = (from?.value, to?.value);
    (to >= from).then_some(to - from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reasons_are_one_escaped_line_of_at_most_200_characters() {
        assert_eq!(
            failure_reason(Some("one or more objects failed to apply\nreason: x")),
            Some("one or more objects failed to apply\\nreason: x".into())
        );
        let long = "é".repeat(300);
        let cut = failure_reason(Some(&long)).unwrap();
        assert_eq!(cut.chars().count(), FAILURE_REASON_MAX);
        assert!(cut.ends_with('…'));
        assert_eq!(failure_reason(Some("  ")), None);
        assert_eq!(failure_reason(None), None);
    }

    #[test]
    fn branches_are_not_shas() {
        assert_eq!(branch_of(Some("main")), Some("main"));
        assert_eq!(branch_of(Some("topic-branch")), Some("topic-branch"));
        assert_eq!(
            branch_of(Some("f95f852bd8fca8fcc58a9a2d6c842781e32a215e")),
            None
        );
        assert_eq!(branch_of(Some("HEAD")), None);
        assert_eq!(branch_of(Some("")), None);
    }
}
