//! Device times are bounded, over real HTTP on SQLite and PostgreSQL: items dated before the
//! retention or ahead of the server's clock beyond the allowed skew, rollups longer than
//! their hour or day, and rollups that with the device's stored ones would add up to longer
//! than their hour or day, are left out of an accepted batch and counted (in the
//! acknowledgement and on the device), while the rest of the batch is stored; a presence from
//! the future does not freeze the PC's presence.

mod common;

use common::world::World;
use common::Backend;
use reqwest::StatusCode;
use serde_json::{json, Value};
use worktrace_domain::day::{date_of_epoch_days, DAY_MS};
use worktrace_server::http::auth::now_ms;

const HOUR: i64 = 3_600_000;
const YEAR: i64 = 365 * DAY_MS;

/// The UTC date of an instant, `YYYY-MM-DD`: the work day the server accepts for it.
fn utc_day(at: i64) -> String {
    date_of_epoch_days(at.div_euclid(DAY_MS)).to_string()
}

fn rollup(day: &str, hour: Option<u8>, app: &str, active_ms: i64) -> Value {
    json!({"day": day, "hour": hour, "app": app, "category": "Work > Email",
           "active_ms": active_ms, "idle_ms": 0, "clocked_ms": active_ms, "input_ms": 0,
           "revision": 1})
}

/// A rollup of `app` in a category of its own (so the hours view tells the apps apart).
fn app_rollup(day: &str, hour: Option<u8>, app: &str, active_ms: i64, revision: u64) -> Value {
    let mut r = rollup(day, hour, app, active_ms);
    r["category"] = json!(format!("Work > {app}"));
    r["revision"] = json!(revision);
    r
}

fn session(start: i64) -> Value {
    json!({"day": utc_day(start), "start": start, "end": start + HOUR,
           "clock_out_reason": "manual"})
}

fn decision(idle_start: i64, decided_at: i64) -> Value {
    json!({"day": utc_day(idle_start), "decision": {"idle_start": idle_start,
        "idle_end": idle_start + 60_000, "choice": "meeting", "source": "user",
        "decided_at": decided_at}})
}

fn alert(id: u64, at: i64, file: &str) -> Value {
    json!({"id": id, "event": {"at": at, "export_kind": "file_to_removable",
        "severity": "high", "app_before": "excel", "file_name": file, "path": null,
        "size_bytes": 2048, "destination_class": "removable", "count": 1, "details": {}}})
}

fn presence(at: i64, idle: bool) -> Value {
    json!({"at": at, "clocked_in": true, "idle": idle, "category": "Work > Email"})
}

fn head(seq: u64) -> Value {
    json!({"seq": seq, "hash": format!("{seq:064x}")})
}

/// A batch with good items and, of every kind, items a year ahead and 40 days back (beyond a
/// retention of 30 days), plus rollups longer than their hour and day.
fn mixed_batch(now: i64) -> Value {
    let today = utc_day(now);
    let (ahead, back) = (now + YEAR, now - 40 * DAY_MS);
    json!({
        "batch_seq": 1,
        "chain_head": head(1),
        "rollups": [
            rollup(&today, None, "kept-day", 2 * HOUR),
            rollup(&today, Some(9), "kept-hour", HOUR),
            // The hour that repeats when the clocks go back holds up to two hours.
            rollup(&today, Some(3), "kept-repeated-hour", 2 * HOUR),
            rollup(&today, Some(10), "hour-too-long", 2 * HOUR + 1),
            rollup(&today, None, "day-too-long", 25 * HOUR + 1),
            rollup(&utc_day(ahead), None, "next-year", HOUR),
            rollup(&utc_day(back), None, "long-ago", HOUR),
        ],
        "sessions": [session(now - 2 * HOUR), session(ahead), session(back)],
        "decisions": [
            decision(now - 3 * HOUR, now - 3 * HOUR + 120_000),
            // Decided "next year": it would win over every later decision of that idle time.
            decision(now - 4 * HOUR, ahead),
            decision(back, back + 120_000),
        ],
        "alerts": [
            alert(1, now - HOUR, "kept.xlsx"),
            alert(2, now - 20 * DAY_MS, "within-retention.xlsx"),
            alert(3, ahead, "next-year.xlsx"),
            alert(4, back, "long-ago.xlsx"),
        ],
        "presence": presence(ahead, false),
    })
}

