//! The answer to one webhook request, as a plain function of its source, headers and body:
//! authenticate, find its delivery id, parse and map it (`sources`, `events`), keep it out when
//! it is older than the replay window, route it and plan the job (`resolve::plan_record`: the
//! same precedence, filters and contract as `report`), and name the record, so that the same
//! deployment sent again under another delivery id is reported once. The result is a final
//! answer, or jobs to queue under the delivery's and the record's keys; the server does the
//! network and the queue the disk. A delivery read back from the sender's own API (catch-up)
//! takes the same way in, past the authentication.

use std::time::Instant;

use hyper::HeaderMap;
use serde_json::json;

use super::config::{ApiAccess, Config, GithubEvents, GitlabEvents, Secrets};
use super::queue::Submitted;
use super::routes::Routes;
use super::seen::KEEP_SECS;
use super::sources::{self, Invalid, Parsed};
use super::{Source, auth};
use crate::context::CiContext;
use crate::job::{Job, Provenance};
use crate::resolve::{self, Plan};
use crate::ui::Ui;

/// What became of a request, for the answer, the metrics and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Queued,
    Ignored,
    /// GitHub's `ping`, when a webhook is created or tested (200).
    Ping,
    Duplicate,
    /// A deployment that cannot become a valid job (422).
    Rejected,
    Unauthorized,
    /// Not JSON, a shape the sender never sends, too large, too slow (400, 413, 408).
    Invalid,
}

impl Verdict {
    pub const ALL: [Verdict; 7] = [
        Verdict::Queued,
        Verdict::Ignored,
        Verdict::Ping,
        Verdict::Duplicate,
        Verdict::Rejected,
        Verdict::Unauthorized,
        Verdict::Invalid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Verdict::Queued => "queued",
            Verdict::Ignored => "ignored",
            Verdict::Ping => "ping",
            Verdict::Duplicate => "duplicate",
            Verdict::Rejected => "rejected",
            Verdict::Unauthorized => "unauthorized",
            Verdict::Invalid => "invalid",
        }
    }
}

/// A final answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub verdict: Verdict,
    pub body: serde_json::Value,
    /// Why, for the log line (never a secret, a signature or the raw body).
    pub reason: Option<String>,
}

impl Reply {
    pub fn new(status: u16, verdict: Verdict, body: serde_json::Value) -> Reply {
        Reply {
            status,
            verdict,
            body,
            reason: None,
        }
    }

    /// An error answer: `{"error": why}`, and `why` for the log.
    pub fn error(status: u16, verdict: Verdict, why: String) -> Reply {
        Reply {
            status,
            verdict,
            body: json!({ "error": why }),
            reason: Some(why),
        }
    }

    pub fn ignored(why: String) -> Reply {
        Reply {
            status: 202,
            verdict: Verdict::Ignored,
            body: json!({ "ignored": why }),
            reason: Some(why),
        }
    }

    /// The answer to GitHub's `ping`: the hook reaches the relay, and (past the authentication)
    /// signs with the right secret.
    pub fn ping() -> Reply {
        Reply {
            reason: Some("the webhook reaches the relay, signed with its secret".into()),
            ..Reply::new(200, Verdict::Ping, json!({"pong": true}))
        }
    }

    pub fn duplicate(delivery: &Delivery) -> Reply {
        Reply::new(202, Verdict::Duplicate, json!({ "duplicate": delivery.id }))
    }

    /// The answer once the queue has had `jobs` (their ids `ids`) of `delivery` and `record`.
    pub fn queued(
        submitted: Submitted,
        delivery: &Delivery,
        record: &RecordKey,
        ids: Vec<String>,
    ) -> Reply {
        match submitted {
            Submitted::Queued => Reply::new(202, Verdict::Queued, json!({ "queued": ids })),
            Submitted::Duplicate(0) => Reply::duplicate(delivery),
            Submitted::Duplicate(_) => Reply::duplicate_record(delivery, record),
            Submitted::Failed(e) => Reply {
                reason: Some(e),
                ..Reply::new(
                    503,
                    Verdict::Invalid,
                    json!({"error": "the job could not be queued; try again later"}),
                )
            },
        }
    }

    /// A new delivery of a record queued before (a replay, or a sender's second copy).
    pub fn duplicate_record(delivery: &Delivery, record: &RecordKey) -> Reply {
        Reply {
            reason: Some(format!("the record {} was queued before", record.text)),
            ..Reply::new(
                202,
                Verdict::Duplicate,
                json!({ "duplicate": delivery.id, "record": record.text }),
            )
        }
    }
}

