//! Ingest: samples through the tracker and into a SQLite file, as the agent does it
//! (records appended in batches, with their rollups, in one transaction per batch).
//!
//! `cargo bench -p worktrace-agent --bench ingest`

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use worktrace_domain::{Observation, Policy, Sample, WindowInfo};
use worktrace_store::{DayClock, Store};
use worktrace_tracker::{Tracker, TrackerConfig};

const SAMPLES: usize = 100_000;

/// A workday-like stream at 1 Hz: a window switch every ~20 s over 25 apps, input in most
/// seconds, and a 5-minute idle stretch every two hours.
fn samples(start: i64) -> Vec<Sample> {
    let windows: Vec<WindowInfo> = (0..25)
        .map(|i| {
            WindowInfo::new(
                format!("app{i}"),
                format!("Document {i} — Project {}", i % 7),
            )
        })
        .collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut current = 0;
    (0..SAMPLES)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if state.is_multiple_of(20) {
                current = (state >> 8) as usize % windows.len();
            }
            let in_idle = i % 7200 >= 6900;
            let idle_ms = if in_idle {
                ((i % 7200) - 6900) as u64 * 1000
            } else {
                state % 900
            };
            Sample::new(
                start + i as i64 * 1000,
                Observation {
                    window: Some(windows[current].clone()),
                    idle_ms,
                    locked: false,
                },
            )
        })
        .collect()
}

fn ingest(c: &mut Criterion) {
    let start = 1_767_254_400_000; // 2026-01-01T08:00:00Z
    let stream = samples(start);
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(SAMPLES as u64));
    group.bench_function("tracker+store, 100k samples", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().expect("tempdir");
                let clock = DayClock {
                    tz: chrono_tz::UTC,
                    day_start: chrono::NaiveTime::MIN,
                };
                let store = Store::open(&dir.path().join("bench.db"), clock).expect("store");
                let policy = Policy {
                    idle_prompt: worktrace_domain::IdlePromptMode::AlwaysKeep,
                    ..Policy::default()
                };
                let mut tracker =
                    Tracker::new(&policy, TrackerConfig { pulsetime_ms: 5000 }).expect("tracker");
                let first = tracker.clock_in(start - 1000).expect("clock in");
                (dir, store, tracker, first)
            },
            |(dir, mut store, mut tracker, first)| {
                let mut batch = first;
                for (i, sample) in stream.iter().enumerate() {
                    batch.extend(tracker.observe(sample));
                    // The writer thread commits what has queued up; once a second at 1 Hz
                    // polling is one sample, so batching 1,000 samples is conservative.
                    if i % 1000 == 999 {
                        store.append(&batch).expect("append");
                        batch.clear();
                    }
                }
                store.append(&batch).expect("append");
                drop(store);
                drop(dir);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, ingest);
criterion_main!(benches);
