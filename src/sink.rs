//! Where the outcome of a report goes besides the stderr line: GitHub step outputs and the step
//! summary (when running as a GitHub Actions step), and `--output json` on stdout.

use crate::env::Env;
use crate::github;
use crate::job::Job;
use crate::ui::Ui;

/// The one-line result of `--output json`.
#[derive(Debug, Clone, Default)]
pub struct ResultLine<'a> {
    pub job_id: Option<&'a str>,
    /// `Succeeded`, `Failed`, `On Hold`, or `skipped` / `invalid`.
    pub status: &'a str,
    pub delivered: bool,
    pub attempts: u32,
    pub http_status: Option<u16>,
}

/// `--output json`: one line on stdout for scripts.
pub fn json_result(r: &ResultLine) {
    let line = serde_json::json!({
        "job_id": r.job_id,
        "status": r.status,
        "delivered": r.delivered,
        "attempts": r.attempts,
        "http_status": r.http_status,
    });
    crate::ui::print_line(&line.to_string());
}

/// Step outputs `job-id`, `status` and `payload` for a later step.
pub fn github_outputs(env: &Env, ui: &Ui, job: &Job) {
    let status = job.status().to_string();
    let outputs = [
        ("job-id", job.job_id()),
        ("status", status.as_str()),
        ("payload", &job.to_json()),
    ];
    if let Err(e) = github::write_outputs(env, &outputs) {
        ui.warn(&format!("could not write GITHUB_OUTPUT: {e}"));
    }
}

/// Step output `status=skipped` for a job that was not sent.
pub fn github_skipped(env: &Env) {
    let _ = github::write_outputs(env, &[("status", "skipped")]);
}

/// The step summary: a short table of the job and what became of it.
pub fn github_summary(env: &Env, title: &str, job: &Job, delivery: &str) {
    let rows: Vec<(&str, String)> = vec![
        ("job_id", job.job_id().to_string()),
        ("status", job.status().to_string()),
        ("commit_sha", job.commit_sha().to_string()),
        ("repo", job.repo().to_string()),
        ("service_id", job.service_id().to_string()),
        (
            "start",
            crate::timefmt::format_rfc3339(job.job_start_time()),
        ),
        ("duration", format!("{}s", job.job_duration())),
        ("delivery", delivery.to_string()),
    ];
    let _ = github::write_summary(env, title, &rows);
}