/// What the de-duplication store keeps of a record (`github deployment_status 9005`), beside
/// the delivery id: a record sent again under a new delivery id is queued once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordKey {
    pub text: String,
    pub key: u128,
}

impl RecordKey {
    fn new(text: String) -> RecordKey {
        RecordKey {
            key: auth::key_of(&format!("record {text}")),
            text,
        }
    }
}

/// Why a record is not taken in: older than the window in which its delivery id and record key
/// are remembered, it could come back as new (backfill is the tool for history).
pub const TOO_OLD: &str = "older than the 7-day replay window";

/// A request's delivery id: the sender's (`X-GitHub-Delivery`, `X-Gitlab-Event-UUID`) when it
/// gives a plausible one, else the SHA-256 of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// As shown in answers and logs.
    pub id: String,
    /// What the de-duplication store keeps (per source).
    pub key: u128,
}

/// What the request comes to.
#[derive(Debug)]
pub enum Answer {
    Reply(Reply),
    /// Queue `jobs`, remember `delivery` and `record`, then answer 202 `{"queued": [...]}`.
    Queue {
        delivery: Delivery,
        record: RecordKey,
        jobs: Vec<Job>,
    },
}

/// A delivery whose sender is known, as [`Intake::take_in`] takes it.
pub struct Arrived<'a> {
    pub source: Source,
    /// GitHub's `X-GitHub-Event` (the event of a delivery read from the API).
    pub event: Option<&'a str>,
    pub delivery: Delivery,
    pub body: &'a [u8],
}

/// Everything the answers depend on besides the request.
pub struct Intake {
    secrets: Secrets,
    github: GithubEvents,
    gitlab: GitlabEvents,
    gitlab_api: Option<ApiAccess>,
    routes: Routes,
}

impl Intake {
    pub fn new(config: &Config, routes: Routes) -> Intake {
        Intake {
            secrets: config.secrets.clone(),
            github: config.github.clone(),
            gitlab: config.gitlab.clone(),
            gitlab_api: config.gitlab_api.clone(),
            routes,
        }
    }

    /// Which GitHub events are reported.
    pub fn github_events(&self) -> &GithubEvents {
        &self.github
    }

    /// Which GitLab events are reported.
    pub fn gitlab_events(&self) -> &GitlabEvents {
        &self.gitlab
    }

    /// Whether `source`'s endpoint exists (its secret is set).
    pub fn serves(&self, source: Source) -> bool {
        self.secrets.of(source).is_some()
    }

    /// The token check that needs no body (GitLab, Argo CD): done before a body is read, so a
    /// stranger cannot make the relay read 25 MiB. `None` for the signed senders.
    pub fn token_refused(&self, source: Source, headers: &HeaderMap) -> Option<Reply> {
        let secret = self.secrets.of(source)?;
        let (ok, what) = match source {
            Source::GitLab => (
                auth::same_token(header(headers, "x-gitlab-token"), secret),
                "X-Gitlab-Token",
            ),
            Source::ArgoCd => (
                auth::same_token(auth::bearer(header(headers, "authorization")), secret),
                "the Authorization Bearer token",
            ),
            Source::GitHub | Source::Flux => return None,
        };
        (!ok).then(|| {
            Reply::error(
                401,
                Verdict::Unauthorized,
                format!("{what} is missing or wrong"),
            )
        })
    }

    /// The answer to a delivery that its headers decide, so that its body is never read: an
    /// event that is not reported (`202 ignored`, whoever sent it: nothing is done), or a GitHub
    /// delivery without `X-GitHub-Event` (400). `None`: the body is needed.
    pub fn answered_by_headers(&self, source: Source, headers: &HeaderMap) -> Option<Reply> {
        let why = match source {
            Source::GitHub => match header(headers, "x-github-event") {
                Some(event) => sources::github_unread(&self.github, event)?,
                None => {
                    let why = "no X-GitHub-Event header".to_string();
                    return Some(Reply::error(400, Verdict::Invalid, why));
                }
            },
            Source::GitLab => {
                sources::gitlab_unread(&self.gitlab, header(headers, "x-gitlab-event")?)?
            }
            Source::ArgoCd | Source::Flux => return None,
        };
        Some(Reply::ignored(why))
    }

    /// The answer to one request. `accepted` says whether a delivery was accepted before;
    /// `warnings` collects what was skipped or guessed, for the log.
    pub fn handle(
        &self,
        source: Source,
        headers: &HeaderMap,
        body: &[u8],
        accepted: &dyn Fn(&Delivery) -> bool,
        now: i64,
        warnings: &mut Vec<String>,
    ) -> Answer {
        if let Err(reply) = self.authenticate(source, headers, body) {
            return Answer::Reply(reply);
        }
        let delivery = delivery(source, headers, body);
        let event = match source {
            Source::GitHub => header(headers, "x-github-event"),
            Source::GitLab | Source::ArgoCd | Source::Flux => None,
        };
        let arrived = Arrived {
            source,
            event,
            delivery,
            body,
        };
        self.take_in(arrived, accepted, now, warnings)
    }

