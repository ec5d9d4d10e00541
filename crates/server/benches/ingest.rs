//! Ingest load: simulated devices each uploading a day of rollups (24 hourly + 8 daily rows,
//! a session, a decision) in batches over real HTTP, against SQLite (a temp file) or the
//! PostgreSQL named by `WORKTRACE_BENCH_POSTGRES_URL`. Run:
//! `cargo bench -p worktrace-server --bench ingest`. Two measurements, each on a fresh server
//! and database:
//!
//! - **capacity**: 64 devices upload back to back (each sends its next batch as soon as the
//!   last is answered), so the server is always saturated; prints the uploads/s it completes.
//!   Its latencies are those of a full queue: 64 uploads always wait, so p50 ≈ 64 ÷ throughput
//!   whatever the server does, and they say little about the latency at a given load.
//! - **offered rate**: uploads arrive on a fixed schedule at `WORKTRACE_BENCH_RATE` per second
//!   (default 2,000) from 256 devices, each uploading every 128 ms, as devices
//!   syncing on their own timers do. Each latency counts from the upload's scheduled time, not
//!   from when it was sent: when the server falls behind, the uploads waiting for it count
//!   their wait (no coordinated omission), so a server that cannot keep up shows a growing p99.
//!   Prints the rate achieved and the latency percentiles at that load.
//!
//! `WORKTRACE_BENCH_SMOKE=1` runs a few batches of each only (seconds, for `make test`) and
//! fails when any upload fails; its numbers mean nothing. `WORKTRACE_BENCH_TIMELINE=1` also
//! prints, per half second of the run, the uploads, the worst latency and how many took over
//! 50 ms (on stderr).
//!
//! The client shares the machine with the server, so it does as little as a client can: the
//! request bodies are serialized before the clock starts, and each answer is read to the end
//! (as the agent does, to learn the policy) so its connection goes back to the pool.

mod seed;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use worktrace_server::config::ServeConfig;
use worktrace_server::http;
use worktrace_server::http::auth::now_ms;
use worktrace_server::ops;

/// `DEVICESxBATCHES` from the environment variable `name`.
fn load_from(name: &str) -> Option<(usize, u64)> {
    std::env::var(name)
        .ok()
        .and_then(|v| {
            v.split_once('x')
                .map(|(d, b)| (d.parse().ok(), b.parse().ok()))
        })
        .and_then(|(d, b)| d.zip(b))
}

/// (devices, batches per device) of the capacity run: the full load, a few for the smoke run,
/// or `WORKTRACE_BENCH_LOAD=DEVICESxBATCHES` (e.g. `8x40`, for counting instructions under
/// callgrind, where the full load would take long).
fn capacity_load() -> (usize, u64) {
    if let Some(load) = load_from("WORKTRACE_BENCH_LOAD") {
        return load;
    }
    if std::env::var_os("WORKTRACE_BENCH_SMOKE").is_some() {
        (4, 5)
    } else {
        (64, 60)
    }
}

fn day_batch(seq: u64) -> Value {
    // One of 28 days of March 2025; the session starts at 08:00 UTC that day and the idle
    // decision at 11:00, each a little later on every return to the day so each upload adds
    // a new session and decision.
    let day_index = (seq % 28) as i64;
    let day = format!("2025-03-{:02}", 1 + day_index);
    let midnight = 1_740_787_200_000i64 + day_index * 86_400_000;
    let again = (seq / 28) as i64;
    let apps = [
        "mail", "excel", "crm", "browser", "editor", "chat", "meet", "files",
    ];
    let mut rollups: Vec<Value> = (0..24u8)
        .map(|h| {
            json!({"day": day, "hour": h, "app": apps[usize::from(h) % 8], "category": "Work",
                   "active_ms": 1_800_000, "idle_ms": 60_000, "clocked_ms": 1_800_000,
                   "input_ms": 900_000, "revision": seq})
        })
        .collect();
    rollups.extend(apps.iter().map(|a| {
        json!({"day": day, "app": a, "category": "Work", "active_ms": 5_400_000,
               "idle_ms": 180_000, "clocked_ms": 5_400_000, "input_ms": 2_700_000, "revision": seq})
    }));
    // An honest chain proof: 100 records since the previous batch's head, linked to it, as
    // the agent sends it (so every upload runs the server's tamper checks).
    let since = seq - 1;
    let since_hash = if since == 0 {
        String::new()
    } else {
        format!("{since:064x}")
    };
    let chain = json!({
        "since": {"seq": since * 100, "hash": since_hash},
        "next_prev": format!("{since:064x}"), "records": 100, "exports": [],
        "policy_sha256": worktrace_domain::Policy::default().fingerprint(),
    });
    json!({
        "batch_seq": seq, "chain_head": {"seq": seq * 100, "hash": format!("{seq:064x}")},
        "chain": chain,
        "rollups": rollups,
        "sessions": [{"day": day, "start": midnight + 8 * 3_600_000 + again * 60_000,
                      "end": midnight + 16 * 3_600_000 + again * 60_000}],
        "decisions": [{"day": day, "decision": {"idle_start": midnight + 11 * 3_600_000 + again,
            "idle_end": midnight + 11 * 3_600_000 + 600_000 + again, "choice": "keep",
            "source": "user", "decided_at": midnight + 12 * 3_600_000}}],
    })
}

