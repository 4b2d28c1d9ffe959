//! Argo CD syncs (SPEC `spec/relay.md`, "Argo CD body"): the JSON that the Notifications
//! template in `docs/relay-senders.md` posts, built only from Argo CD's own template variables.
//! Argo CD runs no CI job, so this body is the only record of a sync.

use serde::Deserialize;

use super::{failure_reason, tagged, time};
use crate::context::{CiContext, Provider};
use crate::env::Sourced;

/// What the notifications engine prints for a key the application does not have: a body value
/// that is exactly this (or empty) is absent.
pub const NO_VALUE: &str = "<no value>";

/// Who a sync is credited to when nobody started it (an automated sync): an agent name, as the
/// webhook allows.
pub const AGENT: &str = "argocd";

/// One sync operation of an application, as the template of `docs/relay-senders.md` posts it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Sync {
    pub app: Option<String>,
    pub project: Option<String>,
    /// The synced Git commit; for an app from a Helm repository, a chart version instead.
    pub revision: Option<String>,
    pub repo_url: Option<String>,
    /// `spec.source.targetRevision`: a branch, a tag, or a SHA.
    pub target_revision: Option<String>,
    /// `Succeeded`, `Failed`, `Error`, `Running`, `Terminating`.
    pub phase: Option<String>,
    /// `app.status.health.status`: `Healthy`, `Degraded`, `Progressing`, `Missing`,
    /// `Suspended`, `Unknown`; absent from bodies of the template before it had this key.
    pub health: Option<String>,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub initiated_by: Option<String>,
    pub destination: Option<String>,
    /// `status.history[-1].id`: Argo CD's id of the deployment a successful sync recorded.
    pub deployment_id: Option<String>,
    /// `operationState.message`: why a sync failed.
    pub message: Option<String>,
}

/// A body value, unless the template printed nothing or `<no value>` for it.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != NO_VALUE)
}

/// A sync as a job: `argocd-{app}-{epoch of started_at}` (one job per sync operation), from its
/// start to its end; its outcome from `phase` and `health` together ([`outcome`]).
pub fn sync(s: &Sync, origin: &str) -> CiContext {
    let mut ctx = CiContext::new(Provider::ArgoCd);
    ctx.event = Some("argocd");
    ctx.pipeline_started = time(&mut ctx, origin, "started_at", given(&s.started_at));
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = time(&mut ctx, origin, "finished_at", given(&s.finished_at));
    let app = given(&s.app);
    if let (Some(app), Some(start)) = (app, &ctx.pipeline_started) {
        let id = Sourced::new(
            format!("argocd-{app}-{}", start.value),
            format!("{origin} app, started_at"),
        );
        ctx.pipeline_id = Some(id.clone());
        ctx.job_id = Some(id);
    }
    ctx.commit_sha = tagged(origin, "revision", given(&s.revision));
    ctx.repo_name = given(&s.repo_url)
        .and_then(crate::git::repo_slug_from_url)
        .map(|slug| Sourced::new(slug, format!("{origin} repo_url")));
    let user = given(&s.initiated_by);
    ctx.triggered_by = Some(match user {
        Some(u) => Sourced::new(u.to_string(), format!("{origin} initiated_by")),
        None => Sourced::new(
            AGENT.to_string(),
            format!("{origin} initiated_by absent (an automated sync)"),
        ),
    });
    ctx.status = outcome(origin, given(&s.phase), given(&s.health));
    let failed = given(&s.phase).is_some_and(is_failed);
    context(&mut ctx, s, user, failed);
    ctx
}

fn context(ctx: &mut CiContext, s: &Sync, user: Option<&str>, failed: bool) {
    ctx.add_context("argocd_app", given(&s.app));
    ctx.add_context("argocd_project", given(&s.project));
    ctx.add_context("destination", given(&s.destination));
    ctx.add_context("initiated_by", Some(user.unwrap_or("automated")));
    // A failed sync records no history entry: the last one is an earlier deployment's.
    if given(&s.phase).is_some_and(|p| p.eq_ignore_ascii_case("succeeded")) {
        ctx.add_context("deployment_id", given(&s.deployment_id));
    }
    ctx.add_context("branch", super::branch_of(given(&s.target_revision)));
    ctx.add_context("health", given(&s.health));
    if failed {
        ctx.add_context("failure_reason", failure_reason(given(&s.message)));
    }
}

fn is_failed(phase: &str) -> bool {
    phase.eq_ignore_ascii_case("failed") || phase.eq_ignore_ascii_case("error")
}

