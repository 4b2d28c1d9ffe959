//! `run -- CMD` and `start` … `report`.

use serde_json::json;

use crate::support::{Reply, SHA, Server, tool};

fn job_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("ALLSTACKS_COMMIT_SHA", SHA),
        ("ALLSTACKS_REPO_NAME", "acme/web"),
    ]
}

#[test]
fn run_reports_success_and_keeps_stdio() {
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&[
        "run",
        "--",
        "sh",
        "-c",
        "echo deploying; sleep 1; echo done >&2",
    ])
    .server(&server)
    .envs(&job_env())
    .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout, "deploying\n",
        "the command's stdout is passed through"
    );
    assert!(out.stderr.starts_with("done\n"), "{}", out.stderr);
    let p = server.only().json();
    assert_eq!(p["status"], json!("Succeeded"));
    let d = p["job_duration"].as_i64().expect("duration");
    assert!((1..=3).contains(&d), "duration {d}");
}

#[test]
fn run_reports_failure_and_exits_with_the_commands_code() {
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["run", "--", "sh", "-c", "exit 3"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 3);
    assert_eq!(server.only().json()["status"], json!("Failed"));
    assert!(out.stderr.contains("exit code 3 of sh"), "{}", out.stderr);
    // A status given anyway does not hide the command's failure.
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["run", "--status", "success", "--", "sh", "-c", "exit 3"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 3);
    assert_eq!(server.only().json()["status"], json!("Failed"));
    assert!(
        out.stderr
            .contains("ignoring status \"success\" (from --status)"),
        "{}",
        out.stderr
    );
}

#[test]
fn run_maps_a_signal_to_128_plus_n() {
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["run", "--", "sh", "-c", "kill -TERM $$"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 128 + 15);
    assert_eq!(server.only().json()["status"], json!("Failed"));
}

#[test]
fn run_of_a_missing_command_exits_127_and_reports_failed() {
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["run", "--", "./no-such-deploy.sh"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 127);
    assert_eq!(server.only().json()["status"], json!("Failed"));
}

#[test]
fn run_under_strict_turns_a_failed_report_into_1() {
    let server = Server::start(vec![Reply::status(401)]);
    let out = tool(&["run", "--strict", "--", "true"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 1);
    let server = Server::start(vec![Reply::status(401)]);
    let out = tool(&["run", "--strict", "--", "sh", "-c", "exit 4"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 4, "a failing command keeps its own code");
    let server = Server::start(vec![Reply::status(401)]);
    let out = tool(&["run", "--", "true"])
        .server(&server)
        .envs(&job_env())
        .run();
    assert_eq!(out.code, 0, "soft by default");
}

#[test]
fn start_then_report_spans_the_two() {
    let dir = tempfile::tempdir().expect("tmp");
    let state = dir.path().join("state.json");
    let then = crate::now() - 120;
    let out = tool(&["start", "--job-start-time", &then.to_string()])
        .env("ALLSTACKS_STATE_FILE", &state)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let server = Server::start(vec![Reply::status(201)]);
    let out = tool(&["report", "--status", "ok"])
        .server(&server)
        .envs(&job_env())
        .env("ALLSTACKS_STATE_FILE", &state)
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    let p = server.only().json();
    assert_eq!(p["job_start_time"], json!(then));
    let d = p["job_duration"].as_i64().expect("duration");
    assert!((120..=125).contains(&d), "duration {d}");
    assert!(!state.exists(), "the state file is used once");
}

#[test]
fn start_writes_into_the_git_dir_by_default() {
    let repo = crate::support::Repo::new("sha1");
    repo.git(&["remote", "add", "origin", "https://github.com/acme/web.git"]);
    let out = tool(&["start"]).dir(repo.path()).run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(repo.path().join(".git/allstacks-cd-start.json").exists());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = tool(&["report", "--dry-run", "--status", "ok", "--service-id", "1"])
        .dir(repo.path())
        .run();
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.json()["job_duration"].as_i64().expect("d") >= 1);
    assert!(out.stderr.contains("state file"), "{}", out.stderr);
}

#[test]
fn start_that_cannot_write_warns_or_fails_under_strict() {
    let dir = tempfile::tempdir().expect("tmp");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "not a directory").expect("write");
    let state = blocker.join("state.json");
    let out = tool(&["start"]).env("ALLSTACKS_STATE_FILE", &state).run();
    assert_eq!(out.code, 0, "soft by default");
    assert!(
        out.stderr
            .contains("warning: cannot create the state directory"),
        "{}",
        out.stderr
    );
    let out = tool(&["start"])
        .env("ALLSTACKS_STATE_FILE", &state)
        .env("ALLSTACKS_STRICT", "true")
        .run();
    assert_eq!(out.code, 1, "{}", out.stderr);
    let out = tool(&["start", "--job-start-time", "noon"]).run();
    assert_eq!(out.code, 2, "a bad time is a usage error");
    assert!(
        out.stderr
            .contains("job_start_time: expected epoch seconds"),
        "{}",
        out.stderr
    );
}
