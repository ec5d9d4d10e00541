//! Summary latency over a synthetic year (see `history/mod.rs`): per-app and per-category
//! summaries of 1, 30 and 365 days. Targets: 1 day < 5 ms, 30 days < 10 ms, 365 days < 50 ms.

mod history;

use std::hint::black_box;

use chrono::Days;
use criterion::{criterion_group, criterion_main, Criterion};
use worktrace_domain::GroupBy;
use worktrace_store::Store;

fn summaries(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("bench.db");
    let records = history::build(&path);
    eprintln!(
        "history: {records} records over {} workdays",
        history::WORKDAYS
    );
    let store = Store::open(&path, history::clock()).expect("open");
    let last = *history::workdays().last().expect("workdays");
    for (name, by) in [("app", GroupBy::App), ("category", GroupBy::Category)] {
        for days in [1u64, 30, 365] {
            let first = last - Days::new(days - 1);
            c.bench_function(&format!("summary/{name}/{days}d"), |b| {
                b.iter(|| {
                    let rows = store.summary(first, last, by).expect("summary");
                    black_box(rows)
                })
            });
        }
    }
}

criterion_group!(benches, summaries);
criterion_main!(benches);
