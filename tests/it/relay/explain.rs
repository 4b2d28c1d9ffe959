//! `serve --explain`: the real binary takes one webhook body through the relay's own mapping and
//! routes, and says what the relay would do; nothing listens, nothing is queued or sent.

use serde_json::{Value, json};

use super::senders::{argocd_body, flux_event, gitlab_deployment, gitlab_pipeline, workflow_run};
use super::{deployment_job, deployment_status, with};
use crate::support::{Output, SHA, TOKEN, tool};

/// Routes that send production deployments of `acme/*` to 11, runs of `Deploy*` workflows to
/// 12, Flux events that name no repository to 13 (as `acme/platform`), and the rest to 14.
pub const ROUTES: &str = r#"# relay.toml
[[route]]
source = "github"
repo = "acme/*"
environment = "prod*"
service_id = 11
job_type = "Production Deploy"

[[route]]
source = "github"
workflow = "Deploy*"
service_id = 12

[[route]]
source = "flux"
repo_name = "acme/platform"
service_id = 13

[[route]]
service_id = 14
"#;

/// `serve --explain body.json --source SOURCE [args]` with `routes` (none: no `--config`) and
/// `env`; only the job settings, no secret and no connection setting.
pub fn explain(
    routes: Option<&str>,
    source: &str,
    body: &[u8],
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let mut argv = vec!["serve", "--explain", "body.json", "--source", source];
    if routes.is_some() {
        argv.extend(["--config", "relay.toml"]);
    }
    argv.extend(args);
    tool(&argv)
        .file("relay.toml", routes.unwrap_or("").as_bytes())
        .file("body.json", body)
        .envs(env)
        .run()
}

/// The lines of `out`'s stderr that `explain:` says.
fn said(out: &Output) -> Vec<&str> {
    out.stderr
        .lines()
        .filter_map(|l| l.strip_prefix("allstacks-cd: explain: "))
        .collect()
}

/// Both GitHub events, as the workflow route needs.
const BOTH: &[(&str, &str)] = &[
    ("ALLSTACKS_GITHUB_EVENTS", "deployment_status,workflow_run"),
    ("ALLSTACKS_WORKFLOWS", "Deploy*"),
];

#[test]
fn explain_prints_the_job_and_the_route_that_takes_it() {
    let body = deployment_status(42, "success", "production", SHA);
    let out = explain(Some(ROUTES), "github", &body, &[], BOTH);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mut job = deployment_job(42);
    job["service_id"] = json!(11);
    job["job_type"] = json!("Production Deploy");
    assert_eq!(out.json(), job);
    assert_eq!(
        said(&out),
        [
            "read as a GitHub deployment_status (the event read from the body; --event chooses)",
            "route 1 (relay.toml line 2) takes it",
            "the relay would queue job deployment-42 for service 11 under route 1 (relay.toml line 2); nothing was queued or sent",
        ]
    );
    assert!(
        out.stderr
            .contains("service_id      11  route 1 (relay.toml line 2)"),
        "the provenance table:\n{}",
        out.stderr
    );
    // Another environment: the workflow route passes a deployment by, and says why.
    let staging = deployment_status(43, "success", "staging", SHA);
    let out = explain(Some(ROUTES), "github", &staging, &[], BOTH);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["service_id"], 14);
    assert_eq!(
        said(&out)[1..4],
        [
            "route 1 (relay.toml line 2): environment \"prod*\" does not match \"staging\"",
            "route 2 (relay.toml line 9): workflow \"Deploy*\" does not match: a deployment_status has no workflow",
            "route 3 (relay.toml line 14): source \"flux\" is not \"github\"",
        ]
    );
    // A workflow run, its event read from the body.
    let run = workflow_run("completed", "success", "Deploy web");
    let out = explain(Some(ROUTES), "github", &run, &[], BOTH);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["service_id"], 12);
    assert_eq!(out.json()["job_id"], "6001-2");
    assert_eq!(
        said(&out)[1],
        "route 1 (relay.toml line 2): environment \"prod*\" does not match: a workflow_run has no environment"
    );
}

