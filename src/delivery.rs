//! The delivery stage every command shares: the endpoint and its guards, one [`Sender`], the
//! retries inside `--timeout`, the outbox for what could not be delivered, and the flush of
//! saved reports. Commands decide what to send and what to say about it; this decides how.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::client::{self, Failure, Sender};
use crate::env::{Env, Sourced};
use crate::job::Job;
use crate::outbox::{self, Claim, Saved};
use crate::settings::DeliverySettings;
use crate::ui::Ui;

/// The connection settings, checked before any connection is made.
pub struct Connection {
    /// The webhook URL, when it could be built.
    pub url: Option<String>,
    /// Values that are there but wrong (a bad URL, plain http to another host, a bad company
    /// id): errors even with `--dry-run`.
    pub invalid: Vec<String>,
    /// Why no URL could be built when the URL or company id is simply missing.
    pub missing_endpoint: Option<String>,
    /// No token was given (a refused one has its own error).
    pub missing_token: bool,
}

impl Connection {
    /// The missing settings, as `report` states them: errors, but only warnings with
    /// `--dry-run` (nothing is sent).
    pub fn missing(&self) -> Vec<String> {
        let mut out: Vec<String> = self.missing_endpoint.iter().cloned().collect();
        if self.missing_token {
            out.push(
                "token is required: set ALLSTACKS_TOKEN (or --token-file) to a Personal Access \
                 Token"
                    .into(),
            );
        }
        out
    }
}

/// Checks the URL, company id and token of `d`. A value that is there but wrong is invalid;
/// one that is simply not there is missing, whatever else is set (`--dry-run` only warns).
pub fn check_connection(d: &DeliverySettings) -> Connection {
    let mut conn = Connection {
        url: None,
        invalid: Vec::new(),
        missing_endpoint: None,
        missing_token: d.token.is_none() && !d.token_refused,
    };
    match client::endpoint(d.url.as_ref(), d.company_id.as_ref(), d.allow_http) {
        Ok(url) => conn.url = Some(url),
        Err(e) => {
            // Each value given is checked on its own, with a stand-in for the other.
            let company = Sourced::new("0".to_string(), "placeholder");
            let base = Sourced::new("https://placeholder.invalid".to_string(), "placeholder");
            let bad_url = d
                .url
                .as_ref()
                .and_then(|u| client::endpoint(Some(u), Some(&company), d.allow_http).err());
            let bad_company = d
                .company_id
                .as_ref()
                .and_then(|c| client::endpoint(Some(&base), Some(c), true).err());
            conn.invalid.extend(bad_url.into_iter().chain(bad_company));
            if conn.invalid.is_empty() {
                conn.missing_endpoint = Some(e);
            } else if d.url.is_none() {
                conn.missing_endpoint = client::endpoint(None, None, false).err();
            }
        }
    }
    conn
}

/// Where undelivered reports go: `--outbox`, else the state dir outside CI. In CI the default
/// state dir dies with the runner, so reports are kept only where asked to.
pub fn outbox_dir(d: &DeliverySettings, env: &Env, in_ci: bool) -> Option<PathBuf> {
    d.outbox
        .clone()
        .or_else(|| (!in_ci).then(|| outbox::default_dir(env)).flatten())
}

/// A configured delivery: one endpoint, one client with the token.
pub struct Delivery {
    sender: Sender,
    url: String,
    timeout: std::time::Duration,
    outbox: Option<PathBuf>,
}

/// What became of one job.
#[derive(Debug)]
pub struct Delivered {
    pub attempts: u32,
    pub http_status: Option<u16>,
    pub result: Result<(), Failure>,
    /// For a job that was not delivered: where it was kept, or why not.
    pub kept: Kept,
}

/// Whether an undelivered job was kept for a later flush.
#[derive(Debug)]
pub enum Kept {
    /// Delivered: nothing to keep.
    NotNeeded,
    Saved(PathBuf),
    /// The outbox refused it (not private, full disk, ...).
    NotSaved {
        dir: PathBuf,
        why: String,
    },
    /// No outbox in this environment.
    NoOutbox,
    /// The server refused the payload itself: sending it again cannot help.
    Refused,
}

