//! Flux reconciliations (SPEC `spec/relay.md`, "Flux body"): the event JSON that Flux's
//! notification-controller posts to a `generic-hmac` provider. The repository and environment
//! are not Flux's to know: the Alert adds them as `eventMetadata` (`repo_name`, `environment`),
//! which arrive in `metadata` beside the controller's own `revision`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{failure_reason, tagged, time};
use crate::context::{CiContext, Provider};
use crate::env::Sourced;

/// The object an event is about (a Kustomization, a HelmRelease, ...).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Object {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
}

/// One notification-controller event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub involved_object: Option<Object>,
    /// `info` or `error`.
    pub severity: Option<String>,
    pub timestamp: Option<String>,
    pub reason: Option<String>,
    pub message: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
    pub reporting_controller: Option<String>,
}

/// A finished reconciliation as a job: `flux-{kind}-{namespace}-{name}-{epoch of timestamp}`,
/// starting at the event's time with duration 0 (the event tells when it ended, not when it
/// began). Reason `ReconciliationSucceeded` → Succeeded; severity `error` → Failed; any other
/// event (progress, a dependency not ready, ...) is skipped.
pub fn reconciliation(e: &Event, origin: &str) -> CiContext {
    let mut ctx = CiContext::new(Provider::Flux);
    ctx.event = Some("flux");
    ctx.pipeline_started = time(&mut ctx, origin, "timestamp", e.timestamp.as_deref());
    ctx.job_started = ctx.pipeline_started.clone();
    ctx.finished = ctx.pipeline_started.clone();
    let object = e.involved_object.clone().unwrap_or_default();
    if let (Some(kind), Some(ns), Some(name), Some(start)) = (
        part(&object.kind),
        part(&object.namespace),
        part(&object.name),
        &ctx.pipeline_started,
    ) {
        let id = Sourced::new(
            format!("flux-{kind}-{ns}-{name}-{}", start.value),
            format!("{origin} involvedObject.kind, .namespace, .name, timestamp"),
        );
        ctx.pipeline_id = Some(id.clone());
        ctx.job_id = Some(id);
    }
    if let Some((key, rev)) = revision(&e.metadata) {
        ctx.commit_sha = tagged(origin, &format!("metadata.{key}"), Some(commit_of(rev)));
    }
    ctx.repo_name = tagged(
        origin,
        "metadata.repo_name",
        e.metadata.get("repo_name").map(String::as_str),
    );
    ctx.status = outcome_word(e, origin);
    ctx.add_context(
        "environment",
        e.metadata.get("environment").map(String::as_str),
    );
    if let (Some(kind), Some(ns), Some(name)) = (
        part(&object.kind),
        part(&object.namespace),
        part(&object.name),
    ) {
        ctx.add_context("flux_object", Some(format!("{kind}/{ns}/{name}")));
    }
    ctx.add_context("flux_controller", e.reporting_controller.as_deref());
    if ctx.status.as_ref().is_some_and(|s| s.value == "failed") {
        let text = match (part(&e.reason), part(&e.message)) {
            (Some(r), Some(m)) => Some(format!("{r}: {m}")),
            (r, m) => r.or(m).map(str::to_string),
        };
        ctx.add_context("failure_reason", failure_reason(text.as_deref()));
    }
    ctx
}

