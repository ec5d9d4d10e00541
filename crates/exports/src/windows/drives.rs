//! Drive letters on Windows: removable drives (`DRIVE_REMOVABLE`) and mapped network drives
//! (`DRIVE_REMOTE`) are watched from the moment they appear, and a removable drive's arrival
//! and removal are reported with its label, serial number and size.
//!
//! The drive set is read again on every `WM_DEVICECHANGE` arrival or removal sent to the
//! hidden top-level window of class [`WINDOW_CLASS`] (found with `FindWindowW`), and every few
//! seconds besides, because Wine (and some drivers) send no device messages. Reads volume
//! metadata only; never the files on the drives.

use std::cell::Cell;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use windows_sys::Win32::Foundation::{HWND, LPARAM, LRESULT, WPARAM};
use windows_sys::Win32::NetworkManagement::WNet::WNetGetConnectionW;
use windows_sys::Win32::Storage::FileSystem::{
    GetDiskFreeSpaceExW, GetDriveTypeW, GetLogicalDrives, GetVolumeInformationW,
};
use windows_sys::Win32::System::Diagnostics::Debug::{SetThreadErrorMode, SEM_FAILCRITICALERRORS};
use windows_sys::Win32::UI::WindowsAndMessaging::{
    DBT_DEVICEARRIVAL, DBT_DEVICEREMOVECOMPLETE, DBT_DEVTYP_VOLUME, DEV_BROADCAST_HDR,
    DEV_BROADCAST_VOLUME, WM_CLOSE, WM_DEVICECHANGE,
};
use worktrace_domain::{ExportPolicy, Millis};

use super::{default_proc, from_wide, wide, HiddenWindow};
use crate::classify::Destination;
use crate::detector::Seen;
use crate::drives::{self, Drive, DriveKind};
use crate::error::{Error, Result};
use crate::volumes::Volumes;
use crate::watch::FileWatcher;

/// The class of the drive watcher's hidden window. A program (or test) that wants the drive
/// set read at once sends it `WM_DEVICECHANGE` with `DBT_DEVICEARRIVAL` and a
/// `DEV_BROADCAST_VOLUME`, as Windows does when a volume arrives.
pub const WINDOW_CLASS: &str = "WorktraceExportDrives";

/// How often the drive set is read when no device message comes.
pub const POLL: Duration = Duration::from_secs(2);

thread_local! {
    /// Set by the window procedure when a volume arrived or left.
    static CHANGED: Cell<bool> = const { Cell::new(false) };
}

unsafe extern "system" fn window_proc(hwnd: HWND, msg: u32, w: WPARAM, l: LPARAM) -> LRESULT {
    // `taskkill` (and a session's end) closes every top-level window of the process; the
    // agent's session window decides about stopping, this one stays until the watcher ends.
    if msg == WM_CLOSE {
        return 0;
    }
    if msg == WM_DEVICECHANGE {
        let event = w as u32;
        if event == DBT_DEVICEARRIVAL || event == DBT_DEVICEREMOVECOMPLETE {
            CHANGED.with(|c| c.set(true));
            if let Some(mask) = unit_mask(l) {
                tracing::debug!(
                    "device message for drives {:?}",
                    drives::letters(mask).into_iter().collect::<String>()
                );
            }
            return 1;
        }
    }
    default_proc(hwnd, msg, w, l)
}

/// The unit mask of a volume broadcast, when `l` carries one.
fn unit_mask(l: LPARAM) -> Option<u32> {
    if l == 0 {
        return None;
    }
    let hdr = l as *const DEV_BROADCAST_HDR;
    // SAFETY: for DBT_DEVICEARRIVAL and DBT_DEVICEREMOVECOMPLETE, lParam points to a
    // DEV_BROADCAST_HDR (Windows marshals it for sent messages); its size field is checked
    // before the larger volume structure is read.
    let (size, kind) = unsafe { ((*hdr).dbch_size, (*hdr).dbch_devicetype) };
    if kind != DBT_DEVTYP_VOLUME || (size as usize) < size_of::<DEV_BROADCAST_VOLUME>() {
        return None;
    }
    // SAFETY: the header says it is a volume broadcast at least as large as the structure.
    Some(unsafe { (*(l as *const DEV_BROADCAST_VOLUME)).dbcv_unitmask })
}

fn drive_type(letter: char) -> DriveKind {
    let root = wide(&format!("{letter}:\\"));
    // SAFETY: `root` is a NUL-terminated root path.
    DriveKind::from_drive_type(unsafe { GetDriveTypeW(root.as_ptr()) })
}

