//! The relay's Prometheus metrics (SPEC `spec/relay.md`, "Observability"): counters kept in
//! atomics, and the queue's gauges read from the queue directory when scraped, so they tell
//! what is on disk rather than what the process believes.

use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::Source;
use super::intake::Verdict;

/// Why a request or a connection was turned away before it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shed {
    /// The bodies held by all connections reached `ALLSTACKS_RELAY_BODY_BUDGET` (503).
    BodyBudget,
    /// The peer address had `ALLSTACKS_RELAY_PER_IP` connections open (closed at once).
    PerPeer,
}

impl Shed {
    const ALL: [Shed; 2] = [Shed::BodyBudget, Shed::PerPeer];

    fn name(self) -> &'static str {
        match self {
            Shed::BodyBudget => "body_budget",
            Shed::PerPeer => "per_peer",
        }
    }
}

/// Counters since start.
#[derive(Debug, Default)]
pub struct Metrics {
    /// `[Shed]`.
    shed: [AtomicU64; 2],
    /// `[source][verdict]`.
    events: [[AtomicU64; Verdict::ALL.len()]; 4],
    delivered: AtomicU64,
    failed: AtomicU64,
    rejected: AtomicU64,
    dead: AtomicU64,
    /// `[source][ok, failed]`, for GitHub and GitLab.
    catch_ups: [[AtomicU64; 2]; 2],
    /// Deliveries queued by catch-up, for GitHub and GitLab.
    caught_up: [AtomicU64; 2],
}

impl Metrics {
    pub fn event(&self, source: Source, verdict: Verdict) {
        let v = Verdict::ALL.iter().position(|x| *x == verdict).unwrap_or(0);
        self.events[source.index()][v].fetch_add(1, Ordering::Relaxed);
    }

    pub fn shed(&self, why: Shed) {
        self.shed[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn delivered(&self, delivered: u64, rejected: u64) {
        self.delivered.fetch_add(delivered, Ordering::Relaxed);
        self.rejected.fetch_add(rejected, Ordering::Relaxed);
    }

    /// An attempt did not deliver its job (Allstacks down, a 5xx, the token refused).
    pub fn failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// A catch-up pass of one hook of `source`: whether it read the log, and how many
    /// deliveries it queued.
    pub fn catch_up(&self, source: Source, ok: bool, queued: u64) {
        let s = usize::from(source == Source::GitLab);
        self.catch_ups[s][usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
        self.caught_up[s].fetch_add(queued, Ordering::Relaxed);
    }

    /// Jobs moved to `dead/`, undeliverable for too long.
    pub fn dead(&self, n: u64) {
        self.dead.fetch_add(n, Ordering::Relaxed);
    }

    /// The text exposition format, with the queue's gauges read from `dir` now.
    pub fn render(&self, dir: &Path, now_millis: u128) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP allstacks_relay_events_total Webhook requests by sender and result.\n\
             # TYPE allstacks_relay_events_total counter\n",
        );
        for source in Source::ALL {
            for (i, verdict) in Verdict::ALL.iter().enumerate() {
                let n = self.events[source.index()][i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "allstacks_relay_events_total{{source=\"{}\",result=\"{}\"}} {n}",
                    source.name(),
                    verdict.name()
                );
            }
        }
        out.push_str(
            "# HELP allstacks_relay_shed_total Requests answered 503 because the bodies held \
             reached the budget, and connections closed because their peer had its share open.\n\
             # TYPE allstacks_relay_shed_total counter\n",
        );
        for why in Shed::ALL {
            let n = self.shed[why as usize].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "allstacks_relay_shed_total{{reason=\"{}\"}} {n}",
                why.name()
            );
        }
        out.push_str(
            "# HELP allstacks_relay_deliveries_total Attempts to deliver jobs to Allstacks by \
             result (failed: the job stays queued; rejected: moved to rejected/; dead: \
             undeliverable for ALLSTACKS_RELAY_MAX_AGE, moved to dead/).\n\
             # TYPE allstacks_relay_deliveries_total counter\n",
        );
        for (name, n) in [
            ("delivered", &self.delivered),
            ("failed", &self.failed),
            ("rejected", &self.rejected),
            ("dead", &self.dead),
        ] {
            let n = n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "allstacks_relay_deliveries_total{{result=\"{name}\"}} {n}"
            );
        }
        self.render_catch_up(&mut out);
        let (depth, oldest) = queue_stats(dir);
        let age = oldest.map_or(0.0, |at| now_millis.saturating_sub(at) as f64 / 1000.0);
        let _ = write!(
            out,
            "# HELP allstacks_relay_queue_depth Jobs in the queue directory, waiting or being sent.\n\
             # TYPE allstacks_relay_queue_depth gauge\n\
             allstacks_relay_queue_depth {depth}\n\
             # HELP allstacks_relay_oldest_queued_seconds Age of the oldest queued job (0 when none).\n\
             # TYPE allstacks_relay_oldest_queued_seconds gauge\n\
             allstacks_relay_oldest_queued_seconds {age:.3}\n"
        );
        out
    }
}

