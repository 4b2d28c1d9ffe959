//! Each sender end to end: the body it posts, the answer, and the exact job Allstacks receives.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    ARGOCD_SECRET, FLUX_SECRET, GITLAB_SECRET, Setup, at, github_headers, job_counts, sign, t0,
    wait_for,
};
use crate::support::{Reply, SHA, Server};

/// `t0() + secs` the way GitLab hooks write times: `2026-05-01 12:03:20 +0200` (`secs` then
/// includes the zone's two hours) or `2026-05-01 10:03:20 UTC`.
pub fn hook_time(secs: i64, zone: &str) -> String {
    at(secs).replace('T', " ").replace('Z', zone)
}

/// A GitLab deployment hook (the fields GitLab documents for deployment events).
pub fn gitlab_deployment(status: &str) -> Vec<u8> {
    json!({
        "object_kind": "deployment",
        "status": status,
        "status_changed_at": hook_time(200 + 7200, " +0200"),
        "deployment_id": 15,
        "deployable_id": 796,
        "deployable_url": "https://gitlab.example.com/acme/web/-/jobs/796",
        "environment": "production",
        "environment_tier": "production",
        "environment_slug": "production",
        "environment_external_url": "https://web.acme.dev",
        "project": {
            "id": 30, "name": "web", "path_with_namespace": "acme/web",
            "web_url": "https://gitlab.example.com/acme/web", "visibility_level": 0
        },
        "ref": "main",
        "short_sha": &SHA[..8],
        "user": {"id": 1, "name": "Alice", "username": "alice", "email": "alice@example.com"},
        "user_url": "https://gitlab.example.com/alice",
        "commit_url": format!("https://gitlab.example.com/acme/web/-/commit/{SHA}"),
        "commit_title": "Add the thing"
    })
    .to_string()
    .into_bytes()
}

pub fn gitlab_headers(uuid: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("x-gitlab-event", "Deployment Hook".into()),
        ("x-gitlab-event-uuid", uuid.into()),
        ("x-gitlab-token", GITLAB_SECRET.into()),
    ]
}

/// A GitLab pipeline hook.
pub fn gitlab_pipeline(status: &str) -> Vec<u8> {
    json!({
        "object_kind": "pipeline",
        "object_attributes": {
            "id": 31, "iid": 3, "name": "Deploy web", "ref": "main", "tag": false,
            "sha": SHA, "before_sha": "0000000000000000000000000000000000000000",
            "source": "push", "status": status, "detailed_status": "passed",
            "stages": ["build", "deploy"], "created_at": hook_time(0, " UTC"),
            "finished_at": hook_time(200, " UTC"), "duration": 200, "queued_duration": 2,
            "variables": [], "url": "https://gitlab.example.com/acme/web/-/pipelines/31"
        },
        "merge_request": null,
        "user": {"id": 1, "name": "Alice", "username": "alice", "email": "[REDACTED]"},
        "project": {"id": 30, "name": "web", "path_with_namespace": "acme/web"},
        "commit": {"id": SHA, "message": "Add the thing"},
        "builds": []
    })
    .to_string()
    .into_bytes()
}

/// The Argo CD Notifications body of the sender guide.
pub fn argocd_body(phase: &str, revision: &str) -> Vec<u8> {
    json!({
        "app": "web", "project": "default", "revision": revision,
        "repo_url": "https://github.com/acme/web.git", "phase": phase,
        "started_at": "2026-05-01T10:00:00Z", "finished_at": "2026-05-01T10:03:20Z",
        "initiated_by": "alice", "destination": "https://kubernetes.default.svc/web-prod"
    })
    .to_string()
    .into_bytes()
}

