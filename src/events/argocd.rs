//! Argo CD syncs (SPEC `spec/relay.md`, "Argo CD body"): the JSON that the Notifications
//! template in `docs/relay-senders.md` posts, built only from Argo CD's own template variables.
//! Argo CD runs no CI job, so this body is the only record of a sync.

use serde::Deserialize;

use super::{tagged, time};
use crate::context::{CiContext, Provider};
use crate::env::Sourced;

/// One finished sync operation of an application.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Sync {
    pub app: Option<String>,
    pub project: Option<String>,
    /// The synced Git commit; for an app from a Helm repository, a chart version instead.
    pub revision: Option<String>,
    pub repo_url: Option<String>,
    /// `Succeeded`, `Failed`, `Error`, `Running`, `Terminating`.
    pub phase: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub initiated_by: Option<String>,
    pub destination: Option<String>,
}

/// A sync as a job: `argocd-{app}-{epoch of started_at}`, from its start to its end; the
/// phase `Succeeded` → Succeeded, `Failed` or `Error` → Failed, anything else is skipped (a
/// sync still running, or terminating, is not an outcome).
pub fn sync(s: &Sync, origin: &str) -> CiContext {
    let mut ctx = CiContext::new(Provider::ArgoCd);
    ctx.event = Some("argocd");
    ctx.pipeline_started = time(&mut ctx, origin, "started_at", s.started_at.as_deref());
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = time(&mut ctx, origin, "finished_at", s.finished_at.as_deref());
    let app = s.app.as_deref().map(str::trim).filter(|a| !a.is_empty());
    if let (Some(app), Some(start)) = (app, &ctx.pipeline_started) {
        let id = Sourced::new(
            format!("argocd-{app}-{}", start.value),
            format!("{origin} app, started_at"),
        );
        ctx.pipeline_id = Some(id.clone());
        ctx.job_id = Some(id);
    }
    ctx.commit_sha = tagged(origin, "revision", s.revision.as_deref());
    ctx.repo_name = s
        .repo_url
        .as_deref()
        .and_then(crate::git::repo_slug_from_url)
        .map(|slug| Sourced::new(slug, format!("{origin} repo_url")));
    ctx.triggered_by = tagged(origin, "initiated_by", s.initiated_by.as_deref());
    ctx.status = phase_word(origin, s.phase.as_deref());
    ctx.add_context("argocd_app", app);
    ctx.add_context("argocd_project", s.project.as_deref());
    ctx.add_context("destination", s.destination.as_deref());
    ctx
}

fn phase_word(origin: &str, phase: Option<&str>) -> Option<Sourced<String>> {
    let raw = phase?.trim();
    let word = match raw.to_ascii_lowercase().as_str() {
        "succeeded" => "success",
        "failed" | "error" => "failed",
        _ => "skipped",
    };
    Some(Sourced::new(
        word.to_string(),
        format!("{origin} phase {raw:?}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "a2e7da86cc392417b0d9f605b28038aae80b002f";

    fn body() -> Sync {
        Sync {
            app: Some("web".into()),
            project: Some("default".into()),
            revision: Some(SHA.into()),
            repo_url: Some("https://github.com/acme/web.git".into()),
            phase: Some("Succeeded".into()),
            started_at: Some("2026-05-01T10:00:00Z".into()),
            finished_at: Some("2026-05-01T10:03:20Z".into()),
            initiated_by: Some("alice".into()),
            destination: Some("https://kubernetes.default.svc/web-prod".into()),
        }
    }

    #[test]
    fn a_sync_is_a_job() {
        let ctx = sync(&body(), "webhook");
        assert_eq!(ctx.job_id.unwrap().value, "argocd-web-1777629600");
        assert_eq!(ctx.commit_sha.unwrap().value, SHA);
        assert_eq!(ctx.repo_name.unwrap().value, "acme/web");
        assert_eq!(ctx.triggered_by.unwrap().value, "alice");
        assert_eq!(ctx.pipeline_started.unwrap().value, 1_777_629_600);
        assert_eq!(ctx.finished.unwrap().value, 1_777_629_800);
        assert_eq!(ctx.status.unwrap().value, "success");
        let keys: Vec<&str> = ctx.context.iter().map(|c| c.key).collect();
        assert_eq!(keys, ["argocd_app", "argocd_project", "destination"]);
    }

    #[test]
    fn phases() {
        for (phase, word) in [
            ("Succeeded", "success"),
            ("Failed", "failed"),
            ("Error", "failed"),
            ("Running", "skipped"),
            ("Terminating", "skipped"),
        ] {
            let b = Sync {
                phase: Some(phase.into()),
                ..body()
            };
            assert_eq!(sync(&b, "webhook").status.unwrap().value, word, "{phase}");
        }
    }

    #[test]
    fn no_start_no_job_id() {
        let b = Sync {
            started_at: Some("yesterday".into()),
            ..body()
        };
        let ctx = sync(&b, "webhook");
        assert!(ctx.job_id.is_none());
        assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
    }
}
