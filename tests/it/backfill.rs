//! `backfill` end to end: the real binary against fake GitHub and GitLab APIs on 127.0.0.1
//! (paginated, with rate-limit headers, scripted 429s and 401s) and a loopback receiver. Each
//! source's payloads are asserted field by field; the ledger makes re-runs send nothing twice,
//! a partial failure is retried, an interrupted run is finished by the next one; invalid
//! options and a refused token exit 2 before anything is sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Output, Received, Reply, Repo, Server, TOKEN, Tool, tool};

const GH_TOKEN: &str = "ghp-SECRET-9f8e7d6c5b4a";
const GL_TOKEN: &str = "glpat-SECRET-1a2b3c4d5e";
/// 2024-03-01T10:00:00Z.
const T0: i64 = 1_709_287_200;

fn sha(i: u64) -> String {
    format!("{:040x}", 0xabc0_0000_u64 + i)
}

fn rfc3339(t: i64) -> String {
    jiff::Timestamp::from_second(t).expect("time").to_string()
}

/// The value of `key` in the query of a request target.
fn query(target: &str, key: &str) -> Option<String> {
    let (_, q) = target.split_once('?')?;
    q.split('&')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_string())
}

pub(crate) fn path_of(target: &str) -> &str {
    target.split('?').next().unwrap_or(target)
}

/// Page `page` (from 1) of `items`, `size` a page.
fn slice(items: &[Value], page: usize, size: usize) -> (Value, bool) {
    let start = (page - 1) * size;
    let chunk: Vec<Value> = items.iter().skip(start).take(size).cloned().collect();
    (Value::from(chunk), start + size < items.len())
}