/// A notification-controller event, with the Alert's `eventMetadata`.
pub fn flux_event(reason: &str, severity: &str) -> Vec<u8> {
    json!({
        "involvedObject": {
            "kind": "Kustomization", "namespace": "flux-system", "name": "web",
            "uid": "cc4d0095-83f4-4f08-98f2-d2e9f3731fb9",
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1", "resourceVersion": "56921"
        },
        "severity": severity,
        "timestamp": "2026-05-01T10:03:20Z",
        "message": "Reconciliation finished in 1.1s, next run in 10m0s",
        "reason": reason,
        "metadata": {
            "revision": format!("main@sha1:{SHA}"),
            "repo_name": "acme/web",
            "environment": "production"
        },
        "reportingController": "kustomize-controller",
        "reportingInstance": "kustomize-controller-7f5d6c5b5-4wz7v"
    })
    .to_string()
    .into_bytes()
}

/// A GitHub `workflow_run` webhook body.
pub fn workflow_run(status: &str, conclusion: &str, name: &str) -> Vec<u8> {
    json!({
        "action": if status == "completed" { "completed" } else { "in_progress" },
        "workflow_run": {
            "id": 6_001, "name": name, "head_branch": "main", "head_sha": SHA,
            "run_attempt": 2, "event": "push", "status": status, "conclusion": conclusion,
            "html_url": "https://github.com/acme/web/actions/runs/6001",
            "run_started_at": at(0), "updated_at": at(200),
            "actor": {"login": "alice"}, "triggering_actor": {"login": "bob"}
        },
        "workflow": {"id": 7, "name": name},
        "repository": {"id": 1_296_269, "full_name": "acme/web"}
    })
    .to_string()
    .into_bytes()
}

/// `optional` with typed fields after the string ones.
fn with_typed(mut optional: Value, typed: &[(&str, Value, &str)]) -> Value {
    let list = optional.as_array_mut().expect("a list");
    for (key, value, ty) in typed {
        list.push(json!({"key": key, "value": value, "type": ty}));
    }
    optional
}

fn optional(pairs: &[(&str, &str)]) -> Value {
    Value::Array(
        pairs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": v, "type": "string"}))
            .collect(),
    )
}

#[test]
fn relay_github_workflow_run() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url())
        .env("ALLSTACKS_GITHUB_EVENTS", "deployment_status,workflow_run")
        .env("ALLSTACKS_WORKFLOWS", "Deploy*")
        .start();
    let run = workflow_run("completed", "failure", "Deploy web");
    let (status, answer) = relay.post(
        "/github",
        &github_headers("workflow_run", "w-1", &run),
        &run,
    );
    assert_eq!((status, answer), (202, json!({"queued": ["6001-2"]})));
    let running = workflow_run("in_progress", "", "Deploy web");
    let (status, answer) = relay.post(
        "/github",
        &github_headers("workflow_run", "w-2", &running),
        &running,
    );
    assert_eq!(
        (status, answer),
        (
            202,
            json!({"ignored": "workflow_run action \"in_progress\" is not \"completed\""})
        )
    );
    let ci = workflow_run("completed", "success", "CI");
    let (status, answer) = relay.post("/github", &github_headers("workflow_run", "w-3", &ci), &ci);
    assert_eq!(
        (status, answer),
        (
            202,
            json!({"ignored": "workflow \"CI\" is not one of ALLSTACKS_WORKFLOWS (Deploy*)"})
        )
    );
    let got = wait_for(&server, 1, Duration::from_secs(10));
    assert_eq!(
        got[0].json(),
        json!({
            "job_id": "6001-2", "status": "Failed", "commit_sha": SHA, "triggered_by": "bob",
            "repo_id": "1296269", "repo_name": "acme/web", "service_id": 7,
            "job_start_time": t0(), "job_duration": 200,
            "optional": optional(&[
                ("ci_provider", "github-actions"), ("workflow", "Deploy web"),
                ("pipeline_url", "https://github.com/acme/web/actions/runs/6001"),
                ("branch", "main"), ("trigger_event", "push"), ("run_attempt", "2"),
            ])
        })
    );
}

