//! A GitHub hook's delivery log: `GET /orgs/{org}/hooks/{id}/deliveries` (or `/repos/...`),
//! newest first, cursor paging through `Link`, each item naming its delivery id (`guid`, the
//! `X-GitHub-Delivery` it was sent with), event, action and time; and
//! `GET .../deliveries/{id}`, whose `request.payload` is the body that was posted. GitHub keeps
//! 3 days of deliveries; a redelivery has the same `guid` under a new `id`.

use std::collections::HashSet;

use hyper::HeaderMap;
use serde::Deserialize;

use super::hooks::Entry;
use super::log::{Body, Found, Item, Missed, PassWatch, Step, read_log};
use crate::api::{ApiError, Client};
use crate::relay::Source;
use crate::relay::intake::{self, Intake};
use crate::relay::sources;

/// How far back GitHub keeps a hook's deliveries.
const WINDOW_SECS: i64 = 3 * 24 * 3600;

/// An item of the deliveries list (the fields used).
#[derive(Debug, Deserialize)]
struct Listed {
    id: u64,
    guid: String,
    delivered_at: Option<String>,
    event: Option<String>,
    action: Option<String>,
}

/// `GET .../deliveries/{id}`: the request that was made.
#[derive(Debug, Deserialize)]
struct Delivery {
    request: Option<Request>,
}

#[derive(Debug, Deserialize)]
struct Request {
    payload: Option<serde_json::Value>,
}

impl Item for Listed {
    fn id(&self) -> u64 {
        self.id
    }
}

/// Lists the deliveries of `entry`'s hook back to `since` (a delivery `id`) or GitHub's 3 days,
/// and keeps those of a reported event whose delivery id the relay never accepted.
pub fn list(
    client: &mut Client,
    entry: &Entry,
    since: Option<u64>,
    intake: &Intake,
    accepted: &dyn Fn(&intake::Delivery) -> bool,
    watch: &PassWatch,
) -> Result<Found, ApiError> {
    let hook = format!("{}{}/deliveries", client.base(), entry.path());
    let oldest = crate::timefmt::now_epoch() - WINDOW_SECS;
    let mut guids = HashSet::new();
    let first = format!("{hook}?per_page=100");
    let each = |item: Listed| {
        let at = item
            .delivered_at
            .as_deref()
            .map(crate::timefmt::parse_timestamp);
        if at.is_some_and(|t| t.is_ok_and(|t| t < oldest)) {
            return Step::Done;
        }
        let event = item.event.unwrap_or_default();
        if !reported(intake, &event, item.action.as_deref()) || !guids.insert(item.guid.clone()) {
            return Step::Next;
        }
        // The guid is the X-GitHub-Delivery the webhook was sent with: the same key as the one
        // a live delivery was remembered under (a guid that is not a plausible id, never seen,
        // is keyed by its own digest, and so never mistaken for another delivery).
        let mut headers = HeaderMap::new();
        if let Ok(v) = item.guid.parse() {
            headers.insert("x-github-delivery", v);
        }
        Step::Missed(Missed {
            delivery: intake::delivery(Source::GitHub, &headers, item.guid.as_bytes()),
            event: Some(event),
            body: Body::At(format!("{hook}/{}", item.id)),
        })
    };
    read_log(client, entry, first, since, accepted, watch, each)
}

/// Whether a delivery of `event` (with `action`) is one the relay reports: its payload is
/// fetched only then.
fn reported(intake: &Intake, event: &str, action: Option<&str>) -> bool {
    let unread = sources::github_unread(intake.github_events(), event).is_some();
    !unread && event != "ping" && (event != "workflow_run" || action == Some("completed"))
}

/// The body a delivery posted, from `GET .../deliveries/{id}`.
pub fn payload(client: &mut Client, url: &str, watch: &PassWatch) -> Result<Vec<u8>, ApiError> {
    let (delivery, _): (Delivery, _) = client.get_json(url, watch)?;
    let payload = delivery
        .request
        .and_then(|r| r.payload)
        .ok_or_else(|| ApiError::Other(format!("{url} holds no request.payload")))?;
    serde_json::to_vec(&payload).map_err(|e| ApiError::Other(e.to_string()))
}
