//! A simulated fleet against the scale-out set-up: two real `worktrace-server` processes over
//! one real PostgreSQL (a fresh cluster, default settings) behind HAProxy (round robin) on
//! loopback. Each simulated PC uploads every minute with ±10 s of jitter the way an agent
//! syncs — the day's rollups so far (an hour row and a day row, a higher revision each time),
//! its work session, where it is now, and now and then an export alert — and retries a failed
//! upload as the agent does (the same batch again after a growing pause, never sooner than the
//! server's `Retry-After`), so nothing may be lost or counted twice. Team leads, one per
//! team, each load their team's overview and its 7-day trends every 10 s (±2 s).
//!
//! Faults, when `WORKTRACE_FLEET_FAULTS` names them (comma-separated, each once during the
//! run): `node` kills the second node with SIGKILL at a third of the run and starts it again
//! 10 s later; `network` cuts the network between both nodes and PostgreSQL at half the run
//! for 30 s (the nodes reach the database through a TCP relay that stops passing bytes both
//! ways and leaves the connections open, as a failed switch does: neither side is told);
//! `postgres` stops PostgreSQL at two thirds of the run and starts it again 10 s later;
//! `disk` fills the file system of PostgreSQL's data directory (an ext4 image of 4 GB
//! loop-mounted for the run, so root only) at five sixths of the run for 10 s, then frees it
//! and starts PostgreSQL again if the full disk ended it.
//! HAProxy checks the nodes' ports every second and sends a request that found a node gone to
//! the other.
//!
//! A few of the PCs (3, or `WORKTRACE_FLEET_AGENTS`) are real `worktrace` agents of this build
//! (`agents`): tracking real windows on a real X display, their secrets in the real Secret
//! Service, syncing through the balancer every 5 s (every second in the smoke run) with their
//! own retries.
//!
//! At the end the database is read: every upload the server accepted is stored once (one
//! batch row each), the day totals are what the PCs' last uploads say (a last upload lost, or
//! an older one applied over it, would change them) and every alert sent is there once; each
//! real agent, stopped and made to send what it holds, has every record of its chain on the
//! server and its active time there exactly as it recorded it. Any request a node answered
//! 500 (in its log) fails the run.
//!
//! Prints the machine's figures: upload and dashboard latencies (p50/p95/p99 of the requests
//! that were answered 200), how many requests failed and how (503, refused connections,
//! anything else), how long the slowest upload took to be delivered, and the checks.
//!
//! Run: `cargo bench -p worktrace-server --bench fleet` (20,000 PCs, 50 leads, 600 s). The
//! load can be set with `WORKTRACE_FLEET_PCS`, `WORKTRACE_FLEET_LEADS` and
//! `WORKTRACE_FLEET_SECS`. `WORKTRACE_BENCH_SMOKE=1` (in `make test`) runs 60 PCs uploading
//! every 2 s and 3 leads for 24 s with the four faults (2 s each), and fails on anything lost, doubled or
//! undelivered, and on any failure that is not the database or a node being away; its
//! latencies mean nothing.

mod agents;
mod seed;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use worktrace_server::http::auth::now_ms;
use worktrace_server::ops;
use worktrace_testkit::balancer::Balancer;
use worktrace_testkit::disk::LoopDisk;
use worktrace_testkit::pg::PgCluster;
use worktrace_testkit::proxy::Cable;
use worktrace_testkit::server::ServerProcess;

use seed::BenchResult;

const BIN: &str = env!("CARGO_BIN_EXE_worktrace-server");
const LEAD_PASSWORD: &str = "fleet lead password";
/// How long a fault lasts (the node or the database away), full runs.
const FAULT_SECS: u64 = 10;
/// How long the network to the database is cut, full runs.
const CUT_SECS: u64 = 30;
/// Real agents among the PCs.
const AGENTS: usize = 3;

/// The shape of a run.
#[derive(Debug, Clone)]
struct Load {
    pcs: usize,
    leads: usize,
    secs: u64,
    /// Between two uploads of a PC, and the jitter either side.
    interval: Duration,
    jitter: Duration,
    /// Between two dashboard loads of a lead, and the jitter either side.
    lead_interval: Duration,
    lead_jitter: Duration,
    fault_for: Duration,
    cut_for: Duration,
    /// Real `worktrace` agents among the PCs, and how often they sync.
    agents: usize,
    agent_sync: Duration,
    /// In the order they happen.
    faults: Vec<Fault>,
}

