//! The agent ↔ server wire protocol, shared with the agent: defined in `worktrace_domain::wire`.

pub use worktrace_domain::wire::*;