impl Delivery {
    /// Builds the client for `url` (already checked by [`check_connection`]). An unreadable
    /// `--ca-cert` or a token that cannot go in a header is a configuration error.
    pub fn new(
        d: &DeliverySettings,
        env: &Env,
        token: &str,
        url: &str,
        outbox: Option<PathBuf>,
    ) -> Result<Delivery, Failure> {
        let sender = Sender::new(&client::Options {
            token,
            timeout: d.timeout,
            retries: d.retries,
            ca_cert: d.ca_cert.as_deref(),
            ssl_cert_file: env.get("SSL_CERT_FILE").map(Path::new),
            url,
        })?;
        Ok(Delivery {
            sender,
            url: url.to_string(),
            timeout: d.timeout,
            outbox,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// Sends the reports saved for this endpoint first, one attempt each, within half of
    /// `--timeout`: a dead server cannot double the time the step takes.
    pub fn flush_first(&self, ui: &Ui) {
        if let Some(dir) = &self.outbox {
            let plan = FlushPlan {
                max_attempts: Some(1),
                deadline: Some(Instant::now() + self.timeout / 2),
                url: &self.url,
                warn_elsewhere: false,
                adopt: false,
            };
            if let Err(e) = flush_saved(dir, &self.sender, ui, &plan) {
                ui.warn(&format!(
                    "saved reports not sent: the outbox is not trusted: {e}"
                ));
            }
        }
    }

    /// Posts `job` within `deadline`; a job that could not be delivered (and may get through
    /// later) is saved to the outbox, without the token.
    pub fn send(&self, job: &Job, ui: &Ui, deadline: Instant) -> Delivered {
        let payload = job.to_json();
        let result = self
            .sender
            .send(&self.url, payload.as_bytes(), ui, None, deadline);
        let mut delivered = Delivered {
            attempts: result.attempts,
            http_status: result.http_status,
            result: result.result.map(|_| ()),
            kept: Kept::NotNeeded,
        };
        if let Err(failure) = &delivered.result {
            delivered.kept = self.keep(job, failure, ui);
        }
        delivered
    }

    fn keep(&self, job: &Job, failure: &Failure, ui: &Ui) -> Kept {
        if !worth_keeping(failure) {
            return Kept::Refused;
        }
        let Some(dir) = &self.outbox else {
            return Kept::NoOutbox;
        };
        let saved = Saved {
            version: 1,
            url: self.url.clone(),
            saved_at: crate::timefmt::now_epoch(),
            // The server's words can quote the token back; files are not redacted by `Ui`.
            last_error: ui.redact(failure.message()),
            payload: serde_json::to_value(job).unwrap_or_default(),
            rejected: None,
            retry: None,
        };
        match outbox::save(dir, &saved) {
            Ok(path) => Kept::Saved(path),
            Err(why) => Kept::NotSaved {
                dir: dir.clone(),
                why,
            },
        }
    }
}

/// Reports that a later flush may get through: not those the server judged invalid.
fn worth_keeping(f: &Failure) -> bool {
    match f {
        Failure::Rejected { status, .. } => !refuses_the_payload(*status),
        _ => true,
    }
}

/// A 4xx that is about the report itself: sending it again cannot help. 401/403/404 are about
/// the token or the URL, a 3xx or a 5xx about the server: a later flush may get through.
pub fn refuses_the_payload(status: u16) -> bool {
    (400..500).contains(&status) && !matches!(status, 401 | 403 | 404)
}

/// What a flush did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FlushStats {
    pub delivered: usize,
    pub rejected: usize,
    /// Not delivered this time (server down, no time left): still in the outbox.
    pub kept: usize,
    /// Could not be claimed (read-only, no permission): a failure, never "someone else's".
    pub stuck: usize,
    /// Saved for another endpoint: left in place, never sent with this token.
    pub elsewhere: usize,
    /// Owned by another user: never read.
    pub foreign: usize,
}

/// How far a flush goes.
pub struct FlushPlan<'a> {
    /// `Some(1)` before a report's own job; `None`: the configured retries.
    pub max_attempts: Option<u32>,
    /// No send starts after this (before a report: its share of `--timeout`).
    pub deadline: Option<Instant>,
    /// The endpoint configured now: only reports saved for it are sent.
    pub url: &'a str,
    /// Warn about reports saved for another endpoint (`flush`), or only mention them at `-v`
    /// (before every report, where they would repeat).
    pub warn_elsewhere: bool,
    /// `flush --adopt`: the reports saved for another endpoint (a URL or company id since
    /// corrected) are sent to `url` too, each after saying where it was saved for. Never without
    /// the user asking: a file planted in a shared outbox names its own URL.
    pub adopt: bool,
}

/// What happened to one saved report.
enum Sent {
    Delivered,
    Rejected,
    /// Not delivered, and the rest would fail the same way.
    Stop,
    Elsewhere(String),
}

/// Sends every saved report for `plan.url` in `dir` (with `plan.adopt`, every saved report),
/// oldest first. Stops at the first failure that is not about the report itself (server down,
/// token refused, TLS): the rest would fail the same way. `Err` when the outbox is not trusted
/// ([`outbox::pending`]): nothing is sent.
pub fn flush_saved(
    dir: &Path,
    sender: &Sender,
    ui: &Ui,
    plan: &FlushPlan,
) -> Result<FlushStats, String> {
    let mut stats = FlushStats::default();
    let found = outbox::pending(dir)?;
    warn_foreign(&found, ui);
    stats.foreign = found.foreign.len();
    let total = found.files.len();
    let mut elsewhere = Vec::new();
    for (i, path) in found.files.iter().enumerate() {
        if plan.deadline.is_some_and(|d| Instant::now() >= d) {
            ui.verbose(&format!(
                "no time left to flush {}: {} saved report(s) wait for the next run",
                dir.display(),
                total - i
            ));
            stats.kept += total - i;
            break;
        }
        let claim = match Claim::take(path) {
            Ok(Some(claim)) => claim,
            Ok(None) => continue, // another flush is sending it
            Err(e) => {
                ui.warn(&format!(
                    "cannot claim {} for sending: {e}; it stays unsent",
                    path.display()
                ));
                stats.stuck += 1;
                continue;
            }
        };
        match send_saved(claim, sender, ui, plan) {
            Sent::Delivered => stats.delivered += 1,
            Sent::Rejected => stats.rejected += 1,
            Sent::Elsewhere(url) => elsewhere.push((path.clone(), url)),
            Sent::Stop => {
                stats.kept += total - i;
                break;
            }
        }
    }
    stats.elsewhere = elsewhere.len();
    for (path, url) in &elsewhere {
        let message = format!(
            "{} was saved for another webhook URL ({}): left in place, never sent with the \
             token for {} (`allstacks-cd flush --adopt` sends it there)",
            path.display(),
            client::redact_userinfo(url),
            plan.url
        );
        if plan.warn_elsewhere {
            ui.warn(&message);
        } else {
            ui.verbose(&message);
        }
    }
    Ok(stats)
}

/// Sends one claimed report, and puts the file where its answer says.
fn send_saved(claim: Claim, sender: &Sender, ui: &Ui, plan: &FlushPlan) -> Sent {
    let path = claim.path().to_path_buf();
    let saved = match claim.read() {
        Ok(s) => s,
        Err(e) => {
            ui.warn(&format!("{}: {e}; moved to rejected/", path.display()));
            let _ = claim.reject(&e);
            return Sent::Rejected;
        }
    };
    if saved.url != plan.url {
        if !plan.adopt {
            let _ = claim.leave();
            return Sent::Elsewhere(saved.url);
        }
        ui.info(&format!(
            "{} was saved for {}: sending it to {} (--adopt)",
            path.display(),
            client::redact_userinfo(&saved.url),
            plan.url
        ));
    }
    let body = serde_json::to_vec(&saved.payload).unwrap_or_default();
    // Each saved report gets a full --timeout unless the plan caps the whole flush.
    let deadline = plan.deadline.unwrap_or_else(|| sender.deadline());
    let result = sender.send(plan.url, &body, ui, plan.max_attempts, deadline);
    match result.result {
        Ok(_) => {
            ui.info(&format!("delivered saved report {}", path.display()));
            if let Err(e) = claim.delivered() {
                ui.warn(&format!(
                    "delivered, but could not delete {}: {e}",
                    path.display()
                ));
            }
            Sent::Delivered
        }
        Err(Failure::Rejected { status, message }) if refuses_the_payload(status) => {
            ui.warn(&format!(
                "saved report {} was rejected: {message}",
                path.display()
            ));
            // Files are not redacted by `Ui`: the server's words may quote the token.
            match claim.reject(&ui.redact(&message)) {
                Ok(to) => ui.info(&format!("moved it to {}", to.display())),
                Err(e) => ui.warn(&format!("could not move it aside: {e}")),
            }
            Sent::Rejected
        }
        Err(failure) => {
            let _ = claim.release(Some(&ui.redact(failure.message())));
            ui.warn(&format!(
                "saved report {} not delivered: {}",
                path.display(),
                failure.message()
            ));
            Sent::Stop
        }
    }
}

/// Warns about files in the outbox that belong to another user.
pub fn warn_foreign(found: &outbox::Pending, ui: &Ui) {
    for path in &found.foreign {
        ui.warn(&format!(
            "skipping {}: it belongs to another user, and is never sent with your token",
            path.display()
        ));
    }
}
