//! Deployments made elsewhere (spec/deployments.md): GitHub `deployment_status` and
//! `workflow_run` events are the job reported, every state and conclusion; precedence of
//! explicit settings over the event; `--environments`; GitLab environment actions.
//!
//! The event files under `tests/fixtures/github/events/` follow the payloads GitHub documents
//! for these webhooks (see `generate.py` there).

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{Output, Reply, Server, has_line, tool};

const EVENT_SHA: &str = "0b4c0f4f5b1e2a9d8c7b6a5f4e3d2c1b0a998877";
/// 2026-05-01T10:00:00Z, the deployment's (and the run's) start.
const START: i64 = 1_777_629_600;

fn event_file(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/github/events")
        .join(format!("{name}.json"))
        .to_string_lossy()
        .into_owned()
}

/// A GitHub runner whose own job (another commit, another run) reports an event.
fn runner(event_name: &str, file: &str) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_ACTIONS", "true".into()),
        ("GITHUB_EVENT_NAME", event_name.into()),
        ("GITHUB_EVENT_PATH", event_file(file)),
        (
            "GITHUB_SHA",
            "a2e7da86cc392417b0d9f605b28038aae80b002f".into(),
        ),
        ("GITHUB_REPOSITORY", "acme/reporter".into()),
        ("GITHUB_REPOSITORY_ID", "42".into()),
        ("GITHUB_RUN_ID", "777".into()),
        ("GITHUB_RUN_ATTEMPT", "1".into()),
        ("GITHUB_JOB", "report".into()),
        ("GITHUB_WORKFLOW", "Report deployments".into()),
        ("GITHUB_ACTOR", "reporter-bot".into()),
        ("ALLSTACKS_SERVICE_ID", "7".into()),
    ]
}

fn dry_run(env: &[(&str, String)], args: &[&str]) -> Output {
    let mut argv = vec!["report", "--dry-run"];
    argv.extend_from_slice(args);
    let mut t = tool(&argv);
    for (k, v) in env {
        t = t.env(k, v);
    }
    t.run()
}

fn deployment_payload(status: &str) -> Value {
    deployment_payload_of(status, None)
}

/// The payload of a deployment event whose status has `state` (its description is
/// `Deployment has {state}`, a `failure_reason` when it failed).
fn deployment_payload_of(status: &str, state: Option<&str>) -> Value {
    let mut payload = json!({
        "job_id": "deployment-1234567890",
        "status": status,
        "commit_sha": EVENT_SHA,
        "triggered_by": "vercel[bot]",
        "repo_id": "123456789",
        "repo_name": "acme/web",
        "service_id": 7,
        "job_start_time": START,
        "job_duration": 200,
        "optional": [
            {"key": "ci_provider", "value": "github-actions", "type": "string"},
            {"key": "environment", "value": "Production", "type": "string"},
            {"key": "environment_url", "value": "https://web-acme.vercel.app", "type": "string"},
            {"key": "log_url", "value": "https://vercel.com/acme/web/Hx8yQ2/logs", "type": "string"},
            {"key": "deployed_by_app", "value": "vercel", "type": "string"},
            {"key": "trigger_event", "value": "deployment_status", "type": "string"},
            {"key": "deployment_id", "value": "1234567890", "type": "string"},
            {"key": "branch", "value": "main", "type": "string"}
        ]
    });
    if let Some(state) = state.filter(|_| status == "Failed") {
        payload["optional"].as_array_mut().expect("a list").push(
            json!({"key": "failure_reason", "value": format!("Deployment has {state}"), "type": "string"}),
        );
    }
    payload
}

