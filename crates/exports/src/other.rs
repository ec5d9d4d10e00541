//! macOS: folder watching works through the `notify` crate's native backends, but
//! removable media, network-share classification, print jobs and the clipboard are not built
//! for these systems yet. Each returns a clear "not supported on this OS yet" error instead.
//! None of it has been tried on those systems.

use crate::error::Error;

/// The error for an OS feature that is not built here.
pub fn unsupported(what: &'static str) -> Error {
    Error::Unsupported { what }
}
