//! worktrace-server (under construction).
