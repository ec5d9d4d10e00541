//! Load shedding for device requests with unknown secrets.
//!
//! A device secret is found in the same store step that stores the batch, so every upload with
//! an unknown secret still takes a turn of the database writer. After [`MAX_UNKNOWN`] such
//! requests from one address within [`WINDOW`], the address is held off: a further request
//! from it passes only if its secret was accepted on this node within [`TRUSTED_FOR`] or, if
//! not, a look-up on a read connection finds it; otherwise it is answered 429 before its body
//! is read. So a PC behind the same address (an office NAT, a proxy) is never locked out, and
//! unknown secrets no longer reach the writer. Per API node and in memory: it sheds load, it
//! is not a security limit (secrets are 256 random bits; the store decides every request it
//! lets through).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Unknown secrets one address may send per window before it is held off.
pub const MAX_UNKNOWN: u32 = 20;
/// The window of [`MAX_UNKNOWN`].
pub const WINDOW: Duration = Duration::from_secs(60);
/// How long a secret accepted on this node passes the guard without a store look-up first.
pub const TRUSTED_FOR: Duration = Duration::from_secs(600);
/// Entries each map holds before expired ones are swept out (bounds memory under a flood).
const SWEEP_AT: usize = 50_000;

/// Counts unknown secrets per address and remembers recently accepted ones.
#[derive(Debug, Default)]
pub struct SecretGuard {
    state: Mutex<GuardState>,
}

#[derive(Debug, Default)]
struct GuardState {
    /// Address → (start of its window, unknown secrets in it).
    unknown: HashMap<String, (Instant, u32)>,
    /// Secret hash → when it was last accepted.
    accepted: HashMap<String, Instant>,
}

impl SecretGuard {
    /// `Err(wait)`: the address is held off for `wait` and `secret_hash` was not accepted
    /// lately (the caller then looks the secret up before refusing).
    pub fn admit(&self, address: &str, secret_hash: &str, now: Instant) -> Result<(), Duration> {
        let s = self.lock();
        let Some(&(start, count)) = s.unknown.get(address) else {
            return Ok(());
        };
        let held_until = start + WINDOW;
        if count < MAX_UNKNOWN || now >= held_until {
            return Ok(());
        }
        match s.accepted.get(secret_hash) {
            Some(&at) if now.saturating_duration_since(at) < TRUSTED_FOR => Ok(()),
            _ => Err(held_until - now),
        }
    }

    /// The store knew no device with the secret `address` sent.
    pub fn unknown(&self, address: &str, now: Instant) {
        let mut s = self.lock();
        if s.unknown.len() >= SWEEP_AT && !s.unknown.contains_key(address) {
            s.unknown
                .retain(|_, (start, _)| now.saturating_duration_since(*start) < WINDOW);
            if s.unknown.len() >= SWEEP_AT {
                // A flood from that many addresses at once: start counting afresh.
                s.unknown.clear();
            }
        }
        let entry = s.unknown.entry(address.to_owned()).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// The store accepted `secret_hash` (a known device, revoked or not).
    pub fn accepted(&self, secret_hash: &str, now: Instant) {
        let mut s = self.lock();
        if let Some(at) = s.accepted.get_mut(secret_hash) {
            *at = now;
            return;
        }
        if s.accepted.len() >= SWEEP_AT {
            s.accepted
                .retain(|_, at| now.saturating_duration_since(*at) < TRUSTED_FOR);
            if s.accepted.len() >= SWEEP_AT {
                // More PCs than that uploading within TRUSTED_FOR: forget them all; each is
                // remembered again at its next upload.
                s.accepted.clear();
            }
        }
        s.accepted.insert(secret_hash.to_owned(), now);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GuardState> {
        // The maps are only counters: after a panic elsewhere they are still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_held_off_after_too_many_unknown_secrets_until_its_window_ends() {
        let guard = SecretGuard::default();
        let t0 = Instant::now();
        for i in 0..MAX_UNKNOWN {
            assert_eq!(guard.admit("10.0.0.1", "x", t0), Ok(()), "request {i}");
            guard.unknown("10.0.0.1", t0);
        }
        let later = t0 + Duration::from_secs(15);
        assert_eq!(
            guard.admit("10.0.0.1", "x", later),
            Err(WINDOW - Duration::from_secs(15))
        );
        assert_eq!(guard.admit("10.0.0.2", "x", later), Ok(()), "other address");
        assert_eq!(
            guard.admit("10.0.0.1", "x", t0 + WINDOW),
            Ok(()),
            "window over"
        );
        guard.unknown("10.0.0.1", t0 + WINDOW);
        assert_eq!(
            guard.admit("10.0.0.1", "x", t0 + WINDOW),
            Ok(()),
            "a new window counts from one"
        );
    }

    #[test]
    fn a_secret_accepted_lately_passes_a_held_off_address() {
        let guard = SecretGuard::default();
        let t0 = Instant::now();
        guard.accepted("good", t0);
        for _ in 0..MAX_UNKNOWN {
            guard.unknown("10.0.0.1", t0);
        }
        assert_eq!(guard.admit("10.0.0.1", "good", t0), Ok(()));
        assert!(guard.admit("10.0.0.1", "other", t0).is_err());
        // Long unused, a secret is looked up like any other again.
        let mut s = guard.lock();
        s.accepted.insert("good".into(), t0);
        s.unknown
            .insert("10.0.0.1".into(), (t0 + TRUSTED_FOR, MAX_UNKNOWN));
        drop(s);
        assert!(guard.admit("10.0.0.1", "good", t0 + TRUSTED_FOR).is_err());
    }

    #[test]
    fn a_flood_of_addresses_and_secrets_keeps_the_maps_bounded() {
        let guard = SecretGuard::default();
        let t0 = Instant::now();
        for i in 0..(SWEEP_AT + 10) {
            guard.unknown(&format!("a{i}"), t0);
            guard.accepted(&format!("s{i}"), t0);
        }
        let later = t0 + TRUSTED_FOR;
        guard.unknown("late", later);
        guard.accepted("late", later);
        let s = guard.lock();
        assert!(s.unknown.len() <= SWEEP_AT, "{}", s.unknown.len());
        assert!(s.accepted.len() <= SWEEP_AT, "{}", s.accepted.len());
        assert!(s.accepted.contains_key("late") && s.unknown.contains_key("late"));
    }
}