async fn out_of_range_items_are_left_out(backend: Backend) {
    let w = World::start_with(backend, |c| {
        c.retention_days = 30;
        c.max_clock_skew_secs = 600;
    })
    .await;
    let admin = w.login("admin@acme.test").await;
    let (device, secret) = w.enroll(&admin, &w.emp_a).await;
    let now = now_ms();
    let body = mixed_batch(now);
    let ack = w.ingest(&secret, &body).await;
    assert_eq!(
        ack.status,
        StatusCode::OK,
        "a batch is never refused for its times (the outbox would resend it forever): {}",
        ack.text
    );
    let dropped = &ack.body["dropped"];
    assert_eq!(
        dropped["in_future"], 4,
        "a rollup, a session, a decision and an alert dated next year: {}",
        ack.text
    );
    assert_eq!(
        dropped["too_old"], 4,
        "a rollup, a session, a decision and an alert beyond the retention: {}",
        ack.text
    );
    assert_eq!(
        dropped["too_long"], 2,
        "an hour of 2 h 1 ms and a day of 25 h 1 ms: {}",
        ack.text
    );
    assert_eq!(dropped["presence_clamped"], true, "{}", ack.text);
    assert_eq!(
        ack.body["rollups_applied"], 3,
        "the three good rollups (the repeated hour's two hours among them)"
    );
    assert_eq!(ack.body["sessions"], 1, "the good session");
    assert_eq!(ack.body["decisions"], 1, "the good decision");
    assert_eq!(ack.body["alerts"], 2, "the good alerts");

    let today = utc_day(now);
    let day = w
        .get(&admin, &format!("/api/people/{}/days/{today}", w.emp_a.id))
        .await;
    let apps: Vec<&str> = day.body["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .filter_map(|a| a["app"].as_str())
        .collect();
    assert_eq!(apps, ["kept-day"], "only the good day rollup: {}", day.text);
    assert_eq!(
        day.body["totals"]["active_ms"],
        2 * HOUR,
        "the 25 h 1 ms day is not in the totals: {}",
        day.text
    );
    // Two hours back is yesterday in the first two hours of a UTC day.
    let session_day = w
        .get(
            &admin,
            &format!(
                "/api/people/{}/days/{}",
                w.emp_a.id,
                utc_day(now - 2 * HOUR)
            ),
        )
        .await;
    let sessions = session_day.body["sessions"].as_array().expect("sessions");
    assert_eq!(sessions.len(), 1, "{}", session_day.text);
    assert_eq!(sessions[0]["start"], now - 2 * HOUR);
    let next_year = w
        .get(
            &admin,
            &format!("/api/people/{}/days/{}", w.emp_a.id, utc_day(now + YEAR)),
        )
        .await;
    assert_eq!(
        next_year.body["totals"]["active_ms"], 0,
        "nothing was stored for next year: {}",
        next_year.text
    );

    let inbox = w.get(&admin, "/api/alerts?include_acknowledged=true").await;
    let files: Vec<&str> = inbox.body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .filter_map(|a| a["event"]["file_name"].as_str())
        .collect();
    assert_eq!(
        files,
        ["within-retention.xlsx", "kept.xlsx"],
        "the two good alerts, last in the batch first: {}",
        inbox.text
    );

    let d = device_row(&w, &admin, device).await;
    assert_eq!(d["dropped_items"], 10, "admins see the count: {d}");
    assert_eq!(d["dropped_reason"], "in_future", "and the main reason: {d}");

    // The same batch again: acknowledged with the first answer, counted once.
    let again = w.ingest(&secret, &body).await;
    assert_eq!(again.body["duplicate"], true, "{}", again.text);
    assert_eq!(
        again.body["dropped"], ack.body["dropped"],
        "the first answer"
    );
    let devices = w.get(&admin, "/api/admin/devices").await;
    assert_eq!(
        devices.body[0]["dropped_items"], 10,
        "a duplicate adds nothing: {}",
        devices.text
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn out_of_range_items_are_left_out_sqlite() {
    out_of_range_items_are_left_out(Backend::Sqlite).await;
}

#[tokio::test]
async fn out_of_range_items_are_left_out_postgres() {
    out_of_range_items_are_left_out(Backend::Postgres).await;
}

/// The admin device list's entry of `device`.
async fn device_row(w: &World, admin: &common::world::Session, device: i64) -> Value {
    let devices = w.get(admin, "/api/admin/devices").await;
    devices
        .body
        .as_array()
        .expect("devices")
        .iter()
        .find(|d| d["id"] == device)
        .cloned()
        .expect("the device is listed")
}

/// The team's "now" entry of a person.
async fn presence_of(w: &World, lead: &common::world::Session, user: i64) -> Value {
    let now = w.get(lead, &format!("/api/teams/{}/now", w.team_a)).await;
    assert_eq!(now.status, StatusCode::OK, "{}", now.text);
    now.body
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user_id"] == user)
        .cloned()
        .expect("the member is listed")
}

async fn future_presence_does_not_freeze(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let lead = w.login("lead.a@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;

    let sent = now_ms();
    let first = json!({"batch_seq": 1, "chain_head": head(1),
                       "presence": presence(sent + YEAR, false)});
    let ack = w.ingest(&secret, &first).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert_eq!(
        ack.body["dropped"]["presence_clamped"], true,
        "{}",
        ack.text
    );
    let shown = presence_of(&w, &lead, w.emp_a.id).await;
    assert_eq!(shown["state"], "active", "{shown}");
    let last_seen = shown["last_seen"].as_i64().expect("last seen");
    assert!(
        last_seen <= now_ms(),
        "the presence is kept as of its receipt, never in the future: {shown}"
    );

    // The PC's clock is put right: its next report is dated now, long before "next year".
    let at = now_ms().max(last_seen + 1);
    let second = json!({"batch_seq": 2, "chain_head": head(2), "presence": presence(at, true)});
    let ack = w.ingest(&secret, &second).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert_eq!(
        ack.body["dropped"]["presence_clamped"], false,
        "{}",
        ack.text
    );
    let shown = presence_of(&w, &lead, w.emp_a.id).await;
    assert_eq!(
        shown["state"], "idle",
        "the later report replaces the one from the future: {shown}"
    );
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn future_presence_does_not_freeze_sqlite() {
    future_presence_does_not_freeze(Backend::Sqlite).await;
}

#[tokio::test]
async fn future_presence_does_not_freeze_postgres() {
    future_presence_does_not_freeze(Backend::Postgres).await;
}

/// The person's active time per (hour, category) of `day`, as the timeline reads it.
async fn hours_of(
    w: &World,
    viewer: &common::world::Session,
    user: i64,
    day: &str,
) -> Vec<(i64, String, i64)> {
    let hours = w
        .get(viewer, &format!("/api/people/{user}/days/{day}/hours"))
        .await;
    assert_eq!(hours.status, StatusCode::OK, "{}", hours.text);
    let mut rows: Vec<(i64, String, i64)> = hours
        .body
        .as_array()
        .expect("hours")
        .iter()
        .map(|h| {
            let hour = h["hour"].as_i64().expect("hour");
            let category = h["category"].as_str().expect("category").to_owned();
            (hour, category, h["active_ms"].as_i64().expect("active"))
        })
        .collect();
    rows.sort();
    rows
}

async fn apps_cannot_add_up_to_more_than_the_hour_or_day(backend: Backend) {
    let w = World::start(backend).await;
    let admin = w.login("admin@acme.test").await;
    let (device, secret) = w.enroll(&admin, &w.emp_a).await;
    let today = utc_day(now_ms());
    const MIN: i64 = 60_000;
    let first = json!({"batch_seq": 1, "chain_head": head(1), "rollups": [
        app_rollup(&today, Some(9), "mail", 100 * MIN, 1),
        app_rollup(&today, None, "mail", 20 * HOUR, 1),
    ]});
    let ack = w.ingest(&secret, &first).await;
    assert_eq!(ack.body["rollups_applied"], 2, "{}", ack.text);

    // Each rollup alone is within its hour or day; with the stored ones two are not.
    let second = json!({"batch_seq": 2, "chain_head": head(2), "rollups": [
        app_rollup(&today, Some(9), "chat", 30 * MIN, 1),
        app_rollup(&today, Some(10), "editor", HOUR, 1),
        app_rollup(&today, None, "chat", 6 * HOUR, 1),
    ]});
    let ack = w.ingest(&secret, &second).await;
    assert_eq!(ack.status, StatusCode::OK, "{}", ack.text);
    assert_eq!(
        ack.body["dropped"]["too_long"], 2,
        "09:00 would hold 130 min and the day 26 h: {}",
        ack.text
    );
    assert_eq!(
        ack.body["rollups_applied"], 1,
        "10:00 is stored: {}",
        ack.text
    );
    let hours = hours_of(&w, &admin, w.emp_a.id, &today).await;
    assert_eq!(
        hours,
        [
            (9, "Work > mail".to_owned(), 100 * MIN),
            (10, "Work > editor".to_owned(), HOUR)
        ],
        "no chat at 09:00"
    );
    let day = w
        .get(&admin, &format!("/api/people/{}/days/{today}", w.emp_a.id))
        .await;
    assert_eq!(
        day.body["totals"]["active_ms"],
        20 * HOUR,
        "the day holds its 20 h of mail only: {}",
        day.text
    );

    // A newer revision that shortens the mail makes room for the chat.
    let third = json!({"batch_seq": 3, "chain_head": head(3), "rollups": [
        app_rollup(&today, Some(9), "mail", 60 * MIN, 2),
        app_rollup(&today, Some(9), "chat", 30 * MIN, 1),
    ]});
    let ack = w.ingest(&secret, &third).await;
    assert_eq!(ack.body["dropped"]["too_long"], 0, "{}", ack.text);
    assert_eq!(ack.body["rollups_applied"], 2, "{}", ack.text);
    let hours = hours_of(&w, &admin, w.emp_a.id, &today).await;
    assert!(
        hours.contains(&(9, "Work > chat".to_owned(), 30 * MIN))
            && hours.contains(&(9, "Work > mail".to_owned(), 60 * MIN)),
        "{hours:?}"
    );

    let d = device_row(&w, &admin, device).await;
    assert_eq!(d["dropped_items"], 2, "admins see the count: {d}");
    assert_eq!(d["dropped_reason"], "too_long", "and the reason: {d}");
    w.server.shutdown().await.expect("clean shutdown");
}

#[tokio::test]
async fn apps_cannot_add_up_to_more_than_the_hour_or_day_sqlite() {
    apps_cannot_add_up_to_more_than_the_hour_or_day(Backend::Sqlite).await;
}

#[tokio::test]
async fn apps_cannot_add_up_to_more_than_the_hour_or_day_postgres() {
    apps_cannot_add_up_to_more_than_the_hour_or_day(Backend::Postgres).await;
}