/// A fault of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Fault {
    /// The second node killed with SIGKILL at a third of the run, started again later.
    Node,
    /// The network between the nodes and PostgreSQL cut at half the run, mended later.
    Network,
    /// PostgreSQL stopped at two thirds of the run, started again later.
    Postgres,
    /// The disk of PostgreSQL's data directory filled at five sixths of the run, freed later.
    Disk,
}

impl Fault {
    fn parse(name: &str) -> BenchResult<Fault> {
        match name {
            "node" => Ok(Fault::Node),
            "network" => Ok(Fault::Network),
            "postgres" => Ok(Fault::Postgres),
            "disk" => Ok(Fault::Disk),
            other => Err(format!(
                "WORKTRACE_FLEET_FAULTS names {other:?}: write node, network, postgres, disk or several, comma-separated"
            )
            .into()),
        }
    }

    /// When it happens: this share of the run.
    fn at(self, run: Duration) -> Duration {
        match self {
            Fault::Node => run / 3,
            Fault::Network => run / 2,
            Fault::Postgres => run / 3 * 2,
            Fault::Disk => run / 6 * 5,
        }
    }
}

fn env_num<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn load() -> BenchResult<Load> {
    let smoke = std::env::var_os("WORKTRACE_BENCH_SMOKE").is_some();
    let mut faults = match std::env::var("WORKTRACE_FLEET_FAULTS") {
        Ok(names) => names
            .split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(Fault::parse)
            .collect::<BenchResult<Vec<_>>>()?,
        Err(_) if smoke => vec![Fault::Node, Fault::Network, Fault::Postgres, Fault::Disk],
        Err(_) => Vec::new(),
    };
    faults.sort();
    faults.dedup();
    let agents = env_num("WORKTRACE_FLEET_AGENTS").unwrap_or(AGENTS);
    if smoke {
        return Ok(Load {
            pcs: 60,
            leads: 3,
            secs: 24,
            interval: Duration::from_secs(2),
            jitter: Duration::from_millis(500),
            lead_interval: Duration::from_secs(1),
            lead_jitter: Duration::from_millis(200),
            fault_for: Duration::from_secs(2),
            cut_for: Duration::from_secs(2),
            agents,
            agent_sync: Duration::from_secs(1),
            faults,
        });
    }
    Ok(Load {
        pcs: env_num("WORKTRACE_FLEET_PCS").unwrap_or(20_000),
        leads: env_num("WORKTRACE_FLEET_LEADS").unwrap_or(50),
        secs: env_num("WORKTRACE_FLEET_SECS").unwrap_or(600),
        interval: Duration::from_secs(60),
        jitter: Duration::from_secs(10),
        lead_interval: Duration::from_secs(10),
        lead_jitter: Duration::from_secs(2),
        fault_for: Duration::from_secs(FAULT_SECS),
        cut_for: Duration::from_secs(CUT_SECS),
        agents,
        agent_sync: Duration::from_secs(5),
        faults,
    })
}

/// A number in `0..n` from `seed` (SplitMix64): the same run every time.
fn spread(seed: u64, n: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) % n.max(1)
}

/// `base` ± `jitter`, chosen by `seed`.
fn jittered(base: Duration, jitter: Duration, seed: u64) -> Duration {
    let j = jitter.as_millis() as u64;
    let offset = spread(seed, 2 * j + 1);
    Duration::from_millis((base.as_millis() as u64 + offset).saturating_sub(j))
}

/// Whether PC `pc`'s `k`-th upload carries an export alert (one upload in 500).
fn has_alert(pc: usize, k: u64) -> bool {
    spread(pc as u64 * 1_000_003 + k, 500) == 0
}

