//! What provenance and lineage cost, on this machine's real file system:
//! 1. per data file: the one read that hashes it, with and without counting its rows and
//!    computing its CRC-32 as well, plus reading its download origin (extended attributes),
//!    matching the client sources and finding its ancestor; and reading a zip's directory;
//!    over `WT_BENCH_SAMPLES` files (default 200) of 1,240 rows (about 45 KB);
//! 2. the memory lineage holds for 10,000 tracked files (bytes allocated and still held,
//!    counted by this program's allocator).
//!
//! Run: `cargo bench -p worktrace-exports --bench provenance_cost`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use worktrace_domain::ExportPolicy;
use worktrace_exports::lineage::{self, Ancestry, Contents, Lineage, MAX_TRACKED};
use worktrace_exports::matchers::Matchers;
use worktrace_exports::{provenance, watch};

/// The system allocator, counting the bytes held.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; only a counter is kept.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's layout is passed on as it came.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn samples() -> usize {
    std::env::var("WT_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    println!(
        "{what}: median {:.3} ms, p95 {:.3} ms, max {:.3} ms ({} files)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.95).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        times.len()
    );
}

fn main() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("tempdir");
    let n = samples().max(1);
    let mut table = String::from("name,phone,city\n");
    for i in 0..1239 {
        table.push_str(&format!("client {i:05},+7 900 000 {i:04},Moscow\n"));
    }
    let mut paths = Vec::with_capacity(n);
    for i in 0..n {
        let p = dir
            .path()
            .join(format!("CONTACT_20261201_{i:06x}_4d5e6f.csv"));
        std::fs::write(&p, format!("{table}client {i},+7,Kazan\n")).expect("write a table");
        #[cfg(target_os = "linux")]
        rustix::fs::setxattr(
            &p,
            "user.xdg.origin.url",
            b"https://acme.bitrix24.ru/crm/contact/export/",
            rustix::fs::XattrFlags::empty(),
        )
        .expect("user extended attributes");
        paths.push(p);
    }
    let matchers = Matchers::new(&ExportPolicy::default()).expect("defaults compile");
    let mut lineage = Lineage::default();

    // Warm the page cache so both passes read from memory alike.
    for p in &paths {
        watch::sha256_of(p);
    }
    let mut hash_only = Vec::with_capacity(n);
    let mut with_provenance = Vec::with_capacity(n);
    for p in &paths {
        let t = Instant::now();
        std::hint::black_box(watch::sha256_of(p));
        hash_only.push(t.elapsed());

        let t = Instant::now();
        let read = watch::read_file(p, provenance::is_table(p)).expect("readable");
        let origin = provenance::read_origin(p);
        let domain = origin.domain();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let source = matchers.client_source(name, domain.as_deref());
        let sha = lineage::sha_bytes(&read.sha256).expect("a digest");
        let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let own = Ancestry {
            source: source.map(str::to_owned),
            origin_domain: domain,
            table: read.table,
            ..Ancestry::default()
        };
        let contents = Contents {
            sha256: &sha,
            crc32_size: Some((read.crc32, size)),
            members: &[],
        };
        std::hint::black_box(lineage.see(name, contents, own, true));
        with_provenance.push(t.elapsed());
    }
    report("hash only (before)", hash_only.clone());
    report(
        "hash + CRC-32 + rows + origin + sources + lineage",
        with_provenance.clone(),
    );

    // A zip holding one of the tables: its directory read.
    let zip_path = dir.path().join("clients.zip");
    let zipped = std::process::Command::new("python3")
        .current_dir(dir.path())
        .args(["-m", "zipfile", "-c", "clients.zip"])
        .arg(&paths[0])
        .status()
        .expect("python3 runs");
    assert!(zipped.success(), "python3 -m zipfile");
    let mut zip_times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let members = provenance::zip_members(&zip_path);
        zip_times.push(t.elapsed());
        assert_eq!(members.len(), 1, "one member");
    }
    report("zip directory read", zip_times);

    // The same table packed by 7-Zip (solid, header packed): its header unpacked and read.
    let packed = std::process::Command::new("7zz")
        .current_dir(dir.path())
        .args(["a", "-t7z", "-ms=on", "-mhc=on", "clients.7z"])
        .arg(&paths[0])
        .output()
        .expect("7zz runs (apt-get install 7zip)");
    assert!(packed.status.success(), "7zz a clients.7z");
    let sevenz_path = dir.path().join("clients.7z");
    let mut sevenz_times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let members = provenance::sevenz_members(&sevenz_path);
        sevenz_times.push(t.elapsed());
        assert_eq!(members.len(), 1, "one member");
    }
    report("7z header read", sevenz_times);

    // Memory: 10,000 tracked files with CRM-like names and what is known of them.
    drop(lineage);
    let before = HELD.load(Ordering::Relaxed);
    let mut lineage = Lineage::default();
    for i in 0..MAX_TRACKED as u32 {
        let mut sha = [0u8; 32];
        sha[..4].copy_from_slice(&i.to_le_bytes());
        let own = Ancestry {
            source: Some("Bitrix24".into()),
            origin_domain: Some("acme.bitrix24.ru".into()),
            table: Some((1241, 3)),
            ..Ancestry::default()
        };
        let contents = Contents {
            sha256: &sha,
            crc32_size: Some((i, 45_000)),
            members: &[],
        };
        lineage.see(
            &format!("CONTACT_20261201_{i:06x}_4d5e6f.csv"),
            contents,
            own,
            true,
        );
    }
    let held = HELD.load(Ordering::Relaxed).saturating_sub(before);
    println!(
        "lineage memory: {} files tracked, {:.2} MB held ({} bytes per file)",
        lineage.len(),
        held as f64 / 1e6,
        held / lineage.len().max(1)
    );
}
