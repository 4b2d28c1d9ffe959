//! Ctrl-C (SIGINT) and SIGTERM during a backfill: the first one is recorded and the backfill
//! stops fetching, lets the POSTs in flight finish within their deadline, and says what it did;
//! a second one ends the process at once (the ledger is still consistent: each of its lines is
//! written by one `write`).
//!
//! A tiny `sigaction` handler that stores the signal number is all it takes, so no crate: the
//! handler does nothing but async-signal-safe atomic stores and `_exit`.

use std::sync::atomic::{AtomicI32, Ordering};

/// The first signal received, 0 while none was.
static CAUGHT: AtomicI32 = AtomicI32::new(0);

/// Installs the handler for SIGINT and SIGTERM (once per process is enough; again is harmless).
pub fn install() {
    #[cfg(unix)]
    // SAFETY: `on_signal` only performs atomic operations and `_exit`, both async-signal-safe;
    // the `sigaction` struct is zeroed then fully set before use.
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
    if CAUGHT
        .compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        // The second signal: the user does not want to wait for the drain.
        // SAFETY: `_exit` is async-signal-safe and never returns.
        unsafe { libc::_exit(128 + sig) };
    }
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
