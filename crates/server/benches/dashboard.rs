//! Dashboard load: one team of 200 people with 90 days of rollups each (24 hourly and 8 daily
//! rows a day, uploaded by their PCs over the real ingest API), read by the team's lead over
//! real HTTP with a logged-in session: the team overview (who is working now) and the team
//! trends over the whole 90 days (and the last 7), and one person's risk view (their export
//! alerts and the team's over the 30 days before today, seeded as one copy to a stick a day
//! each over the last 90 days). Prints p50/p95 per view. SQLite in a temp
//! file, or the PostgreSQL named by `WORKTRACE_BENCH_POSTGRES_URL`.
//! Run: `cargo bench -p worktrace-server --bench dashboard`.
//! `WORKTRACE_BENCH_SMOKE=1` seeds 16 people × 10 days and reads each view a few times
//! (seconds, for `make test`), failing on any error; its numbers mean nothing.

mod seed;

use std::time::Instant;

use chrono::{Days, NaiveDate};
use seed::BenchResult;
use serde_json::{json, Value};
use worktrace_server::config::ServeConfig;
use worktrace_server::http;
use worktrace_server::http::auth::now_ms;
use worktrace_server::ops;

/// (people, days, requests per view): the full load, or a little for the smoke run.
fn load() -> (usize, u64, usize) {
    if std::env::var_os("WORKTRACE_BENCH_SMOKE").is_some() {
        (16, 10, 5)
    } else {
        (200, 90, 200)
    }
}
/// Days per upload: 30 days × 32 rows stays well under the item and body limits.
const DAYS_PER_BATCH: u64 = 30;
const LEAD_PASSWORD: &str = "bench lead password";

const APPS: [(&str, &str); 8] = [
    ("mail", "Work > Email"),
    ("excel", "Work > Office"),
    ("crm", "Work > Sales"),
    ("browser", "Browsing"),
    ("editor", "Work > Office"),
    ("chat", "Communication"),
    ("meet", "Communication"),
    ("files", "Work > Office"),
];