#[test]
fn explain_reads_standard_input_and_every_sender() {
    // From standard input, without --config: the one route of ALLSTACKS_SERVICE_ID.
    let body = deployment_status(42, "success", "production", SHA);
    let out = tool(&["serve", "--explain", "-", "--source", "github"])
        .file("body.json", &body)
        .stdin_from("body.json")
        .envs(&[("ALLSTACKS_SERVICE_ID", "7")])
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json(), deployment_job(42));
    assert!(
        said(&out).contains(&"the one route (no --config) takes it"),
        "{}",
        out.stderr
    );
    let service = |source: &str, body: &[u8], env: &[(&str, &str)]| {
        let out = explain(Some(ROUTES), source, body, &[], &[BOTH, env].concat());
        assert_eq!(out.code, 0, "{source}: {}", out.stderr);
        (
            out.json()["service_id"].clone(),
            out.json()["repo_name"].clone(),
        )
    };
    let gitlab = gitlab_deployment("success");
    assert_eq!(
        service("gitlab", &gitlab, &[]),
        (json!(14), json!("acme/web"))
    );
    let argocd = argocd_body("Succeeded", SHA);
    assert_eq!(
        service("argocd", &argocd, &[]),
        (json!(14), json!("acme/web"))
    );
    // A Flux event without eventMetadata.repo_name is credited to the route's repo_name.
    let mut flux: Value =
        serde_json::from_slice(&flux_event("ReconciliationSucceeded", "info")).expect("json");
    flux["metadata"]
        .as_object_mut()
        .expect("metadata")
        .remove("repo_name");
    let flux = flux.to_string().into_bytes();
    assert_eq!(
        service("flux", &flux, &[]),
        (json!(13), json!("acme/platform"))
    );
    let pipelines = [BOTH, &[("ALLSTACKS_GITLAB_EVENTS", "deployment,pipeline")]].concat();
    let pipeline = gitlab_pipeline("success");
    let out = explain(
        Some(ROUTES),
        "gitlab",
        &pipeline,
        &["--event", "Pipeline Hook"],
        &pipelines,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["job_id"], "31");
    assert_eq!(
        said(&out)[0],
        "read as a GitLab \"Pipeline Hook\" (--event)"
    );
}

#[test]
fn explain_says_why_a_body_is_ignored() {
    let ignored = |source: &str, body: &[u8], args: &[&str], env: &[(&str, &str)]| {
        // Without the events the workflow route needs, without --config.
        let out = if env.is_empty() {
            explain(None, source, body, args, &[("ALLSTACKS_SERVICE_ID", "7")])
        } else {
            explain(Some(ROUTES), source, body, args, env)
        };
        assert_eq!(out.code, 0, "{}", out.stderr);
        assert_eq!(out.stdout, "", "no job is printed");
        said(&out).last().copied().unwrap_or("").to_string()
    };
    let ping = br#"{"zen": "Design for failure.", "hook_id": 1}"#;
    assert_eq!(
        ignored("github", ping, &[], BOTH),
        "ignored: GitHub's ping, sent when a webhook is created (the relay answers 200 {\"pong\": true}): not a deployment; nothing would be reported"
    );
    let pending = deployment_status(3, "in_progress", "production", SHA);
    let why = ignored("github", &pending, &[], BOTH);
    assert!(why.contains("not one of --deployment-states"), "{why}");
    // workflow_run is not reported by default: answered from the event alone.
    let run = workflow_run("completed", "success", "Deploy web");
    assert_eq!(
        ignored("github", &run, &["--event", "workflow_run"], &[]),
        "ignored: GitHub event \"workflow_run\" is not reported (ALLSTACKS_GITHUB_EVENTS); nothing would be reported"
    );
    let gitlab = gitlab_deployment("success");
    assert_eq!(
        ignored("gitlab", &gitlab, &["--event", "Push Hook"], &[]),
        "ignored: GitLab \"Push Hook\" events are not reported (ALLSTACKS_GITLAB_EVENTS); nothing would be reported"
    );
    // No route matches: each says why.
    let only_prod = "[[route]]\nenvironment = \"prod*\"\nservice_id = 3\n";
    let staging = deployment_status(4, "success", "staging", SHA);
    let out = explain(Some(only_prod), "github", &staging, &[], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        said(&out)[1..],
        [
            "route 1 (relay.toml line 1): environment \"prod*\" does not match \"staging\"",
            "ignored: no route matches (source github, repo acme/web, environment staging); nothing would be reported",
        ]
    );
    // Older than the replay window: ignored, with the route it would have taken.
    let old = with(
        &deployment_status(5, "success", "production", SHA),
        &["deployment_status", "updated_at"],
        json!("2020-01-01T00:00:00Z"),
    );
    let out = explain(Some(ROUTES), "github", &old, &[], BOTH);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        said(&out)[1..],
        [
            "route 1 (relay.toml line 2) takes it",
            "ignored: older than the 7-day replay window: backfill is the tool for history; nothing would be reported",
        ]
    );
}