/// A GitHub-style page: `Link: rel="next"` on the same host.
pub(crate) fn github_page(r: &Received, items: &[Value], size: usize, wrap: Option<&str>) -> Reply {
    let page: usize = query(&r.path, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let (chunk, more) = slice(items, page, size);
    let body = match wrap {
        Some(key) => json!({"total_count": items.len(), key: chunk}),
        None => chunk,
    };
    let mut reply = Reply::status(200)
        .header("Content-Type", "application/json")
        .header("X-RateLimit-Remaining", "4999")
        .body(body.to_string());
    if more {
        let host = r.header("host").expect("host");
        let base = r.path.split("&page=").next().unwrap_or(&r.path);
        reply = reply.header(
            "Link",
            &format!(
                "<http://{host}{base}&page={}>; rel=\"next\", <http://{host}{base}&page=99>; rel=\"last\"",
                page + 1
            ),
        );
    }
    reply
}

/// A GitLab-style page: `X-Next-Page` (empty on the last), `X-Total`.
pub(crate) fn gitlab_page(r: &Received, items: &[Value], size: usize) -> Reply {
    let page: usize = query(&r.path, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    let (chunk, more) = slice(items, page, size);
    let next = if more {
        (page + 1).to_string()
    } else {
        String::new()
    };
    Reply::status(200)
        .header("Content-Type", "application/json")
        .header("X-Next-Page", &next)
        .header("X-Total", &items.len().to_string())
        .body(chunk.to_string())
}

pub(crate) fn json_reply(v: Value) -> Reply {
    Reply::status(200)
        .header("Content-Type", "application/json")
        .body(v.to_string())
}

/// A completed run as the API lists it: created at `T0 + id`, started 5 s later, updated 120 s
/// after the start. Padded with the fields GitHub also sends.
fn run(id: u64, attempt: u64, conclusion: &str) -> Value {
    let created = T0 + id as i64 * 60;
    json!({
        "id": id, "name": "Deploy", "node_id": "WFR_kwLOAAAA", "run_number": id, "run_attempt": attempt,
        "head_branch": "main", "head_sha": sha(id), "path": ".github/workflows/deploy.yml",
        "event": "push", "status": "completed", "conclusion": conclusion, "workflow_id": 99,
        "html_url": format!("https://github.com/acme/web/actions/runs/{id}"),
        "created_at": rfc3339(created), "run_started_at": rfc3339(created + 5),
        "updated_at": rfc3339(created + 125),
        "actor": {"login": "octo", "id": 1, "type": "User"},
        "triggering_actor": {"login": "octo-rerun", "id": 2, "type": "User"},
        "repository": {"id": 4242, "full_name": "acme/web", "private": true},
        "head_repository": {"id": 4242, "full_name": "acme/web"},
        "pull_requests": [], "referenced_workflows": [],
    })
}

/// The payload a pipeline-scope report of run `id` (attempt 1, success) sends.
fn run_payload(id: u64, attempt: u64, status: &str) -> Value {
    let created = T0 + id as i64 * 60;
    json!({
        "job_id": format!("{id}-{attempt}"), "status": status, "commit_sha": sha(id),
        "triggered_by": "octo-rerun", "repo_id": "4242", "repo_name": "acme/web", "service_id": 7,
        "job_start_time": created + 5, "job_duration": 120,
        "optional": [
            {"key": "ci_provider", "value": "github-actions", "type": "string"},
            {"key": "workflow", "value": "Deploy", "type": "string"},
            {"key": "pipeline_url", "value": format!("https://github.com/acme/web/actions/runs/{id}"), "type": "string"},
            {"key": "branch", "value": "main", "type": "string"},
            {"key": "trigger_event", "value": "push", "type": "string"},
            {"key": "run_attempt", "value": attempt.to_string(), "type": "string"},
            {"key": "queued_seconds", "value": 5, "type": "duration"},
        ],
    })
}

/// A fake GitHub serving `runs` (newest first) for workflow deploy.yml of acme/web, `size` a
/// page. `hook` may answer a request first (a scripted 429 or 401).
fn github_runs_api(
    runs: Vec<Value>,
    size: usize,
    hook: impl Fn(&Received) -> Option<Reply> + Send + Sync + 'static,
) -> Server {
    Server::route(move |r| {
        if let Some(reply) = hook(r) {
            return reply;
        }
        match path_of(&r.path) {
            "/repos/acme/web" => json_reply(json!({"id": 4242, "full_name": "acme/web"})),
            "/repos/acme/web/actions/workflows/deploy.yml/runs" => {
                github_page(r, &runs, size, Some("workflow_runs"))
            }
            _ => Reply::status(404).body(r#"{"message":"Not Found"}"#),
        }
    })
}

/// The receiver's requests, by job id; panics on a job received twice.
pub(crate) fn by_job_id(received: &[Received]) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for r in received {
        assert_eq!(r.path, "/webhook/company/42/cicd_job");
        let v = r.json();
        let id = v["job_id"].as_str().expect("job_id").to_string();
        assert!(out.insert(id.clone(), v).is_none(), "{id} was sent twice");
    }
    out
}

/// `backfill ARGS` posting to `receiver`, reading the fake GitHub `api`, with the ledger in
/// `state` (shared by the runs of one test).
pub(crate) fn gh(args: &[&str], api: &Server, receiver: &Server, state: &Path) -> Tool {
    let mut all = vec!["backfill"];
    all.extend_from_slice(args);
    tool(&all)
        .server(receiver)
        .env("GITHUB_API_URL", api.url())
        .env("GITHUB_TOKEN", GH_TOKEN)
        .env("XDG_STATE_HOME", state)
}

fn no_secret(out: &Output) {
    for secret in [GH_TOKEN, GL_TOKEN, TOKEN] {
        assert!(
            !out.stderr.contains(secret) && !out.stdout.contains(secret),
            "a token leaked:\n{}",
            out.stderr
        );
    }
}

pub(crate) fn last_line(out: &Output) -> &str {
    out.stderr.lines().last().unwrap_or_default()
}

#[test]
fn github_runs_every_page_mapped_field_by_field_and_a_rerun_sends_nothing() {
    let state = tempfile::tempdir().expect("tmp");
    // Newest first, as GitHub lists them; pages of 3.
    let mut runs = vec![
        run(109, 2, "success"),
        run(108, 1, "failure"),
        run(107, 1, "cancelled"),
        run(106, 1, "skipped"),
        run(105, 1, "success"),
        run(104, 1, "success"),
        run(103, 1, "timed_out"),
    ];
    runs[4]["status"] = json!("in_progress"); // 105: not finished, not listed as found
    runs[5]["head_branch"] = json!("feature"); // 104: another branch
    runs[6]["triggering_actor"] = Value::Null; // 103: falls back to actor
    let page2 = Arc::new(AtomicUsize::new(0));
    let hits = page2.clone();
    let api = github_runs_api(runs, 3, move |r| {
        // Page 2 is rate limited once (secondary limit, Retry-After); page 1 leaves no requests
        // until a reset 1 s ahead.
        if query(&r.path, "page").as_deref() == Some("2")
            && hits.fetch_add(1, Ordering::SeqCst) == 0
        {
            return Some(Reply::status(429).header("Retry-After", "1"));
        }
        None
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--branch",
        "main",
    ];
    let out = gh(&args, &api, &receiver, state.path()).run();
    no_secret(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 5, sent 4, already sent 0, skipped 1, failed 0",
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("GitHub API rate limit (HTTP 429 with Retry-After): waiting until"),
        "{}",
        out.stderr
    );
    let got = by_job_id(&receiver.received());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        ["103-1", "107-1", "108-1", "109-2"]
    );
    assert_eq!(got["109-2"], run_payload(109, 2, "Succeeded"));
    assert_eq!(got["108-1"], run_payload(108, 1, "Failed"));
    assert_eq!(got["107-1"], run_payload(107, 1, "Failed"));
    let mut timed_out = run_payload(103, 1, "Failed");
    timed_out["triggered_by"] = json!("octo");
    assert_eq!(got["103-1"], timed_out);
    // The API saw the token in its header only, the JSON media type and the API version.
    let calls = api.received();
    for c in &calls {
        assert_eq!(
            c.header("authorization"),
            Some(&*format!("Bearer {GH_TOKEN}"))
        );
        assert_eq!(c.header("accept"), Some("application/vnd.github+json"));
        assert_eq!(c.header("x-github-api-version"), Some("2022-11-28"));
        assert!(!c.path.contains(GH_TOKEN));
    }
    // The listing is never filtered by GitHub (its 1,000-result cap): branch and status are ours.
    let listing: Vec<&str> = calls
        .iter()
        .map(|c| c.path.as_str())
        .filter(|p| p.contains("/runs"))
        .collect();
    assert_eq!(listing.len(), 4, "{listing:?}"); // pages 1, 2 (429), 2, 3
    assert!(
        listing
            .iter()
            .all(|p| !p.contains("branch=") && !p.contains("status=")),
        "{listing:?}"
    );

    // The same backfill again: everything is in the ledger.
    let out = gh(&args, &api, &receiver, state.path()).arg_json().run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(receiver.received().len(), 4, "nothing is sent twice");
    assert_eq!(
        out.json(),
        json!({"found": 5, "sent": 0, "already_sent": 4, "skipped": 1, "failed": 0, "not_sent": 0, "exit_code": 0})
    );
    let ledger = state
        .path()
        .join("allstacks-cd/backfill/github-runs-acme%2fweb.ledger");
    let text = std::fs::read_to_string(&ledger).expect("ledger");
    let mut ids: Vec<&str> = text.lines().skip(1).collect();
    ids.sort();
    assert_eq!(ids, ["103-1", "107-1", "108-1", "109-2"]);
    assert!(text.starts_with("# endpoint http://127.0.0.1:"), "{text}");
}

impl Tool {
    /// `--output json`.
    fn arg_json(self) -> Tool {
        self.env("ALLSTACKS_OUTPUT", "json")
    }
}

#[test]
fn a_github_that_has_no_requests_left_is_waited_for_until_its_reset() {
    let state = tempfile::tempdir().expect("tmp");
    let runs = vec![run(202, 1, "success"), run(201, 1, "success")];
    let refused = Arc::new(AtomicUsize::new(0));
    let api = Server::route(move |r| {
        let reset = (allstacks_cd::timefmt::now_epoch() + 2).to_string();
        match path_of(&r.path) {
            // The answer uses the last request of the hour.
            "/repos/acme/web" => json_reply(json!({"id": 4242, "full_name": "acme/web"}))
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Reset", &reset),
            // The primary limit: a 403 that is not a refusal of the token.
            _ if query(&r.path, "page").as_deref() == Some("2")
                && refused.fetch_add(1, Ordering::SeqCst) == 0 =>
            {
                Reply::status(403)
                    .header("X-RateLimit-Remaining", "0")
                    .header("X-RateLimit-Reset", &reset)
                    .body(r#"{"message":"API rate limit exceeded"}"#)
            }
            _ => github_page(r, &runs, 1, Some("workflow_runs")),
        }
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let started = Instant::now();
    let out = gh(
        &[
            "github-runs",
            "--workflow",
            "deploy.yml",
            "--repo",
            "acme/web",
        ],
        &api,
        &receiver,
        state.path(),
    )
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("GitHub API rate limit (X-RateLimit-Remaining is 0 until X-RateLimit-Reset): waiting until"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(
            "GitHub API rate limit (HTTP 403, X-RateLimit-Remaining 0 until X-RateLimit-Reset): \
             waiting until"
        ),
        "{}",
        out.stderr
    );
    let calls = api.received();
    assert_eq!(calls.len(), 4, "repo, page 1, page 2 refused, page 2");
    for (a, b) in [(0, 1), (2, 3)] {
        let waited = calls[b].at.duration_since(calls[a].at);
        assert!(waited >= Duration::from_millis(900), "no wait: {waited:?}");
    }
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_eq!(by_job_id(&receiver.received()).len(), 2);
}

#[test]
fn github_runs_since_until_stop_paging_and_limit_caps_what_is_sent() {
    let state = tempfile::tempdir().expect("tmp");
    let runs: Vec<Value> = (1..=12).rev().map(|i| run(300 + i, 1, "success")).collect();
    let api = github_runs_api(runs, 2, |_| None);
    let receiver = Server::start(vec![Reply::status(201)]);
    // Runs 304..=309 are in the window (created T0 + id minutes).
    let since = (T0 + 304 * 60).to_string();
    let until = rfc3339(T0 + 309 * 60);
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--since",
        &since,
        "--until",
        &until,
    ];
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = by_job_id(&receiver.received());
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["304-1", "305-1", "306-1", "307-1", "308-1", "309-1"]
    );
    // Paging stopped at the first run older than --since: pages 1..=5 of 6.
    let pages = api
        .received()
        .iter()
        .filter(|c| c.path.contains("/runs"))
        .count();
    assert_eq!(pages, 5);

    let receiver = Server::start(vec![Reply::status(201)]);
    let state = tempfile::tempdir().expect("tmp");
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--limit",
        "3",
    ];
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let got = by_job_id(&receiver.received());
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["310-1", "311-1", "312-1"],
        "newest first"
    );
}

fn deployment(id: u64, env: &str, creator: &str) -> Value {
    json!({
        "id": id, "sha": sha(id), "ref": "main", "task": "deploy", "environment": env,
        "created_at": rfc3339(T0 + id as i64), "updated_at": rfc3339(T0 + id as i64 + 10),
        "creator": {"login": creator, "type": "Bot"},
        "performed_via_github_app": if creator == "vercel[bot]" { json!({"slug": "vercel"}) } else { Value::Null },
    })
}

fn status(state: &str, at: i64) -> Value {
    json!({"state": state, "created_at": rfc3339(at), "environment_url": "https://web.example.com",
           "log_url": "https://ci.example.com/log/1", "target_url": "https://ci.example.com/t/1"})
}

#[test]
fn github_deployments_with_their_latest_status_field_by_field() {
    let state = tempfile::tempdir().expect("tmp");
    let deployments = vec![
        deployment(505, "production", "vercel[bot]"),
        deployment(504, "staging", "dev"),
        deployment(503, "production", "dev"),
        deployment(502, "Production", "dev"),
        deployment(501, "production", "dev"),
    ];
    let api = Server::route(move |r| {
        let path = path_of(&r.path);
        if path == "/repos/acme/web" {
            return json_reply(json!({"id": 4242, "full_name": "acme/web"}));
        }
        if path == "/repos/acme/web/deployments" {
            return github_page(r, &deployments, 2, None);
        }
        let id = path
            .trim_start_matches("/repos/acme/web/deployments/")
            .trim_end_matches("/statuses");
        let created = T0 + id.parse::<i64>().unwrap_or(0);
        let statuses = match id {
            "505" => json!([
                status("success", created + 90),
                status("in_progress", created + 30)
            ]),
            "504" => json!([status("success", created + 5)]),
            "503" => json!([status("failure", created + 40)]),
            "502" => json!([]),
            "501" => json!([status("inactive", created + 900)]),
            _ => return Reply::status(404),
        };
        json_reply(statuses)
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let args = [
        "github-deployments",
        "--repo",
        "acme/web",
        "--environment",
        "production",
        "--environment",
        "PRODUCTION",
    ];
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 4, sent 2, already sent 0, skipped 2, failed 0"
    );
    assert!(
        out.stderr
            .contains("skipping deployment 502: it has no status yet"),
        "{}",
        out.stderr
    );
    let got = by_job_id(&receiver.received());
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["deployment-503", "deployment-505"]
    );
    assert_eq!(
        got["deployment-505"],
        json!({
            "job_id": "deployment-505", "status": "Succeeded", "commit_sha": sha(505),
            "triggered_by": "vercel[bot]", "repo_id": "4242", "repo_name": "acme/web",
            "service_id": 7, "job_start_time": T0 + 505, "job_duration": 90,
            "optional": [
                {"key": "ci_provider", "value": "github-actions", "type": "string"},
                {"key": "environment", "value": "production", "type": "string"},
                {"key": "environment_url", "value": "https://web.example.com", "type": "string"},
                {"key": "log_url", "value": "https://ci.example.com/log/1", "type": "string"},
                {"key": "deployed_by_app", "value": "vercel", "type": "string"},
                {"key": "trigger_event", "value": "deployment_status", "type": "string"},
                {"key": "deployment_id", "value": "505", "type": "string"},
                {"key": "branch", "value": "main", "type": "string"},
            ],
        })
    );
    assert_eq!(got["deployment-503"]["status"], "Failed");
    assert_eq!(got["deployment-503"]["job_duration"], 40);
    assert_eq!(got["deployment-503"]["triggered_by"], "dev");
    // Two environments: listed unfiltered, filtered here; one status a deployment.
    let calls = api.received();
    assert!(calls.iter().all(|c| !c.path.contains("environment=")));
    assert!(
        calls
            .iter()
            .any(|c| c.path == "/repos/acme/web/deployments/505/statuses?per_page=1")
    );

    // Again: deployments in the ledger cost no status call.
    let before = api.received().len();
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 4, sent 0, already sent 2, skipped 2, failed 0"
    );
    let again: Vec<String> = api.received()[before..]
        .iter()
        .map(|c| c.path.clone())
        .collect();
    assert!(
        !again
            .iter()
            .any(|p| p.contains("/505/") || p.contains("/503/")),
        "{again:?}"
    );
    assert_eq!(receiver.received().len(), 2);
}

