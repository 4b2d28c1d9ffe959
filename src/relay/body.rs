//! Request bodies under one budget: the bytes held in memory by all connections together never
//! exceed `ALLSTACKS_RELAY_BODY_BUDGET`, whoever connects and however many they are. A body is
//! taken from the budget as it arrives (a stranger who only announces a large body holds
//! nothing), and given back when the request has been answered; a request that would go past
//! the budget is refused before any more of its body is read.
//!
//! Real deliveries are a few KiB (a GitLab pipeline with hundreds of jobs, a few hundred); only
//! strangers send many MiB (GitHub's cap is 25 MiB). So the budget is shared out by size: bodies
//! over 64 KiB may hold seven eighths of it, and those over 1 MiB three quarters. Whatever
//! strangers trickle in, large or middling, the last eighth stays for ordinary deliveries (some
//! hundreds of them at once), and a quarter for those under 1 MiB.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::config::MAX_BODY;

/// Bodies over each size may hold at most this share of the budget (eighths).
const TIERS: [(usize, usize); 2] = [(64 * 1024, 7), (1024 * 1024, 6)];

/// The bytes every body may hold together, and those over each size of [`TIERS`] among them.
#[derive(Debug, Clone)]
pub struct Budget {
    all: Arc<Semaphore>,
    tiers: [Arc<Semaphore>; 2],
}

/// What one body holds of the budget, in all and in each tier it is in.
#[derive(Debug, Default)]
struct Held {
    all: Option<OwnedSemaphorePermit>,
    tiers: [Option<OwnedSemaphorePermit>; 2],
}

impl Budget {
    pub fn new(bytes: usize) -> Budget {
        let bytes = bytes.min(Semaphore::MAX_PERMITS);
        let share = |eighths: usize| Arc::new(Semaphore::new(bytes / 8 * eighths));
        Budget {
            all: Arc::new(Semaphore::new(bytes)),
            tiers: [share(TIERS[0].1), share(TIERS[1].1)],
        }
    }

    /// Grows what `held` holds to `bytes`; `false` when the budget has not that much left (the
    /// body is refused then, and what it held goes back when it is dropped).
    fn hold(&self, bytes: usize, held: &mut Held) -> bool {
        take(&self.all, bytes, &mut held.all)
            && TIERS
                .iter()
                .zip(&self.tiers)
                .zip(&mut held.tiers)
                .all(|(((over, _), tier), permit)| bytes <= *over || take(tier, bytes, permit))
    }
}

/// Grows `permit` to `bytes` permits of `from`; `false` when there are not enough left.
fn take(from: &Arc<Semaphore>, bytes: usize, permit: &mut Option<OwnedSemaphorePermit>) -> bool {
    let had = permit.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
    let Some(more) = bytes.checked_sub(had).filter(|n| *n > 0) else {
        return true;
    };
    let Ok(more) = u32::try_from(more) else {
        return false;
    };
    match from.clone().try_acquire_many_owned(more) {
        Ok(p) => {
            match permit {
                Some(h) => h.merge(p),
                None => *permit = Some(p),
            }
            true
        }
        Err(_) => false,
    }
}

/// A body read whole, holding its share of the budget until it is dropped.
#[derive(Debug)]
pub struct Body {
    pub bytes: Vec<u8>,
    _held: Held,
}

/// Why a body was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Over the per-body cap (413).
    TooLarge,
    /// The budget is spent (503 with Retry-After).
    Busy,
    /// The connection broke, or the framing was wrong (400).
    Unreadable,
    /// Not all there within the body timeout (408).
    TooSlow,
}

/// Reads `body` (of `declared` length, when the request says) within `timeout`, up to
/// [`MAX_BODY`], taking its bytes from `budget` as they arrive.
///
/// A body of known length is read into memory reserved for it at once but touched only as it
/// arrives, so it is counted by what arrived; one without a length grows by doubling, and is
/// counted by the memory it takes.
pub async fn read(
    mut body: Incoming,
    declared: Option<u64>,
    budget: &Budget,
    timeout: Duration,
) -> Result<Body, Refused> {
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(Refused::TooLarge);
    }
    let known = declared.map(|n| n as usize);
    let mut bytes = Vec::with_capacity(known.unwrap_or(0));
    let mut held = Held::default();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(Refused::TooSlow),
            Ok(None) => break,
            Ok(Some(Err(_))) => return Err(Refused::Unreadable),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        let len = bytes.len() + data.len();
        if len > MAX_BODY || known.is_some_and(|k| len > k) {
            return Err(Refused::TooLarge);
        }
        let needed = match known {
            Some(_) => len,
            None => {
                if len > bytes.capacity() {
                    bytes.reserve_exact(len.max(2 * bytes.capacity()).min(MAX_BODY) - bytes.len());
                }
                bytes.capacity()
            }
        };
        if !budget.hold(needed, &mut held) {
            return Err(Refused::Busy);
        }
        bytes.extend_from_slice(&data);
    }
    Ok(Body { bytes, _held: held })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1024 * 1024;

    #[test]
    fn the_budget_is_held_and_given_back() {
        let budget = Budget::new(8 * MIB);
        let mut a = Held::default();
        assert!(budget.hold(3 * MIB, &mut a));
        assert!(budget.hold(6 * MIB, &mut a), "grows to 6 MiB");
        assert!(
            !budget.hold(2 * MIB, &mut Held::default()),
            "bodies over 1 MiB hold 6 of 8 MiB at most"
        );
        let mut middling = Held::default();
        assert!(
            budget.hold(MIB, &mut middling),
            "bodies over 64 KiB: 7 of 8"
        );
        assert!(
            !budget.hold(100 * 1024, &mut Held::default()),
            "the last eighth is for bodies of 64 KiB at most"
        );
        let mut small: Vec<Held> = (0..16).map(|_| Held::default()).collect();
        for h in &mut small {
            assert!(budget.hold(64 * 1024, h), "small ones take the last eighth");
        }
        assert!(!budget.hold(1, &mut Held::default()), "all 8 MiB are held");
        drop(a);
        assert!(
            budget.hold(6 * MIB, &mut Held::default()),
            "given back when dropped"
        );
    }
}
