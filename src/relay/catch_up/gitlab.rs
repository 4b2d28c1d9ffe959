//! A GitLab hook's event log: `GET /groups/{id}/hooks/{hook_id}/events` (or `/projects/...`),
//! newest first, paged by `page` (`X-Next-Page`, `Link`), each event with the request's headers
//! (`X-Gitlab-Event`, `X-Gitlab-Event-UUID`) and body (`request_data`). GitLab keeps 7 days of
//! events.

use std::collections::HashMap;

use hyper::HeaderMap;
use serde::Deserialize;

use super::hooks::Entry;
use super::log::{Body, Found, Item, Missed, PassWatch, Step, read_log};
use crate::api::{ApiError, Client};
use crate::relay::Source;
use crate::relay::intake::{self, Intake};
use crate::relay::sources;

/// An event of the list (the fields used).
#[derive(Debug, Deserialize)]
struct Event {
    id: u64,
    #[serde(default)]
    request_headers: HashMap<String, serde_json::Value>,
    /// The body that was posted: a JSON object (GitLab's documented answer), or that object as
    /// text.
    request_data: Option<serde_json::Value>,
}

impl Event {
    fn header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.as_str())
    }
}

impl Item for Event {
    fn id(&self) -> u64 {
        self.id
    }
}

/// Lists the events of `entry`'s hook back to `since` (an event `id`), and keeps those of a
/// reported event whose delivery id the relay never accepted, with their bodies.
pub fn list(
    client: &mut Client,
    entry: &Entry,
    since: Option<u64>,
    intake: &Intake,
    accepted: &dyn Fn(&intake::Delivery) -> bool,
    watch: &PassWatch,
) -> Result<Found, ApiError> {
    let first = format!("{}{}/events?per_page=100", client.base(), entry.path());
    let each = |event: Event| {
        let unread = event
            .header("x-gitlab-event")
            .is_some_and(|e| sources::gitlab_unread(intake.gitlab_events(), e).is_some());
        if unread {
            return Step::Next;
        }
        let body = match &event.request_data {
            Some(serde_json::Value::String(text)) => text.clone().into_bytes(),
            Some(data @ serde_json::Value::Object(_)) => data.to_string().into_bytes(),
            _ => return Step::Next,
        };
        let mut headers = HeaderMap::new();
        if let Some(uuid) = event
            .header("x-gitlab-event-uuid")
            .and_then(|u| u.parse().ok())
        {
            headers.insert("x-gitlab-event-uuid", uuid);
        }
        Step::Missed(Missed {
            delivery: intake::delivery(Source::GitLab, &headers, &body),
            event: None,
            body: Body::Here(body),
        })
    };
    read_log(client, entry, first, since, accepted, watch, each)
}