fn gl_deployment(id: u64, job: u64, status: &str, env: &str) -> Value {
    let start = T0 + id as i64;
    json!({
        "id": id, "iid": id, "ref": "main", "sha": sha(id), "status": status,
        "created_at": rfc3339(start - 30), "updated_at": rfc3339(start + 100),
        "user": {"id": 1, "username": "deployer", "name": "D"},
        "environment": {"id": 3, "name": env, "external_url": "https://prod.example.com", "tier": "production"},
        "deployable": {
            "id": job, "status": status, "stage": "deploy", "name": "deploy", "ref": "main", "tag": false,
            "created_at": rfc3339(start - 30), "started_at": rfc3339(start), "finished_at": rfc3339(start + 75),
            "duration": 75.3, "web_url": format!("https://gl.example.com/g/p/-/jobs/{job}"),
            "user": {"id": 1, "username": "deployer", "public_email": if id % 4 == 0 { "deployer@example.com" } else { "" }},
            "pipeline": {"id": 77, "web_url": "https://gl.example.com/g/p/-/pipelines/77"},
        },
    })
}

/// A fake GitLab for project `group/sub/proj` (id 55).
pub(crate) fn gitlab_api(
    deployments: Vec<Value>,
    pipelines: Vec<Value>,
    hook: impl Fn(&Received) -> Option<Reply> + Send + Sync + 'static,
) -> Server {
    Server::route(move |r| {
        if let Some(reply) = hook(r) {
            return reply;
        }
        let path = path_of(&r.path);
        match path {
            "/api/v4/projects/group%2Fsub%2Fproj" | "/api/v4/projects/55" => {
                json_reply(json!({"id": 55, "path_with_namespace": "group/sub/proj"}))
            }
            "/api/v4/projects/55/deployments" => gitlab_page(r, &deployments, 2),
            // Pipelines page with Link headers, like GitLab's keyset pagination.
            "/api/v4/projects/55/pipelines" => github_page(r, &pipelines, 2, None),
            _ => match path.strip_prefix("/api/v4/projects/55/pipelines/") {
                Some(id) => match pipelines
                    .iter()
                    .find(|p| id.parse::<u64>().is_ok_and(|n| p["id"] == n))
                {
                    Some(p) => {
                        let mut full = p.clone();
                        full["user"] = json!({"id": 9, "username": "piper", "name": "P"});
                        json_reply(full)
                    }
                    None => Reply::status(404),
                },
                None => Reply::status(404),
            },
        }
    })
}