/// One person's upload of `days` days starting at `first`: hourly and whole-day rollups, a
/// work session a day, and where they are now.
fn batch(person: usize, seq: u64, first: NaiveDate, days: u64, now: i64) -> BenchResult<Value> {
    let mut rollups = Vec::new();
    let mut sessions = Vec::new();
    for d in 0..days {
        let date = first
            .checked_add_days(Days::new(d))
            .ok_or("day out of range")?;
        let day = date.format("%Y-%m-%d").to_string();
        // People differ a little so sums are not all equal.
        let scale = 1 + (person as i64 + d as i64) % 5;
        for h in 0..24u8 {
            let (app, category) = APPS[usize::from(h) % APPS.len()];
            rollups.push(
                json!({"day": day, "hour": h, "app": app, "category": category,
                "active_ms": 60_000 * scale, "idle_ms": 6_000, "clocked_ms": 66_000 * scale,
                "input_ms": 30_000 * scale, "revision": 1}),
            );
        }
        for (app, category) in APPS {
            rollups.push(json!({"day": day, "app": app, "category": category,
                "active_ms": 1_800_000 * scale, "idle_ms": 180_000, "clocked_ms": 2_000_000 * scale,
                "input_ms": 900_000 * scale, "revision": 1}));
        }
        let start = date
            .and_hms_opt(8, 0, 0)
            .ok_or("bad time")?
            .and_utc()
            .timestamp_millis();
        sessions.push(json!({"day": day, "start": start, "end": start + 8 * 3_600_000}));
    }
    Ok(json!({
        "batch_seq": seq, "chain_head": {"seq": seq, "hash": format!("{seq:064x}")},
        "rollups": rollups, "sessions": sessions,
        "presence": {"at": now, "clocked_in": !person.is_multiple_of(3), "idle": person.is_multiple_of(7),
                     "category": "Work > Office"},
    }))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Times `n` sequential GETs of `url` with the lead's session cookie: p50, p95, body size.
async fn measure(
    c: &reqwest::Client,
    url: &str,
    cookie: &str,
    n: usize,
) -> BenchResult<(f64, f64, usize)> {
    let mut ms = Vec::with_capacity(n);
    let mut bytes = 0;
    for _ in 0..n {
        let t = Instant::now();
        let resp = c
            .get(url)
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if !status.is_success() {
            return Err(format!("{url}: {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        bytes = body.len();
    }
    ms.sort_by(f64::total_cmp);
    Ok((percentile(&ms, 0.50), percentile(&ms, 0.95), bytes))
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let (people, days_n, samples) = load();
    let dir = tempfile::tempdir()?;
    let url = std::env::var("WORKTRACE_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let mut cfg = ServeConfig::with_database(url);
    cfg.listen = "127.0.0.1:0".parse()?;
    cfg.password_memory_kib = 64;
    // The uploads are dated in 2025: keep them whatever today's date.
    cfg.retention_days = 36_500;
    let server = http::start(cfg).await?;
    let store = server.store.clone();
    let base = format!("http://{}", server.addr);
    let http_client = reqwest::Client::builder().use_rustls_tls().build()?;

    // Organisation: a lead and 200 members in one team, each with one enrolled PC.
    let admin = ops::create_admin(
        store.as_ref(),
        "Bench",
        "admin@bench.test",
        "A",
        "bench password",
        64,
        1,
    )
    .await?;
    let org = admin.org_id;
    let (team, lead) = seed::team_with_lead(
        &store,
        org,
        "Support",
        "lead@bench.test",
        "Lead",
        LEAD_PASSWORD,
    )
    .await?;
    let mut secrets = Vec::with_capacity(people);
    for i in 0..people {
        let (_, secret) = seed::employee_with_pc(
            &store,
            &http_client,
            &base,
            org,
            Some(team.id),
            &format!("p{i}@bench.test"),
            &format!("Person {i}"),
        )
        .await?;
        secrets.push(secret);
    }

    // 90 days of data, uploaded the way the agents upload it.
    let first = NaiveDate::from_ymd_opt(2025, 1, 1).ok_or("bad date")?;
    let last = first
        .checked_add_days(Days::new(days_n - 1))
        .ok_or("bad date")?;
    let seeding = Instant::now();
    seed::upload_for_each(&http_client, &base, &secrets, 8, "seeding", move |person| {
        (0..days_n)
            .step_by(DAYS_PER_BATCH as usize)
            .enumerate()
            .map(|(seq, start)| {
                let from = first.checked_add_days(Days::new(start)).ok_or("bad date")?;
                let days = DAYS_PER_BATCH.min(days_n - start);
                batch(person, seq as u64 + 1, from, days, now_ms())
            })
            .collect()
    })
    .await?;
    // An export a day per person over the 90 days before today (for the risk view, which
    // reads from today): each upload is judged against the team's as it arrives.
    let today = now_ms().div_euclid(86_400_000);
    seed::upload_for_each(
        &http_client,
        &base,
        &secrets,
        8,
        "seeding alerts",
        move |_| {
            let alerts: Vec<Value> = (1..=days_n)
                .map(|back| {
                    let at = (today - back as i64) * 86_400_000 + 36_000_000;
                    json!({"id": back, "event": {"at": at, "export_kind": "file_to_removable",
                    "severity": "medium", "app_before": null, "file_name": "export.csv",
                    "path": null, "size_bytes": 1000, "destination_class": "removable",
                    "count": 1 + back % 3, "details": {"incident": format!("i{back}")}}})
                })
                .collect();
            let seq = 100;
            Ok(vec![json!({"batch_seq": seq, "chain_head": {"seq": seq,
            "hash": format!("{seq:064x}")}, "alerts": alerts})])
        },
    )
    .await?;
    let seed_secs = seeding.elapsed().as_secs_f64();
    let someone = store
        .team_members(team.id)
        .await?
        .into_iter()
        .find(|(u, _)| u.id != lead.id)
        .map(|(u, _)| u.id)
        .ok_or("the team has members")?;

    // The lead logs in like a browser does.
    let cookie = seed::login(&http_client, &base, "lead@bench.test", LEAD_PASSWORD).await?;

    let week = last.checked_sub_days(Days::new(6)).ok_or("bad date")?;
    let views = [
        (
            "overview (now)",
            format!("{base}/api/teams/{}/now", team.id),
        ),
        (
            "trends 90 days",
            format!("{base}/api/teams/{}/trends?from={first}&to={last}", team.id),
        ),
        (
            "trends 7 days",
            format!("{base}/api/teams/{}/trends?from={week}&to={last}", team.id),
        ),
        (
            "risk view (team baseline, 30 days)",
            format!("{base}/api/people/{someone}/risk"),
        ),
    ];
    println!(
        "backend={} people={people} days={days_n} rollup_rows={} seeded_in={seed_secs:.1}s",
        store.backend(),
        people as u64 * days_n * 32
    );
    for (name, url) in &views {
        // A few unmeasured requests first, so prepared statements and the page cache are warm
        // as on a server that has been running.
        measure(&http_client, url, &cookie, 5).await?;
        let (p50, p95, bytes) = measure(&http_client, url, &cookie, samples).await?;
        println!("view=\"{name}\" requests={samples} p50={p50:.1}ms p95={p95:.1}ms body={bytes}B");
    }
    server.shutdown().await?;
    Ok(())
}
