//! Deployment truth (spec/deployment-truth.md): the platforms' own published payloads
//! (`tests/fixtures/platforms/`, each file's source in the README there) through every path that
//! meets them: `report` with `GITHUB_EVENT_PATH`, `serve` (a relay started by the test) and
//! `backfill` (a fake API on 127.0.0.1 answering with the recorded shapes). Each test asserts
//! the job Allstacks receives (or the exact reason nothing is sent).

mod gotemplate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::backfill::{by_job_id, gh, gitlab_api, gl, json_reply, last_line, path_of};
use crate::relay::{
    ARGOCD_SECRET, FLUX_SECRET, GITLAB_SECRET, Setup, github_headers, sign, wait_for,
};
use crate::support::{Output, Reply, Repo, Server, tool};

fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/platforms")
        .join(name)
}

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_path(name)).expect("fixture");
    serde_json::from_str(&text).expect("fixture JSON")
}

fn bytes(v: &Value) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// The optional field `key` of a received job, when sent.
fn field<'a>(job: &'a Value, key: &str) -> Option<&'a Value> {
    job["optional"].as_array()?.iter().find(|f| f["key"] == key)
}

fn value_of<'a>(job: &'a Value, key: &str) -> Option<&'a Value> {
    field(job, key).map(|f| &f["value"])
}

/// `report --dry-run` of a GitHub runner whose event is `file`.
fn report(event: &str, file: &str, args: &[&str]) -> Output {
    let mut argv = vec!["report", "--dry-run"];
    argv.extend_from_slice(args);
    let dir = tempfile::tempdir().expect("tmp");
    tool(&argv)
        .dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", event)
        .env("GITHUB_EVENT_PATH", fixture_path(file))
        .env("GITHUB_SHA", "a2e7da86cc392417b0d9f605b28038aae80b002f")
        .env("GITHUB_REPOSITORY", "acme/reporter")
        .env("GITHUB_RUN_ID", "777")
        .env("GITHUB_RUN_ATTEMPT", "1")
        .env("ALLSTACKS_SERVICE_ID", "7")
        .run()
}

// --- GitHub: workflow_run ---------------------------------------------------------------------

/// GitHub's own example: `workflow_run.name` is "", the workflow is `test`; the run queued 25 s.
#[test]
fn report_a_workflow_run_whose_name_is_empty() {
    let out = report("workflow_run", "github/workflow_run.completed.json", &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.json(),
        json!({
            "job_id": "289782451-1", "status": "Succeeded",
            "commit_sha": "3484a3fb816e0859fd6e1cea078d76385ff50625",
            "triggered_by": "Codertocat", "repo_id": "300029405",
            "repo_name": "octo-org/octo-repo", "service_id": 7,
            "job_start_time": 1_601_915_629, "job_duration": 0,
            "optional": [
                {"key": "ci_provider", "value": "github-actions", "type": "string"},
                {"key": "workflow", "value": "test", "type": "string"},
                {"key": "pipeline_url", "value": "https://github.com/octo-org/octo-repo/actions/runs/289782451", "type": "string"},
                {"key": "branch", "value": "master", "type": "string"},
                {"key": "trigger_event", "value": "repository_dispatch", "type": "string"},
                {"key": "run_attempt", "value": "1", "type": "string"},
                {"key": "commit_time", "value": 1_601_915_527, "type": "timestamp"},
                {"key": "queued_seconds", "value": 25, "type": "duration"}
            ]
        })
    );
}