pub(crate) fn gl(args: &[&str], api: &Server, receiver: &Server, state: &Path) -> Tool {
    let mut all = vec!["backfill"];
    all.extend_from_slice(args);
    tool(&all)
        .server(receiver)
        .env("GITLAB_API_URL", format!("{}/api/v4", api.url()))
        .env("GITLAB_TOKEN", GL_TOKEN)
        .env("XDG_STATE_HOME", state)
}

#[test]
fn gitlab_deployments_field_by_field_through_next_pages_and_a_429() {
    let state = tempfile::tempdir().expect("tmp");
    let deployments = vec![
        gl_deployment(608, 9008, "success", "production"),
        gl_deployment(607, 9007, "running", "production"),
        gl_deployment(606, 9006, "failed", "production"),
        gl_deployment(605, 9005, "canceled", "production"),
        gl_deployment(604, 9004, "success", "production"),
    ];
    let once = Arc::new(AtomicUsize::new(0));
    let api = gitlab_api(deployments, vec![], move |r| {
        let reset = (allstacks_cd::timefmt::now_epoch() + 1).to_string();
        (query(&r.path, "page").as_deref() == Some("2") && once.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| Reply::status(429).header("RateLimit-Reset", &reset))
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let args = [
        "gitlab-deployments",
        "--project",
        "group/sub/proj",
        "--environment",
        "production",
        "--cancelled-as",
        "skip",
    ];
    let out = gl(&args, &api, &receiver, state.path()).run();
    no_secret(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 4, sent 3, already sent 0, skipped 1, failed 0"
    );
    assert!(
        out.stderr
            .contains("GitLab API rate limit (HTTP 429 until RateLimit-Reset): waiting until"),
        "{}",
        out.stderr
    );
    let got = by_job_id(&receiver.received());
    assert_eq!(
        got.keys().cloned().collect::<Vec<_>>(),
        ["9004", "9006", "9008"]
    );
    let start = T0 + 608;
    assert_eq!(
        got["9008"],
        json!({
            "job_id": "9008", "status": "Succeeded", "commit_sha": sha(608),
            "triggered_by": "deployer@example.com", "repo_id": "55", "repo_name": "group/sub/proj",
            "service_id": 7, "job_start_time": start, "job_duration": 75,
            "optional": [
                {"key": "ci_provider", "value": "gitlab-ci", "type": "string"},
                {"key": "environment", "value": "production", "type": "string"},
                {"key": "environment_tier", "value": "production", "type": "string"},
                {"key": "environment_url", "value": "https://prod.example.com", "type": "string"},
                {"key": "job_url", "value": "https://gl.example.com/g/p/-/jobs/9008", "type": "string"},
                {"key": "pipeline_url", "value": "https://gl.example.com/g/p/-/pipelines/77", "type": "string"},
                {"key": "branch", "value": "main", "type": "string"},
                {"key": "trigger_event", "value": "deployment", "type": "string"},
                {"key": "deployment_id", "value": "608", "type": "string"},
            ],
        })
    );
    assert_eq!(got["9006"]["status"], "Failed");
    assert_eq!(
        got["9006"]["triggered_by"], "deployer",
        "no public email: the username"
    );
    let calls = api.received();
    for c in &calls {
        assert_eq!(c.header("private-token"), Some(GL_TOKEN));
        assert_eq!(c.header("authorization"), None);
    }
    assert!(
        calls
            .iter()
            .any(|c| c.path.starts_with("/api/v4/projects/group%2Fsub%2Fproj"))
    );
    assert!(calls.iter().any(|c| {
        c.path
            .contains("deployments?environment=production&order_by=id&sort=desc")
    }));
}

fn pipeline(id: u64, status: &str) -> Value {
    let created = T0 + id as i64 * 10;
    json!({
        "id": id, "iid": id, "project_id": 55, "sha": sha(id), "ref": "main", "status": status,
        "source": "push", "name": "Release", "created_at": rfc3339(created),
        "updated_at": rfc3339(created + 300), "web_url": format!("https://gl.example.com/g/p/-/pipelines/{id}"),
    })
}

#[test]
fn gitlab_pipelines_field_by_field_with_the_job_token_and_link_pages() {
    let state = tempfile::tempdir().expect("tmp");
    let pipelines = vec![
        pipeline(704, "success"),
        pipeline(703, "failed"),
        pipeline(702, "skipped"),
    ];
    let api = gitlab_api(vec![], pipelines, |_| None);
    let receiver = Server::start(vec![Reply::status(201)]);
    let out = tool(&["backfill", "gitlab-pipelines"])
        .server(&receiver)
        .env("CI_SERVER_URL", api.url())
        .env("CI_PROJECT_ID", "55")
        .env("CI_JOB_TOKEN", GL_TOKEN)
        .env("XDG_STATE_HOME", state.path())
        .run();
    no_secret(&out);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 3, sent 2, already sent 0, skipped 1, failed 0"
    );
    let got = by_job_id(&receiver.received());
    let created = T0 + 7040;
    assert_eq!(
        got["704"],
        json!({
            "job_id": "704", "status": "Succeeded", "commit_sha": sha(704), "triggered_by": "piper",
            "repo_id": "55", "repo_name": "group/sub/proj", "service_id": 7,
            "job_start_time": created, "job_duration": 300,
            "optional": [
                {"key": "ci_provider", "value": "gitlab-ci", "type": "string"},
                {"key": "pipeline_url", "value": "https://gl.example.com/g/p/-/pipelines/704", "type": "string"},
                {"key": "branch", "value": "main", "type": "string"},
                {"key": "workflow", "value": "Release", "type": "string"},
                {"key": "trigger_event", "value": "push", "type": "string"},
            ],
        })
    );
    assert_eq!(got["703"]["status"], "Failed");
    for c in api.received() {
        assert_eq!(c.header("job-token"), Some(GL_TOKEN));
        assert_eq!(c.header("private-token"), None);
    }
    assert!(api.received().iter().any(|c| {
        c.path
            .contains("pipelines?scope=finished&order_by=id&sort=desc")
    }));
}

/// A repository with a lightweight and an annotated tag on two commits, each at its own time.
fn tagged_repo(format: &str) -> (Repo, String, String) {
    let repo = Repo::new(format);
    repo.git(&["remote", "add", "origin", "git@github.com:acme/tagged.git"]);
    let first = repo.head();
    repo.git(&["tag", "v1.0"]); // lightweight: the commit's date and committer
    let at = |date: &str, args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(repo.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("HOME", repo.path())
            .env("GIT_AUTHOR_DATE", date)
            .env("GIT_COMMITTER_DATE", date)
            .env("GIT_COMMITTER_EMAIL", "releaser@example.com")
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    at(
        "2024-02-01T00:00:00Z",
        &["commit", "-q", "--allow-empty", "-m", "second"],
    );
    let second = repo.head();
    at(
        "2024-02-02T12:00:00Z",
        &["tag", "-a", "v2.0", "-m", "release 2"],
    );
    at(
        "2024-02-03T12:00:00Z",
        &["tag", "-a", "nightly-1", "-m", "not a release"],
    );
    (repo, first, second)
}

fn tag_payload(name: &str, sha: &str, who: &str, when: i64) -> Value {
    json!({
        "job_id": format!("tag-{name}"), "status": "Succeeded", "commit_sha": sha,
        "triggered_by": who, "repo_name": "acme/tagged", "service_id": 7,
        "job_start_time": when, "job_duration": 0,
        "optional": [{"key": "tag", "value": name, "type": "string"}],
    })
}

#[test]
fn git_tags_annotated_and_lightweight_in_sha1_and_sha256_repositories() {
    for format in ["sha1", "sha256"] {
        let (repo, first, second) = tagged_repo(format);
        assert_eq!(second.len(), if format == "sha1" { 40 } else { 64 });
        let state = tempfile::tempdir().expect("tmp");
        let receiver = Server::start(vec![Reply::status(201)]);
        let run = || {
            tool(&["backfill", "git-tags", "--pattern", "v*"])
                .server(&receiver)
                .env("XDG_STATE_HOME", state.path())
                .dir(repo.path())
                .run()
        };
        let out = run();
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        assert_eq!(
            last_line(&out),
            "allstacks-cd: backfill: found 2, sent 2, already sent 0, skipped 0, failed 0"
        );
        let got = by_job_id(&receiver.received());
        assert_eq!(
            got["tag-v1.0"],
            tag_payload("v1.0", &first, "dev@example.com", 1_704_067_200),
            "{format}: a lightweight tag is its commit's"
        );
        assert_eq!(
            got["tag-v2.0"],
            tag_payload("v2.0", &second, "releaser@example.com", 1_706_875_200),
            "{format}: an annotated tag is its tagger's"
        );
        let out = run();
        assert_eq!(
            last_line(&out),
            "allstacks-cd: backfill: found 2, sent 0, already sent 2, skipped 0, failed 0"
        );
        assert_eq!(receiver.received().len(), 2);
        assert!(
            state
                .path()
                .join("allstacks-cd/backfill/git-tags-acme%2ftagged.ledger")
                .is_file()
        );
    }
}

#[test]
fn a_partial_failure_is_retried_by_the_rerun_and_nothing_is_sent_twice() {
    let state = tempfile::tempdir().expect("tmp");
    let runs: Vec<Value> = (1..=8).rev().map(|i| run(400 + i, 1, "success")).collect();
    let api = github_runs_api(runs, 3, |_| None);
    // The receiver refuses two jobs at first (400: about the payload, so no retry helps) and
    // fails one with 503 every time; later it takes them all. (One receiver: a ledger belongs
    // to one endpoint.)
    let healthy = Arc::new(AtomicUsize::new(0));
    let mode = healthy.clone();
    let receiver = Server::route(move |r| {
        let id = r.json()["job_id"].as_str().unwrap_or_default().to_string();
        match (mode.load(Ordering::SeqCst), id.as_str()) {
            (0, "402-1" | "405-1") => Reply::status(400).body("bad job"),
            (0, "407-1") => Reply::status(503),
            _ => Reply::status(201),
        }
    });
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--retries",
        "1",
    ];
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 8, sent 5, already sent 0, skipped 0, failed 3"
    );
    assert!(
        out.stderr
            .contains("job 402-1 not delivered: the server rejected the job (HTTP 400)"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("a re-run retries it"), "{}", out.stderr);
    let first = receiver.received();
    let delivered: Vec<String> = first
        .iter()
        .map(|r| r.json()["job_id"].as_str().unwrap_or_default().to_string())
        .filter(|id| !["402-1", "405-1", "407-1"].contains(&id.as_str()))
        .collect();
    assert_eq!(delivered.len(), 5);

    healthy.store(1, Ordering::SeqCst);
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 8, sent 3, already sent 5, skipped 0, failed 0"
    );
    let retried = by_job_id(&receiver.received()[first.len()..]);
    assert_eq!(
        retried.keys().cloned().collect::<Vec<_>>(),
        ["402-1", "405-1", "407-1"]
    );
    assert_eq!(retried["405-1"], run_payload(405, 1, "Succeeded"));
}

