//! How the server benchmarks fill their database the way agents do: an employee with a PC
//! enrolled through the enrollment API, and uploads to the ingest API from a few concurrent
//! tasks.

// Each benchmark uses the part it needs.
#![allow(dead_code)]

use serde_json::{json, Value};
use worktrace_server::http::auth::now_ms;
use worktrace_server::model::{Actor, Role, Team, User};
use worktrace_server::ops;
use worktrace_server::store::Store;

pub type BenchResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Adds the employee `email` to `org` (and to `team` as a member, if given), enrolls a PC for
/// them over HTTP at `base` with a one-time token, and returns them with the PC's device
/// secret.
pub async fn employee_with_pc(
    store: &Store,
    client: &reqwest::Client,
    base: &str,
    org: i64,
    team: Option<i64>,
    email: &str,
    name: &str,
) -> BenchResult<(User, String)> {
    let user = ops::add_user(
        store.as_ref(),
        org,
        Actor::ServerCli,
        email,
        name,
        Role::Employee,
        None,
        64,
        1,
    )
    .await?;
    let (token, _) =
        ops::create_enrollment_token(store.as_ref(), org, Actor::ServerCli, user.id, 1, now_ms())
            .await?;
    let answer: Value = client
        .post(format!("{base}/api/devices/enroll"))
        .json(&json!({"token": token, "description": "bench"}))
        .send()
        .await?
        .json()
        .await?;
    let secret = answer["device_secret"]
        .as_str()
        .ok_or("enrollment answered no device secret")?
        .to_owned();
    if let Some(team) = team {
        join(store, org, team, user.id, false).await?;
    }
    Ok((user, secret))
}

/// Adds `user` to `team`, as its lead or a member.
async fn join(store: &Store, org: i64, team: i64, user: i64, lead: bool) -> BenchResult<()> {
    ops::set_membership(store.as_ref(), org, Actor::ServerCli, team, user, lead, 1).await?;
    Ok(())
}

/// Adds the team `team` to `org` and the lead `email` (who logs in with `password`) as its
/// lead.
pub async fn team_with_lead(
    store: &Store,
    org: i64,
    team: &str,
    email: &str,
    name: &str,
    password: &str,
) -> BenchResult<(Team, User)> {
    let team = ops::add_team(store.as_ref(), org, Actor::ServerCli, team, 1).await?;
    let lead = ops::add_user(
        store.as_ref(),
        org,
        Actor::ServerCli,
        email,
        name,
        Role::Lead,
        Some(password),
        64,
        1,
    )
    .await?;
    join(store, org, team.id, lead.id, true).await?;
    Ok((team, lead))
}

/// Logs `email` in over HTTP at `base` as a browser does; the session cookie to send
/// (`worktrace_session=…`). When every password check of the server is busy (429 `busy`,
/// many logging in at once) it tries again after `Retry-After`, as a person would, up to 30
/// times.
pub async fn login(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> BenchResult<String> {
    let mut tries = 0;
    let resp = loop {
        let resp = client
            .post(format!("{base}/api/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
            .await?;
        tries += 1;
        if resp.status() != reqwest::StatusCode::TOO_MANY_REQUESTS || tries == 30 {
            break resp;
        }
        let wait = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(1);
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    };
    if !resp.status().is_success() {
        return Err(format!("{email} could not log in: {}", resp.status()).into());
    }
    let cookie = resp
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("worktrace_session="))
        .and_then(|v| v.split(';').next())
        .ok_or("login set no session cookie")?
        .to_owned();
    Ok(cookie)
}

/// Uploads `bodies(i)` (in order) with the `i`-th PC's secret, for every PC, from `tasks`
/// concurrent tasks; fails with `what` and the server's answer on the first refusal.
pub async fn upload_for_each(
    client: &reqwest::Client,
    base: &str,
    secrets: &[String],
    tasks: usize,
    what: &'static str,
    bodies: impl Fn(usize) -> BenchResult<Vec<Value>> + Send + Sync + 'static,
) -> BenchResult<()> {
    let bodies = std::sync::Arc::new(bodies);
    let per_task = secrets.len().div_ceil(tasks.max(1)).max(1);
    let mut running = Vec::new();
    for (n, chunk) in secrets.chunks(per_task).enumerate() {
        let (client, url, chunk) = (client.clone(), format!("{base}/api/ingest"), chunk.to_vec());
        let bodies = std::sync::Arc::clone(&bodies);
        running.push(tokio::spawn(async move {
            for (i, secret) in chunk.iter().enumerate() {
                for body in bodies(n * per_task + i)? {
                    let resp = client
                        .post(&url)
                        .bearer_auth(secret)
                        .json(&body)
                        .send()
                        .await?;
                    if !resp.status().is_success() {
                        let status = resp.status();
                        return Err(format!("{what}: {status}: {}", resp.text().await?).into());
                    }
                }
            }
            BenchResult::Ok(())
        }));
    }
    for task in running {
        task.await?.map_err(|e| e.to_string())?;
    }
    Ok(())
}
