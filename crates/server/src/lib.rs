//! The Worktrace company server: device enrollment, idempotent ingest, policy, users and teams,
//! the dashboard API with its authorization rules, and the audit log.
//!
//! The binary in `main.rs` is a thin command line over this library; tests drive the same
//! library over real HTTP. Nothing here keeps state outside the store.

#![forbid(unsafe_code)]

pub mod error;
pub mod model;
pub mod store;
pub mod wire;

pub use error::{Error, Result};
pub mod access;
pub mod baseline;
pub mod bounds;
pub mod change;
pub mod clock;
pub mod config;
pub mod http;
pub mod ops;
pub mod pdf;
pub mod policy;
pub mod release;
pub mod secret;
pub mod tamper;
pub mod tls;
pub mod watch;