/// Runs `backfill` against a slow receiver, sends `signal` once `after` jobs arrived, and
/// checks the stop; then a re-run sends the rest. Every job arrives exactly once in all.
fn interrupted_then_finished(signal: i32, code: i32) {
    let state = tempfile::tempdir().expect("tmp");
    let runs: Vec<Value> = (1..=30).rev().map(|i| run(500 + i, 1, "success")).collect();
    let api = github_runs_api(runs, 10, |_| None);
    // Slow at first, then quick (one receiver: a ledger belongs to one endpoint).
    let quick = Arc::new(AtomicUsize::new(0));
    let mode = quick.clone();
    let receiver = Server::route(move |_| match mode.load(Ordering::SeqCst) {
        0 => Reply::status(201).delay(Duration::from_millis(250)),
        _ => Reply::status(201),
    });
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--concurrency",
        "2",
    ];
    let mut sent_at = None;
    let out = gh(&args, &api, &receiver, state.path()).run_with(|pid| {
        if sent_at.is_none() && receiver.received().len() >= 4 {
            // SAFETY: signalling our own child.
            unsafe { libc::kill(pid as i32, signal) };
            sent_at = Some(Instant::now());
        }
    });
    let stopped_in = sent_at.expect("signal sent").elapsed();
    assert_eq!(out.code, code, "{}", out.stderr);
    assert!(
        stopped_in < Duration::from_secs(5),
        "took {stopped_in:?} to stop"
    );
    assert!(out.stderr.contains("stopped by SIG"), "{}", out.stderr);
    let summary = last_line(&out);
    assert!(
        summary.starts_with("allstacks-cd: backfill: found "),
        "{}",
        out.stderr
    );
    let first = receiver.received();
    assert!(first.len() < 30, "the stop came too late to test anything");
    // Every POST that started was answered (the drain), and each is in the ledger.
    assert!(
        summary.contains(&format!("sent {},", first.len())),
        "{summary} vs {}",
        first.len()
    );

    quick.store(1, Ordering::SeqCst);
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let all = by_job_id(&receiver.received());
    let want: Vec<String> = (501..=530).map(|i| format!("{i}-1")).collect();
    assert_eq!(
        all.into_keys().collect::<Vec<_>>(),
        want,
        "every job exactly once across both runs"
    );
}

#[test]
fn ctrl_c_drains_in_flight_posts_exits_130_and_a_rerun_sends_the_rest_once() {
    interrupted_then_finished(libc::SIGINT, 130);
}

#[test]
fn sigterm_exits_143_with_the_ledger_consistent() {
    interrupted_then_finished(libc::SIGTERM, 143);
}