#[test]
fn report_a_workflow_run_with_its_pull_requests() {
    let out = report(
        "workflow_run",
        "github/workflow_run.completed.with-pull-requests.json",
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job = out.json();
    assert_eq!(
        field(&job, "pull_requests"),
        Some(&json!({"key": "pull_requests", "value": 2, "type": "integer"}))
    );
}

/// The user's fields come first; under the 20-field cap the context fields left out are named.
#[test]
fn the_cap_keeps_user_fields_and_names_the_context_fields_it_drops() {
    let user: Vec<String> = (1..=17).map(|i| format!("team{i}=web")).collect();
    let out = report(
        "workflow_run",
        "github/workflow_run.completed.json",
        &user
            .iter()
            .flat_map(|f| ["--field", f.as_str()])
            .collect::<Vec<_>>(),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job = out.json();
    let keys: Vec<&str> = job["optional"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| f["key"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(keys.len(), 20);
    assert_eq!(keys[0], "team1");
    assert_eq!(&keys[17..], ["ci_provider", "workflow", "pipeline_url"]);
    assert!(
        out.stderr.contains(
            "context fields branch, trigger_event, run_attempt, commit_time, queued_seconds left \
             out: the webhook takes at most 20 optional fields"
        ),
        "{}",
        out.stderr
    );
}

/// The same run at the relay: `ALLSTACKS_WORKFLOWS=test` takes it (the run's own name is empty).
#[test]
fn serve_matches_workflows_on_the_workflow_name() {
    let server = Server::start(vec![Reply::status(201)]);
    let (body, delta) = recent(&fixture("github/workflow_run.completed.json"));
    let relay = Setup::new(&server.url())
        .env("ALLSTACKS_GITHUB_EVENTS", "deployment_status,workflow_run")
        .env("ALLSTACKS_WORKFLOWS", "test")
        .start();
    let body = bytes(&body);
    let headers = github_headers("workflow_run", "run-1", &body);
    assert_eq!(
        relay.post("/github", &headers, &body),
        (202, json!({"queued": ["289782451-1"]}))
    );
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(value_of(&job, "workflow"), Some(&json!("test")));
    assert_eq!(job["job_start_time"], 1_601_915_629 + delta);
    assert_eq!(value_of(&job, "queued_seconds"), Some(&json!(25)));
}

/// A run listing of GitHub Enterprise Server before 3.3 (GitHub's 2020 example run, which has
/// neither `run_attempt` nor `run_started_at`): attempt 1, started when created.
#[test]
fn backfill_runs_of_an_old_github_enterprise_server() {
    let state = tempfile::tempdir().expect("tmp");
    let page = fixture("github/runs.ghes-without-attempt.json");
    let api = Server::route(move |r| match path_of(&r.path) {
        "/repos/octo-org/octo-repo" => {
            json_reply(json!({"id": 300_029_405, "full_name": "octo-org/octo-repo"}))
        }
        "/repos/octo-org/octo-repo/actions/workflows/test.yml/runs" => json_reply(page.clone()),
        _ => Reply::status(404),
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let args = [
        "github-runs",
        "--repo",
        "octo-org/octo-repo",
        "--workflow",
        "test.yml",
    ];
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 1, sent 1, already sent 0, skipped 0, failed 0"
    );
    let got = by_job_id(&receiver.received());
    let job = &got["289782451-1"];
    assert_eq!(job["job_start_time"], 1_601_915_604, "created_at");
    assert_eq!(job["job_duration"], 25, "updated_at - created_at");
    assert_eq!(value_of(job, "run_attempt"), Some(&json!("1")));
    assert_eq!(field(job, "queued_seconds"), None, "no start: not known");
    assert_eq!(field(job, "workflow"), None, "no name, no path in 2020");
}

// --- GitHub: deployment_status ----------------------------------------------------------------

#[test]
fn report_a_deployment_status_with_its_id_and_branch() {
    let out = report(
        "deployment_status",
        "github/deployment_status.success.json",
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job = out.json();
    assert_eq!(job["job_id"], "deployment-145988746");
    assert_eq!(job["triggered_by"], "Codertocat");
    assert_eq!(job["job_start_time"], 1_557_933_653);
    assert_eq!(job["job_duration"], 2);
    assert_eq!(value_of(&job, "deployment_id"), Some(&json!("145988746")));
    assert_eq!(value_of(&job, "branch"), Some(&json!("master")));
    assert_eq!(field(&job, "creator"), None, "the sender created it");
    assert_eq!(field(&job, "failure_reason"), None, "it succeeded");
    // The commit is not in this (empty) directory: no commit time.
    assert_eq!(field(&job, "commit_time"), None);
}

/// A deploy workflow that checked the deployed commit out: its committer time is the
/// `commit_time` (2024-01-01T00:00:00Z in the test repository).
#[test]
fn report_a_deployment_status_with_the_commit_time_from_git() {
    let repo = Repo::new("sha1");
    let mut event = fixture("github/deployment_status.success.json");
    event["deployment"]["sha"] = json!(repo.head());
    let file = repo.path().join("event.json");
    std::fs::write(&file, event.to_string()).expect("event");
    let out = tool(&["report", "--dry-run"])
        .dir(repo.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_NAME", "deployment_status")
        .env("GITHUB_EVENT_PATH", &file)
        .env("ALLSTACKS_SERVICE_ID", "7")
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        field(&out.json(), "commit_time"),
        Some(&json!({"key": "commit_time", "value": 1_704_067_200, "type": "timestamp"}))
    );
}

/// GitHub Pages' deployment: created by `github-pages[bot]`, its status sent by Codertocat.
#[test]
fn report_a_deployment_created_by_an_app_names_its_creator() {
    let file = "github/deployment_status.gh-pages.json";
    let out = report("deployment_status", file, &[]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stderr);
    assert!(
        out.stderr.contains("deployment state \"in_progress\""),
        "{}",
        out.stderr
    );
    let out = report(
        "deployment_status",
        file,
        &["--deployment-states", "in_progress"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let job = out.json();
    assert_eq!(job["status"], "On Hold");
    assert_eq!(job["triggered_by"], "github-pages[bot]");
    assert_eq!(value_of(&job, "creator"), Some(&json!("github-pages[bot]")));
    assert_eq!(value_of(&job, "environment"), Some(&json!("github-pages")));
}

/// GitHub's API examples (its OpenAPI description): a deployment of `topic-branch` and its
/// status, read by backfill.
#[test]
fn backfill_github_deployments_from_the_api_examples() {
    let state = tempfile::tempdir().expect("tmp");
    let deployments = fixture("github/api.deployments.json");
    let statuses = fixture("github/api.deployment-statuses.json");
    let api = Server::route(move |r| match path_of(&r.path) {
        "/repos/octocat/example" => {
            json_reply(json!({"id": 1_296_269, "full_name": "octocat/example"}))
        }
        "/repos/octocat/example/deployments" => json_reply(deployments.clone()),
        "/repos/octocat/example/deployments/1/statuses" => json_reply(statuses.clone()),
        _ => Reply::status(404),
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let args = ["github-deployments", "--repo", "octocat/example"];
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = by_job_id(&receiver.received());
    let job = &got["deployment-1"];
    assert_eq!(
        job["commit_sha"],
        "a84d88e7554fc1fa21bcbc4efae3c782a70d2b9d"
    );
    assert_eq!(job["triggered_by"], "octocat");
    assert_eq!(job["job_start_time"], 1_342_747_153);
    assert_eq!(value_of(job, "deployment_id"), Some(&json!("1")));
    assert_eq!(value_of(job, "branch"), Some(&json!("topic-branch")));
    assert_eq!(field(job, "creator"), None, "octocat set the status too");
    assert_eq!(
        value_of(job, "log_url"),
        Some(&json!("https://example.com/deployment/42/output"))
    );
}

// --- GitLab: deployment hooks -----------------------------------------------------------------

fn gitlab_headers(event: &str, uuid: &str) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("x-gitlab-event", event.into()),
        ("x-gitlab-event-uuid", uuid.into()),
        ("x-gitlab-token", GITLAB_SECRET.into()),
    ]
}

/// GitLab's documented deployment hook tells only when the status changed: with no API token,
/// the job starts at its end and the relay says so.
#[test]
fn serve_a_gitlab_deployment_hook_with_no_start() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let (hook, delta) = recent(&fixture("gitlab/deployment_hook.json"));
    let body = bytes(&hook);
    assert_eq!(
        relay.post("/gitlab", &gitlab_headers("Deployment Hook", "d-1"), &body),
        (202, json!({"queued": ["796"]}))
    );
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(job["job_start_time"], 1_619_639_400 + delta);
    assert_eq!(job["job_duration"], 0);
    assert_eq!(job["triggered_by"], "admin@example.com");
    assert_eq!(job["repo_name"], "root/test-deployment-webhooks");
    assert_eq!(
        job["commit_sha"],
        "279484c09fbe69ededfced8c1bb6e6d24616b468"
    );
    assert_eq!(value_of(&job, "deployment_id"), Some(&json!("15")));
    let log = relay.log_when(|l| l.iter().any(|l| l.contains("does not say when")));
    assert!(
        log.iter()
            .any(|l| l.contains("GitLab does not say when deploying job 796 started")),
        "{log:?}"
    );
}

/// A deploying job that never started (GitLab's jobs API: `started_at` null): it starts when it
/// was created; a user without a public email (`[REDACTED]`, as GitLab documents) is named by
/// username.
#[test]
fn serve_a_gitlab_deployment_whose_job_never_started() {
    let server = Server::start(vec![Reply::status(201)]);
    let (mut hook, delta) = recent(&fixture("gitlab/deployment_hook.json"));
    hook["user"]["email"] = json!("[REDACTED]");
    let end = hook["status_changed_at"]
        .as_str()
        .expect("a time")
        .to_string();
    let created = shift_text(&end, -30);
    let api = Server::start(vec![
        Reply::status(200).body(
            json!({"id": 796, "status": "canceled", "created_at": created, "started_at": null})
                .to_string(),
        ),
    ]);
    let relay = Setup::new(&server.url())
        .env("GITLAB_TOKEN", "glpat-truth-test")
        .env("GITLAB_API_URL", &format!("{}/api/v4", api.url()))
        .start();
    let body = bytes(&hook);
    assert_eq!(
        relay
            .post("/gitlab", &gitlab_headers("Deployment Hook", "d-2"), &body)
            .0,
        202
    );
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(api.only().path, "/api/v4/projects/30/jobs/796");
    assert_eq!(job["job_start_time"], 1_619_639_400 + delta - 30);
    assert_eq!(job["job_duration"], 30);
    assert_eq!(job["triggered_by"], "root", "never [REDACTED]");
}

// --- GitLab: pipeline hooks -------------------------------------------------------------------

fn pipeline_relay(server: &Server, extra: &[(&str, &str)]) -> crate::relay::Relay {
    let mut setup = Setup::new(&server.url()).env("ALLSTACKS_GITLAB_EVENTS", "deployment,pipeline");
    for (k, v) in extra {
        setup = setup.env(k, v);
    }
    setup.start()
}

/// GitLab's documented pipeline: its `production` job was manual and skipped, its `staging`
/// job only created. Under an environment filter it deployed nowhere; without one it is
/// reported as a pipeline, with GitLab's own duration and its merge request.
#[test]
fn serve_a_gitlab_pipeline_whose_deploy_jobs_never_ran() {
    let (hook, delta) = recent(&fixture("gitlab/pipeline_hook.json"));
    let body = bytes(&hook);
    let post = |relay: &crate::relay::Relay, uuid: &str| {
        relay.post("/gitlab", &gitlab_headers("Pipeline Hook", uuid), &body)
    };
    let server = Server::start(vec![Reply::status(201)]);
    let relay = pipeline_relay(&server, &[("ALLSTACKS_ENVIRONMENTS", "production")]);
    assert_eq!(
        post(&relay, "p-1"),
        (
            202,
            json!({"ignored": "deploy job \"production\" to \"production\" is skipped (from webhook builds[]): the pipeline did not deploy there: nothing is sent"})
        )
    );
    let relay = pipeline_relay(&server, &[("ALLSTACKS_ENVIRONMENTS", "stag*")]);
    assert_eq!(
        post(&relay, "p-2"),
        (
            202,
            json!({"ignored": "deploy job \"staging\" to \"staging\" is created (from webhook builds[]): the pipeline did not deploy there: nothing is sent"})
        )
    );
    let relay = pipeline_relay(&server, &[]);
    assert_eq!(post(&relay, "p-3"), (202, json!({"queued": ["31"]})));
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(job["status"], "Succeeded");
    assert_eq!(job["job_start_time"], 1_471_015_408 + delta);
    assert_eq!(
        job["job_duration"], 63,
        "GitLab's duration, not finished - created"
    );
    assert_eq!(job["triggered_by"], "user_email@gitlab.com");
    assert_eq!(value_of(&job, "pull_requests"), Some(&json!(1)));
    assert_eq!(
        value_of(&job, "commit_time"),
        Some(&json!(1_471_015_401 + delta))
    );
    assert_eq!(field(&job, "environment"), None);
}

/// The same pipeline had its production job played and passed (the documented hook with that
/// one job's status changed): a route for production takes it, as a deployment to production.
#[test]
fn serve_routes_a_gitlab_pipeline_by_the_environment_its_job_deployed_to() {
    let (mut hook, _) = recent(&fixture("gitlab/pipeline_hook.json"));
    hook["builds"][0]["status"] = json!("success");
    let server = Server::start(vec![Reply::status(201)]);
    let setup = Setup::new(&server.url()).env("ALLSTACKS_GITLAB_EVENTS", "deployment,pipeline");
    let config = setup.home.path().join("routes.toml");
    std::fs::write(
        &config,
        "[[route]]\nsource = \"gitlab\"\nenvironment = \"prod*\"\nservice_id = 9\n",
    )
    .expect("config");
    let relay = setup
        .arg("--config")
        .arg(config.to_str().expect("utf-8"))
        .start();
    let body = bytes(&hook);
    assert_eq!(
        relay.post("/gitlab", &gitlab_headers("Pipeline Hook", "p-9"), &body),
        (202, json!({"queued": ["31"]}))
    );
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(job["service_id"], 9);
    assert_eq!(job["status"], "Succeeded");
    assert_eq!(value_of(&job, "environment"), Some(&json!("production")));
}

// --- GitLab: backfill -------------------------------------------------------------------------

/// GitLab's documented deployment whose job never started (`started_at` null): the deployment
/// starts when its job was created.
#[test]
fn backfill_a_gitlab_deployment_whose_job_never_started() {
    let state = tempfile::tempdir().expect("tmp");
    let api = gitlab_api(vec![fixture("gitlab/api.deployment.json")], vec![], |_| {
        None
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let args = ["gitlab-deployments", "--project", "group/sub/proj"];
    let out = gl(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = by_job_id(&receiver.received());
    let job = &got["664"];
    assert_eq!(
        job["job_start_time"], 1_470_915_144,
        "deployable.created_at"
    );
    assert_eq!(job["job_duration"], 11);
    assert_eq!(job["triggered_by"], "root");
    assert_eq!(value_of(job, "deployment_id"), Some(&json!("42")));
}

/// `gitlab-pipelines --environments`: the project's deployments (GitLab's documented listing:
/// pipelines 36 and 37 deployed to production) decide; pipeline 46 (GitLab's documented single
/// pipeline) deployed nowhere.
#[test]
fn backfill_gitlab_pipelines_with_an_environment_filter() {
    let deployments: Vec<Value> = fixture("gitlab/api.deployments.json")
        .as_array()
        .expect("a list")
        .clone();
    let mut pipelines: Vec<Value> = vec![fixture("gitlab/api.pipeline.json")];
    pipelines.extend(
        deployments
            .iter()
            .rev()
            .map(|d| d["deployable"]["pipeline"].clone()),
    );
    let receiver = Server::start(vec![Reply::status(201)]);
    let run = |envs: &str| {
        let state = tempfile::tempdir().expect("tmp");
        let api = gitlab_api(deployments.clone(), pipelines.clone(), |_| None);
        let args = [
            "gitlab-pipelines",
            "--project",
            "55",
            "--environments",
            envs,
            "-v",
        ];
        gl(&args, &api, &receiver, state.path()).run()
    };
    let out = run("production");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 3, sent 2, already sent 0, skipped 1, failed 0"
    );
    assert!(
        out.stderr.contains(
            "pipeline 46: the pipeline ran no job for an environment in --environments \
             (production): it did not deploy there: nothing is sent"
        ),
        "{}",
        out.stderr
    );
    let got = by_job_id(&receiver.received());
    assert_eq!(got.keys().collect::<Vec<_>>(), ["36", "37"]);
    assert_eq!(got["36"]["status"], "Succeeded");
    assert_eq!(
        value_of(&got["36"], "environment"),
        Some(&json!("production"))
    );
    assert_eq!(got["37"]["job_start_time"], 1_470_901_432);
    let out = run("staging");
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 3, sent 0, already sent 0, skipped 3, failed 0"
    );
}

/// Without a filter a pipeline is reported as before, with GitLab's own times: started at
/// `created_at` + `queued_duration` (`started_at` is null), GitLab's `duration`, rounded.
#[test]
fn backfill_a_gitlab_pipeline_with_its_own_duration() {
    let state = tempfile::tempdir().expect("tmp");
    let api = gitlab_api(vec![], vec![fixture("gitlab/api.pipeline.json")], |_| None);
    let receiver = Server::start(vec![Reply::status(201)]);
    let out = gl(
        &["gitlab-pipelines", "--project", "55"],
        &api,
        &receiver,
        state.path(),
    )
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = by_job_id(&receiver.received());
    let job = &got["46"];
    assert_eq!(job["job_start_time"], 1_470_914_914);
    assert_eq!(job["job_duration"], 124, "123.65 s");
    assert_eq!(value_of(job, "queued_seconds"), Some(&json!(0)));
}

// --- Flux -------------------------------------------------------------------------------------

/// Flux's documented event: the `main/<sha>` revision of Flux before `main@sha1:`, under the
/// controller's own key, and no `eventMetadata`. Without a repository it cannot be a job (422);
/// a route's `repo_name` supplies one.
#[test]
fn serve_flux_events_in_the_older_revision_format() {
    let body = bytes(&fixture("flux/event.validation-failed.json"));
    let headers = [("x-signature", sign(FLUX_SECRET, &body))];
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let (status, answer) = relay.post("/flux", &headers, &body);
    assert_eq!(
        (status, answer),
        (
            422,
            json!({"error": "repo_id or repo_name is required, and the flux record names no repository: add repo_name to the Alert's eventMetadata, or to the route that takes it"})
        )
    );
    let setup = Setup::new(&server.url());
    let config = setup.home.path().join("routes.toml");
    std::fs::write(
        &config,
        "[[route]]\nsource = \"flux\"\nrepo_name = \"acme/webapp\"\nservice_id = 7\n",
    )
    .expect("config");
    let relay = setup
        .arg("--config")
        .arg(config.to_str().expect("utf-8"))
        .start();
    let (status, answer) = relay.post("/flux", &headers, &body);
    assert_eq!(status, 202, "{answer}");
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(
        job,
        json!({
            "job_id": "flux-Kustomization-apps-webapp-1666941979", "status": "Failed",
            "commit_sha": "731f7eaddfb6af01cb2173e18f0f75b0ba780ef1", "repo_name": "acme/webapp",
            "service_id": 7, "job_start_time": 1_666_941_979, "job_duration": 0,
            "optional": [
                {"key": "ci_provider", "value": "flux", "type": "string"},
                {"key": "flux_object", "value": "Kustomization/apps/webapp", "type": "string"},
                {"key": "flux_controller", "value": "kustomize-controller", "type": "string"},
                {"key": "failure_reason", "type": "string",
                 "value": "ValidationFailed: service/apps/webapp validation error: spec.type: Unsupported value: Ingress"}
            ]
        })
    );
}

// --- Argo CD ----------------------------------------------------------------------------------

/// The body of the template in `docs/relay-senders.md`, read from the page itself.
fn documented_template() -> String {
    let page = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/relay-senders.md"),
    )
    .expect("docs/relay-senders.md");
    let start = page
        .lines()
        .position(|l| l.trim() == "body: |")
        .expect("the template's body");
    let lines: Vec<&str> = page.lines().skip(start + 1).collect();
    let indent = lines[0].len() - lines[0].trim_start().len();
    lines
        .iter()
        .take_while(|l| l.len() > indent && l[..indent].trim().is_empty())
        .map(|l| &l[indent..])
        .collect::<Vec<_>>()
        .join("\n")
}

/// The body the notifications engine posts for `application` (a JSON file of an Application).
fn rendered(application: &str) -> Vec<u8> {
    let data = json!({"app": fixture(application)});
    let body = gotemplate::render(&documented_template(), &data);
    assert!(!body.contains("<no value>"), "{body}");
    serde_json::from_str::<Value>(&body).expect("the rendered body is JSON");
    body.into_bytes()
}

/// An automated sync to a cluster named in Argo CD, rendered through the documented template:
/// nobody is credited as `<no value>`, the destination is the cluster's name; Healthy is a
/// success, the same sync then Degraded is the same job, Failed.
#[test]
fn serve_argocd_bodies_rendered_from_the_documented_template() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let auth = [("authorization", format!("Bearer {ARGOCD_SECRET}"))];
    let job_id = "argocd-guestbook-1796047490";
    let healthy = rendered("argocd/application.healthy.json");
    assert_eq!(
        relay.post("/argocd", &auth, &healthy),
        (202, json!({"queued": [job_id]}))
    );
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(
        job,
        json!({
            "job_id": job_id, "status": "Succeeded",
            "commit_sha": "53e28ff20cc530b9ada2173fbbd64d48338583ba", "triggered_by": "argocd",
            "repo_name": "argoproj/argocd-example-apps", "service_id": 7,
            "job_start_time": 1_796_047_490, "job_duration": 2,
            "optional": [
                {"key": "ci_provider", "value": "argo-cd", "type": "string"},
                {"key": "argocd_app", "value": "guestbook", "type": "string"},
                {"key": "argocd_project", "value": "default", "type": "string"},
                {"key": "destination", "value": "in-cluster/guestbook", "type": "string"},
                {"key": "initiated_by", "value": "automated", "type": "string"},
                {"key": "deployment_id", "value": "7", "type": "string"},
                {"key": "health", "value": "Healthy", "type": "string"}
            ]
        })
    );
    let degraded = rendered("argocd/application.degraded.json");
    let (status, answer) = relay.post("/argocd", &auth, &degraded);
    // The same sync operation settled: its Degraded after the reported Healthy is the same
    // record (the job id without the status), not a second deployment.
    assert_eq!(status, 202, "{answer}");
    assert_eq!(
        answer["record"],
        json!(format!("argocd {job_id}")),
        "{answer}"
    );
    assert!(answer.get("duplicate").is_some(), "{answer}");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(server.received().len(), 1, "the Degraded was sent too");
}

/// A manual sync that failed: credited to its user, with Argo CD's message as the reason and no
/// deployment id (a failed sync records no history).
#[test]
fn serve_a_failed_argocd_sync_rendered_from_the_documented_template() {
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let auth = [("authorization", format!("Bearer {ARGOCD_SECRET}"))];
    let body = rendered("argocd/application.sync-failed.json");
    assert_eq!(
        relay.post("/argocd", &auth, &body),
        (202, json!({"queued": ["argocd-guestbook-1796052000"]}))
    );
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(job["status"], "Failed");
    assert_eq!(job["triggered_by"], "alice@example.com");
    assert_eq!(
        value_of(&job, "initiated_by"),
        Some(&json!("alice@example.com"))
    );
    assert_eq!(
        value_of(&job, "failure_reason"),
        Some(&json!(
            "one or more objects failed to apply, reason: Deployment.apps \"guestbook-ui\" is invalid: spec.template.spec.containers[0].image: Required value"
        ))
    );
    assert_eq!(field(&job, "deployment_id"), None);
}

/// The template as it was (`initiatedBy.username` and the destination's `server` printed
/// directly) renders `<no value>` for an automated sync: the relay reads it as absent.
#[test]
fn serve_reads_no_value_from_an_older_template_as_absent() {
    let old = documented_template()
        .replace(
            "{{with .app.status.operationState.operation.initiatedBy.username}}{{.}}{{end}}",
            "{{.app.status.operationState.operation.initiatedBy.username}}",
        )
        .replace(
            "{{or .app.spec.destination.server .app.spec.destination.name}}",
            "{{.app.spec.destination.server}}",
        );
    assert_ne!(
        old,
        documented_template(),
        "the template changed its wording"
    );
    let data = json!({"app": fixture("argocd/application.healthy.json")});
    let body = gotemplate::render(&old, &data);
    assert!(body.contains("\"initiated_by\": \"<no value>\""), "{body}");
    let server = Server::start(vec![Reply::status(201)]);
    let relay = Setup::new(&server.url()).start();
    let auth = [("authorization", format!("Bearer {ARGOCD_SECRET}"))];
    assert_eq!(relay.post("/argocd", &auth, body.as_bytes()).0, 202);
    let job = wait_for(&server, 1, Duration::from_secs(10))[0].json();
    assert_eq!(job["triggered_by"], "argocd");
    assert_eq!(value_of(&job, "initiated_by"), Some(&json!("automated")));
}

// --- Times of old payloads --------------------------------------------------------------------

/// `payload` with every timestamp moved by the same number of seconds so that the latest is a
/// day ago (a relay ignores GitHub and GitLab records older than its replay window), and that
/// number. Durations between the payload's times are kept.
fn recent(payload: &Value) -> (Value, i64) {
    let mut latest = i64::MIN;
    visit(&mut payload.clone(), &mut |t| {
        latest = latest.max(t);
        t
    });
    let delta = allstacks_cd::timefmt::now_epoch() - 86_400 - latest;
    let mut out = payload.clone();
    visit(&mut out, &mut |t| t + delta);
    (out, delta)
}

/// Calls `f` on every timestamp string of `v` (RFC 3339, or GitLab's `2021-04-28 21:50:00
/// +0200` and `... UTC`), replacing it with `f`'s result (written as RFC 3339, UTC).
fn visit(v: &mut Value, f: &mut dyn FnMut(i64) -> i64) {
    match v {
        Value::String(s) => {
            if let Some(t) = timestamp(s) {
                *s = allstacks_cd::timefmt::format_rfc3339(f(t));
            }
        }
        Value::Array(list) => list.iter_mut().for_each(|x| visit(x, f)),
        Value::Object(map) => map.values_mut().for_each(|x| visit(x, f)),
        _ => {}
    }
}

fn timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let dated = s.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b' ');
    if !dated {
        return None;
    }
    let text = match s.strip_suffix(" UTC") {
        Some(utc) => format!("{utc}Z"),
        None => match s.rsplit_once(' ') {
            Some((head, offset)) if offset.starts_with(['+', '-']) => format!("{head}{offset}"),
            _ => s.to_string(),
        },
    };
    allstacks_cd::timefmt::parse_timestamp(&text).ok()
}

/// A timestamp string moved by `secs`.
fn shift_text(s: &str, secs: i64) -> String {
    let t = timestamp(s).expect("a timestamp");
    allstacks_cd::timefmt::format_rfc3339(t + secs)
}

#[test]
fn recent_moves_every_time_by_the_same_amount() {
    let (v, delta) = recent(
        &json!({"a": "2021-04-28 21:50:00 +0200", "b": ["2016-08-12 15:23:28 UTC"], "c": "x"}),
    );
    assert_eq!(
        v["a"],
        allstacks_cd::timefmt::format_rfc3339(1_619_639_400 + delta)
    );
    assert_eq!(
        v["b"][0],
        allstacks_cd::timefmt::format_rfc3339(1_471_015_408 + delta)
    );
    assert_eq!(v["c"], "x");
    let now = allstacks_cd::timefmt::now_epoch();
    assert!((now - 86_400 - (1_619_639_400 + delta)).abs() <= 1);
}
