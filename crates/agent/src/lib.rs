//! The Worktrace agent: settings, the tracking loop and the pieces of the `worktrace` command.
//!
//! The desktop app embeds the same [`engine::Engine`]; business rules live in the tracker and
//! store crates, this crate only wires them to the OS, the clock and the command line.

#![forbid(unsafe_code)]

pub mod command;
pub mod engine;
pub mod exports;
pub mod lock;
pub mod report;
pub mod secret;
pub mod settings;
pub mod status_line;
pub mod sync;