/// The `k`-th upload (from 1) of PC `pc` on `day` (midnight UTC at `midnight`): cumulative
/// rollups (k minutes of work so far), the session so far, presence, maybe an alert.
fn upload(pc: usize, k: u64, day: &str, midnight: i64) -> Value {
    let minute = 60_000i64;
    let k_ms = k as i64 * minute;
    let hour = 8 + ((k - 1) / 60) % 10;
    let in_hour = ((k - 1) % 60 + 1) as i64 * minute;
    let app = ["mail", "excel", "crm", "browser"][pc % 4];
    let start = midnight + 8 * 3_600_000;
    let mut body = json!({
        "batch_seq": k,
        "chain_head": {"seq": k, "hash": format!("{k:064x}")},
        "rollups": [
            {"day": day, "hour": hour, "app": app, "category": "Work",
             "active_ms": in_hour, "idle_ms": 0, "clocked_ms": in_hour, "input_ms": in_hour / 2,
             "revision": k},
            {"day": day, "app": app, "category": "Work", "active_ms": k_ms, "idle_ms": 0,
             "clocked_ms": k_ms, "input_ms": k_ms / 2, "revision": k},
        ],
        "sessions": [{"day": day, "start": start, "end": start + k_ms}],
        "presence": {"at": now_ms(), "clocked_in": true, "idle": false, "category": "Work"},
    });
    if has_alert(pc, k) {
        body["alerts"] = json!([{"id": k, "event": {"at": now_ms(),
            "export_kind": "file_to_removable", "severity": "medium", "app_before": "crm",
            "file_name": "clients.csv", "path": null, "size_bytes": 20_000,
            "destination_class": "removable", "count": 1, "details": {"incident": format!("f{k}")}}}]);
    }
    body
}

/// How requests went.
#[derive(Default)]
struct Tally {
    /// Milliseconds of each request answered 200.
    ok_ms: Vec<f64>,
    /// 503 answers (the database or a node away).
    unavailable: u64,
    /// Requests that found no server: refused or reset, or the balancer's 502/504 for a node
    /// that went away while it answered.
    unreachable: u64,
    /// Anything else: 500, 4xx, a 200 that could not be read.
    other: u64,
    /// The first few of the other failures, to print.
    other_samples: Vec<String>,
    /// When each failure happened (seconds into the run), to tell them by fault.
    failed_at: Vec<f64>,
}

impl Tally {
    fn failed(&mut self, kind: Failure, at: f64) {
        self.failed_at.push(at);
        match kind {
            Failure::Unavailable => self.unavailable += 1,
            Failure::Unreachable => self.unreachable += 1,
            Failure::Other(text) => {
                self.other += 1;
                if self.other_samples.len() < 5 {
                    self.other_samples.push(format!("at {at:.0} s: {text}"));
                }
            }
        }
    }

    fn line(&mut self, what: &str) -> String {
        self.ok_ms.sort_by(f64::total_cmp);
        let p = |q: f64| {
            self.ok_ms
                .get(((self.ok_ms.len() as f64 * q) as usize).min(self.ok_ms.len().max(1) - 1))
                .copied()
                .unwrap_or(f64::NAN)
        };
        format!(
            "{what}: ok={} p50={:.1}ms p95={:.1}ms p99={:.1}ms max={:.1}ms failed: 503={} unreachable={} other={}",
            self.ok_ms.len(),
            p(0.50),
            p(0.95),
            p(0.99),
            self.ok_ms.last().copied().unwrap_or(f64::NAN),
            self.unavailable,
            self.unreachable,
            self.other
        )
    }
}

enum Failure {
    Unavailable,
    Unreachable,
    Other(String),
}

/// One request, read to the end: its time when answered 200, or how it failed (and the
/// `Retry-After` the server asked for, in seconds).
async fn send(req: reqwest::RequestBuilder) -> Result<f64, (Failure, Option<u64>)> {
    let t = Instant::now();
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok());
            let body = resp.bytes().await;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            match (status.as_u16(), body) {
                (200, Ok(_)) => Ok(ms),
                (503, _) => Err((Failure::Unavailable, retry_after)),
                // The balancer's answer for a node that went away mid-request.
                (502 | 504, _) => Err((Failure::Unreachable, retry_after)),
                (code, body) => Err((
                    Failure::Other(format!(
                        "{code}: {}",
                        body.map(|b| String::from_utf8_lossy(&b).into_owned())
                            .unwrap_or_else(|e| e.to_string())
                    )),
                    retry_after,
                )),
            }
        }
        Err(e) if e.is_connect() || e.is_request() => Err((Failure::Unreachable, None)),
        Err(e) => Err((Failure::Other(e.to_string()), None)),
    }
}

