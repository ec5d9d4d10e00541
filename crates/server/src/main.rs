//! The `worktrace-server` binary (command line under construction).
fn main() {}