/// The offered-rate run: (uploads per second, devices, batches per device); the load can be
/// set with `WORKTRACE_BENCH_OFFERED=DEVICESxBATCHES` (e.g. `256x160` for a run 4× longer).
fn offered_load() -> (f64, usize, u64) {
    let rate = std::env::var("WORKTRACE_BENCH_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(2_000.0);
    if let Some((devices, batches)) = load_from("WORKTRACE_BENCH_OFFERED") {
        return (rate, devices, batches);
    }
    if std::env::var_os("WORKTRACE_BENCH_SMOKE").is_some() {
        (200.0, 4, 5)
    } else {
        (rate, 256, 40)
    }
}

/// A running server with enrolled devices and a client for them.
struct Bench {
    server: http::Server,
    org: i64,
    client: reqwest::Client,
    url: String,
    secrets: Vec<String>,
    _dir: tempfile::TempDir,
}

async fn setup(devices: usize) -> Result<Bench, Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    // `WORKTRACE_BENCH_SQLITE_OPTIONS=synchronous=normal` measures the SQLite store with
    // acknowledgements that a power cut can lose (the default syncs the log first).
    let options = std::env::var("WORKTRACE_BENCH_SQLITE_OPTIONS")
        .map(|o| format!("?{o}"))
        .unwrap_or_default();
    let url = std::env::var("WORKTRACE_BENCH_POSTGRES_URL").unwrap_or_else(|_| {
        format!(
            "sqlite://{}{options}",
            dir.path().join("bench.db").display()
        )
    });
    let mut cfg = ServeConfig::with_database(url);
    cfg.listen = "127.0.0.1:0".parse()?;
    cfg.password_memory_kib = 64;
    // The uploads are dated in 2025: keep them whatever today's date.
    cfg.retention_days = 36_500;
    let server = http::start(cfg).await?;
    let store = server.store.clone();
    // A PostgreSQL database is shared by runs: each has its own organisation and people.
    let run = now_ms();
    let admin = ops::create_admin(
        store.as_ref(),
        &format!("Bench {run}"),
        &format!("a{run}@bench.test"),
        "A",
        "bench password",
        64,
        1,
    )
    .await?;
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .pool_max_idle_per_host(devices)
        .build()?;
    let base = format!("http://{}", server.addr);
    let mut secrets = Vec::new();
    for i in 0..devices {
        let (_, secret) = seed::employee_with_pc(
            &store,
            &client,
            &base,
            admin.org_id,
            None,
            &format!("u{i}.{run}@bench.test"),
            "U",
        )
        .await
        .map_err(|e| e.to_string())?;
        secrets.push(secret);
    }
    Ok(Bench {
        server,
        org: admin.org_id,
        client,
        url: format!("{base}/api/ingest"),
        secrets,
        _dir: dir,
    })
}

/// How many devices of the run the tamper checks flagged: none, since the uploads are honest.
async fn flagged(b: &Bench) -> Result<usize, Box<dyn std::error::Error>> {
    let devices = b.server.store.list_devices(b.org).await?;
    Ok(devices
        .iter()
        .filter(|d| d.chain_flag.is_some() || d.policy_flag_at.is_some())
        .count())
}

/// One upload, read to the end; false (and the reason on stderr) when it failed.
async fn upload(c: &reqwest::Client, url: &str, auth: &str, body: &[u8]) -> bool {
    let r = c
        .post(url)
        .header(reqwest::header::AUTHORIZATION, auth)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body.to_vec())
        .send()
        .await;
    match r {
        Ok(resp) if resp.status().is_success() => resp.bytes().await.is_ok(),
        Ok(resp) => {
            eprintln!(
                "{}: {}",
                resp.status(),
                resp.text().await.unwrap_or_default()
            );
            false
        }
        Err(e) => {
            eprintln!("{e}");
            false
        }
    }
}

/// The request bodies, serialized before any clock starts.
fn bodies(batches: u64) -> Result<Arc<Vec<Vec<u8>>>, serde_json::Error> {
    (1..=batches)
        .map(|seq| serde_json::to_vec(&day_batch(seq)))
        .collect::<Result<_, _>>()
        .map(Arc::new)
}