#[test]
fn invalid_options_exit_2_before_anything_is_read_or_sent() {
    let api = github_runs_api(vec![run(1, 1, "success")], 10, |_| None);
    let receiver = Server::start(vec![Reply::status(201)]);
    let state = tempfile::tempdir().expect("tmp");
    let cases: &[(&[&str], &str)] = &[
        (&["github-runs", "--repo", "acme/web"], "needs --workflow"),
        (
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
                "--since",
                "last week",
            ],
            "--since: expected an RFC 3339 time",
        ),
        (
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
                "--concurrency",
                "33",
            ],
            "--concurrency must be a whole number from 1 to 32",
        ),
        (
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
                "--concurrency",
                "0",
            ],
            "--concurrency must be a whole number from 1 to 32",
        ),
        (
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
                "--limit",
                "-1",
            ],
            "--limit must be a whole number from 1",
        ),
        (
            &["github-runs", "--repo", "acme/web", "--workflow", "../../x"],
            "--workflow must be a workflow file name",
        ),
        (
            &[
                "github-runs",
                "--repo",
                "acme/../web",
                "--workflow",
                "deploy.yml",
            ],
            "repo must be OWNER/NAME",
        ),
        (
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
                "--since",
                "1d",
                "--until",
                "2d",
            ],
            "--since is after --until",
        ),
        (
            &["git-tags", "--branch", "main"],
            "--branch does not apply to backfill git-tags",
        ),
        (
            &["gitlab-pipelines", "--project", "5"],
            "the GitLab API is unknown",
        ),
        (
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
                "--field",
                "x:bogus=1",
            ],
            "x",
        ),
        (
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
                "--service-id",
                "abc",
            ],
            "service_id must be a positive integer",
        ),
        (&["github-deploys"], "invalid value 'github-deploys'"),
    ];
    for (args, want) in cases {
        let out = gh(args, &api, &receiver, state.path()).run();
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.contains(want),
            "{args:?}: want {want:?} in\n{}",
            out.stderr
        );
    }
    assert!(api.received().is_empty(), "the API was asked");
    assert!(receiver.received().is_empty(), "something was sent");
    // A bad API URL or token is refused before any connection.
    let bad: &[(&str, &str, &str)] = &[
        (
            "GITHUB_API_URL",
            "https://user:pw@api.example.com",
            "contains a user name or password",
        ),
        (
            "GITHUB_API_URL",
            "http://api.example.com",
            "must be https://",
        ),
        (
            "GITHUB_TOKEN",
            "two\nlines",
            "the token in GITHUB_TOKEN has a line break inside",
        ),
    ];
    for (var, value, want) in bad {
        let out = gh(
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
            ],
            &api,
            &receiver,
            state.path(),
        )
        .env(var, value)
        .run();
        assert_eq!(out.code, 2, "{var}: {}", out.stderr);
        assert!(out.stderr.contains(want), "{var}: {}", out.stderr);
        assert!(
            !out.stderr.contains("pw@") && !out.stderr.contains("two\\nlines"),
            "{}",
            out.stderr
        );
    }
    assert!(api.received().is_empty() && receiver.received().is_empty());
}

#[test]
fn a_refused_token_exits_2_before_anything_is_sent() {
    let receiver = Server::start(vec![Reply::status(201)]);
    let state = tempfile::tempdir().expect("tmp");
    for status in [401, 403] {
        let api = github_runs_api(vec![run(1, 1, "success")], 10, move |_| {
            Some(Reply::status(status).body(r#"{"message":"Bad credentials"}"#))
        });
        let out = gh(
            &[
                "github-runs",
                "--repo",
                "acme/web",
                "--workflow",
                "deploy.yml",
            ],
            &api,
            &receiver,
            state.path(),
        )
        .run();
        no_secret(&out);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(
            out.stderr
                .contains(&format!("the GitHub API refused the token (HTTP {status})"))
                && out.stderr.contains("Bad credentials"),
            "{}",
            out.stderr
        );
        assert_eq!(api.received().len(), 1, "a refusal is not retried");
    }
    // The same for GitLab, and when the refusal comes with the first page of runs.
    let api = gitlab_api(vec![], vec![], |r| {
        (r.path != "/api/v4/projects/55").then(|| Reply::status(401))
    });
    let out = gl(
        &["gitlab-pipelines", "--project", "55"],
        &api,
        &receiver,
        state.path(),
    )
    .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("the GitLab API refused the token (HTTP 401)"),
        "{}",
        out.stderr
    );
    assert!(receiver.received().is_empty());
}

#[test]
fn dry_run_prints_one_valid_payload_a_line_and_touches_no_ledger() {
    let state = tempfile::tempdir().expect("tmp");
    let runs: Vec<Value> = (1..=5).rev().map(|i| run(600 + i, 1, "success")).collect();
    let api = github_runs_api(runs, 2, |_| None);
    // No connection at all, or a company id without its URL: a missing setting only warns.
    for given in [&[][..], &[("ALLSTACKS_COMPANY_ID", "42")]] {
        let out = tool(&[
            "backfill",
            "github-runs",
            "--workflow",
            "deploy.yml",
            "--repo",
            "acme/web",
            "--dry-run",
            "--service-id",
            "7",
        ])
        .env("GITHUB_API_URL", api.url())
        .env("XDG_STATE_HOME", state.path())
        .envs(given)
        .run();
        assert_eq!(out.code, 0, "{given:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("url is required")
                && out.stderr.contains("(nothing is sent with --dry-run)"),
            "a warning only: {}",
            out.stderr
        );
        assert_eq!(
            last_line(&out),
            "allstacks-cd: backfill: found 5, printed 5, skipped 0"
        );
        let lines: Vec<&str> = out.stdout.lines().collect();
        assert_eq!(lines.len(), 5, "{}", out.stdout);
        for (line, id) in lines.iter().zip((601..=605).rev()) {
            assert!(!line.contains('\n') && line.starts_with('{'), "{line}");
            let v: Value = serde_json::from_str(line).expect("each line is JSON");
            assert_eq!(v, run_payload(id, 1, "Succeeded"));
        }
    }
    assert!(
        !state.path().join("allstacks-cd").exists(),
        "no ledger with --dry-run"
    );
}

#[test]
fn a_dry_run_whose_reader_has_gone_stops_reading_quietly() {
    // `backfill --dry-run | head`: once nobody reads stdout, the rest of the history is not
    // fetched, and the tool neither panics nor complains.
    let state = tempfile::tempdir().expect("tmp");
    let runs: Vec<Value> = (1..=20).rev().map(|i| run(700 + i, 1, "success")).collect();
    let api = github_runs_api(runs, 2, |_| None);
    let out = tool(&[
        "backfill",
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--dry-run",
        "--service-id",
        "7",
    ])
    .env("GITHUB_API_URL", api.url())
    .env("XDG_STATE_HOME", state.path())
    .reader_gone()
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    assert_eq!(
        last_line(&out),
        "allstacks-cd: backfill: found 1, printed 0, skipped 0"
    );
    // Ten pages of two; the reader of pages runs one page ahead.
    let pages = api
        .received()
        .iter()
        .filter(|r| r.path.contains("/runs"))
        .count();
    assert!((1..=3).contains(&pages), "{pages} pages were read");
}

#[test]
fn a_second_backfill_on_the_same_ledger_is_refused_while_the_first_holds_it() {
    use std::os::fd::AsRawFd;
    let state = tempfile::tempdir().expect("tmp");
    let ledger: PathBuf = state.path().join("held.ledger");
    let held = std::fs::File::create(&ledger).expect("create");
    // SAFETY: flock on a file we own, as another backfill would hold it.
    assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
    let api = github_runs_api(vec![run(1, 1, "success")], 10, |_| None);
    let receiver = Server::start(vec![Reply::status(201)]);
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
    ];
    let out = gh(&args, &api, &receiver, state.path())
        .env("ALLSTACKS_LEDGER", &ledger)
        .run();
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("another backfill is using the ledger"),
        "{}",
        out.stderr
    );
    assert!(receiver.received().is_empty() && api.received().is_empty());
    drop(held);
    let out = gh(&args, &api, &receiver, state.path())
        .env("ALLSTACKS_LEDGER", &ledger)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(receiver.received().len(), 1);
}

