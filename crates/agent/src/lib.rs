//! worktrace-agent (under construction).