#[test]
fn relay_gitlab_deployments_and_pipelines() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url())
        .env("ALLSTACKS_GITLAB_EVENTS", "deployment,pipeline")
        .start();
    let body = gitlab_deployment("success");
    let (status, answer) = relay.post("/gitlab", &gitlab_headers("u-1"), &body);
    assert_eq!((status, answer), (202, json!({"queued": ["796"]})));
    assert_eq!(
        relay.post("/gitlab", &gitlab_headers("u-1"), &body),
        (202, json!({"duplicate": "u-1"}))
    );
    let running = gitlab_deployment("running");
    let (status, answer) = relay.post("/gitlab", &gitlab_headers("u-2"), &running);
    assert_eq!(status, 202);
    assert_eq!(
        answer["ignored"],
        "status is skipped (from webhook status \"running\"): nothing is sent"
    );
    let pipeline = gitlab_pipeline("success");
    assert_eq!(
        relay.post("/gitlab", &gitlab_headers("u-3"), &pipeline),
        (202, json!({"queued": ["31"]}))
    );
    let job = br#"{"object_kind": "build", "environment": {"name": "x"}}"#;
    let (status, answer) = relay.post("/gitlab", &gitlab_headers("u-4"), job);
    assert_eq!(
        (status, answer),
        (
            202,
            json!({"ignored": "GitLab \"build\" events are not reported (ALLSTACKS_GITLAB_EVENTS)"})
        )
    );
    let got = wait_for(&server, 2, Duration::from_secs(10));
    let jobs: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let deployment = jobs
        .iter()
        .find(|j| j["job_id"] == "796")
        .expect("deployment");
    assert_eq!(
        *deployment,
        json!({
            "job_id": "796", "status": "Succeeded", "commit_sha": SHA,
            "triggered_by": "alice@example.com", "repo_id": "30", "repo_name": "acme/web",
            "service_id": 7, "job_start_time": t0() + 200, "job_duration": 0,
            "optional": optional(&[
                ("ci_provider", "gitlab-ci"), ("environment", "production"),
                ("environment_tier", "production"), ("environment_url", "https://web.acme.dev"),
                ("job_url", "https://gitlab.example.com/acme/web/-/jobs/796"),
                ("branch", "main"), ("trigger_event", "deployment"), ("deployment_id", "15"),
            ])
        })
    );
    let pipeline = jobs.iter().find(|j| j["job_id"] == "31").expect("pipeline");
    assert_eq!(
        *pipeline,
        json!({
            "job_id": "31", "status": "Succeeded", "commit_sha": SHA, "triggered_by": "alice",
            "repo_id": "30", "repo_name": "acme/web", "service_id": 7,
            // Started when it left the queue (created_at + queued_duration), for GitLab's
            // duration.
            "job_start_time": t0() + 2, "job_duration": 200,
            "optional": with_typed(optional(&[
                ("ci_provider", "gitlab-ci"),
                ("pipeline_url", "https://gitlab.example.com/acme/web/-/pipelines/31"),
                ("branch", "main"), ("workflow", "Deploy web"), ("trigger_event", "push"),
            ]), &[("queued_seconds", json!(2), "duration")])
        })
    );
}

