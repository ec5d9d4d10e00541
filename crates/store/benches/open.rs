//! What an agent start costs the database: `Store::open` (schema check, migrations none) and
//! SQLite's `PRAGMA quick_check`, which the agent runs at every start to find a damaged file,
//! over the synthetic year of `history/mod.rs` (about 350,000 records).

mod history;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use worktrace_store::Store;

fn opening(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("bench.db");
    let records = history::build(&path);
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    eprintln!(
        "history: {records} records over {} workdays, {:.1} MB",
        history::WORKDAYS,
        bytes as f64 / 1e6
    );
    let mut group = c.benchmark_group("start");
    group.sample_size(20);
    group.bench_function("open", |b| {
        b.iter(|| black_box(Store::open(&path, history::clock()).expect("open")))
    });
    let store = Store::open(&path, history::clock()).expect("open");
    group.bench_function("quick_check", |b| {
        b.iter(|| {
            let problem = store.quick_check().expect("quick_check");
            assert!(problem.is_none(), "a sound file: {problem:?}");
            black_box(problem)
        })
    });
    group.finish();
}

criterion_group!(benches, opening);
criterion_main!(benches);
