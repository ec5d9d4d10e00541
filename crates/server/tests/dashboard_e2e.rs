//! The team-lead dashboard end to end: the real server on 127.0.0.1:0 (SQLite in a temp dir)
//! serving the built UI, seeded through the real API (enrollment, device ingest), walked in
//! headless Chromium by `ui/e2e/dashboard.mjs`; plus the page-serving rules (CSP, content
//! types, cache headers, SPA fallback, JSON 404 under /api).
//!
//! Never skips: without the built UI or its node_modules the test fails saying "run make ui".

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{Duration, NaiveTime, Utc};
use common::world::World;
use common::Backend;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The built dashboard and the script's packages must exist; the message says how to get them.
fn require_ui() -> PathBuf {
    let ui = repo_root().join("ui");
    let index = ui.join("dist/dashboard/index.html");
    assert!(
        index.is_file(),
        "the dashboard is not built ({} is missing): run make ui",
        index.display()
    );
    let playwright = ui.join("node_modules/playwright-core/package.json");
    assert!(
        playwright.is_file(),
        "ui/node_modules has no playwright-core: run make ui (npm ci in ui/)"
    );
    ui
}

fn ms(day: chrono::NaiveDate, h: u32, m: u32) -> i64 {
    day.and_time(NaiveTime::from_hms_opt(h, m, 0).expect("valid time"))
        .and_utc()
        .timestamp_millis()
}