#[test]
fn a_refusing_webhook_stops_the_backfill_and_a_link_to_another_host_is_not_followed() {
    let state = tempfile::tempdir().expect("tmp");
    let runs: Vec<Value> = (1..=40).rev().map(|i| run(700 + i, 1, "success")).collect();
    let api = github_runs_api(runs, 10, |_| None);
    let refusing = Server::start(vec![Reply::status(401)]);
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--concurrency",
        "1",
    ];
    let out = gh(&args, &api, &refusing, state.path()).run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("the webhook answered HTTP 401"),
        "{}",
        out.stderr
    );
    assert!(
        refusing.received().len() <= 3,
        "it went on: {}",
        refusing.received().len()
    );

    // A page whose next link leaves the API's host: the token must not follow it.
    let state = tempfile::tempdir().expect("tmp");
    let api = Server::route(|r| match path_of(&r.path) {
        "/repos/acme/web" => json_reply(json!({"id": 4242, "full_name": "acme/web"})),
        _ => json_reply(json!({"total_count": 2, "workflow_runs": [run(801, 1, "success")]}))
            .header(
                "Link",
                &format!(
                    "<http://localhost:{}/steal?page=2>; rel=\"next\"",
                    r.header("host")
                        .unwrap_or("")
                        .split(':')
                        .nth(1)
                        .unwrap_or("1")
                ),
            ),
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let out = gh(&args, &api, &receiver, state.path()).run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("it is not on the API's own host"),
        "{}",
        out.stderr
    );
    assert!(api.received().iter().all(|c| !c.path.starts_with("/steal")));
    assert_eq!(
        by_job_id(&receiver.received()).len(),
        1,
        "the page before was still sent"
    );
}

#[test]
fn an_api_that_drips_its_answer_is_cut_off_at_the_deadline() {
    let state = tempfile::tempdir().expect("tmp");
    let api = Server::route(|r| match path_of(&r.path) {
        "/repos/acme/web" => json_reply(json!({"id": 4242, "full_name": "acme/web"})),
        _ => json_reply(json!({"workflow_runs": [run(1, 1, "success")]}))
            .drip(Duration::from_millis(200)),
    });
    let receiver = Server::start(vec![Reply::status(201)]);
    let started = Instant::now();
    let out = gh(
        &[
            "github-runs",
            "--workflow",
            "deploy.yml",
            "--repo",
            "acme/web",
            "--timeout",
            "1",
        ],
        &api,
        &receiver,
        state.path(),
    )
    .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("did not finish its answer"),
        "{}",
        out.stderr
    );
    // Four attempts of one second each, with 1 + 2 + 4 s between them.
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(receiver.received().is_empty());
}

#[test]
fn a_ledger_is_never_written_through_a_symlink_nor_in_a_directory_others_can_write() {
    use std::os::unix::fs::PermissionsExt;
    let state = tempfile::tempdir().expect("tmp");
    let api = github_runs_api(vec![run(1, 1, "success")], 10, |_| None);
    let receiver = Server::start(vec![Reply::status(201)]);
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--ledger",
    ];
    let with_ledger = |ledger: &Path| {
        let mut all = args.to_vec();
        all.push(ledger.to_str().expect("utf-8"));
        gh(&all, &api, &receiver, state.path()).run()
    };
    // A file of the user's whose last line has no line break: through the link, the ledger
    // would cut that line off (a torn id) and append job ids.
    let victim = state.path().join("notes.txt");
    std::fs::write(&victim, "keep me\nlast line").expect("write");
    let link = state.path().join("link.ledger");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    // Exit 2 before anything is read or sent, saying why.
    let refused = |ledger: &Path, why: String| {
        let out = with_ledger(ledger);
        assert_eq!(out.code, 2, "{}", out.stderr);
        assert!(out.stderr.contains(&why), "{}", out.stderr);
    };
    refused(
        &link,
        format!(
            "{} is a symbolic link: refusing to write through it",
            link.display()
        ),
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("read"),
        "keep me\nlast line"
    );
    assert!(receiver.received().is_empty() && api.received().is_empty());

    // A directory anyone can write to (like /tmp): refused, nothing created there.
    let shared = state.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).expect("chmod");
    refused(
        &shared.join("runs.ledger"),
        format!(
            "the directory {} is writable by others (mode 1777)",
            shared.display()
        ),
    );
    assert!(!shared.join("runs.ledger").exists());
    assert!(receiver.received().is_empty());

    // A ledger of the user's own, in a new directory: created 0600 in a 0700 directory.
    let own = state.path().join("new/dir/runs.ledger");
    let out = with_ledger(&own);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&own), 0o600);
    assert_eq!(mode(&state.path().join("new/dir")), 0o700);
    assert_eq!(by_job_id(&receiver.received()).len(), 1);
}

/// A fake GitHub whose runs listing pages as `next_of(page)` says (page 1 is the first URL,
/// without `page=`), one run a page (`900 + page`), claiming `total` runs. After 40 pages it
/// answers 404, so that a build that pages for ever still ends (and fails the test).
fn paging_api(total: u64, next_of: fn(u64) -> u64) -> Server {
    let served = AtomicUsize::new(0);
    Server::route(move |r| {
        if path_of(&r.path) == "/repos/acme/web" {
            return json_reply(json!({"id": 4242, "full_name": "acme/web"}));
        }
        let page: u64 = query(&r.path, "page")
            .and_then(|p| p.parse().ok())
            .unwrap_or(1);
        if served.fetch_add(1, Ordering::SeqCst) >= 40 {
            return Reply::status(404).body(r#"{"message":"Not Found"}"#);
        }
        let host = r.header("host").expect("host");
        let base = r.path.split("&page=").next().unwrap_or(&r.path);
        let next = format!("<http://{host}{base}&page={}>; rel=\"next\"", next_of(page));
        json_reply(json!({"total_count": total, "workflow_runs": [run(900 + page, 1, "success")]}))
            .header("Link", &next)
    })
}

fn runs_pages(api: &Server) -> Vec<String> {
    api.received()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.contains("/actions/workflows/"))
        .collect()
}

