//! The agent's local SQLite store: append-only hash-chained records, hourly and daily rollups,
//! the tracker's checkpoint, the command queue between processes, and the outbox of what waits
//! for upload to the company server.
//!
//! The only module that touches the database file; it never reads the clock (times are passed
//! in) and never drops a record it was given.

#![forbid(unsafe_code)]

mod chain;
mod codec;
mod error;
mod exports;
mod ledger;
mod meta;
mod outbox;
mod proof;
pub mod rollup;
mod salvage;
mod schema;
mod store;
mod summary;
mod writer;

pub use chain::{link as record_hash, Broken, VerifyReport, GENESIS};
pub use codec::StoredRecord;
pub use error::{Error, Result};
pub use exports::{ExportCounts, StoredExport};
pub use outbox::{OutboxDraft, PendingBatch, SentBatch, SyncState, SENT_KEPT_MS};
pub use rollup::{DayClock, Delta};
pub use salvage::{salvage, ChainBreak, SalvageReport};
pub use schema::SCHEMA_VERSION;
pub use store::Store;
pub use writer::{Writer, WriterHandle, RETRY_EVERY};

/// Test support for migration tests; not part of the supported API.
#[doc(hidden)]
pub mod testing {
    pub use crate::schema::create_at_version;
}
