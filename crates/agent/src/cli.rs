//! The commands of `worktrace`, one module per subject: what each prints and its exit code.
//! `main.rs` parses the command line and calls them; what the desktop app shares with them
//! (reports, views, the agent's status, removal, sync) is in the library.

pub mod config;
pub mod database;
pub mod remove;
pub mod report;
pub mod request;
pub mod run;
pub mod status;
pub mod sync;
pub mod update;
