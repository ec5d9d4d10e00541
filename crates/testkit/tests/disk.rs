//! The loop-mounted disk a test fills: full, a write fails with "no space left" for every
//! user; the filler removed, writes work again. Needs root (mount), as CI runs.

use std::io::Write;

use worktrace_testkit::disk::LoopDisk;

fn write(path: &std::path::Path) -> std::io::Result<()> {
    let mut file = std::fs::File::create(path)?;
    file.write_all(&[7u8; 64 * 1024])?;
    file.sync_all()
}

#[test]
fn a_filled_disk_refuses_writes_until_the_filler_goes() {
    let disk = LoopDisk::new(64).unwrap_or_else(|e| panic!("{e}"));
    write(&disk.path().join("before")).expect("an empty disk takes a file");
    let filler = disk.fill().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(disk.free().expect("statvfs"), 0, "nothing is left free");
    let err = write(&disk.path().join("during")).expect_err("a full disk takes nothing");
    assert_eq!(
        err.raw_os_error(),
        Some(rustix::io::Errno::NOSPC.raw_os_error()),
        "the write fails for want of space: {err}"
    );
    drop(filler);
    write(&disk.path().join("after")).expect("with the filler gone there is room again");
}
