//! worktrace-testkit (under construction).
