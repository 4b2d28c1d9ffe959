//! `serve --explain`: one webhook body taken through the relay's own intake (the sender's
//! mapping, the replay window, the routes and the plan of the job: `Intake::read` and
//! `Intake::plan`, as for a request), without authentication, de-duplication, queueing or
//! sending; and what became of it, route by route. It answers "why did my deployment go to that
//! service?" with the words of the routes themselves.

use serde::Deserialize;
use serde::de::IgnoredAny;

use super::intake::{Intake, TOO_OLD};
use super::seen::KEEP_SECS;
use super::sources::{self, Invalid, Parsed};
use super::{Config, Routes, Source};
use crate::job::{Job, Provenance};

/// What the relay would do with a body.
#[derive(Debug)]
pub struct Explained {
    /// How the body was read: `a GitHub deployment_status (the event read from the body;
    /// --event chooses)`.
    pub read_as: String,
    /// Each route that passed the record by, and why, in order.
    pub passed: Vec<String>,
    /// The route that took it (`route 3 (relay.toml line 14)`).
    pub route: Option<String>,
    pub outcome: Outcome,
    /// What the mapping and the plan skipped or guessed.
    pub warnings: Vec<String>,
}

/// The relay's answer, in short.
#[derive(Debug)]
pub enum Outcome {
    /// `202 {"queued": ...}`: this job, and where each of its values came from.
    Queued {
        job: Box<Job>,
        provenance: Provenance,
    },
    /// `202 {"ignored": ...}` (or GitHub's ping): why.
    Ignored(String),
    /// `400` (not JSON, not the shape the sender sends) or `422` (no valid job): why.
    Invalid(String),
}

/// The body of a GitHub delivery, as far as its event shows.
#[derive(Deserialize)]
struct GithubTop {
    deployment_status: Option<IgnoredAny>,
    workflow_run: Option<IgnoredAny>,
    zen: Option<IgnoredAny>,
}

/// The GitHub event a body is (for a body saved without its `X-GitHub-Event`): `workflow_run`
/// or `ping` when it has their keys, else `deployment_status`, the event reported by default.
fn github_event(body: &[u8]) -> &'static str {
    match serde_json::from_slice::<GithubTop>(body) {
        Ok(top) if top.workflow_run.is_some() && top.deployment_status.is_none() => "workflow_run",
        Ok(top) if top.zen.is_some() && top.deployment_status.is_none() => "ping",
        _ => "deployment_status",
    }
}

/// What the relay would do with `body`, posted by `source` (`event`: the `X-GitHub-Event` or
/// `X-Gitlab-Event` it came with; `None`: GitHub's is read from the body, GitLab's
/// `object_kind` decides as when the header is missing) at `now`, with `config`'s events and
/// `routes`.
pub fn explain(
    config: &Config,
    routes: Routes,
    source: Source,
    event: Option<&str>,
    body: &[u8],
    now: i64,
) -> Explained {
    let intake = Intake::new(config, routes);
    let (event, read_as) = match (source, event) {
        (Source::GitHub, Some(e)) => (Some(e), format!("a GitHub {e} (--event)")),
        (Source::GitHub, None) => {
            let e = github_event(body);
            let how = format!("a GitHub {e} (the event read from the body; --event chooses)");
            (Some(e), how)
        }
        (Source::GitLab, Some(e)) => (Some(e), format!("a GitLab {e:?} (--event)")),
        (Source::GitLab, None) => (None, "a GitLab event (of its object_kind)".to_string()),
        (Source::ArgoCd, _) => (None, "an Argo CD notification".to_string()),
        (Source::Flux, _) => (None, "a Flux event".to_string()),
    };
    let mut explained = Explained {
        read_as,
        passed: Vec::new(),
        route: None,
        outcome: Outcome::Ignored(String::new()),
        warnings: Vec::new(),
    };
    // A GitLab event that is not reported is answered from its header, its body unread.
    let unread = match (source, event) {
        (Source::GitLab, Some(e)) => sources::gitlab_unread(intake.gitlab_events(), e),
        _ => None,
    };
    let parsed = match unread {
        Some(why) => Ok(Parsed::Ignored(why)),
        None => intake.read(source, event, body, &mut explained.warnings),
    };
    let record = match parsed {
        Ok(Parsed::Record(record)) => record,
        Ok(Parsed::Ignored(why)) => return explained.ends(Outcome::Ignored(why)),
        Ok(Parsed::Ping) => {
            let why = "GitHub's ping, sent when a webhook is created (the relay answers 200 \
                       {\"pong\": true}): not a deployment";
            return explained.ends(Outcome::Ignored(why.into()));
        }
        Err(Invalid(why)) => {
            return explained.ends(Outcome::Invalid(format!("{why}; the relay answers 400")));
        }
    };
    let (route, passed) = intake.routes().trail(source, &record.ctx);
    explained.route = route.map(|r| r.label.clone());
    explained.passed = passed;
    if record.at.is_some_and(|at| at < now - KEEP_SECS) {
        let why = format!("{TOO_OLD}: backfill is the tool for history");
        return explained.ends(Outcome::Ignored(why));
    }
    let outcome = match intake.plan(source, &record.ctx, now, &mut explained.warnings) {
        Ok((job, provenance)) => Outcome::Queued {
            job: Box::new(job),
            provenance,
        },
        Err(reply) => {
            let why = reply.reason.unwrap_or_default();
            match reply.status {
                202 => Outcome::Ignored(why),
                status => Outcome::Invalid(format!("{why}; the relay answers {status}")),
            }
        }
    };
    explained.ends(outcome)
}

impl Explained {
    fn ends(mut self, outcome: Outcome) -> Explained {
        self.outcome = outcome;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_github_body_says_its_event() {
        assert_eq!(
            github_event(br#"{"action": "completed", "workflow_run": {"id": 1}}"#),
            "workflow_run"
        );
        assert_eq!(
            github_event(br#"{"zen": "Keep it logically awesome.", "hook_id": 1}"#),
            "ping"
        );
        assert_eq!(
            github_event(br#"{"deployment_status": {}, "deployment": {}}"#),
            "deployment_status"
        );
        assert_eq!(github_event(b"not json"), "deployment_status");
    }
}