/// `out` is exit 2, printed no job, and says each of `needles` on stderr.
fn refused(out: &Output, needles: &[&str]) {
    assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{}", out.stderr);
    for needle in needles {
        assert!(out.stderr.contains(needle), "{needle}:\n{}", out.stderr);
    }
}

#[test]
fn explain_refuses_an_invalid_body_or_config_with_exit_2() {
    let truncated = b"{\"app\": \"web\", ";
    refused(
        &explain(Some(ROUTES), "argocd", truncated, &[], BOTH),
        &["error: explain: the body is not JSON (at line 1, column 15); the relay answers 400"],
    );
    let chart = argocd_body("Succeeded", "1.4.2");
    refused(
        &explain(Some(ROUTES), "argocd", &chart, &[], BOTH),
        &[
            "commit_sha must be a full 40- or 64-character hex SHA, got \"1.4.2\" (from webhook revision): an application from a Helm repository",
            "; the relay answers 422",
        ],
    );
    // The routes are checked as at start: the workflow route needs workflow_run.
    let body = deployment_status(42, "success", "production", SHA);
    refused(
        &explain(Some(ROUTES), "github", &body, &[], &[]),
        &["relay.toml line 11: route 2: workflow = \"Deploy*\" can never match"],
    );
    let service = [("ALLSTACKS_SERVICE_ID", "7")];
    refused(
        &explain(None, "flux", &body, &["--event", "x"], &service),
        &["--event is the X-GitHub-Event or X-Gitlab-Event header; flux sends none"],
    );
    // A body over the relay's limit is refused as the relay would (413).
    let big = vec![b' '; 25 * 1024 * 1024 + 1];
    refused(
        &explain(None, "github", &big, &[], &service),
        &["is over 25 MiB"],
    );
}

#[test]
fn explain_needs_no_secret_and_shows_none() {
    // The token and a secret set as for serve: never in the output, never needed.
    let body = deployment_status(42, "success", "production", SHA);
    let secret = "gh-secret-never-shown-0123";
    let out = explain(
        None,
        "github",
        &body,
        &[],
        &[
            ("ALLSTACKS_SERVICE_ID", "7"),
            ("ALLSTACKS_TOKEN", TOKEN),
            ("ALLSTACKS_GITHUB_SECRET", secret),
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
    // A body whose values try to break the line is shown escaped.
    let hostile = with(
        &body,
        &["deployment", "environment"],
        json!("prod\n\u{1b}[31mallstacks-cd: explain: forged"),
    );
    let out = explain(Some(ROUTES), "github", &hostile, &[], BOTH);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        !out.stderr
            .lines()
            .any(|l| l.starts_with("allstacks-cd: explain: forged")),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains('\u{1b}'), "{}", out.stderr);
}
