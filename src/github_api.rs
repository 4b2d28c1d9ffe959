//! The start time of a GitHub Actions run or job, from the REST API.
//!
//! The runner's environment has no start time, and a report step runs at the end of a job, so
//! "now" would make every job look instantaneous. With the job's `GITHUB_TOKEN` (it only needs
//! `actions: read`) the API says when the run (`run_started_at`) or this job (`started_at`)
//! began. Every failure is an `Err` with a message: the caller warns and falls back, because a
//! missing start time must never break the pipeline being reported.

use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::api::Flavor;
use crate::client::Api;
use crate::env::{Env, Sourced};

/// Jobs per page (the API's maximum) and how many pages we read at most: a matrix is limited
/// to 256 jobs, so 5 pages cover any run while bounding the time spent.
const PER_PAGE: usize = 100;
const MAX_PAGES: usize = 5;

/// When this run (`scope_job == false`) or this job started, in epoch seconds.
///
/// `Ok(None)` when not on GitHub Actions or without `GITHUB_TOKEN` (or the run variables):
/// there is nothing to ask. `Err` when the API could not answer within `timeout` (all
/// requests together), refused the token, or answered something unexpected. The token never
/// appears in an error message.
pub fn start_time(
    env: &Env,
    scope_job: bool,
    timeout: Duration,
) -> Result<Option<Sourced<i64>>, String> {
    if !crate::github::is_actions(env) {
        return Ok(None);
    }
    let (Some(token), Some(repo), Some(run_id)) = (
        env.get("GITHUB_TOKEN"),
        env.get("GITHUB_REPOSITORY"),
        env.get("GITHUB_RUN_ID"),
    ) else {
        return Ok(None);
    };
    // These go into a URL path: refuse anything that could change its meaning.
    if !is_slug(repo) {
        return Err(format!("GITHUB_REPOSITORY {repo:?} is not owner/name"));
    }
    if !is_number(run_id) {
        return Err(format!("GITHUB_RUN_ID {run_id:?} is not a number"));
    }
    let api = client(env, token)?;
    let deadline = Instant::now() + timeout;
    let run_url = format!("{}/repos/{repo}/actions/runs/{run_id}", api.base());

    if !scope_job {
        let run: Run = get_json(&api, &run_url, deadline)?;
        let started = started_at(run.run_started_at.as_deref(), "run_started_at")
            .map_err(|e| format!("GitHub API run {run_id}: {e}"))?;
        return Ok(Some(Sourced::new(started, "GitHub API run_started_at")));
    }

    let attempt = env.get("GITHUB_RUN_ATTEMPT").unwrap_or("1");
    if !is_number(attempt) {
        return Err(format!("GITHUB_RUN_ATTEMPT {attempt:?} is not a number"));
    }
    let mut jobs = Vec::new();
    for page in 1..=MAX_PAGES {
        let mut url = format!("{run_url}/attempts/{attempt}/jobs?per_page={PER_PAGE}");
        if page > 1 {
            url.push_str(&format!("&page={page}"));
        }
        let page: JobsPage = get_json(&api, &url, deadline)?;
        let Some(batch) = page.jobs else {
            return Err(format!("GitHub API answered {url} without a jobs list"));
        };
        let last = batch.len() < PER_PAGE;
        jobs.extend(batch);
        if last || page.total_count.is_some_and(|t| jobs.len() as u64 >= t) {
            break;
        }
    }
    let job = pick_job(&jobs, env.get("RUNNER_NAME"), env.get("GITHUB_JOB")).ok_or_else(|| {
        format!(
            "could not tell which of the {} jobs of run {run_id} is this one (RUNNER_NAME {:?}, GITHUB_JOB {:?})",
            jobs.len(),
            env.get("RUNNER_NAME").unwrap_or(""),
            env.get("GITHUB_JOB").unwrap_or(""),
        )
    })?;
    let started = started_at(job.started_at.as_deref(), "started_at").map_err(|e| {
        let name = job.name.as_deref().unwrap_or("?");
        format!("GitHub API job {name:?}: {e}")
    })?;
    Ok(Some(Sourced::new(started, "GitHub API job started_at")))
}