/// Runs each device's uploads in a task; `at(device, k)` is when its k-th upload is due
/// (`None`: as soon as the one before is answered). Latency counts from the due time, the
/// throughput from `started`.
async fn drive(
    b: &Bench,
    batches: u64,
    started: Instant,
    at: impl Fn(usize, usize) -> Option<Instant>,
) -> Result<Report, Box<dyn std::error::Error>> {
    let bodies = bodies(batches)?;
    let mut tasks = Vec::new();
    for (d, secret) in b.secrets.iter().enumerate() {
        let (c, url, bodies) = (b.client.clone(), b.url.clone(), bodies.clone());
        let auth = format!("Bearer {secret}");
        let due: Vec<Option<Instant>> = (0..bodies.len()).map(|k| at(d, k)).collect();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for (body, due) in bodies.iter().zip(due) {
                let t = match due {
                    Some(due) => {
                        tokio::time::sleep_until(due.into()).await;
                        due
                    }
                    None => Instant::now(),
                };
                let ok = upload(&c, &url, &auth, body).await;
                let due = t.saturating_duration_since(started).as_secs_f64();
                lat.push((t.elapsed().as_secs_f64() * 1000.0, ok, due));
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    let failed = lat.iter().filter(|(_, ok, _)| !ok).count();
    // Per half second of due time: uploads, the worst latency, uploads over 50 ms.
    let mut timeline = std::collections::BTreeMap::<u64, (usize, f64, usize)>::new();
    for (ms, _, due) in &lat {
        let slot = timeline.entry((due * 2.0) as u64).or_default();
        slot.0 += 1;
        slot.1 = slot.1.max(*ms);
        slot.2 += usize::from(*ms > 50.0);
    }
    let mut ms: Vec<f64> = lat.iter().map(|(m, _, _)| *m).collect();
    ms.sort_by(f64::total_cmp);
    let mut settled: Vec<f64> = lat
        .iter()
        .filter(|(_, _, due)| *due >= 1.0)
        .map(|(m, _, _)| *m)
        .collect();
    settled.sort_by(f64::total_cmp);
    Ok(Report {
        ms,
        settled,
        secs,
        failed,
        timeline,
    })
}

/// The `q` quantile (0..1) of `sorted`; none when it is empty.
fn percentile(sorted: &[f64], q: f64) -> Option<f64> {
    let at = (sorted.len() as f64 * q) as usize;
    sorted.get(at.min(sorted.len().saturating_sub(1))).copied()
}

struct Report {
    /// Latencies in milliseconds, sorted.
    ms: Vec<f64>,
    /// Those of the uploads due a second or more into the run, sorted: without the start,
    /// where every device's first upload comes at once to a node that has just started.
    settled: Vec<f64>,
    secs: f64,
    failed: usize,
    /// By half second of due time: (uploads, worst latency in ms, uploads over 50 ms).
    timeline: std::collections::BTreeMap<u64, (usize, f64, usize)>,
}

impl Report {
    /// With `WORKTRACE_BENCH_TIMELINE` set, the latency per half second on stderr: where in a
    /// run the slow uploads are.
    fn print_timeline(&self) {
        if std::env::var_os("WORKTRACE_BENCH_TIMELINE").is_none() {
            return;
        }
        for (slot, (n, worst, over)) in &self.timeline {
            eprintln!(
                "  {:6.1}s uploads={n} worst={worst:.1}ms over_50ms={over}",
                *slot as f64 / 2.0
            );
        }
    }

    fn line(&self) -> String {
        let pct = |p: f64| percentile(&self.ms, p).unwrap_or_default();
        let settled_p99 = percentile(&self.settled, 0.99)
            .map_or_else(|| "none".to_owned(), |ms| format!("{ms:.1}ms"));
        format!(
            "uploads={} failed={} throughput={:.0}/s p50={:.1}ms p95={:.1}ms p99={:.1}ms max={:.1}ms \
             p99_after_1s={settled_p99}",
            self.ms.len(),
            self.failed,
            self.ms.len() as f64 / self.secs,
            pct(0.50),
            pct(0.95),
            pct(0.99),
            self.ms.last().copied().unwrap_or_default()
        )
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut failed = 0;
    // `WORKTRACE_BENCH_RUN=capacity` or `=offered` runs only that one (to profile it).
    let only = std::env::var("WORKTRACE_BENCH_RUN").ok();
    let runs = |name: &str| only.as_deref().is_none_or(|o| o == name);

    if runs("capacity") {
        let (devices, batches) = capacity_load();
        let b = setup(devices).await?;
        let r = drive(&b, batches, Instant::now(), |_, _| None).await?;
        println!(
            "backend={} run=capacity devices={devices} rollups/batch=32 {}",
            b.server.store.backend(),
            r.line()
        );
        r.print_timeline();
        failed += r.failed + flagged(&b).await?;
        b.server.shutdown().await?;
    }

    if runs("offered") {
        let (rate, devices, batches) = offered_load();
        let b = setup(devices).await?;
        // Device d's k-th upload is due at (d + k·devices) / rate seconds from a start a little
        // ahead, so uploads arrive evenly at `rate` and each device uploads every devices/rate s.
        let start = Instant::now() + Duration::from_millis(100);
        let r = drive(&b, batches, start, |d, k| {
            Some(start + Duration::from_secs_f64((d + k * devices) as f64 / rate))
        })
        .await?;
        println!(
            "backend={} run=offered rate={rate:.0}/s devices={devices} rollups/batch=32 {}",
            b.server.store.backend(),
            r.line()
        );
        r.print_timeline();
        failed += r.failed + flagged(&b).await?;
        b.server.shutdown().await?;
    }

    if failed > 0 {
        return Err(format!("{failed} uploads failed or devices were flagged").into());
    }
    Ok(())
}
