//! worktrace-store (under construction).