/// The fields of a workflow run we read (everything else in the answer is skipped unread).
#[derive(Debug, Deserialize)]
struct Run {
    run_started_at: Option<String>,
}

/// A page of `/attempts/{n}/jobs`.
#[derive(Debug, Deserialize)]
struct JobsPage {
    total_count: Option<u64>,
    jobs: Option<Vec<Job>>,
}

/// The fields of a job we read.
#[derive(Debug, Clone, Default, Deserialize)]
struct Job {
    name: Option<String>,
    runner_name: Option<String>,
    status: Option<String>,
    started_at: Option<String>,
}

/// This job among the run's jobs. A runner executes one job at a time, so the job that is
/// `in_progress` on our `RUNNER_NAME` is us; the job's `name` is its display name (`name:`, a
/// matrix suffix ` (a, b)`, a reusable-workflow prefix `caller / `), so `GITHUB_JOB` (the YAML
/// key) only breaks ties or stands in when the runner is unknown. Each test is tried in turn
/// and the first that singles out exactly one job wins; `None` when none does.
fn pick_job<'a>(jobs: &'a [Job], runner: Option<&str>, job_key: Option<&str>) -> Option<&'a Job> {
    let on_runner = |j: &Job| runner.is_some_and(|r| j.runner_name.as_deref() == Some(r));
    let running = |j: &Job| j.status.as_deref() == Some("in_progress");
    let named = |j: &Job| {
        let name = j.name.as_deref().unwrap_or("");
        job_key.is_some_and(|key| name_matches(name, key))
    };
    let tests: [&dyn Fn(&Job) -> bool; 6] = [
        &|j| on_runner(j) && running(j),
        &|j| on_runner(j) && running(j) && named(j),
        &|j| on_runner(j) && named(j),
        &|j| on_runner(j),
        &|j| running(j) && named(j),
        &|j| named(j),
    ];
    tests.iter().find_map(|test| {
        let mut found = jobs.iter().filter(|j| test(j));
        match (found.next(), found.next()) {
            (Some(job), None) => Some(job),
            _ => None,
        }
    })
}

/// Whether the API's display `name` can be the job with YAML key `key`.
fn name_matches(name: &str, key: &str) -> bool {
    let name = name.rsplit(" / ").next().unwrap_or(name);
    name == key
        || name
            .strip_prefix(key)
            .is_some_and(|rest| rest.starts_with(" ("))
}