/// What a PC delivered.
#[derive(Default)]
struct Delivered {
    /// Uploads accepted (each batch once).
    uploads: u64,
    /// The last accepted upload's number (its day row then says `k` minutes).
    last: u64,
    alerts: u64,
    /// The longest a single upload took from its due time to being accepted.
    longest: Duration,
    /// It stopped retrying an upload that was never accepted.
    gave_up: bool,
}

/// What every PC and lead of a run shares.
struct Run {
    load: Load,
    client: reqwest::Client,
    base: String,
    started: Instant,
    end: Instant,
    /// Today (UTC) and its midnight: the day the PCs upload.
    day: String,
    midnight: i64,
    /// The first and last day of the leads' trends.
    week: (String, String),
    uploads: Mutex<Tally>,
    views: Mutex<Tally>,
}

fn count(tally: &Mutex<Tally>) -> std::sync::MutexGuard<'_, Tally> {
    tally.lock().unwrap_or_else(|p| p.into_inner())
}

/// The agent's wait before retry number `failures`: 5 s doubling up to 900 s (its default
/// `retry_max_secs`), in the upper half by `jitter` (0..1), and never sooner than the server's
/// `Retry-After` (spread over up to half as long again), as `worktrace_agent::sync::retry_wait`.
fn retry_wait(failures: u64, jitter: f64, retry_after: Option<u64>) -> Duration {
    let max = Duration::from_secs(900);
    let exp = failures.saturating_sub(1).min(20) as u32;
    let own = Duration::from_secs(5)
        .saturating_mul(1 << exp)
        .min(max)
        .mul_f64(0.5 + 0.5 * jitter);
    match retry_after {
        Some(asked) => own.max(
            Duration::from_secs(asked)
                .mul_f64(1.0 + 0.5 * jitter)
                .min(max),
        ),
        None => own,
    }
}

/// One PC: uploads every `interval` ± `jitter` until the end, each retried until accepted
/// (after [`retry_wait`], as the agent does), for at most two minutes past the end.
async fn pc(n: usize, secret: String, run: Arc<Run>) -> Delivered {
    let auth = format!("Bearer {secret}");
    let url = format!("{}/api/ingest", run.base);
    let interval_ms = run.load.interval.as_millis() as u64;
    let mut due = run.started + Duration::from_millis(spread(n as u64, interval_ms));
    let give_up = run.end + Duration::from_secs(120);
    let mut got = Delivered::default();
    let mut k = 0u64;
    while due < run.end {
        tokio::time::sleep_until(due.into()).await;
        k += 1;
        let body = serde_json::to_vec(&upload(n, k, &run.day, run.midnight)).unwrap_or_default();
        let mut failures = 0u64;
        loop {
            let req = run
                .client
                .post(&url)
                .header(reqwest::header::AUTHORIZATION, &auth)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
            match send(req).await {
                Ok(ms) => {
                    count(&run.uploads).ok_ms.push(ms);
                    break;
                }
                Err((kind, retry_after)) => {
                    count(&run.uploads).failed(kind, run.started.elapsed().as_secs_f64());
                    if Instant::now() > give_up {
                        got.gave_up = true;
                        return got;
                    }
                    failures += 1;
                    let jitter = spread((n as u64) << 24 ^ k << 8 ^ failures, 1000) as f64 / 1000.0;
                    tokio::time::sleep(retry_wait(failures, jitter, retry_after)).await;
                }
            }
        }
        got.uploads += 1;
        got.last = k;
        got.alerts += u64::from(has_alert(n, k));
        got.longest = got.longest.max(due.elapsed());
        due += jittered(run.load.interval, run.load.jitter, (n as u64) << 20 | k);
    }
    got
}

/// One lead: logs in through the balancer, then loads the team's overview and 7-day trends
/// every `lead_interval` ± `lead_jitter` until the end.
async fn lead(n: usize, email: String, team: i64, run: Arc<Run>) -> BenchResult<()> {
    let base = &run.base;
    let (from, to) = &run.week;
    let views = [
        format!("{base}/api/teams/{team}/now"),
        format!("{base}/api/teams/{team}/trends?from={from}&to={to}"),
    ];
    let every = run.load.lead_interval;
    tokio::time::sleep(jittered(every / 2, every / 2, n as u64)).await;
    let cookie = seed::login(&run.client, base, &email, LEAD_PASSWORD).await?;
    let mut round = 0u64;
    while Instant::now() < run.end {
        for url in &views {
            let req = run.client.get(url).header(reqwest::header::COOKIE, &cookie);
            match send(req).await {
                Ok(ms) => count(&run.views).ok_ms.push(ms),
                Err((kind, _)) => {
                    count(&run.views).failed(kind, run.started.elapsed().as_secs_f64())
                }
            }
        }
        round += 1;
        let pause = jittered(every, run.load.lead_jitter, (n as u64) << 32 | round);
        tokio::time::sleep(pause).await;
    }
    Ok(())
}

