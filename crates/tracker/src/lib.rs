//! Pure tracking logic: timestamped samples in, final records out. Privacy rules and
//! categories ([`classify`]), the tracking state machine ([`tracker`]) and per-minute
//! activity bookkeeping.
//!
//! This crate must never do I/O, read the clock or start threads: time comes in with each
//! sample or as a `now` argument, so the same input always gives the same records.

#![forbid(unsafe_code)]

mod activity;
pub mod classify;
pub mod error;
pub mod patterns;
pub mod tracker;

pub use classify::{Category, Classifier, UNCATEGORIZED};
pub use error::{Error, Result};
pub use tracker::{IdlePrompt, Tracker, TrackerConfig, TrackerStatus};
