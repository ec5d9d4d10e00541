//! The server's clock: the system's, or (for tests) one that moves only when told to. Handlers
//! read the time once, at the edge, from the state's clock and pass it down; nothing below the
//! handlers reads a clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use worktrace_domain::Millis;

/// Where "now" comes from. Cheap to clone; clones of a manual clock share its time.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    manual: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock (UTC milliseconds since the epoch).
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that stands at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: Millis) -> Self {
        Self {
            manual: Some(Arc::new(AtomicI64::new(start))),
        }
    }

    /// The time now.
    pub fn now(&self) -> Millis {
        match &self.manual {
            Some(t) => t.load(Ordering::SeqCst),
            None => system_now(),
        }
    }

    /// Moves a manual clock on by `ms`; false (and nothing happens) for the system clock.
    pub fn advance(&self, ms: Millis) -> bool {
        match &self.manual {
            Some(t) => {
                t.fetch_add(ms, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }
}

/// Milliseconds since the epoch from the system clock.
pub fn system_now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clones_share_it() {
        let c = Clock::manual(1_000);
        let twin = c.clone();
        assert_eq!(c.now(), 1_000, "it stands still");
        assert!(twin.advance(500), "a manual clock can be moved");
        assert_eq!(c.now(), 1_500, "clones share the time");
        assert!(
            !Clock::system().advance(1),
            "the system clock cannot be moved"
        );
        assert!(
            Clock::system().now() > 1_600_000_000_000,
            "the system clock is the real time"
        );
    }
}