/// Runs `f` (which blocks) without stalling the runtime's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    tokio::task::block_in_place(f)
}

/// A fault as it happened: what, when (seconds into the run), and how long until it was over.
struct Happened {
    what: &'static str,
    at: f64,
    lasted: f64,
}

/// The faults of the run, each at its moment.
async fn faults(
    run: &Run,
    cluster: &PgCluster,
    disk: Option<&LoopDisk>,
    cable: &Cable,
    node: &mut ServerProcess,
) -> BenchResult<Vec<Happened>> {
    let mut done = Vec::new();
    for &fault in &run.load.faults {
        let at = fault.at(Duration::from_secs(run.load.secs));
        tokio::time::sleep_until((run.started + at).into()).await;
        let t = run.started.elapsed().as_secs_f64();
        let what = match fault {
            Fault::Node => {
                blocking(|| node.kill());
                tokio::time::sleep(run.load.fault_for).await;
                blocking(|| node.start())?;
                "node 2 killed (SIGKILL)"
            }
            Fault::Network => {
                cable.cut();
                tokio::time::sleep(run.load.cut_for).await;
                cable.mend();
                "the network to PostgreSQL cut"
            }
            Fault::Postgres => {
                blocking(|| cluster.stop())?;
                tokio::time::sleep(run.load.fault_for).await;
                blocking(|| cluster.start_again())?;
                "PostgreSQL stopped"
            }
            Fault::Disk => {
                let disk = disk.ok_or("the disk fault needs the cluster on a disk of its own")?;
                let filler = blocking(|| disk.fill())?;
                tokio::time::sleep(run.load.fault_for).await;
                drop(filler);
                blocking(|| cluster.serve_again(Duration::from_secs(120)))?;
                "the database's disk filled"
            }
        };
        done.push(Happened {
            what,
            at: t,
            lasted: run.started.elapsed().as_secs_f64() - t,
        });
    }
    Ok(done)
}

/// One line per fault: when, for how long, and the uploads and dashboard loads that failed
/// from its start until the next fault's (the retries after it included).
fn fault_lines(happened: &[Happened], uploads: &Tally, views: &Tally) -> Vec<String> {
    let within = |t: &Tally, from: f64, to: f64| {
        t.failed_at
            .iter()
            .filter(|&&at| at >= from && at < to)
            .count()
    };
    happened
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let to = happened.get(i + 1).map_or(f64::INFINITY, |next| next.at);
            format!(
                "fault: {} at {:.0} s, over {:.1} s later; failed from then until the next fault: \
                 {} uploads, {} dashboard loads",
                h.what,
                h.at,
                h.lasted,
                within(uploads, h.at, to),
                within(views, h.at, to)
            )
        })
        .collect()
}

/// Enrolls `pcs` PCs, each for a person of its own in one of `teams` (in turn), over HTTP at
/// `base` from 8 tasks; their device secrets in order.
async fn enroll(
    store: &worktrace_server::store::Store,
    client: &reqwest::Client,
    base: &str,
    org: i64,
    teams: &[i64],
    pcs: usize,
) -> BenchResult<Vec<String>> {
    const TASKS: usize = 8;
    let mut tasks = Vec::new();
    for w in 0..TASKS {
        let (store, client, base, teams) = (
            store.clone(),
            client.clone(),
            base.to_owned(),
            teams.to_vec(),
        );
        tasks.push(tokio::spawn(async move {
            let mut secrets = Vec::new();
            for i in (w..pcs).step_by(TASKS) {
                let (_, secret) = seed::employee_with_pc(
                    &store,
                    &client,
                    &base,
                    org,
                    Some(teams[i % teams.len()]),
                    &format!("pc{i}@fleet.test"),
                    &format!("Person {i}"),
                )
                .await?;
                secrets.push((i, secret));
            }
            BenchResult::Ok(secrets)
        }));
    }
    let mut secrets = vec![String::new(); pcs];
    for task in tasks {
        for (i, secret) in task.await?? {
            secrets[i] = secret;
        }
    }
    Ok(secrets)
}