impl Metrics {
    fn render_catch_up(&self, out: &mut String) {
        out.push_str(
            "# HELP allstacks_relay_catch_up_total Passes over a [[catch_up]] hook's delivery log \
             by platform and result.\n\
             # TYPE allstacks_relay_catch_up_total counter\n",
        );
        let platforms = [Source::GitHub, Source::GitLab];
        for (s, source) in platforms.iter().enumerate() {
            for (r, result) in ["ok", "failed"].iter().enumerate() {
                let n = self.catch_ups[s][r].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "allstacks_relay_catch_up_total{{source=\"{}\",result=\"{result}\"}} {n}",
                    source.name()
                );
            }
        }
        out.push_str(
            "# HELP allstacks_relay_caught_up_total Deliveries the relay missed, read back from \
             the sender's log and queued.\n\
             # TYPE allstacks_relay_caught_up_total counter\n",
        );
        for (s, source) in platforms.iter().enumerate() {
            let n = self.caught_up[s].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "allstacks_relay_caught_up_total{{source=\"{}\"}} {n}",
                source.name()
            );
        }
    }
}

/// How many jobs are queued in `dir` (waiting, or claimed by the worker), and when the oldest
/// was queued (epoch milliseconds, from its name).
pub fn queue_stats(dir: &Path) -> (usize, Option<u128>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (0, None);
    };
    let mut depth = 0;
    let mut oldest: Option<u128> = None;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        // `NAME.json`, or `.NAME.json.claimed-...` while it is being sent.
        let report = name
            .strip_prefix('.')
            .filter(|n| n.contains(".json.claimed-"))
            .unwrap_or(name);
        if !report.contains(".json") || report.starts_with('.') {
            continue;
        }
        let Some(millis) = report.get(..13).and_then(|m| m.parse::<u128>().ok()) else {
            continue;
        };
        depth += 1;
        oldest = Some(oldest.map_or(millis, |o| o.min(millis)));
    }
    (depth, oldest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_series() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("1700000000000-0001-ab.json"), "{}").unwrap();
        std::fs::write(
            dir.path().join(".1700000001000-0002-cd.json.claimed-1-x"),
            "{}",
        )
        .unwrap();
        std::fs::write(dir.path().join("seen"), "").unwrap();
        std::fs::write(dir.path().join(".tmp-1"), "").unwrap();
        let m = Metrics::default();
        m.event(Source::GitHub, Verdict::Queued);
        m.event(Source::GitHub, Verdict::Queued);
        m.event(Source::Flux, Verdict::Unauthorized);
        m.event(Source::GitHub, Verdict::Ping);
        m.delivered(2, 1);
        m.failed();
        m.shed(Shed::PerPeer);
        m.catch_up(Source::GitLab, true, 3);
        m.catch_up(Source::GitHub, false, 0);
        let text = m.render(dir.path(), 1_700_000_010_000);
        for line in [
            "allstacks_relay_events_total{source=\"github\",result=\"queued\"} 2",
            "allstacks_relay_events_total{source=\"flux\",result=\"unauthorized\"} 1",
            "allstacks_relay_events_total{source=\"argocd\",result=\"invalid\"} 0",
            "allstacks_relay_events_total{source=\"github\",result=\"ping\"} 1",
            "allstacks_relay_events_total{source=\"github\",result=\"ignored\"} 0",
            "allstacks_relay_deliveries_total{result=\"delivered\"} 2",
            "allstacks_relay_deliveries_total{result=\"failed\"} 1",
            "allstacks_relay_deliveries_total{result=\"rejected\"} 1",
            "allstacks_relay_deliveries_total{result=\"dead\"} 0",
            "allstacks_relay_shed_total{reason=\"per_peer\"} 1",
            "allstacks_relay_shed_total{reason=\"body_budget\"} 0",
            "allstacks_relay_queue_depth 2",
            "allstacks_relay_catch_up_total{source=\"gitlab\",result=\"ok\"} 1",
            "allstacks_relay_catch_up_total{source=\"github\",result=\"failed\"} 1",
            "allstacks_relay_caught_up_total{source=\"gitlab\"} 3",
            "allstacks_relay_oldest_queued_seconds 10.000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line}\n{text}");
        }
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("allstacks_relay_events_total"))
                .count(),
            28
        );
    }
}
