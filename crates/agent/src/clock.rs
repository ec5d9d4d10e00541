//! The wall clock: the one function through which the agent's drivers (the engine loop, the
//! CLI's entry points, the desktop state) read it. Everything below them takes `now` as an
//! argument, and the pure crates are checked by clippy never to read it.

use worktrace_domain::Millis;

/// The wall clock, in UTC milliseconds.
pub fn now_ms() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// A wall clock handed to code below the drivers: [`now_ms`] in the program, any time in a
/// test.
pub type Clock = fn() -> Millis;
