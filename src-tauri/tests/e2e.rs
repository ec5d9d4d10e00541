//! End to end through the real app: tauri-driver + WebKitWebDriver drive the built
//! `worktrace-desktop` on a private X display (Xvfb + openbox), with a temporary data directory
//! and a 10-second idle threshold. Clock in, focus a real xterm, see it in today's timeline,
//! go idle, answer the idle prompt, pause and resume, clock out, check the totals. The window process starts the
//! tray process, which runs tracking; the test stops it at the end. Screenshots go to
//! `target/screenshots/desktop-*.png`.
//!
//! Never skips: a missing tool or front end fails with what to install or run.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use worktrace_testkit::XSession;

const IDLE_THRESHOLD_SECS: u64 = 10;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn tauri_driver() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let candidates = [
        home.join(".cargo/bin/tauri-driver"),
        PathBuf::from("tauri-driver"),
    ];
    for c in &candidates {
        if Command::new(c)
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
        {
            return c.clone();
        }
    }
    panic!("tauri-driver is not installed: run `cargo install tauri-driver --locked`");
}

/// tauri-driver, stopped with SIGTERM on drop (SIGKILL would orphan WebKitWebDriver).
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_for(
    client: &Client,
    css: &str,
    what: &str,
    secs: u64,
) -> fantoccini::elements::Element {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(found) = client.find_all(Locator::Css(css)).await {
            if let Some(e) = found.into_iter().next() {
                return e;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not appear within {secs} s ({css})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn attr(client: &Client, css: &str, name: &str) -> Option<String> {
    let e = client.find(Locator::Css(css)).await.ok()?;
    e.attr(name).await.ok().flatten()
}

async fn screenshot(client: &Client, name: &str) {
    let dir = workspace().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    let png = client.screenshot().await.expect("take a screenshot");
    std::fs::write(dir.join(format!("desktop-{name}.png")), png).expect("save the screenshot");
}

/// A screenshot of the whole X display (shows every window, the idle prompt on top).
fn screenshot_display(display: &str, name: &str) {
    let dir = workspace().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    let status = Command::new("import")
        .args(["-window", "root"])
        .arg(dir.join(format!("desktop-{name}.png")))
        .env("DISPLAY", display)
        .status()
        .expect("ImageMagick's import runs (apt-get install imagemagick)");
    assert!(status.success(), "import could not grab the display");
}

fn require_front_end() {
    let index = workspace().join("ui/dist/desktop/index.html");
    assert!(
        index.exists(),
        "the desktop front end is not built ({}): run make ui",
        index.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_in_track_a_window_answer_the_idle_prompt_and_clock_out() {
    require_front_end();
    let x = XSession::start().expect("start Xvfb and openbox (see testkit's message)");
    let data = tempfile::tempdir().expect("temporary data directory");
    let home = tempfile::tempdir().expect("temporary home");
    let app = PathBuf::from(env!("CARGO_BIN_EXE_worktrace-desktop"));
    let port = free_port();
    let native = free_port();
    let driver = Command::new(tauri_driver())
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("DISPLAY", x.display())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join(".config"))
        .env("XDG_DATA_HOME", home.path().join(".local/share"))
        .env("WORKTRACE_DATA_DIR", data.path())
        // Never this machine's /etc/worktrace (an installed Worktrace).
        .env("WORKTRACE_MACHINE_CONFIG", "")
        .env(
            "WORKTRACE_IDLE_THRESHOLD_SECS",
            IDLE_THRESHOLD_SECS.to_string(),
        )
        .env("WORKTRACE_POLL_INTERVAL_MS", "500")
        .env("WORKTRACE_CHECKPOINT_INTERVAL_MS", "1000")
        .env("LANG", "C.UTF-8")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tauri-driver");
    let _driver = Driver(driver);

    let mut caps = serde_json::Map::new();
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": app.display().to_string() }),
    );
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let client = loop {
        match ClientBuilder::native()
            .capabilities(caps.clone())
            .connect(&url)
            .await
        {
            Ok(c) => break c,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "no WebDriver session with the app: {e}"
                );
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    };

    // First start: the information screen, then the main window. Nothing is tracked
    // before the screen is accepted.
    let accept = wait_for(
        &client,
        "[data-testid=consent-accept]",
        "the first-start screen",
        20,
    )
    .await;
    assert!(
        !data.path().join("agent-status.json").exists(),
        "tracking waits for the first-start screen"
    );
    accept.click().await.expect("accept the first-start screen");
    let toggle = wait_for(
        &client,
        "[data-testid=clock-toggle]:not([disabled])",
        "clock in",
        20,
    )
    .await;
    assert_eq!(
        toggle
            .attr("data-state")
            .await
            .expect("read state")
            .as_deref(),
        Some("out"),
        "a new data directory starts clocked out"
    );
    toggle.click().await.expect("clock in");
    wait_for(
        &client,
        "[data-testid=clock-toggle][data-state=in]",
        "the clocked-in state",
        15,
    )
    .await;
    assert!(
        data.path().join("desktop.json").exists(),
        "the accepted first-start screen is remembered in the data directory"
    );

    // A real xterm gets the focus; it must show up in today's timeline.
    let term = x
        .spawn_xterm("worktrace-e2e-terminal")
        .expect("start xterm");
    x.activate(&term).expect("focus the xterm");
    x.input().expect("move the pointer");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut apps = Vec::new();
    loop {
        x.input().expect("keep input coming");
        apps.clear();
        if let Ok(spans) = client
            .find_all(Locator::Css(
                "[data-testid=timeline-span][data-kind=window]",
            ))
            .await
        {
            for s in spans {
                if let Ok(Some(a)) = s.attr("data-app").await {
                    apps.push(a);
                }
            }
        }
        if apps.iter().any(|a| a.to_lowercase().contains("xterm")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the xterm never appeared in the timeline; spans: {apps:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    screenshot(&client, "today").await;

    // Idle past the threshold, then back: the idle prompt asks.
    // Kept: hands off for longer than the idle threshold is what is under test.
    tokio::time::sleep(Duration::from_secs(IDLE_THRESHOLD_SECS + 4)).await;
    x.input().expect("come back from idle");
    x.activate(&term).expect("focus the xterm again");
    let deadline = Instant::now() + Duration::from_secs(20);
    let main = client.window().await.expect("main window handle");
    'prompt: loop {
        let handles = client.windows().await.expect("window handles");
        for h in handles.into_iter().filter(|h| *h != main) {
            if client.switch_to_window(h).await.is_ok() {
                if let Ok(button) = client
                    .find(Locator::Css("[data-testid=prompt-meeting]"))
                    .await
                {
                    screenshot_display(x.display(), "idle-prompt");
                    button.click().await.expect("answer the idle prompt");
                    break 'prompt;
                }
            }
        }
        client
            .switch_to_window(main.clone())
            .await
            .expect("back to the main window");
        assert!(
            Instant::now() < deadline,
            "the idle prompt window never opened"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    client
        .switch_to_window(main.clone())
        .await
        .expect("back to the main window");

    // The decision is recorded and shown in today's timeline.
    wait_for(
        &client,
        "[data-testid=timeline-span][data-kind=idle][data-decision=meeting]",
        "the idle period marked as a meeting",
        20,
    )
    .await;

    // Pause until resumed: the Today view says so, the time becomes a break in the timeline.
    wait_for(
        &client,
        "[data-testid=pause-open]:not([disabled])",
        "the pause control (the default policy allows pausing)",
        10,
    )
    .await
    .click()
    .await
    .expect("pause");
    let resume = wait_for(&client, "[data-testid=resume]", "the resume control", 15).await;
    let now_text = client
        .find(Locator::Css("[data-testid=current-window]"))
        .await
        .expect("the current state")
        .text()
        .await
        .expect("its text");
    assert!(
        now_text.contains("Paused since"),
        "the Today view says tracking is paused: {now_text}"
    );
    // Kept: the length of the pause is what becomes a break in the totals below.
    tokio::time::sleep(Duration::from_secs(3)).await;
    x.input().expect("input while paused (not recorded)");
    screenshot(&client, "paused").await;
    resume.click().await.expect("resume");
    wait_for(
        &client,
        "[data-testid=pause-controls]",
        "tracking again",
        15,
    )
    .await;
    wait_for(
        &client,
        "[data-testid=timeline-span][data-kind=idle][data-reason=paused][data-decision=break]",
        "the pause as a break in the timeline",
        20,
    )
    .await;

    // Clock out and check the totals.
    wait_for(
        &client,
        "[data-testid=clock-toggle][data-state=in]:not([disabled])",
        "clock out",
        10,
    )
    .await
    .click()
    .await
    .expect("clock out");
    wait_for(
        &client,
        "[data-testid=clock-toggle][data-state=out]",
        "the clocked-out state",
        15,
    )
    .await;
    // Today's figures as read after the clock-out: the work session in them has ended.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut open = Vec::new();
        for s in client
            .find_all(Locator::Css("[data-testid=timeline-session]"))
            .await
            .unwrap_or_default()
        {
            open.push(s.attr("data-open").await.ok().flatten());
        }
        if !open.is_empty() && open.iter().all(|o| o.as_deref() == Some("false")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "today's view never showed the work session ended: {open:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let ms = |v: Option<String>| v.and_then(|s| s.parse::<i64>().ok()).unwrap_or(-1);
    let worked = ms(attr(&client, "[data-testid=worked-time]", "data-ms").await);
    let idle = ms(attr(&client, "[data-testid=idle-time]", "data-ms").await);
    let active = ms(attr(&client, "[data-testid=active-time]", "data-ms").await);
    assert!(
        active > 0,
        "time with the xterm counts as active: {active} ms"
    );
    assert!(
        idle >= (IDLE_THRESHOLD_SECS as i64 - 2) * 1000,
        "the idle period (back-dated to the last input) is in the totals: {idle} ms"
    );
    assert!(
        worked - active >= (IDLE_THRESHOLD_SECS as i64 - 2) * 1000,
        "a meeting counts as work, so worked time ({worked} ms) is more than the active time \
         ({active} ms) by the idle period"
    );
    assert!(
        worked < active + idle,
        "the pause is a break: worked {worked} ms < active {active} ms + idle {idle} ms"
    );
    let mut apps_in_totals = Vec::new();
    for row in client
        .find_all(Locator::Css("[data-testid=totals-app] tr"))
        .await
        .expect("totals by app")
    {
        if let Ok(Some(key)) = row.attr("data-key").await {
            apps_in_totals.push(key);
        }
    }
    assert!(
        apps_in_totals
            .iter()
            .any(|a| a.to_lowercase().contains("xterm")),
        "the xterm is in the totals by app: {apps_in_totals:?}"
    );
    screenshot(&client, "today-after").await;

    // What the company sees: not enrolled, so nothing leaves; the policy in force is shown.
    client
        .find(Locator::Css("[data-testid=nav-company]"))
        .await
        .expect("company nav")
        .click()
        .await
        .expect("open the company view");
    wait_for(
        &client,
        "[data-testid=not-enrolled]",
        "the not-enrolled statement",
        10,
    )
    .await;
    wait_for(&client, "[data-testid=policy]", "the policy in force", 10).await;
    screenshot(&client, "company-sees").await;

    client.close().await.expect("end the WebDriver session");
    stop_tray(data.path());
}

/// The engine ran in the tray process (`worktrace-tray`), which outlives the window process
/// tauri-driver ended: stop it as logout does (SIGTERM) and see it save and go.
fn stop_tray(data: &std::path::Path) {
    let text = std::fs::read_to_string(data.join("agent-status.json")).expect("the status file");
    let status: serde_json::Value = serde_json::from_str(&text).expect("the status is JSON");
    let pid = status["pid"]
        .as_u64()
        .expect("the status names the engine's process");
    let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    assert_eq!(
        name.trim(),
        "worktrace-tray",
        "tracking runs in the tray process, not in the window process"
    );
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(killed.success(), "the tray process takes SIGTERM");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        // A zombie (reaped by init later) has left already.
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.contains(") Z") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the tray process did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
