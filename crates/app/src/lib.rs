//! The Worktrace desktop app without a window system: the long-lived state over the embedded
//! agent engine, the employee's preferences, the reads behind the views and their payload
//! types, the tray's words, and how the two desktop processes find each other. The tray
//! process (`worktrace-tray`, `src/tray/`) is built from this crate alone and so can never
//! load the webview; the window process (`worktrace-desktop`, `src-tauri/`) adds the Tauri
//! commands and windows on top. Business rules live in the agent, tracker and store crates.

#![forbid(unsafe_code)]

pub mod autostart;
pub mod bindings;
pub mod dto;
pub mod error;
pub mod launch;
pub mod prefs;
pub mod queries;
pub mod state;
pub mod words;

pub use error::{Error, Result};
pub use worktrace_agent::view;