/// A sync's outcome, once the application has settled: phase `Failed` or `Error` → Failed;
/// phase `Succeeded` with health `Healthy` → Succeeded, `Degraded` → Failed, any other health
/// (`Progressing`, `Missing`, ...) → skipped until a later notification settles it; phase
/// `Succeeded` with no health (a template from before `health`) → Succeeded; any other phase
/// (a sync still running) → skipped.
fn outcome(origin: &str, phase: Option<&str>, health: Option<&str>) -> Option<Sourced<String>> {
    let phase = phase?;
    let (word, why) = if is_failed(phase) {
        ("failed", String::new())
    } else if !phase.eq_ignore_ascii_case("succeeded") {
        ("skipped", " (the sync has not ended)".to_string())
    } else {
        match health {
            None => ("success", String::new()),
            Some(h) if h.eq_ignore_ascii_case("healthy") => ("success", String::new()),
            Some(h) if h.eq_ignore_ascii_case("degraded") => ("failed", String::new()),
            Some(_) => (
                "skipped",
                " (not settled: a later notification reports it)".to_string(),
            ),
        }
    };
    let health = health.map_or(String::new(), |h| format!(", health {h:?}"));
    Some(Sourced::new(
        word.to_string(),
        format!("{origin} phase {phase:?}{health}{why}"),
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
            ..Sync::default()
        }
    }

    fn field<'a>(ctx: &'a CiContext, key: &str) -> Option<&'a str> {
        ctx.field(key).map(|c| c.value.as_str())
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
        assert_eq!(
            keys,
            [
                "argocd_app",
                "argocd_project",
                "destination",
                "initiated_by"
            ]
        );
    }

    #[test]
    fn phases_without_health_as_before() {
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
    fn phase_and_health_together() {
        for (phase, health, word) in [
            ("Succeeded", "Healthy", "success"),
            ("Succeeded", "Degraded", "failed"),
            ("Succeeded", "Progressing", "skipped"),
            ("Succeeded", "Missing", "skipped"),
            ("Failed", "Healthy", "failed"),
            ("Error", "Degraded", "failed"),
            ("Running", "Degraded", "skipped"),
            ("Succeeded", NO_VALUE, "success"),
        ] {
            let b = Sync {
                phase: Some(phase.into()),
                health: Some(health.into()),
                ..body()
            };
            let ctx = sync(&b, "webhook");
            let status = ctx.status.clone().unwrap();
            assert_eq!(status.value, word, "{phase} {health}");
            if health != NO_VALUE {
                assert_eq!(field(&ctx, "health"), Some(health));
                assert!(status.source.contains(&format!("health {health:?}")));
            }
        }
        let progressing = Sync {
            health: Some("Progressing".into()),
            ..body()
        };
        let why = sync(&progressing, "webhook").status.unwrap().source;
        assert!(why.contains("not settled"), "{why}");
    }

    #[test]
    fn no_value_and_blanks_are_absent() {
        let b = Sync {
            initiated_by: Some(NO_VALUE.into()),
            destination: Some(String::new()),
            project: Some(NO_VALUE.into()),
            deployment_id: Some(NO_VALUE.into()),
            target_revision: Some(NO_VALUE.into()),
            ..body()
        };
        let ctx = sync(&b, "webhook");
        let who = ctx.triggered_by.clone().unwrap();
        assert_eq!(who.value, AGENT);
        assert!(who.source.contains("automated"), "{}", who.source);
        assert_eq!(field(&ctx, "initiated_by"), Some("automated"));
        assert!(ctx.context.iter().all(|c| !c.value.contains(NO_VALUE)));
        assert_eq!(field(&ctx, "destination"), None);
        assert_eq!(field(&ctx, "argocd_project"), None);
    }

    #[test]
    fn context_of_a_sync() {
        let ok = Sync {
            deployment_id: Some("12".into()),
            target_revision: Some("main".into()),
            health: Some("Healthy".into()),
            message: Some("successfully synced (all tasks run)".into()),
            ..body()
        };
        let ctx = sync(&ok, "webhook");
        assert_eq!(field(&ctx, "deployment_id"), Some("12"));
        assert_eq!(field(&ctx, "branch"), Some("main"));
        assert_eq!(field(&ctx, "failure_reason"), None, "no failure");
        let failed = Sync {
            phase: Some("Failed".into()),
            target_revision: Some(SHA.into()),
            message: Some("one or more objects failed to apply\nreason: x".into()),
            ..ok
        };
        let ctx = sync(&failed, "webhook");
        assert_eq!(
            field(&ctx, "deployment_id"),
            None,
            "an earlier deployment's id"
        );
        assert_eq!(field(&ctx, "branch"), None, "a SHA is not a branch");
        assert_eq!(
            field(&ctx, "failure_reason"),
            Some("one or more objects failed to apply\\nreason: x")
        );
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
