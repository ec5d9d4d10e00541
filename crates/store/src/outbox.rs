//! The outbox: what waits for upload to the company server, the batch in flight, the log of
//! what was sent, and the sync state that `worktrace status` shows.
//!
//! Rows are queued inside the caller's transaction (the one that appends the records they come
//! from) and leave only when the server acknowledged a batch that carried them at the same
//! revision. Never decides what may leave the PC (the sync client filters by policy) and never
//! touches the network.

mod batch;
mod draft;
mod queue;
mod sent;
mod sync_state;

pub use batch::PendingBatch;
pub use draft::OutboxDraft;
pub use sent::{SentBatch, SENT_KEPT_MS};
pub use sync_state::SyncState;

pub(crate) use batch::{ack, pending, save_pending};
pub(crate) use draft::draft;
pub(crate) use queue::{next_revision, queue_all_rollups, queue_record, queue_rollup, requeue_all};
pub(crate) use sent::sent;
pub(crate) use sync_state::{note_revoked, note_round, set_enrollment, state};

const SESSION: &str = "session";
const DECISION: &str = "decision";
const ALERT: &str = "alert";
