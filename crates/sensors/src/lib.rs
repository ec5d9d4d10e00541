//! worktrace-sensors (under construction).
