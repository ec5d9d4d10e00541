//! Export detection cost, measured on this machine's real file system:
//! 1. latency from a data file's close to its export event committed in a real store (SQLite
//!    file, the agent's schema), over `WT_BENCH_SAMPLES` files (default 20);
//! 2. CPU and memory of watching folders that hold 10,000 files, at rest for
//!    `WT_BENCH_REST_SECS` seconds (default 30): extra resident memory after the watches are
//!    set, and CPU time used while nothing happens.
//!
//! Run: `cargo bench -p worktrace-exports --bench watch_cost`.

use std::time::{Duration, Instant};

use worktrace_domain::{ExportPolicy, Millis, Record};
use worktrace_exports::{ExportWatchers, WatchOptions};
use worktrace_store::{DayClock, Store};

fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Resident memory of this process in KiB.
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of this process, in clock ticks.
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of stat; 12 and 13 after the command name.
    field(11) + field(12)
}

fn policy(folder: &std::path::Path) -> ExportPolicy {
    ExportPolicy {
        watched_folders: vec![folder.display().to_string()],
        removable: true,
        network: true,
        print: false,
        clipboard: false,
        burst_quiet_secs: 1,
        ..ExportPolicy::default()
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let samples = env_or("WT_BENCH_SAMPLES", 20);
    let rest_secs = env_or("WT_BENCH_REST_SECS", 30);

    // 1. Latency: close → event → committed in the store.
    let folder = dir.path().join("Downloads");
    std::fs::create_dir(&folder).expect("folder");
    let mut store = Store::open(&dir.path().join("bench.db"), DayClock::default()).expect("store");
    let w = ExportWatchers::start(WatchOptions::new(policy(&folder), chrono_tz::UTC), now)
        .expect("start");
    let mut latencies = Vec::new();
    for i in 0..samples {
        // Each file its own incident (the quiet gap is 1 s), so each is recorded at once.
        std::thread::sleep(Duration::from_millis(1200));
        let name = format!("export-{i}.csv");
        let t0 = Instant::now();
        std::fs::write(folder.join(&name), "id,name\n1,a\n2,b\n").expect("write");
        loop {
            let e = w
                .next_event(Duration::from_secs(10))
                .expect("an event within 10 s");
            if e.file_name.as_deref() == Some(name.as_str()) {
                store.append(&[Record::Export(e)]).expect("commit");
                latencies.push(t0.elapsed());
                break;
            }
        }
    }
    w.stop();
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
    println!(
        "close → committed event over {} files: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        latencies.len(),
        ms(p(0.5)),
        ms(p(0.95)),
        ms(p(1.0))
    );

    // 2. At rest with 10,000 files in 100 folders.
    let big = dir.path().join("Documents");
    for d in 0..100 {
        let sub = big.join(format!("folder-{d:03}"));
        std::fs::create_dir_all(&sub).expect("folder");
        for f in 0..100 {
            std::fs::write(sub.join(format!("file-{f:03}.csv")), "a,b\n").expect("file");
        }
    }
    let before = rss_kib();
    let t_start = Instant::now();
    let w =
        ExportWatchers::start(WatchOptions::new(policy(&big), chrono_tz::UTC), now).expect("start");
    let setup = t_start.elapsed();
    std::thread::sleep(Duration::from_secs(1));
    let after = rss_kib();
    let cpu0 = cpu_ticks();
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs(rest_secs));
    let cpu = cpu_ticks() - cpu0;
    let wall = t0.elapsed().as_secs_f64();
    // Clock ticks are 1/100 s on Linux (sysconf(_SC_CLK_TCK) = 100).
    let cpu_secs = cpu as f64 / 100.0;
    let end_rss = rss_kib();
    w.stop();
    println!(
        "watching 10,000 files in 101 folders: set up in {:.0} ms; extra memory {:.1} MB \
         (RSS {:.1} → {:.1} MB, {:.1} MB after {} s); CPU at rest {:.3} % of one core \
         ({:.2} s over {:.0} s)",
        setup.as_secs_f64() * 1000.0,
        (after.saturating_sub(before)) as f64 / 1024.0,
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        end_rss as f64 / 1024.0,
        rest_secs,
        100.0 * cpu_secs / wall,
        cpu_secs,
        wall
    );
}
