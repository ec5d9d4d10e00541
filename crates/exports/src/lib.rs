//! Data-export detection: data files in watched folders, removable media and files written to
//! them, files written to network shares, print jobs, clipboard bulk copies and time on upload
//! sites, each rated by the policy's rules and carrying the app that was active just before.
//!
//! Metadata only: this crate never stores, logs or returns file or clipboard contents (a file
//! is read only to compute its SHA-256, a clipboard copy only to count its shape, a browser's
//! download history only for the row of a new data file, see [`download_history`]). The pure
//! parts ([`rules`], [`incident`], [`history`], [`detector`]) do no I/O and read no clock; the
//! OS watchers live in [`watch`] and the per-OS modules.

// Unsafe code is allowed only in the Windows module, which talks to the Win32 API; each block
// there carries a `// SAFETY:` line. Everything else is checked by the compiler.
#![deny(unsafe_code)]

pub mod classify;
pub mod cloud;
pub mod detector;
pub mod download_history;
pub mod drives;
mod error;
pub mod history;
pub mod incident;
pub mod lineage;
pub mod matchers;
pub mod openers;
pub mod print_queue;
pub mod provenance;
pub mod rules;
pub mod runtime;
pub mod shape;
#[cfg(any(target_os = "linux", windows))]
mod volumes;
pub mod watch;

#[cfg(target_os = "linux")]
#[path = "linux/mod.rs"]
pub mod os;
#[cfg(windows)]
#[allow(unsafe_code)]
#[path = "windows/mod.rs"]
pub mod os;
#[cfg(not(any(target_os = "linux", windows)))]
#[path = "other.rs"]
pub mod os;

pub use classify::Destination;
pub use detector::{Detector, FileChange, FileSeen, Seen};
pub use error::{Error, Result};
pub use runtime::{ExportWatchers, WatchOptions};
pub use watch::Root;