#[test]
fn deployment_status_events_report_the_deployment() {
    for (state, status) in [
        ("success", "Succeeded"),
        ("failure", "Failed"),
        ("error", "Failed"),
    ] {
        let env = runner("deployment_status", &format!("deployment_status-{state}"));
        let out = dry_run(&env, &[]);
        assert_eq!(out.code, 0, "{state}: {}", out.stderr);
        assert_eq!(
            out.json(),
            deployment_payload_of(status, Some(state)),
            "{state}"
        );
        let src = "GITHUB_EVENT_PATH";
        has_line(
            &out,
            "job_id",
            "deployment-1234567890",
            &format!("{src} deployment.id"),
        );
        has_line(
            &out,
            "status",
            status,
            &format!("{src} deployment_status.state {state:?}"),
        );
        has_line(
            &out,
            "commit_sha",
            EVENT_SHA,
            &format!("{src} deployment.sha"),
        );
        has_line(
            &out,
            "triggered_by",
            "vercel[bot]",
            &format!("{src} deployment.creator.login"),
        );
        has_line(
            &out,
            "repo_id",
            "123456789",
            &format!("{src} repository.id"),
        );
        has_line(
            &out,
            "repo_name",
            "acme/web",
            &format!("{src} repository.full_name"),
        );
        has_line(
            &out,
            "job_start_time",
            &format!("{START} (2026-05-01T10:00:00Z)"),
            &format!("{src} deployment.created_at"),
        );
        has_line(
            &out,
            "job_duration",
            "200",
            &format!("{src} deployment_status.created_at - job_start_time"),
        );
    }
}