/// A start time from the API: present, parsable and sane (an API is outside input too).
fn started_at(raw: Option<&str>, field: &str) -> Result<i64, String> {
    let raw = raw.ok_or_else(|| format!("no {field} in the answer"))?;
    let t = crate::timefmt::parse_timestamp(raw).map_err(|e| format!("{field}: {e}"))?;
    crate::timefmt::check_sane(t, crate::timefmt::now_epoch())
        .map_err(|e| format!("{field}: {e}"))?;
    Ok(t)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_slug(s: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part != "."
            && part != ".."
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    matches!(s.split_once('/'), Some((owner, name)) if ok(owner) && ok(name))
}

/// The API client for `GITHUB_API_URL` (GitHub's own by default), with the token; `Err` when
/// the URL fails the client's guards (credentials in it, plain http to another host).
fn client(env: &Env, token: &str) -> Result<Api, String> {
    let base = env
        .get("GITHUB_API_URL")
        .unwrap_or("https://api.github.com")
        .trim_end_matches('/');
    let bearer = format!("Bearer {token}");
    let mut headers: Vec<(&str, &str, bool)> = Flavor::GitHub
        .headers()
        .iter()
        .map(|(name, value)| (*name, *value, false))
        .collect();
    headers.push(("authorization", &bearer, true));
    Api::new(base, "GITHUB_API_URL", &headers)
}

/// One GitHub API GET, parsed into `T`; a refused answer gets the usual fix.
fn get_json<T: serde::de::DeserializeOwned>(
    api: &Api,
    url: &str,
    deadline: Instant,
) -> Result<T, String> {
    let answer = api.get(url, deadline)?;
    let status = answer.status;
    if !(200..300).contains(&status) {
        let hint = match status {
            401 | 403 | 404 => {
                " (the job's GITHUB_TOKEN needs `permissions: actions: read`, or the token or \
                 URL is wrong)"
            }
            _ => "",
        };
        return Err(format!("GitHub API answered HTTP {status} for {url}{hint}"));
    }
    answer.json(url)
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};
    use std::thread;

    use serde_json::{Value, json};

    use super::*;

    const TOKEN: &str = "ghs_secret123";

    struct Reply {
        status: u16,
        body: String,
        delay: Duration,
    }

    fn reply(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// What the fake API received: the request target and the headers (names lowercased).
    #[derive(Debug, Clone)]
    struct Request {
        target: String,
        headers: Vec<(String, String)>,
    }

    impl Request {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        }
    }

    /// A fake GitHub API on 127.0.0.1 answering one request per connection with `replies`,
    /// in order. Returns its base URL and what it received.
    fn serve(replies: Vec<Reply>) -> (String, Arc<Mutex<Vec<Request>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        thread::spawn(move || {
            for reply in replies {
                let Ok((stream, _)) = listener.accept() else {
                    return;
                };
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    return;
                }
                let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut headers = Vec::new();
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if line.trim().is_empty() => break,
                        Ok(_) => {
                            if let Some((name, value)) = line.split_once(':') {
                                headers.push((
                                    name.trim().to_ascii_lowercase(),
                                    value.trim().to_string(),
                                ));
                            }
                        }
                    }
                }
                seen.lock().expect("lock").push(Request { target, headers });
                thread::sleep(reply.delay);
                let mut stream = reader.into_inner();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {} Whatever\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                    reply.status,
                    reply.body.len(),
                    reply.body
                );
            }
        });
        (url, requests)
    }

    fn github_env(api_url: &str) -> Env {
        Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_TOKEN", TOKEN),
            ("GITHUB_API_URL", api_url),
            ("GITHUB_REPOSITORY", "acme/web"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_JOB", "deploy"),
            ("RUNNER_NAME", "GitHub Actions 3"),
        ])
    }

    const TIMEOUT: Duration = Duration::from_secs(5);

    fn assert_headers(request: &Request) {
        let bearer = format!("Bearer {TOKEN}");
        assert_eq!(request.header("authorization"), Some(bearer.as_str()));
        assert_eq!(
            request.header("accept"),
            Some("application/vnd.github+json")
        );
        assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
        let agent = request.header("user-agent").unwrap_or("");
        assert_eq!(agent, concat!("allstacks-cd/", env!("CARGO_PKG_VERSION")));
    }

    fn assert_safe(err: &str) {
        assert!(!err.contains(TOKEN), "the token leaked into {err:?}");
    }

    #[test]
    fn pipeline_scope_reads_run_started_at() {
        let run =
            json!({"id": 42, "status": "in_progress", "run_started_at": "2024-06-01T08:00:00Z"});
        let (url, requests) = serve(vec![reply(200, run.to_string())]);
        let got = start_time(&github_env(&url), false, TIMEOUT);
        assert_eq!(
            got,
            Ok(Some(Sourced::new(
                1_717_228_800,
                "GitHub API run_started_at"
            )))
        );
        let requests = requests.lock().expect("lock");
        assert_eq!(requests.len(), 1);
        assert_eq!(requests[0].target, "/repos/acme/web/actions/runs/42");
        assert_headers(&requests[0]);
    }

    #[test]
    fn job_scope_reads_this_jobs_started_at() {
        // The display name differs from GITHUB_JOB; another in-progress job has the key as its
        // name but runs elsewhere; an earlier job ran on the same runner.
        let jobs = json!({"total_count": 3, "jobs": [
            {"id": 1, "name": "build", "runner_name": "GitHub Actions 3",
             "status": "completed", "started_at": "2024-06-01T08:00:05Z"},
            {"id": 2, "name": "Deploy to production", "runner_name": "GitHub Actions 3",
             "status": "in_progress", "started_at": "2024-06-01T08:03:27Z"},
            {"id": 3, "name": "deploy", "runner_name": "GitHub Actions 9",
             "status": "in_progress", "started_at": "2024-06-01T08:03:00Z"}
        ]});
        let (url, requests) = serve(vec![reply(200, jobs.to_string())]);
        let got = start_time(&github_env(&url), true, TIMEOUT);
        assert_eq!(
            got,
            Ok(Some(Sourced::new(
                1_717_229_007,
                "GitHub API job started_at"
            )))
        );
        let requests = requests.lock().expect("lock");
        assert_eq!(requests.len(), 1);
        assert_eq!(
            requests[0].target,
            "/repos/acme/web/actions/runs/42/attempts/2/jobs?per_page=100"
        );
        assert_headers(&requests[0]);
    }

    #[test]
    fn job_scope_reads_further_pages() {
        let others: Vec<Value> = (0..100)
            .map(|i| {
                json!({"id": i, "name": format!("test ({i})"), "runner_name": format!("r{i}"),
                            "status": "completed", "started_at": "2024-06-01T08:00:00Z"})
            })
            .collect();
        let first = json!({"total_count": 101, "jobs": others});
        let second = json!({"total_count": 101, "jobs": [
            {"id": 100, "name": "deploy", "runner_name": "GitHub Actions 3",
             "status": "in_progress", "started_at": "2024-06-01T08:03:27Z"}
        ]});
        let (url, requests) = serve(vec![
            reply(200, first.to_string()),
            reply(200, second.to_string()),
        ]);
        let got = start_time(&github_env(&url), true, TIMEOUT);
        assert_eq!(
            got,
            Ok(Some(Sourced::new(
                1_717_229_007,
                "GitHub API job started_at"
            )))
        );
        let requests = requests.lock().expect("lock");
        assert_eq!(requests.len(), 2);
        assert_eq!(
            requests[1].target,
            "/repos/acme/web/actions/runs/42/attempts/2/jobs?per_page=100&page=2"
        );
    }

    #[test]
    fn unknown_job_is_an_error() {
        let jobs = json!({"total_count": 1, "jobs": [
            {"id": 1, "name": "build", "runner_name": "GitHub Actions 5",
             "status": "in_progress", "started_at": "2024-06-01T08:00:05Z"}
        ]});
        let (url, _) = serve(vec![reply(200, jobs.to_string())]);
        let err = start_time(&github_env(&url), true, TIMEOUT).expect_err("no such job");
        assert!(err.contains("could not tell which"), "{err}");
        assert_safe(&err);
    }

    #[test]
    fn refused_token_is_an_error() {
        let (url, _) = serve(vec![reply(
            403,
            r#"{"message":"Resource not accessible by integration"}"#,
        )]);
        let err = start_time(&github_env(&url), false, TIMEOUT).expect_err("403");
        assert!(err.contains("403"), "{err}");
        assert!(err.contains("actions: read"), "{err}");
        assert_safe(&err);
    }

    #[test]
    fn server_error_is_an_error() {
        let (url, _) = serve(vec![reply(500, "{}")]);
        let err = start_time(&github_env(&url), true, TIMEOUT).expect_err("500");
        assert!(err.contains("500"), "{err}");
        assert_safe(&err);
    }

    #[test]
    fn invalid_json_is_an_error() {
        let (url, _) = serve(vec![reply(200, "<html>rate limited</html>")]);
        let err = start_time(&github_env(&url), false, TIMEOUT).expect_err("not JSON");
        assert!(err.contains("not JSON"), "{err}");
        assert_safe(&err);

        let (url, _) = serve(vec![reply(200, r#"{"id": 42, "run_started_at": null}"#)]);
        let err = start_time(&github_env(&url), false, TIMEOUT).expect_err("no time");
        assert!(err.contains("run_started_at"), "{err}");
    }

    #[test]
    fn slow_server_times_out() {
        let (url, _) = serve(vec![Reply {
            status: 200,
            body: json!({"run_started_at": "2024-06-01T08:00:00Z"}).to_string(),
            delay: Duration::from_secs(3),
        }]);
        let started = Instant::now();
        let err =
            start_time(&github_env(&url), false, Duration::from_millis(300)).expect_err("too slow");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "took {:?}",
            started.elapsed()
        );
        assert!(err.contains("did not answer"), "{err}");
        assert_safe(&err);
    }

    #[test]
    fn nothing_to_ask_outside_github_or_without_token() {
        let mut env = github_env("http://127.0.0.1:9");
        env.insert("GITHUB_ACTIONS", "false");
        assert_eq!(start_time(&env, false, TIMEOUT), Ok(None));
        let env = Env::from_pairs(
            github_env("http://127.0.0.1:9")
                .pairs()
                .filter(|(k, _)| k != "GITHUB_TOKEN"),
        );
        assert_eq!(start_time(&env, true, TIMEOUT), Ok(None));
    }

    #[test]
    fn token_is_not_sent_in_clear_to_another_host() {
        let env = github_env("http://api.example.com");
        let err = start_time(&env, false, TIMEOUT).expect_err("plain http");
        assert!(
            err.starts_with("GITHUB_API_URL \"http://api.example.com\" must be https://"),
            "{err}"
        );
        assert_safe(&err);
    }

    #[test]
    fn odd_run_variables_are_refused() {
        let mut env = github_env("http://127.0.0.1:9");
        env.insert("GITHUB_RUN_ID", "42/../../admin");
        let err = start_time(&env, false, TIMEOUT).expect_err("bad run id");
        assert!(err.contains("GITHUB_RUN_ID"), "{err}");
        let mut env = github_env("http://127.0.0.1:9");
        env.insert("GITHUB_REPOSITORY", "acme/web/../x");
        assert!(start_time(&env, false, TIMEOUT).is_err());
    }

    #[test]
    fn job_names() {
        assert!(name_matches("deploy", "deploy"));
        assert!(name_matches("deploy (prod, eu)", "deploy"));
        assert!(name_matches("release / deploy", "deploy"));
        assert!(name_matches("release / deploy (prod)", "deploy"));
        assert!(!name_matches("deploy-docs", "deploy"));
        assert!(!name_matches("Deploy to production", "deploy"));
    }

    #[test]
    fn picking_the_job() {
        let jobs: Vec<Job> = serde_json::from_value(json!([
            {"name": "deploy (eu)", "runner_name": "a", "status": "in_progress"},
            {"name": "deploy (us)", "runner_name": "b", "status": "in_progress"},
            {"name": "test", "runner_name": "c", "status": "in_progress"},
        ]))
        .expect("jobs");
        let id = |j: Option<&Job>| j.and_then(|j| j.runner_name.clone());
        // The runner decides between matrix legs.
        assert_eq!(
            id(pick_job(&jobs, Some("b"), Some("deploy"))),
            Some("b".into())
        );
        // Without a runner name the key alone is ambiguous here…
        assert_eq!(id(pick_job(&jobs, None, Some("deploy"))), None);
        // …but not for a job that runs once.
        assert_eq!(id(pick_job(&jobs, None, Some("test"))), Some("c".into()));
        assert_eq!(id(pick_job(&jobs, Some("zzz"), Some("nope"))), None);
    }
}