    /// The answer to a delivery whose sender is known: authenticated, or read back from the
    /// sender's own API.
    pub fn take_in(
        &self,
        arrived: Arrived<'_>,
        accepted: &dyn Fn(&Delivery) -> bool,
        now: i64,
        warnings: &mut Vec<String>,
    ) -> Answer {
        let Arrived {
            source,
            event,
            delivery,
            body,
        } = arrived;
        if accepted(&delivery) {
            return Answer::Reply(Reply::duplicate(&delivery));
        }
        let record = match self.read(source, event, body, warnings) {
            Ok(Parsed::Record(record)) => record,
            Ok(Parsed::Ignored(why)) => return Answer::Reply(Reply::ignored(why)),
            Ok(Parsed::Ping) => return Answer::Reply(Reply::ping()),
            Err(Invalid(why)) => return Answer::Reply(Reply::error(400, Verdict::Invalid, why)),
        };
        if record.at.is_some_and(|at| at < now - KEEP_SECS) {
            return Answer::Reply(Reply::ignored(TOO_OLD.into()));
        }
        match self.plan(source, &record.ctx, now, warnings) {
            Ok((job, _)) => {
                let text = record.key.unwrap_or_else(|| match source {
                    // One sync operation is one job, reported once with its settled outcome:
                    // a Degraded that follows a reported Healthy is the same operation.
                    Source::ArgoCd => format!("{} {}", source.name(), job.job_id()),
                    _ => format!("{} {} {}", source.name(), job.job_id(), job.status()),
                });
                Answer::Queue {
                    delivery,
                    record: RecordKey::new(text),
                    jobs: vec![job],
                }
            }
            Err(reply) => Answer::Reply(reply),
        }
    }

    /// A body of `source` (of GitHub's event `event`) read into a record, or why it is none.
    pub fn read(
        &self,
        source: Source,
        event: Option<&str>,
        body: &[u8],
        warnings: &mut Vec<String>,
    ) -> Result<Parsed, Invalid> {
        match source {
            Source::GitHub => match event {
                Some(event) => sources::github(&self.github, event, body),
                None => Err(Invalid("no X-GitHub-Event header".into())),
            },
            Source::GitLab => {
                sources::gitlab(&self.gitlab, self.gitlab_api.as_ref(), body, warnings)
            }
            Source::ArgoCd => sources::argocd(body),
            Source::Flux => sources::flux(body),
        }
    }

    /// The routes records go by.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    fn authenticate(&self, source: Source, headers: &HeaderMap, body: &[u8]) -> Result<(), Reply> {
        let Some(secret) = self.secrets.of(source) else {
            return Err(Reply::error(404, Verdict::Invalid, "not found".into()));
        };
        if let Some(refused) = self.token_refused(source, headers) {
            return Err(refused);
        }
        let name = match source {
            Source::GitHub => "X-Hub-Signature-256",
            Source::Flux => "X-Signature",
            Source::GitLab | Source::ArgoCd => return Ok(()),
        };
        auth::signature(secret, body, header(headers, name), name)
            .map_err(|why| Reply::error(401, Verdict::Unauthorized, why))
    }

    /// The job a record becomes under the first route that takes it, and where each of its
    /// values came from: `Err` is the answer when it does not become one (ignored, 422).
    pub fn plan(
        &self,
        source: Source,
        ctx: &CiContext,
        now: i64,
        warnings: &mut Vec<String>,
    ) -> Result<(Job, Provenance), Reply> {
        // A record names its commit in full; never "resolve" a chart version through whatever
        // git repository the relay happens to run in.
        if let Some(c) = &ctx.commit_sha {
            if !crate::git::is_full_sha(c.value.trim()) {
                return Err(Reply::error(422, Verdict::Rejected, not_a_sha(source, c)));
            }
        }
        let Some(route) = self.routes.pick(source, ctx) else {
            return Err(Reply::ignored(format!(
                "no route matches (source {}, repo {}, environment {})",
                source.name(),
                ctx.repo_name.as_ref().map_or("none", |r| r.value.as_str()),
                ctx.environment().unwrap_or("none")
            )));
        };
        let ctx = &route.take(ctx).map_err(Reply::ignored)?;
        if ctx.repo_name.is_none() && ctx.repo_id.is_none() && route.settings.repo_name.is_none() {
            return Err(Reply::error(422, Verdict::Rejected, no_repository(source)));
        }
        match resolve::plan_record(&route.settings, ctx, now, warnings) {
            Ok(Plan::Send { job, provenance }) => Ok((*job, provenance)),
            Ok(Plan::Skip { reason }) => Err(Reply::ignored(reason)),
            Err(errors) => Err(Reply::error(422, Verdict::Rejected, errors.join("; "))),
        }
    }
}

