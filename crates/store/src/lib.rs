//! The agent's local SQLite store: append-only hash-chained records, hourly and daily rollups,
//! the tracker's checkpoint and the command queue between processes.
//!
//! The only module that touches the database file; it never reads the clock (times are passed
//! in) and never drops a record it was given.

#![forbid(unsafe_code)]

mod error;
pub mod rollup;

pub use error::{Error, Result};
pub use rollup::{DayClock, Delta};
