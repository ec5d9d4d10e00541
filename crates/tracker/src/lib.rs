//! worktrace-tracker (under construction).