#[test]
fn relay_gitlab_start_time_from_the_api() {
    let server = Server::start(vec![Reply::status(201)]);
    let started = at(0).replace('Z', ".123Z");
    let api = Server::start(vec![
        Reply::status(200).body(format!(r#"{{"id": 796, "started_at": "{started}"}}"#)),
    ]);
    let relay = Setup::new(&server.url())
        .env("GITLAB_TOKEN", "glpat-relay-test-token")
        .env("GITLAB_API_URL", &format!("{}/api/v4", api.url()))
        .start();
    let body = gitlab_deployment("failed");
    assert_eq!(relay.post("/gitlab", &gitlab_headers("u-9"), &body).0, 202);
    let asked = api.only();
    assert_eq!(asked.path, "/api/v4/projects/30/jobs/796");
    assert_eq!(
        asked.header("authorization"),
        Some("Bearer glpat-relay-test-token")
    );
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(
        (&job["status"], &job["job_start_time"], &job["job_duration"]),
        (&json!("Failed"), &json!(t0()), &json!(200))
    );
    assert!(!relay.log().join("\n").contains("glpat-relay-test-token"));
}

#[test]
fn relay_argocd_syncs() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let auth = vec![("authorization", format!("Bearer {ARGOCD_SECRET}"))];
    let body = argocd_body("Succeeded", SHA);
    assert_eq!(
        relay.post("/argocd", &auth, &body),
        (202, json!({"queued": ["argocd-web-1777629600"]}))
    );
    let digest = format!("sha256:{}", hex_sha256(&body));
    assert_eq!(
        relay.post("/argocd", &auth, &body),
        (202, json!({"duplicate": digest}))
    );
    let helm = argocd_body("Succeeded", "1.4.2");
    let (status, answer) = relay.post("/argocd", &auth, &helm);
    assert_eq!(status, 422);
    assert_eq!(
        answer["error"],
        "commit_sha must be a full 40- or 64-character hex SHA, got \"1.4.2\" (from webhook revision): an application from a Helm repository syncs a chart version, not a commit; only applications from Git can be reported"
    );
    let running = argocd_body("Running", SHA);
    let (status, answer) = relay.post("/argocd", &auth, &running);
    assert_eq!(status, 202);
    assert_eq!(
        answer["ignored"],
        "status is skipped (from webhook phase \"Running\" (the sync has not ended)): nothing is \
         sent"
    );
    let got = wait_for(&server, 1, Duration::from_secs(10));
    assert_eq!(
        got[0].json(),
        json!({
            "job_id": "argocd-web-1777629600", "status": "Succeeded", "commit_sha": SHA,
            "triggered_by": "alice", "repo_name": "acme/web", "service_id": 7,
            "job_start_time": 1_777_629_600, "job_duration": 200,
            "optional": optional(&[
                ("ci_provider", "argo-cd"), ("argocd_app", "web"), ("argocd_project", "default"),
                ("destination", "https://kubernetes.default.svc/web-prod"),
                ("initiated_by", "alice"),
            ])
        })
    );
}

#[test]
fn relay_flux_reconciliations() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let post = |body: &[u8]| relay.post("/flux", &[("x-signature", sign(FLUX_SECRET, body))], body);
    let ok = flux_event("ReconciliationSucceeded", "info");
    assert_eq!(
        post(&ok),
        (
            202,
            json!({"queued": ["flux-Kustomization-flux-system-web-1777629800"]})
        )
    );
    let failed = flux_event("HealthCheckFailed", "error");
    assert_eq!(post(&failed).0, 202);
    let progressing = flux_event("Progressing", "info");
    let (status, answer) = post(&progressing);
    assert_eq!(status, 202);
    assert!(
        answer["ignored"]
            .as_str()
            .unwrap_or("")
            .starts_with("status is skipped"),
        "{answer}"
    );
    let got = wait_for(&server, 2, Duration::from_secs(10));
    assert_eq!(job_counts(&got).values().sum::<usize>(), 2);
    let jobs: Vec<Value> = got.iter().map(|r| r.json()).collect();
    let expected = |status: &str| {
        json!({
            "job_id": "flux-Kustomization-flux-system-web-1777629800", "status": status,
            "commit_sha": SHA, "repo_name": "acme/web", "service_id": 7,
            "job_start_time": 1_777_629_800, "job_duration": 0,
            "optional": optional(&[
                ("ci_provider", "flux"), ("environment", "production"),
                ("flux_object", "Kustomization/flux-system/web"),
                ("flux_controller", "kustomize-controller"),
            ])
        })
    };
    assert!(jobs.contains(&expected("Succeeded")), "{jobs:?}");
    let mut failed = expected("Failed");
    failed["optional"]
        .as_array_mut()
        .expect("a list")
        .push(json!({
            "key": "failure_reason", "type": "string",
            "value": "HealthCheckFailed: Reconciliation finished in 1.1s, next run in 10m0s"
        }));
    assert!(jobs.contains(&failed), "{jobs:?}");
}

fn hex_sha256(body: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