#[test]
fn paging_that_goes_round_or_past_its_total_stops_naming_the_url_and_keeps_what_was_read() {
    let args = [
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
    ];
    let first = "/repos/acme/web/actions/workflows/deploy.yml/runs?per_page=100";
    /// What the next links do, the `total_count`, the pages read, the runs sent, and the
    /// page paging stops at.
    type Case = (fn(u64) -> u64, u64, usize, usize, &'static str);
    let cases: [Case; 3] = [
        // Every page's next link is page 1 again: page 1 (as `&page=1`) is read once more,
        // then its link is one already read.
        (|_| 1, 1000, 2, 1, "&page=1"),
        // Pages 2 and 3 point at each other.
        (|p| if p == 3 { 2 } else { p + 1 }, 1000, 3, 3, "&page=2"),
        // Always a new page, past a total of 2 runs one a page: 2 pages and one more.
        (|p| p + 1, 2, 3, 3, "&page=4"),
    ];
    for (next_of, total, pages, runs, stop) in cases {
        let state = tempfile::tempdir().expect("tmp");
        let api = paging_api(total, next_of);
        let receiver = Server::start(vec![Reply::status(201)]);
        let out = gh(&args, &api, &receiver, state.path()).run();
        no_secret(&out);
        assert_eq!(out.code, 1, "{}", out.stderr);
        let read = runs_pages(&api);
        let shown = &read[..read.len().min(4)];
        assert_eq!(read.len(), pages, "{shown:?}...\n{}", out.stderr);
        let url = format!("{}{first}{stop}", api.url());
        assert!(
            out.stderr.contains(&format!("stopped paging at {url}: ")),
            "{}",
            out.stderr
        );
        // What was read is sent and in the ledger: a re-run sends it no more.
        let sent = by_job_id(&receiver.received());
        assert_eq!(sent.len(), runs, "{:?}", sent.keys());
        let ledger = state
            .path()
            .join("allstacks-cd/backfill/github-runs-acme%2fweb.ledger");
        let text = std::fs::read_to_string(&ledger).expect("ledger");
        for id in sent.keys() {
            assert!(text.lines().any(|l| l == id), "{id} not in {text}");
        }
    }
}

#[test]
fn a_tag_that_marks_no_commit_is_counted_as_skipped() {
    for format in ["sha1", "sha256"] {
        let (repo, _, _) = tagged_repo(format);
        repo.git(&["tag", "v9-tree", "HEAD^{tree}"]);
        let state = tempfile::tempdir().expect("tmp");
        let receiver = Server::start(vec![Reply::status(201)]);
        let out = tool(&["backfill", "git-tags", "--pattern", "v*"])
            .server(&receiver)
            .env("XDG_STATE_HOME", state.path())
            .dir(repo.path())
            .run();
        assert_eq!(out.code, 0, "{format}: {}", out.stderr);
        assert!(
            out.stderr.contains("tag \"v9-tree\" marks no commit"),
            "{format}: {}",
            out.stderr
        );
        assert_eq!(
            last_line(&out),
            "allstacks-cd: backfill: found 3, sent 2, already sent 0, skipped 1, failed 0",
            "{format}"
        );
        assert_eq!(receiver.received().len(), 2);
    }
}

/// A backfill of 30 runs that posts slowly (each POST answered after `delay`), so that a test
/// can stop it half-way.
fn slow_backfill(delay: Duration, extra: &[&str]) -> (Tool, Server, Server, tempfile::TempDir) {
    let state = tempfile::tempdir().expect("tmp");
    let runs: Vec<Value> = (1..=30).rev().map(|i| run(600 + i, 1, "success")).collect();
    let api = github_runs_api(runs, 10, |_| None);
    let receiver = Server::route(move |_| Reply::status(201).delay(delay));
    let mut args = vec![
        "github-runs",
        "--workflow",
        "deploy.yml",
        "--repo",
        "acme/web",
        "--concurrency",
        "2",
    ];
    args.extend_from_slice(extra);
    let tool = gh(&args, &api, &receiver, state.path());
    (tool, api, receiver, state)
}

/// The summary and the `--output json` counts of a backfill that stopped cleanly by `sig`.
fn stopped_cleanly(out: &Output, code: i32, receiver: &Server) {
    assert_eq!(out.code, code, "{}", out.stderr);
    assert!(out.stderr.contains("stopped by SIG"), "{}", out.stderr);
    let summary = last_line(out);
    assert!(
        summary.starts_with("allstacks-cd: backfill: found "),
        "{}",
        out.stderr
    );
    let counts: Value = serde_json::from_str(out.stdout.trim()).expect("--output json counts");
    assert_eq!(counts["exit_code"], json!(code));
    let sent = receiver.received().len();
    assert!(sent < 30, "the stop came too late to test anything");
    assert_eq!(counts["sent"], json!(sent), "{}", out.stdout);
    assert!(summary.contains(&format!("sent {sent},")), "{summary}");
}

#[test]
fn a_signal_to_the_process_and_its_group_at_once_stops_once_and_cleanly() {
    let (tool, _api, receiver, _state) =
        slow_backfill(Duration::from_millis(200), &["--output", "json"]);
    let mut sent = false;
    let out = tool.own_group().run_with(|pid| {
        if !sent && receiver.received().len() >= 4 {
            // What a supervisor does: the process, then its group, within milliseconds (a
            // copy still pending when the next comes merges with it: 20 ms apart, both arrive).
            crate::support::signal(pid as i32, libc::SIGTERM);
            std::thread::sleep(Duration::from_millis(20));
            crate::support::signal(-(pid as i32), libc::SIGTERM);
            sent = true;
        }
    });
    assert!(sent);
    stopped_cleanly(&out, 143, &receiver);
}

#[test]
fn under_timeout_the_backfill_stops_with_its_summary() {
    let (tool, _api, receiver, _state) =
        slow_backfill(Duration::from_millis(250), &["--output", "json"]);
    // GNU timeout signals the command and then its whole group; --preserve-status passes our
    // exit code through.
    let out = tool.under(&["timeout", "--preserve-status", "1.5"]).run();
    stopped_cleanly(&out, 143, &receiver);
}

#[test]
fn a_second_signal_more_than_a_second_later_ends_it_at_once() {
    let (tool, _api, receiver, _state) = slow_backfill(
        Duration::from_secs(20),
        &["--timeout", "30", "--output", "json"],
    );
    let mut first: Option<Instant> = None;
    let mut second: Option<Instant> = None;
    let out = tool.run_with(|pid| match (first, second) {
        (None, _) if !receiver.received().is_empty() => {
            crate::support::signal(pid as i32, libc::SIGTERM);
            first = Some(Instant::now());
        }
        (Some(t), None) if t.elapsed() > Duration::from_millis(1500) => {
            crate::support::signal(pid as i32, libc::SIGTERM);
            second = Some(Instant::now());
        }
        _ => {}
    });
    let second = second.expect("second signal sent");
    assert_eq!(out.code, 143, "{}", out.stderr);
    assert!(
        second.elapsed() < Duration::from_secs(3),
        "the second signal did not end it at once ({:?})",
        second.elapsed()
    );
    // The drain (POSTs answered after 20 s) was cut short: no summary.
    assert!(
        !out.stderr.contains("allstacks-cd: backfill: found"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_progress_bar_counts_jobs_against_the_limit_and_shows_every_field() {
    // 30 runs listed, --limit 5: the bar on a terminal (a pty from `script`) counts 5 jobs.
    let (tool, _api, receiver, _state) =
        slow_backfill(Duration::from_millis(300), &["--limit", "5"]);
    let shell = r#"exec script -qec "$(printf '%q ' "$@")" /dev/null"#;
    let out = tool
        .env("SHELL", "/bin/bash")
        .env("TERM", "xterm")
        .under(&["bash", "-c", shell, "bash"])
        .run();
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert_eq!(receiver.received().len(), 5);
    // The terminal's output: frames separated by carriage returns and escape sequences.
    let mut plain = String::new();
    let mut chars = out.stdout.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ parameters final-byte.
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(if c == '\r' { '\n' } else { c });
    }
    let frames: Vec<&str> = plain.lines().filter(|l| l.contains(" jobs, ")).collect();
    assert!(!frames.is_empty(), "no bar was drawn:\n{plain}");
    for frame in &frames {
        assert!(frame.contains("/5 jobs, found "), "{frame}");
        assert!(
            !frame.contains(", ,") && !frame.contains("  ,"),
            "an empty field: {frame}"
        );
    }
    assert!(plain.contains("allstacks-cd: backfill: found "), "{plain}");
}