/// What the database holds at the end for the simulated PCs (the people `real` left out):
/// batch rows, the day rows' minutes, alert rows.
async fn stored(url: &str, real: &[i64]) -> BenchResult<(i64, i64, i64)> {
    let (db, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let one = |sql: &'static str| {
        let db = &db;
        async move { BenchResult::Ok(db.query_one(sql, &[&real]).await?.get::<_, i64>(0)) }
    };
    Ok((
        one("SELECT count(*) FROM batches
             WHERE device_id NOT IN (SELECT id FROM devices WHERE user_id = ANY($1))")
        .await?,
        one(
            "SELECT coalesce(sum(active_ms), 0)::BIGINT / 60000 FROM rollups
             WHERE hour = -1 AND user_id <> ALL($1)",
        )
        .await?,
        one("SELECT count(*) FROM alerts WHERE user_id <> ALL($1)").await?,
    ))
}

#[tokio::main]
async fn main() -> BenchResult<()> {
    let load = load()?;
    // The database's own file system when it is to be filled (dropped after the cluster).
    let disk = if load.faults.contains(&Fault::Disk) {
        Some(LoopDisk::new(4096)?)
    } else {
        None
    };
    let cluster = blocking(|| PgCluster::start_durable(disk.as_ref().map(LoopDisk::path)))?;
    let url = cluster.create_database("fleet")?;
    // The nodes reach the database through a cable that can be cut; the seeding and the final
    // count go directly.
    let cable = Cable::start(std::net::SocketAddr::from(([127, 0, 0, 1], cluster.port)))?;
    let node_url = url.replacen(
        &format!(":{}/", cluster.port),
        &format!(":{}/", cable.addr().port()),
        1,
    );

    // The organisation is made through the store, as the admin commands do; the PCs are
    // enrolled over HTTP through the balancer.
    let store = worktrace_server::store::open(&url).await?;
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let mut node = ServerProcess::new(BIN).args(["--database-url", &node_url]);
        blocking(|| node.start())?;
        nodes.push(node);
    }
    let balancer = Balancer::start(&[nodes[0].addr(), nodes[1].addr()])?;
    let base = balancer.url();
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(Duration::from_secs(60))
        .build()?;

    let seeding = Instant::now();
    let admin = ops::create_admin(
        store.as_ref(),
        "Fleet",
        "admin@fleet.test",
        "A",
        "fleet admin password",
        64,
        1,
    )
    .await?;
    let org = admin.org_id;
    let mut teams = Vec::new();
    for t in 0..load.leads {
        let email = format!("lead{t}@fleet.test");
        let name = format!("Lead {t}");
        let (team, _) = seed::team_with_lead(
            &store,
            org,
            &format!("Team {t}"),
            &email,
            &name,
            LEAD_PASSWORD,
        )
        .await?;
        teams.push((team.id, email));
    }
    let team_ids: Vec<i64> = teams.iter().map(|t| t.0).collect();
    let secrets = enroll(&store, &client, &base, org, &team_ids, load.pcs).await?;
    let first_team = *team_ids.first().ok_or("a fleet needs a team")?;
    let sync_secs = load.agent_sync.as_secs();
    let mut real =
        agents::RealPcs::start(load.agents, &store, org, first_team, &base, sync_secs).await?;
    let seed_secs = seeding.elapsed().as_secs_f64();

    let today = chrono::Utc::now().date_naive();
    let midnight = today
        .and_hms_opt(0, 0, 0)
        .ok_or("no midnight")?
        .and_utc()
        .timestamp_millis();
    let day = today.format("%Y-%m-%d").to_string();
    let week_start = (today - chrono::Days::new(6))
        .format("%Y-%m-%d")
        .to_string();
    let started = Instant::now();
    let run = Arc::new(Run {
        end: started + Duration::from_secs(load.secs),
        load,
        client,
        base,
        started,
        week: (week_start, day.clone()),
        day,
        midnight,
        uploads: Mutex::default(),
        views: Mutex::default(),
    });
    let pcs: Vec<_> = secrets
        .into_iter()
        .enumerate()
        .map(|(n, secret)| tokio::spawn(pc(n, secret, Arc::clone(&run))))
        .collect();
    let leads: Vec<_> = teams
        .into_iter()
        .enumerate()
        .map(|(n, (team, email))| tokio::spawn(lead(n, email, team, Arc::clone(&run))))
        .collect();
    let fault_log = faults(&run, &cluster, disk.as_ref(), &cable, &mut nodes[1]).await?;

    let mut sent = Delivered::default();
    let mut gave_up = 0;
    for task in pcs {
        let d = task.await?;
        sent.uploads += d.uploads;
        sent.alerts += d.alerts;
        sent.last += d.last;
        sent.longest = sent.longest.max(d.longest);
        gave_up += usize::from(d.gave_up);
    }
    for task in leads {
        task.await??;
    }
    let ran = run.started.elapsed().as_secs_f64();
    // The agents' work day begins at 04:00 (UTC here), so a run between midnight and 04:00
    // counts towards the calendar day before: their days are looked at from that one on.
    let first_day = (today - chrono::Days::new(1))
        .format("%Y-%m-%d")
        .to_string();
    let last_day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let real_delivery = real.finish(&url, &first_day, &last_day).await?;
    let (batches, minutes, alerts) = stored(&url, &real.people()).await?;

    let load = &run.load;
    let mut uploads = std::mem::take(&mut *count(&run.uploads));
    let mut views = std::mem::take(&mut *count(&run.views));
    let accepted = sent.uploads as i64;
    println!(
        "fleet: pcs={} leads={} run={ran:.0}s nodes=2 balancer=haproxy seeded_in={seed_secs:.0}s uploads/s={:.0}",
        load.pcs,
        load.leads,
        accepted as f64 / ran
    );
    for line in fault_lines(&fault_log, &uploads, &views) {
        println!("{line}");
    }
    println!("{}", uploads.line("uploads"));
    println!("{}", views.line("dashboard loads"));
    println!(
        "delivery: accepted={accepted} stored={batches} lost={} doubled={} gave_up={gave_up} \
         alerts_sent={} alerts_stored={alerts} day_minutes_sent={} day_minutes_stored={minutes} \
         slowest_delivery={:.1}s",
        (accepted - batches).max(0),
        (batches - accepted).max(0),
        sent.alerts,
        sent.last,
        sent.longest.as_secs_f64()
    );
    for s in uploads.other_samples.iter().chain(&views.other_samples) {
        eprintln!("failure: {s}");
    }

    let mut problems = Vec::new();
    if batches != accepted {
        problems.push(format!("{accepted} uploads accepted, {batches} stored"));
    }
    if minutes != sent.last as i64 {
        problems.push(format!(
            "the day rows hold {minutes} minutes, the PCs' last uploads say {}",
            sent.last
        ));
    }
    if alerts != sent.alerts as i64 {
        problems.push(format!("{} alerts sent, {alerts} stored", sent.alerts));
    }
    if gave_up > 0 {
        problems.push(format!("{gave_up} PCs could not deliver an upload"));
    }
    if uploads.other + views.other > 0 {
        problems.push(format!(
            "{} requests failed other than with 503 or a node away",
            uploads.other + views.other
        ));
    }
    if load.faults.is_empty() && uploads.unavailable + uploads.unreachable > 0 {
        problems.push("uploads failed with no fault in the run".into());
    }
    for line in &real_delivery.lines {
        println!("{line}");
    }
    problems.extend(real_delivery.problems);
    // Every 500 a node answered (to a simulated PC, a lead or a real agent) is in its log, and
    // so is a panic (a request whose connection was dropped, counted as a node away above).
    let mut internal = 0;
    for (i, node) in nodes.iter().enumerate() {
        let log = node.log_of_all_starts();
        let lines: Vec<&str> = log
            .lines()
            .filter(|l| l.contains("internal error") || l.contains("panicked at"))
            .collect();
        internal += lines.len();
        for line in lines.iter().take(5) {
            eprintln!("node {}: {line}", i + 1);
        }
    }
    if internal > 0 {
        problems.push(format!(
            "the nodes answered {internal} requests with 500 or panicked"
        ));
    }
    drop(balancer);
    drop(nodes);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; ").into())
    }
}