/// A non-blank value of the event, trimmed (a part of the object's name, a reason, a message).
fn part(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `metadata.revision`, else a controller's prefixed key (`kustomize.toolkit.fluxcd.io/revision`,
/// `source.toolkit.fluxcd.io/revision`, as Flux sent before `eventMetadata`), with the key it
/// came from.
fn revision(metadata: &BTreeMap<String, String>) -> Option<(&str, &str)> {
    metadata
        .get_key_value("revision")
        .or_else(|| metadata.iter().find(|(k, _)| k.ends_with("/revision")))
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// The commit in a Flux revision: `main@sha1:<sha>`, `sha1:<sha>`, `sha256:<sha>`, a bare SHA,
/// or the older `main/<sha>`. What is left is checked as a full SHA later, so a chart version
/// (`1.2.0`) is refused there, not guessed at here.
pub fn commit_of(revision: &str) -> &str {
    let r = revision.trim();
    let r = r.rsplit_once('@').map_or(r, |(_, after)| after);
    let r = r.rsplit_once(':').map_or(r, |(_, after)| after);
    r.rsplit_once('/').map_or(r, |(_, after)| after)
}

fn outcome_word(e: &Event, origin: &str) -> Option<Sourced<String>> {
    let reason = e.reason.as_deref().unwrap_or("").trim();
    let severity = e.severity.as_deref().unwrap_or("").trim();
    let word = if reason == "ReconciliationSucceeded" {
        "success"
    } else if severity.eq_ignore_ascii_case("error") {
        "failed"
    } else {
        "skipped"
    };
    Some(Sourced::new(
        word.to_string(),
        format!("{origin} reason {reason:?}, severity {severity:?}"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "a2e7da86cc392417b0d9f605b28038aae80b002f";

    fn event(reason: &str, severity: &str) -> Event {
        Event {
            involved_object: Some(Object {
                kind: Some("Kustomization".into()),
                namespace: Some("flux-system".into()),
                name: Some("web".into()),
            }),
            severity: Some(severity.into()),
            timestamp: Some("2026-05-01T10:03:20Z".into()),
            reason: Some(reason.into()),
            metadata: [
                ("revision", format!("main@sha1:{SHA}")),
                ("repo_name", "acme/web".to_string()),
                ("environment", "prod".to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
            reporting_controller: Some("kustomize-controller".into()),
            message: Some("Reconciliation finished in 1.1s, next run in 10m0s".into()),
        }
    }

    #[test]
    fn a_reconciliation_is_a_job() {
        let ctx = reconciliation(&event("ReconciliationSucceeded", "info"), "webhook");
        assert_eq!(ctx.environment(), Some("prod"));
        assert_eq!(
            ctx.job_id.unwrap().value,
            "flux-Kustomization-flux-system-web-1777629800"
        );
        assert_eq!(ctx.commit_sha.unwrap().value, SHA);
        assert_eq!(ctx.repo_name.unwrap().value, "acme/web");
        assert_eq!(ctx.finished, ctx.pipeline_started);
        assert_eq!(ctx.status.unwrap().value, "success");
    }

    #[test]
    fn outcomes() {
        let word = |r, s| {
            reconciliation(&event(r, s), "webhook")
                .status
                .unwrap()
                .value
        };
        assert_eq!(word("ReconciliationSucceeded", "info"), "success");
        assert_eq!(word("ReconciliationFailed", "error"), "failed");
        assert_eq!(word("HealthCheckFailed", "error"), "failed");
        assert_eq!(word("Progressing", "info"), "skipped");
        assert_eq!(word("DependencyNotReady", "info"), "skipped");
    }

    #[test]
    fn revisions() {
        let sha256 = "b".repeat(64);
        for (rev, commit) in [
            (format!("main@sha1:{SHA}"), SHA),
            (format!("sha1:{SHA}"), SHA),
            (format!("sha256:{sha256}"), sha256.as_str()),
            (SHA.to_string(), SHA),
            (format!("main/{SHA}"), SHA),
            ("1.2.0".to_string(), "1.2.0"),
        ] {
            assert_eq!(commit_of(&rev), commit, "{rev}");
        }
        let mut e = event("ReconciliationSucceeded", "info");
        e.metadata.remove("revision");
        e.metadata.insert(
            "kustomize.toolkit.fluxcd.io/revision".into(),
            format!("sha1:{SHA}"),
        );
        let ctx = reconciliation(&e, "webhook");
        let c = ctx.commit_sha.unwrap();
        assert_eq!(c.value, SHA);
        assert_eq!(
            c.source,
            "webhook metadata.kustomize.toolkit.fluxcd.io/revision"
        );
    }
}
