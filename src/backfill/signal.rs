//! Ctrl-C (SIGINT) and SIGTERM during a backfill: the first one is recorded and the backfill
//! stops fetching, lets the POSTs in flight finish within their deadline, and says what it did;
//! a second one more than a second ([`AGAIN_AFTER_MS`]) later ends the process at once (the ledger is still
//! consistent: each of its lines is written by one `write`). Copies of the first signal that
//! arrive sooner are the same request: `timeout` and process supervisors signal the process
//! and its group, so the first stop arrives twice within milliseconds.
//!
//! A tiny `sigaction` handler that stores the signal number and its time is all it takes, so no
//! crate: the handler does nothing but atomic operations, `clock_gettime` and `_exit`, all
//! async-signal-safe.

use std::sync::atomic::{AtomicI32, AtomicI64, Ordering};

/// The first signal received, 0 while none was.
static CAUGHT: AtomicI32 = AtomicI32::new(0);
/// When the first signal arrived, in milliseconds of the monotonic clock.
static CAUGHT_AT: AtomicI64 = AtomicI64::new(0);

/// A signal this long after the first asks to stop at once; sooner, it is a copy of the first.
pub const AGAIN_AFTER_MS: i64 = 1000;

/// Installs the handler for SIGINT and SIGTERM (once per process is enough; again is harmless).
pub fn install() {
    #[cfg(unix)]
    // SAFETY: `on_signal` only performs atomic operations, `clock_gettime` and `_exit`, all
    // async-signal-safe; the `sigaction` struct is zeroed then fully set before use.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        for sig in [libc::SIGINT, libc::SIGTERM] {
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

#[cfg(unix)]
extern "C" fn on_signal(sig: libc::c_int) {
    let now = monotonic_ms();
    if CAUGHT
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        CAUGHT_AT.store(now, Ordering::SeqCst);
        return;
    }
    if now - CAUGHT_AT.load(Ordering::SeqCst) > AGAIN_AFTER_MS {
        // A second request: the user does not want to wait for the drain.
        // SAFETY: `_exit` is async-signal-safe and never returns.
        unsafe { libc::_exit(128 + sig) };
    }
}

/// The monotonic clock in milliseconds (async-signal-safe).
#[cfg(unix)]
// `time_t` and `c_long` are 32 bits on some targets.
#[allow(clippy::unnecessary_cast)]
fn monotonic_ms() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` is async-signal-safe and writes only into `ts`.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as i64 * 1000 + ts.tv_nsec as i64 / 1_000_000
}

/// The signal that asked us to stop, if any.
pub fn caught() -> Option<i32> {
    match CAUGHT.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// The exit code for a stop by `sig`: 130 for SIGINT, 143 for SIGTERM (128 + N).
pub fn exit_code(sig: i32) -> i32 {
    128 + sig
}

/// The signal's name for messages.
pub fn name(sig: i32) -> &'static str {
    #[cfg(unix)]
    {
        if sig == libc::SIGTERM {
            return "SIGTERM";
        }
    }
    if sig == 2 {
        "SIGINT (Ctrl-C)"
    } else {
        "a signal"
    }
}