/// A week of one person's work: three categories a day, a session 09:00–17:30 with a break
/// at noon, presence now (with the title a policy with `upload.titles` sends), and (when
/// `alert`) one high-severity export alert today.
fn week_batch(today: chrono::NaiveDate, alert: bool, now_ms: i64) -> Value {
    let mut rollups = Vec::new();
    let mut sessions = Vec::new();
    let mut decisions = Vec::new();
    for back in 0..7i64 {
        let day = today - Duration::days(back);
        let d = day.format("%Y-%m-%d").to_string();
        let scale = 1 + back % 3;
        for (app, category, minutes) in [
            ("code", "Work > Development", 150 + 20 * scale),
            ("outlook", "Work > Email", 80 + 10 * scale),
            ("slack", "Communication", 60),
        ] {
            let active = minutes * 60_000;
            rollups.push(json!({"day": d, "app": app, "category": category,
                "active_ms": active, "idle_ms": 600_000, "clocked_ms": active + 600_000,
                "input_ms": active * 7 / 10, "revision": 1}));
        }
        // Per local hour: development in the morning, mail after the break, chat late.
        for (hour, app, category, minutes) in [
            (9, "code", "Work > Development", 50),
            (10, "code", "Work > Development", 55),
            (11, "code", "Work > Development", 45),
            (11, "outlook", "Work > Email", 10),
            (12, "slack", "Communication", 15),
            (13, "outlook", "Work > Email", 50),
            (14, "outlook", "Work > Email", 30),
            (14, "code", "Work > Development", 20),
            (15, "code", "Work > Development", 50),
            (16, "slack", "Communication", 45),
            (17, "slack", "Communication", 25),
        ] {
            let active = minutes * 60_000;
            rollups.push(
                json!({"day": d, "hour": hour, "app": app, "category": category,
                "active_ms": active, "idle_ms": 0, "clocked_ms": active,
                "input_ms": active / 2, "revision": 1}),
            );
        }
        sessions.push(
            json!({"day": d, "start": ms(day, 9, 0), "end": ms(day, 17, 30),
            "clock_out_reason": "manual"}),
        );
        decisions.push(json!({"day": d, "decision": {"idle_start": ms(day, 12, 0),
            "idle_end": ms(day, 12, 45), "choice": "break", "source": "user",
            "decided_at": ms(day, 12, 46)}}));
    }
    let alerts: Vec<Value> = if alert {
        vec![
            json!({"id": 1, "event": {"at": ms(today, 11, 5), "export_kind": "file_to_removable",
            "severity": "high", "app_before": "excel", "file_name": "clients.xlsx", "path": null,
            "size_bytes": 48_213, "destination_class": "removable", "count": 1, "details": {}}}),
        ]
    } else {
        vec![]
    };
    json!({
        "batch_seq": 1,
        "chain_head": {"seq": 40, "hash": format!("{:064x}", 40)},
        "rollups": rollups,
        "sessions": sessions,
        "decisions": decisions,
        "alerts": alerts,
        "presence": {"at": now_ms, "clocked_in": true, "idle": false,
                     "category": "Work > Development", "title": "Quarterly plan.odt"}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn team_lead_walks_the_dashboard_in_chromium() {
    let ui = require_ui();
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "headless Chromium is needed at /usr/bin/chromium: apt-get install chromium"
    );
    // Today's session (09:00-17:30 UTC), break and alert are seeded whatever the time of day:
    // before 17:30 UTC some of them lie ahead of the server's clock, which the server would
    // leave out as from a fast clock. A day of allowed skew keeps them.
    let w = World::start_with(Backend::Sqlite, |c| c.max_clock_skew_secs = 86_400).await;
    let admin = w.login("admin@acme.test").await;
    let today = Utc::now().date_naive();
    let now_ms = Utc::now().timestamp_millis();
    let mut secrets = Vec::new();
    for (user, alert) in [(&w.emp_a, true), (&w.emp_b, true)] {
        let (_, secret) = w.enroll(&admin, user).await;
        let ack = w.ingest(&secret, &week_batch(today, alert, now_ms)).await;
        assert_eq!(ack.status, StatusCode::OK, "seed ingest: {}", ack.text);
        secrets.push(secret);
    }
    let day = today.format("%Y-%m-%d").to_string();
    let from = (today - Duration::days(6)).format("%Y-%m-%d").to_string();
    let shots = repo_root().join("target/screenshots");
    let team_a = w.team_a.to_string();
    let own_id = w.emp_a.id.to_string();
    let other_id = w.emp_b.id.to_string();
    let envs: Vec<(&str, &str)> = vec![
        ("BASE_URL", &w.base),
        ("PASSWORD", common::world::PASSWORD),
        ("LEAD_EMAIL", &w.lead_a.email),
        ("ADMIN_EMAIL", &w.admin.email),
        ("TEAM_ID", &team_a),
        ("TEAM_NAME", "Team A"),
        ("OWN_PERSON_ID", &own_id),
        ("OWN_PERSON_NAME", &w.emp_a.display_name),
        ("OWN_PERSON_EMAIL", &w.emp_a.email),
        ("OTHER_PERSON_ID", &other_id),
        ("OTHER_PERSON_NAME", &w.emp_b.display_name),
        ("OTHER_PERSON_EMAIL", &w.emp_b.email),
        ("DAY", &day),
        ("FROM", &from),
    ];
    let script = ui.join("e2e/dashboard.mjs");
    let mut cmd = Command::new("node");
    cmd.arg(&script)
        .current_dir(&ui)
        .env("SCREENSHOT_DIR", &shots)
        .env("TZ", "UTC");
    for (k, v) in &envs {
        cmd.env(k, v);
    }
    // Blocking wait on a blocking thread: the server keeps answering on the runtime's workers.
    // Each browser step has its own 15 s timeout, so the script always ends.
    let out = tokio::task::spawn_blocking(move || cmd.output())
        .await
        .expect("the waiting thread finishes")
        .expect("node runs (install Node.js 20)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("--- ui/e2e/dashboard.mjs stdout ---\n{stdout}");
    println!("--- ui/e2e/dashboard.mjs stderr ---\n{stderr}");
    assert!(
        out.status.success(),
        "the dashboard walk failed ({}); see its output above",
        out.status
    );
    assert!(
        stdout.contains("all checks passed"),
        "the script ran to its end"
    );

    // What the walk did is visible on the server: the alert acknowledged by the lead, the
    // other team's alert untouched, the reads audited.
    let alerts = w.get(&admin, "/api/alerts?include_acknowledged=true").await;
    let rows = alerts.body["alerts"].as_array().expect("alerts list");
    let acked_by: Vec<(i64, Option<i64>)> = rows
        .iter()
        .map(|a| {
            (
                a["user_id"].as_i64().unwrap_or(0),
                a["acknowledged_by"].as_i64(),
            )
        })
        .collect();
    assert!(
        acked_by.contains(&(w.emp_a.id, Some(w.lead_a.id))),
        "the lead acknowledged their member's alert: {acked_by:?}"
    );
    assert!(
        acked_by.contains(&(w.emp_b.id, None)),
        "the other team's alert is still open: {acked_by:?}"
    );
    let audit = w.get(&admin, "/api/admin/audit").await;
    let entries: Vec<(String, Option<String>)> = audit
        .body
        .as_array()
        .expect("audit list")
        .iter()
        .filter(|e| e["actor_email"] == w.lead_a.email.as_str())
        .map(|e| {
            (
                e["action"].as_str().unwrap_or("").to_owned(),
                e["subject_email"].as_str().map(str::to_owned),
            )
        })
        .collect();
    for action in [
        "read_team_day",
        "read_person_day",
        "export_timesheet",
        "export_report",
        "mark_leaving",
        "read_departure_report",
    ] {
        assert!(
            entries
                .iter()
                .any(|(a, s)| a == action && s.as_deref() == Some(w.emp_a.email.as_str())),
            "the lead's {action} of their member is audited: {entries:?}"
        );
    }
    assert!(
        !entries
            .iter()
            .any(|(_, s)| s.as_deref() == Some(w.emp_b.email.as_str())),
        "nothing of the other team's person was read by the lead: {entries:?}"
    );
    for name in [
        "login",
        "overview",
        "person-day",
        "trends",
        "alerts",
        "leaving",
        "departure",
        "admin",
    ] {
        let file = shots.join(format!("dashboard-{name}.png"));
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(size > 5_000, "screenshot {} was written", file.display());
    }
    // The watch the lead made in the browser raises the person's policy at their PC's next
    // upload. (The other person was deactivated by the walk: their PC is refused.)
    let next = json!({"batch_seq": 2, "chain_head": {"seq": 40, "hash": format!("{:064x}", 40)}});
    let a = w.ingest(&secrets[0], &next).await;
    assert_eq!(a.body["policy"]["watch"], true, "{}", a.text);
    w.server.shutdown().await.expect("graceful shutdown");
}

/// The timeline's hourly colours read alike from SQLite and PostgreSQL, and only for people
/// the viewer may see.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hours_of_a_day_read_alike_on_both_databases() {
    let mut answers = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let w = World::start(backend).await;
        let admin = w.login("admin@acme.test").await;
        let today = Utc::now().date_naive();
        let (_, secret) = w.enroll(&admin, &w.emp_a).await;
        let batch = week_batch(today, false, Utc::now().timestamp_millis());
        let ack = w.ingest(&secret, &batch).await;
        assert_eq!(
            ack.status,
            StatusCode::OK,
            "{backend:?} ingest: {}",
            ack.text
        );
        let day = today.format("%Y-%m-%d").to_string();
        let path = format!("/api/people/{}/days/{day}/hours", w.emp_a.id);
        let other_lead = w.login("lead.b@acme.test").await;
        let hidden = w.get(&other_lead, &path).await;
        assert_eq!(
            hidden.status,
            StatusCode::NOT_FOUND,
            "{backend:?}: another team's lead gets not found"
        );
        let lead = w.login("lead.a@acme.test").await;
        let hours = w.get(&lead, &path).await;
        assert_eq!(hours.status, StatusCode::OK, "{backend:?}: {}", hours.text);
        let rows = hours.body.as_array().expect("a list").clone();
        let at_11: Vec<(String, i64)> = rows
            .iter()
            .filter(|r| r["hour"] == 11)
            .map(|r| {
                (
                    r["category"].as_str().unwrap_or("").to_owned(),
                    r["active_ms"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        assert_eq!(
            at_11,
            [
                ("Work > Development".to_owned(), 45 * 60_000),
                ("Work > Email".to_owned(), 10 * 60_000)
            ],
            "{backend:?}: hour 11 holds both categories, in name order"
        );
        assert!(
            rows.iter()
                .all(|r| r["hour"].as_i64().is_some_and(|h| (0..24).contains(&h))),
            "{backend:?}: whole-day rollups never show up as an hour"
        );
        answers.push(rows);
        w.server.shutdown().await.expect("graceful shutdown");
    }
    assert_eq!(
        answers[0], answers[1],
        "both databases answer the same hours"
    );
}

#[tokio::test]
async fn pages_are_served_with_policy_types_and_cache_headers() {
    require_ui();
    let w = World::start(Backend::Sqlite).await;
    let get = |path: &str| w.http.get(format!("{}{path}", w.base)).send();

    let root = get("/").await.expect("GET /");
    assert_eq!(root.status(), StatusCode::OK, "the dashboard is at /");
    let h = root.headers().clone();
    let html = root.text().await.expect("index.html");
    assert!(
        html.contains("<div id=\"root\">"),
        "/ is the built index.html, not the not-built page"
    );
    assert!(
        h["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/html"),
        "index.html is HTML"
    );
    let csp = h["content-security-policy"].to_str().unwrap_or("");
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe") && !csp.contains("http"),
        "the CSP allows only this origin: {csp}"
    );
    assert_eq!(
        h["cache-control"], "no-cache",
        "the page is revalidated so updates show"
    );

    // Every asset index.html names is served with its type, cached for good.
    let assets: Vec<&str> = html
        .split('"')
        .filter(|s| s.starts_with("./assets/"))
        .collect();
    assert!(
        assets.len() >= 2,
        "index.html names its script and styles: {html}"
    );
    for asset in assets {
        let r = get(&asset[1..]).await.expect("asset");
        assert_eq!(r.status(), StatusCode::OK, "{asset} is served");
        let ct = r.headers()["content-type"]
            .to_str()
            .unwrap_or("")
            .to_owned();
        let want = if asset.ends_with(".js") {
            "text/javascript"
        } else {
            "text/css"
        };
        assert!(
            ct.starts_with(want),
            "{asset} is served as {want}, got {ct}"
        );
        assert!(
            r.headers()["cache-control"]
                .to_str()
                .unwrap_or("")
                .contains("immutable"),
            "hashed assets are cached for good"
        );
    }

    // App routes fall back to the page; API paths and missing assets never do.
    let deep = get("/people/9/days/2025-03-03").await.expect("deep link");
    assert_eq!(deep.status(), StatusCode::OK, "a deep link loads the app");
    assert!(
        deep.text()
            .await
            .unwrap_or_default()
            .contains("id=\"root\""),
        "deep link is the page"
    );
    let api = get("/api/nothing-here").await.expect("unknown api");
    assert_eq!(
        api.status(),
        StatusCode::NOT_FOUND,
        "unknown API paths are 404"
    );
    let body: Value = api.json().await.expect("JSON error");
    assert_eq!(
        body["error"]["code"], "not_found",
        "in the API's error shape"
    );
    let missing = get("/assets/missing-123.js").await.expect("missing asset");
    assert_eq!(
        missing.status(),
        StatusCode::NOT_FOUND,
        "a missing script is a 404, never HTML"
    );
    let post = w
        .http
        .request(Method::POST, format!("{}/teams/1", w.base))
        .send()
        .await
        .expect("post page");
    assert_eq!(
        post.status(),
        StatusCode::METHOD_NOT_ALLOWED,
        "pages are read with GET"
    );

    // The PDF and the team day are behind the same rules as the rest of the dashboard.
    let lead = w.login("lead.a@acme.test").await;
    let other = w
        .get(
            &lead,
            &format!(
                "/api/teams/{}/report.pdf?from=2025-03-01&to=2025-03-07",
                w.team_b
            ),
        )
        .await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "another team's report is hidden"
    );
    let bad = w
        .get(
            &lead,
            &format!(
                "/api/teams/{}/report.pdf?from=2025-03-07&to=2025-03-01",
                w.team_a
            ),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a backwards range: {}",
        bad.text
    );
    assert!(
        bad.text.contains("must not be after"),
        "the message says what to fix"
    );
    let day = w
        .get(&lead, &format!("/api/teams/{}/days/2025-03-03", w.team_b))
        .await;
    assert_eq!(
        day.status,
        StatusCode::NOT_FOUND,
        "another team's day is hidden"
    );
    // Every API answer, the downloads and the errors too, is read only as the type it
    // says and kept in no cache (they hold people's work time).
    let admin = w.login("admin@acme.test").await;
    let pdf = format!(
        "/api/teams/{}/report.pdf?from=2025-03-01&to=2025-03-07",
        w.team_a
    );
    let csv = format!(
        "/api/teams/{}/timesheet.csv?from=2025-03-01&to=2025-03-07",
        w.team_a
    );
    for (who, path, status) in [
        (&lead, "/api/me", StatusCode::OK),
        (&lead, pdf.as_str(), StatusCode::OK),
        (&lead, csv.as_str(), StatusCode::OK),
        (&admin, "/api/admin/audit.csv", StatusCode::OK),
        (&lead, "/api/admin/users", StatusCode::FORBIDDEN),
        (&lead, "/api/nothing-here", StatusCode::NOT_FOUND),
    ] {
        let a = w.get(who, path).await;
        assert_eq!(a.status, status, "{path}: {}", a.text);
        assert_eq!(a.headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(a.headers["cache-control"], "no-store", "{path}");
    }
    let doc = w.get(&lead, "/api/openapi.json").await;
    for path in [
        "/api/teams/{team_id}/report.pdf",
        "/api/teams/{team_id}/days/{day}",
        "/api/admin/memberships",
    ] {
        assert!(
            doc.body["paths"].get(path).is_some(),
            "{path} is in the OpenAPI document"
        );
    }
    let teams = w.get(&lead, "/api/admin/memberships").await;
    assert_eq!(
        teams.status,
        StatusCode::FORBIDDEN,
        "memberships are for admins"
    );
    w.server.shutdown().await.expect("graceful shutdown");
}

/// Who may use the dashboard pages' own endpoints: every role against own team, another team
/// and another organisation. Denials about a specific team or person are 404 (as if it did not
/// exist); an employee is refused the team views outright, and only admins list memberships.
#[tokio::test]
async fn dashboard_page_endpoints_follow_the_authorization_matrix() {
    let w = World::start(Backend::Sqlite).await;
    let day = "2025-03-03";
    let team_day = format!("/api/teams/{}/days/{day}", w.team_a);
    let report = format!(
        "/api/teams/{}/report.pdf?from=2025-03-01&to=2025-03-03",
        w.team_a
    );
    let hours = format!("/api/people/{}/days/{day}/hours", w.emp_a.id);
    let memberships = "/api/admin/memberships".to_owned();
    let ok = StatusCode::OK;
    let hidden = StatusCode::NOT_FOUND;
    let refused = StatusCode::FORBIDDEN;
    // (who, [team day, report, hours, memberships])
    let matrix = [
        ("admin@acme.test", [ok, ok, ok, ok]),
        ("lead.a@acme.test", [ok, ok, ok, refused]),
        ("lead.b@acme.test", [hidden, hidden, hidden, refused]),
        ("emp.a@acme.test", [refused, refused, ok, refused]),
        ("emp.b@acme.test", [refused, refused, hidden, refused]),
        ("admin@other.test", [hidden, hidden, hidden, ok]),
    ];
    for (who, expected) in matrix {
        let s = w.login(who).await;
        for (path, want) in [&team_day, &report, &hours, &memberships]
            .into_iter()
            .zip(expected)
        {
            let a = w.get(&s, path).await;
            assert_eq!(a.status, want, "{who} GET {path}: {}", a.text);
            if a.status != ok {
                assert!(
                    !a.text.contains("Anna") && !a.text.contains("Team A"),
                    "a refusal names nobody: {who} GET {path}: {}",
                    a.text
                );
            }
        }
    }
    let other = w.login("admin@other.test").await;
    let theirs = w.get(&other, &memberships).await;
    assert!(
        !theirs.text.contains("Team A") && theirs.text.contains("Other Team"),
        "another organisation's admin sees only their own teams: {}",
        theirs.text
    );
    w.server.shutdown().await.expect("graceful shutdown");
}
