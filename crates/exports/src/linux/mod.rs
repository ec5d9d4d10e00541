//! Linux: mounts from /proc/self/mountinfo and /sys, the X11 clipboard, CUPS print jobs.
//! Tested on Linux (Debian 12, Xvfb, a local cupsd).

pub mod clipboard;
pub mod mounts;
pub mod print;
