//! Ingest load: simulated devices each uploading a day of rollups (24 hourly + 8 daily rows,
//! a session, a decision) in batches over real HTTP, against SQLite (a temp file) or the
//! PostgreSQL named by `WORKTRACE_BENCH_POSTGRES_URL`. Prints batches/s and latency
//! percentiles. Run: `cargo bench -p worktrace-server --bench ingest`.
//! `WORKTRACE_BENCH_SMOKE=1` runs a few batches only (seconds, for `make test`) and fails
//! when any upload fails; its numbers mean nothing.
//!
//! The client shares the machine with the server, so it does as little as a client can: the
//! request bodies are serialized before the clock starts, and each answer is read to the end
//! (as the agent does, to learn the policy) so its connection goes back to the pool.

use std::time::Instant;

use serde_json::{json, Value};
use worktrace_server::config::ServeConfig;
use worktrace_server::http;
use worktrace_server::http::auth::now_ms;
use worktrace_server::model::Role;
use worktrace_server::ops;

/// (devices, batches per device): the full load, a few for the smoke run, or
/// `WORKTRACE_BENCH_LOAD=DEVICESxBATCHES` (e.g. `8x40`, for counting instructions under
/// callgrind, where the full load would take long).
fn load() -> (usize, u64) {
    if let Some((d, b)) = std::env::var("WORKTRACE_BENCH_LOAD")
        .ok()
        .and_then(|v| {
            v.split_once('x')
                .map(|(d, b)| (d.parse().ok(), b.parse().ok()))
        })
        .and_then(|(d, b)| d.zip(b))
    {
        return (d, b);
    }
    if std::env::var_os("WORKTRACE_BENCH_SMOKE").is_some() {
        (4, 5)
    } else {
        (64, 60)
    }
}

fn day_batch(seq: u64) -> Value {
    let day = format!("2025-03-{:02}", 1 + (seq % 28));
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
    json!({
        "batch_seq": seq, "chain_head": {"seq": seq * 100, "hash": format!("{seq:064x}")},
        "rollups": rollups,
        "sessions": [{"day": day, "start": 1_740_990_000_000i64 + seq as i64 * 86_400_000,
                      "end": 1_741_020_000_000i64 + seq as i64 * 86_400_000}],
        "decisions": [{"day": day, "decision": {"idle_start": 1_741_000_000_000i64 + seq as i64,
            "idle_end": 1_741_000_600_000i64 + seq as i64, "choice": "keep", "source": "user",
            "decided_at": 1_741_000_700_000i64}}],
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (devices, batches_per_device) = load();
    let dir = tempfile::tempdir()?;
    let url = std::env::var("WORKTRACE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let mut cfg = ServeConfig::with_database(url);
    cfg.listen = "127.0.0.1:0".parse()?;
    cfg.password_memory_kib = 64;
    let server = http::start(cfg).await?;
    let store = server.store.clone();
    let admin = ops::create_admin(
        store.as_ref(),
        "Bench",
        "a@bench.test",
        "A",
        "bench password",
        64,
        1,
    )
    .await?;
    let http_client = reqwest::Client::builder()
        .use_rustls_tls()
        .pool_max_idle_per_host(devices)
        .build()?;
    let base = format!("http://{}", server.addr);
    let mut secrets = Vec::new();
    for i in 0..devices {
        let user = ops::add_user(
            store.as_ref(),
            admin.org_id,
            &format!("u{i}@bench.test"),
            "U",
            Role::Employee,
            None,
            64,
            1,
        )
        .await?;
        let (token, _) =
            ops::create_enrollment_token(store.as_ref(), admin.org_id, user.id, 1, now_ms())
                .await?;
        let r: Value = http_client
            .post(format!("{base}/api/devices/enroll"))
            .json(&json!({"token": token, "description": "bench"}))
            .send()
            .await?
            .json()
            .await?;
        secrets.push(r["device_secret"].as_str().unwrap_or_default().to_owned());
    }
    let bodies: Vec<Vec<u8>> = (1..=batches_per_device)
        .map(|seq| serde_json::to_vec(&day_batch(seq)))
        .collect::<Result<_, _>>()?;
    let bodies = std::sync::Arc::new(bodies);
    let url = format!("{base}/api/ingest");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for secret in secrets {
        let (c, url, bodies) = (http_client.clone(), url.clone(), bodies.clone());
        let auth = format!("Bearer {secret}");
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for body in bodies.iter() {
                let t = Instant::now();
                let r = c
                    .post(&url)
                    .header(reqwest::header::AUTHORIZATION, &auth)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let ok = match r {
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
                };
                lat.push((t.elapsed().as_secs_f64() * 1000.0, ok));
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    let failed = lat.iter().filter(|(_, ok)| !ok).count();
    let mut ms: Vec<f64> = lat.iter().map(|(m, _)| *m).collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 * p) as usize).min(ms.len() - 1)];
    println!(
        "backend={} devices={} batches={} failed={failed} rollups/batch=32 \
         throughput={:.0} batches/s p50={:.1}ms p95={:.1}ms p99={:.1}ms",
        store.backend(),
        devices,
        ms.len(),
        ms.len() as f64 / secs,
        pct(0.50),
        pct(0.95),
        pct(0.99)
    );
    server.shutdown().await?;
    if failed > 0 {
        return Err(format!("{failed} uploads failed").into());
    }
    Ok(())
}
