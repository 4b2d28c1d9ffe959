//! Integration tests: the real binary against real git repositories and a real HTTP server on
//! 127.0.0.1. One test binary keeps link time down.

mod architecture;
mod backfill;
mod check;
mod cli;
mod completions;
mod delivery;
mod deployments;
mod docs;
mod faults;
mod first_use;
mod git_detection;
mod outbox;
mod props;
mod providers;
mod relay;
mod report;
mod run_start;
mod security;
mod support;
mod tls;
mod truth;

/// Now, in epoch seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