/// One line per webhook request (`via` "", or "catch-up " for a delivery read back from the
/// sender's API): sender, delivery id, answer, jobs, why, time taken.
pub fn log(
    ui: &Ui,
    via: &str,
    source: Source,
    delivery: Option<&str>,
    reply: &Reply,
    jobs: &[String],
    started: Instant,
) {
    let ms = (started.elapsed().as_secs_f64() * 10_000.0).round() / 10.0;
    let mut text = format!(
        "{via}{} {} {}",
        source.name(),
        reply.status,
        reply.verdict.name()
    );
    if let Some(d) = delivery {
        text.push_str(&format!(" delivery={d}"));
    }
    if !jobs.is_empty() {
        text.push_str(&format!(" jobs={}", jobs.join(",")));
    }
    if let Some(why) = &reply.reason {
        text.push_str(&format!(" ({})", cut(why)));
    }
    text.push_str(&format!(" {ms:.1}ms"));
    let mut fields = vec![
        ("source", json!(source.name())),
        (
            "via",
            json!(if via.is_empty() {
                "webhook"
            } else {
                "catch-up"
            }),
        ),
        ("delivery", json!(delivery)),
        ("status", json!(reply.status)),
        ("result", json!(reply.verdict.name())),
        ("jobs", json!(jobs)),
    ];
    if let Some(why) = &reply.reason {
        fields.push(("reason", json!(cut(why))));
    }
    fields.push(("ms", json!(ms)));
    ui.event(&text, &fields);
}

/// At most 500 characters of `text` (a reason can quote a job's values).
pub fn cut(text: &str) -> String {
    let mut out: String = text.chars().take(500).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Why a record that names no repository cannot be a job, and where to give one.
fn no_repository(source: Source) -> String {
    let hint = match source {
        Source::Flux => "add repo_name to the Alert's eventMetadata, or to the route that takes it",
        _ => "give the route that takes it a repo_name",
    };
    format!(
        "repo_id or repo_name is required, and the {} record names no repository: {hint}",
        source.name()
    )
}

fn not_a_sha(source: Source, c: &crate::env::Sourced<String>) -> String {
    let shown: String = c.value.chars().take(80).collect();
    let why = match source {
        Source::ArgoCd => {
            ": an application from a Helm repository syncs a chart version, not a commit; only \
             applications from Git can be reported"
        }
        Source::Flux => ": a HelmRelease or an OCI source names a version or digest, not a commit",
        _ => "",
    };
    format!(
        "commit_sha must be a full 40- or 64-character hex SHA, got {shown:?} (from {}){why}",
        c.source
    )
}

/// A header's value as text, when present and visible ASCII.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

/// The delivery id of a request to `source`.
pub fn delivery(source: Source, headers: &HeaderMap, body: &[u8]) -> Delivery {
    let given = match source {
        Source::GitHub => header(headers, "x-github-delivery"),
        Source::GitLab => header(headers, "x-gitlab-event-uuid"),
        Source::ArgoCd | Source::Flux => None,
    };
    let id = given
        .map(str::trim)
        .filter(|id| plausible_id(id))
        .map(str::to_string)
        .unwrap_or_else(|| auth::body_digest(body));
    Delivery {
        key: auth::key_of(&format!("{}:{id}", source.name())),
        id,
    }
}

/// A delivery id we echo and log: 1 to 128 letters, digits, `-`, `_`, `.` or `:`.
fn plausible_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-github-delivery",
            "72d3162e-cc78-11e3-81ab-4c9367dc0958".parse().unwrap(),
        );
        let d = delivery(Source::GitHub, &h, b"{}");
        assert_eq!(d.id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
        assert_ne!(d.key, delivery(Source::GitLab, &h, b"{}").key, "per source");
        h.insert("x-github-delivery", "has space".parse().unwrap());
        assert!(
            delivery(Source::GitHub, &h, b"{}")
                .id
                .starts_with("sha256:")
        );
        let a = delivery(Source::Flux, &HeaderMap::new(), b"{\"a\":1}");
        assert_eq!(a, delivery(Source::Flux, &HeaderMap::new(), b"{\"a\":1}"));
        assert_ne!(a, delivery(Source::Flux, &HeaderMap::new(), b"{\"a\":2}"));
    }
}