/// Everything Windows tells about one drive; `None` for a removable drive without a medium
/// (a card reader with no card answers no volume information).
fn read_drive(letter: char, kind: DriveKind) -> Option<Drive> {
    let root = wide(&format!("{letter}:\\"));
    let mut label = [0u16; 261];
    let mut fs = [0u16; 261];
    let mut serial = 0u32;
    // SAFETY: the buffers are writable and their lengths are passed; the unused outputs are
    // null, which the API allows.
    let ok = unsafe {
        GetVolumeInformationW(
            root.as_ptr(),
            label.as_mut_ptr(),
            label.len() as u32,
            &mut serial,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            fs.as_mut_ptr(),
            fs.len() as u32,
        )
    } != 0;
    if !ok && kind == DriveKind::Removable {
        return None;
    }
    let mut total = 0u64;
    // SAFETY: `total` is writable; the other outputs may be null.
    let sized = unsafe {
        GetDiskFreeSpaceExW(
            root.as_ptr(),
            std::ptr::null_mut(),
            &mut total,
            std::ptr::null_mut(),
        )
    } != 0;
    let text = |buf: &[u16]| Some(from_wide(buf)).filter(|t| !t.is_empty());
    Some(Drive {
        letter,
        kind: Some(kind),
        label: if ok { text(&label) } else { None },
        serial: ok.then_some(serial),
        fs_type: if ok { text(&fs) } else { None },
        size_bytes: sized.then_some(total),
        remote_name: (kind == DriveKind::Remote)
            .then(|| remote_name(letter))
            .flatten(),
    })
}

/// The share a mapped drive points to (`\\server\share`).
fn remote_name(letter: char) -> Option<String> {
    let local = wide(&format!("{letter}:"));
    let mut buf = [0u16; 1024];
    let mut len = buf.len() as u32;
    // SAFETY: `buf` is writable for `len` units.
    let status = unsafe { WNetGetConnectionW(local.as_ptr(), buf.as_mut_ptr(), &mut len) };
    (status == 0)
        .then(|| from_wide(&buf))
        .filter(|t| !t.is_empty())
}

/// The drives present now. Removable drives are read in full each time (a swapped stick
/// keeps its letter); the others are taken from `previous` when the letter and type are the
/// same, so a slow share is not asked every few seconds.
pub fn read_drives(previous: &[Drive]) -> Vec<Drive> {
    // SAFETY: GetLogicalDrives has no preconditions.
    let mask = unsafe { GetLogicalDrives() };
    drives::letters(mask)
        .into_iter()
        .filter_map(|letter| {
            let kind = drive_type(letter);
            if !matches!(kind, DriveKind::Removable | DriveKind::CdRom) {
                if let Some(known) = previous
                    .iter()
                    .find(|d| d.letter == letter && d.kind == Some(kind))
                {
                    return Some(known.clone());
                }
            }
            read_drive(letter, kind)
        })
        .collect()
}

/// Where files written under `path` go: UNC paths and mapped drives are the network,
/// removable drives removable media, the rest local.
pub fn folder_destination(path: &Path) -> Destination {
    let text = path.to_string_lossy();
    if drives::is_unc(&text) {
        return Destination::Network;
    }
    match drives::drive_letter(&text).map(drive_type) {
        Some(DriveKind::Remote) => Destination::Network,
        Some(DriveKind::Removable) => Destination::Removable,
        _ => Destination::Local,
    }
}

/// Starts the drive watcher: drives present now are watched (not reported), drives that
/// arrive later are watched and, when removable, reported; removals likewise. Fails when its
/// window cannot be created.
pub fn watch(
    policy: ExportPolicy,
    files: Arc<FileWatcher>,
    seen: Sender<(Millis, Seen)>,
    clock: fn() -> Millis,
    stop: Arc<AtomicBool>,
    every: Duration,
) -> Result<JoinHandle<()>> {
    let (ready_tx, ready_rx) = mpsc::sync_channel::<Result<()>>(1);
    let thread = std::thread::Builder::new()
        .name("worktrace-export-drives".into())
        .spawn(move || {
            // No "insert a disk" dialog for an empty drive: the call fails instead.
            // SAFETY: sets this thread's error mode only; the old mode is not wanted.
            unsafe { SetThreadErrorMode(SEM_FAILCRITICALERRORS, std::ptr::null_mut()) };
            let window = match HiddenWindow::create(WINDOW_CLASS, std::ptr::null_mut(), window_proc)
            {
                Ok(w) => w,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            let mut known = read_drives(&[]);
            let mut volumes = Volumes::new(files, seen);
            for d in &known {
                if let Some((dest, media)) = drives::classify(d, &policy) {
                    volumes.found(media.mount_point.clone(), dest, media);
                }
            }
            let _ = ready_tx.send(Ok(()));
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                window.pump(200);
                let forced = CHANGED.with(|c| c.replace(false));
                if !forced && last.elapsed() < every {
                    continue;
                }
                last = Instant::now();
                let now = read_drives(if forced { &[] } else { &known });
                let (added, removed) = drives::diff(&known, &now);
                let at = clock();
                for d in removed {
                    volumes.gone(at, Path::new(&d.root()));
                }
                for d in added {
                    if let Some((dest, media)) = drives::classify(d, &policy) {
                        volumes.arrived(at, media.mount_point.clone(), dest, media);
                    }
                }
                known = now;
            }
        })
        .map_err(|source| Error::Thread {
            name: "drive watcher",
            source,
        })?;
    super::started(thread, &ready_rx, "the drive watcher's start")
}