#[test]
fn deployment_states_outside_the_list_are_skipped_and_inactive_never_sent() {
    for state in ["pending", "in_progress", "queued", "waiting"] {
        let env = runner("deployment_status", &format!("deployment_status-{state}"));
        let out = dry_run(&env, &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, "", "nothing to print: nothing is sent");
        assert!(
            out.stderr.contains(&format!(
                "deployment state {state:?} (from GITHUB_EVENT_PATH deployment_status.state) is \
                 not one of --deployment-states (success,failure,error): nothing is sent"
            )),
            "{}",
            out.stderr
        );
        // Asked for, they are On Hold.
        let out = dry_run(&env, &["--deployment-states", &format!("success,{state}")]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.json(), deployment_payload("On Hold"), "{state}");
    }
    let env = runner("deployment_status", "deployment_status-inactive");
    for args in [&[][..], &["--deployment-states", "success,inactive"][..]] {
        let out = dry_run(&env, args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, "");
        assert!(
            out.stderr.contains("deployment state \"inactive\"")
                && out.stderr.contains("is never reported"),
            "{}",
            out.stderr
        );
    }
    // A state that GitHub does not have is a setting error.
    let env = runner("deployment_status", "deployment_status-success");
    let out = dry_run(&env, &["--deployment-states", "success,done"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("\"done\" is not a GitHub deployment state")
    );
}

fn run_payload(status: &str) -> Value {
    json!({
        "job_id": "30433642-2",
        "status": status,
        "commit_sha": EVENT_SHA,
        "triggered_by": "monalisa",
        "repo_id": "123456789",
        "repo_name": "acme/web",
        "service_id": 7,
        "job_start_time": START,
        "job_duration": 400,
        "optional": [
            {"key": "ci_provider", "value": "github-actions", "type": "string"},
            {"key": "workflow", "value": "Deploy", "type": "string"},
            {"key": "pipeline_url", "value": "https://github.com/acme/web/actions/runs/30433642", "type": "string"},
            {"key": "branch", "value": "main", "type": "string"},
            {"key": "trigger_event", "value": "push", "type": "string"},
            {"key": "run_attempt", "value": "2", "type": "string"},
            {"key": "queued_seconds", "value": 120, "type": "duration"}
        ]
    })
}

#[test]
fn workflow_run_events_report_the_watched_run() {
    for (conclusion, status) in [
        ("success", "Succeeded"),
        ("failure", "Failed"),
        ("timed_out", "Failed"),
        ("startup_failure", "Failed"),
        ("cancelled", "Failed"),
        ("action_required", "On Hold"),
    ] {
        let env = runner("workflow_run", &format!("workflow_run-{conclusion}"));
        let out = dry_run(&env, &[]);
        assert_eq!(out.code, 0, "{conclusion}: {}", out.stderr);
        assert_eq!(out.json(), run_payload(status), "{conclusion}");
        let src = "GITHUB_EVENT_PATH";
        has_line(
            &out,
            "job_id",
            "30433642-2",
            &format!("{src} workflow_run.id, workflow_run.run_attempt"),
        );
        has_line(
            &out,
            "status",
            status,
            &format!("{src} workflow_run.conclusion {conclusion:?}"),
        );
        has_line(
            &out,
            "commit_sha",
            EVENT_SHA,
            &format!("{src} workflow_run.head_sha"),
        );
        has_line(
            &out,
            "triggered_by",
            "monalisa",
            &format!("{src} workflow_run.triggering_actor.login"),
        );
        has_line(
            &out,
            "job_start_time",
            &format!("{START} (2026-05-01T10:00:00Z)"),
            &format!("{src} workflow_run.run_started_at"),
        );
        has_line(
            &out,
            "job_duration",
            "400",
            &format!("{src} workflow_run.updated_at - job_start_time"),
        );
    }
    // A cancelled run follows --cancelled-as.
    let env = runner("workflow_run", "workflow_run-cancelled");
    let out = dry_run(&env, &["--cancelled-as", "on-hold"]);
    assert_eq!(out.json()["status"], json!("On Hold"));
    let out = dry_run(&env, &["--cancelled-as", "skip"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
}

#[test]
fn workflow_runs_that_did_not_deploy_are_skipped() {
    for (file, why) in [
        ("skipped", "workflow_run.conclusion \"skipped\""),
        ("neutral", "workflow_run.conclusion \"neutral\""),
        ("stale", "workflow_run.conclusion \"stale\""),
        (
            "in_progress",
            "workflow_run.status \"in_progress\" (not completed)",
        ),
    ] {
        let env = runner("workflow_run", &format!("workflow_run-{file}"));
        let out = dry_run(&env, &[]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, "", "{file}");
        assert!(
            out.stderr
                .contains(&format!("status is skipped (from GITHUB_EVENT_PATH {why})")),
            "{file}: {}",
            out.stderr
        );
    }
}

#[test]
fn explicit_settings_beat_the_event_and_the_default_status_does_not() {
    let env = runner("deployment_status", "deployment_status-failure");
    let other = "1111111111111111111111111111111111111111";
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("start.json");
    std::fs::write(&state, "{\"job_start_time\": 1777630000}").expect("write");
    let mut env2 = env.clone();
    env2.extend([
        ("ALLSTACKS_COMMIT_SHA", other.to_string()),
        // The Action passes the reporting job's own status here: below the event.
        ("ALLSTACKS_DEFAULT_STATUS", "success".to_string()),
        // A `start` of the reporting job: below the event's times.
        ("ALLSTACKS_STATE_FILE", state.to_string_lossy().into_owned()),
    ]);
    let out = dry_run(&env2, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = out.json();
    assert_eq!(
        p["status"],
        json!("Failed"),
        "the event decides, not job.status"
    );
    assert_eq!(p["commit_sha"], json!(other));
    assert_eq!(p["job_start_time"], json!(START));
    has_line(&out, "commit_sha", other, "ALLSTACKS_COMMIT_SHA");
    // An explicit status still wins.
    let out = dry_run(&env2, &["--status", "success"]);
    assert_eq!(out.json()["status"], json!("Succeeded"));
    has_line(&out, "status", "Succeeded", "--status");

    // Without an event status, the default status is used (a push, in the Action).
    let mut push = runner("push", "deployment_status-success");
    push.push(("ALLSTACKS_DEFAULT_STATUS", "failure".into()));
    push.retain(|(k, _)| *k != "GITHUB_EVENT_PATH");
    let out = dry_run(&push, &[]);
    assert_eq!(out.json()["status"], json!("Failed"));
    has_line(&out, "status", "Failed", "ALLSTACKS_DEFAULT_STATUS");
    // ... and needs beats it.
    push.push((
        "ALLSTACKS_NEEDS_JSON",
        r#"{"deploy": {"result": "success"}}"#.into(),
    ));
    let out = dry_run(&push, &[]);
    assert_eq!(out.json()["status"], json!("Succeeded"));
}

#[test]
fn the_environment_filter_matches_globs_without_case() {
    let env = runner("deployment_status", "deployment_status-success");
    for list in ["production", "prod*", "staging, PROD*"] {
        let out = dry_run(&env, &["--environments", list]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(
            out.json()["job_id"],
            json!("deployment-1234567890"),
            "{list}"
        );
    }
    let out = dry_run(&env, &["--environments", "staging,qa-*"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "environment \"Production\" is not one of --environments (staging,qa-*): nothing is \
             sent"
        ),
        "{}",
        out.stderr
    );
    // A job with no environment is not reported under a filter.
    let mut push = runner("push", "deployment_status-success");
    push.retain(|(k, _)| *k != "GITHUB_EVENT_PATH");
    push.push(("ALLSTACKS_STATUS", "success".into()));
    push.push(("ALLSTACKS_ENVIRONMENTS", "production".into()));
    let out = dry_run(&push, &[]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
    assert!(
        out.stderr
            .contains("no environment was detected, and --environments (production)"),
        "{}",
        out.stderr
    );
    // A skipped job is not sent for real either, and exits 0 even under --strict.
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["report", "--strict", "--environments", "staging"])
        .server(&server)
        .envs(
            &env.iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(server.received().is_empty());
}

fn gitlab_deploy_job(action: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("GITLAB_CI", "true".to_string()),
        ("CI_SERVER_URL", "https://gitlab.example.com".into()),
        ("CI_PROJECT_PATH", "platform/api".into()),
        ("CI_PROJECT_ID", "4242".into()),
        (
            "CI_COMMIT_SHA",
            "5c3f1d2e8b7a69584736251403f2e1d0c9b8a7f6".into(),
        ),
        ("CI_PIPELINE_ID", "1029384756".into()),
        ("CI_JOB_ID", "7654321001".into()),
        ("CI_JOB_STARTED_AT", "2026-05-01T10:00:00Z".into()),
        ("CI_JOB_STATUS", "success".into()),
        ("CI_ENVIRONMENT_NAME", "production".into()),
        ("CI_ENVIRONMENT_TIER", "production".into()),
        ("CI_ENVIRONMENT_URL", "https://api.example.com".into()),
        ("GITLAB_USER_EMAIL", "jane@example.com".into()),
        ("ALLSTACKS_SERVICE_ID", "7".into()),
        ("ALLSTACKS_NO_CONTEXT", "false".into()),
    ];
    if let Some(a) = action {
        env.push(("CI_ENVIRONMENT_ACTION", a.into()));
    }
    env
}

#[test]
fn gitlab_jobs_that_do_not_deploy_are_skipped_under_scope_job() {
    for action in ["stop", "prepare", "verify", "access"] {
        let out = dry_run(&gitlab_deploy_job(Some(action)), &["--scope", "job"]);
        assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
        assert!(
            out.stderr.contains(&format!(
                "CI_ENVIRONMENT_ACTION is {action:?}, not \"start\": this job does not deploy to \
                 production: nothing is sent"
            )),
            "{}",
            out.stderr
        );
    }
    // A deploy (action start, or none) is reported, with the tier and URL.
    for action in [Some("start"), None] {
        let out = dry_run(&gitlab_deploy_job(action), &["--scope", "job"]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let p = out.json();
        assert_eq!(p["job_id"], json!("7654321001"));
        let fields: Vec<(Value, Value)> = p["optional"]
            .as_array()
            .expect("optional")
            .iter()
            .map(|f| (f["key"].clone(), f["value"].clone()))
            .collect();
        assert!(fields.contains(&(json!("environment_tier"), json!("production"))));
        assert!(fields.contains(&(json!("environment_url"), json!("https://api.example.com"))));
    }
    // The pipeline as a whole is still reported from a stop job.
    let out = dry_run(&gitlab_deploy_job(Some("stop")), &["--scope", "pipeline"]);
    assert_eq!(out.json()["job_id"], json!("1029384756"), "{}", out.stderr);
}
