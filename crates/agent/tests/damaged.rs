//! A damaged database on a real PC: a page of `worktrace.db` that holds records is overwritten,
//! as a failing disk leaves it. The commands say to run `worktrace repair`; the agent, started
//! on it, keeps the damaged file aside, salvages what can be read, says how many records were
//! lost and goes on tracking; `worktrace verify` then passes and names the break.

mod common;

use common::Env;
use worktrace_domain::{Record, WindowSpan};
use worktrace_store::{DayClock, Store};
use worktrace_testkit::XSession;

const MARK: &str = "damage-mark";

fn fill(env: &Env, n: i64) {
    let mut store = Store::open(&env.database(), DayClock::default()).expect("store");
    let base = 1_740_992_400_000;
    let records: Vec<Record> = (0..n)
        .map(|i| {
            Record::Window(WindowSpan {
                start: base + i * 60_000,
                end: base + i * 60_000 + 59_000,
                app: "localc".into(),
                title: format!("{MARK}-{i:05} {}", "x".repeat(200)),
                exe_path: None,
                domain: None,
                category: "Work".into(),
                input_ms: 30_000,
                in_session: true,
            })
        })
        .collect();
    store.append(&records).expect("append");
    drop(store);
    let conn = rusqlite::Connection::open(env.database()).expect("open");
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .expect("everything into the file");
}

fn damage_page_of(env: &Env, i: i64) {
    let path = env.database();
    let mut bytes = std::fs::read(&path).expect("read");
    let needle = format!("{MARK}-{i:05}");
    let at = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .expect("the record is in the file");
    let start = at / 4096 * 4096;
    for (k, b) in bytes[start..start + 4096].iter_mut().enumerate() {
        *b = (k as u8).wrapping_mul(13).wrapping_add(5);
    }
    std::fs::write(&path, bytes).expect("write");
}

#[test]
fn the_agent_salvages_a_damaged_database_and_goes_on_tracking() {
    let x = XSession::start().expect("a real X display (Xvfb + openbox)");
    let env = Env::new(
        "[agent]\npoll_interval_ms = 250\ncheckpoint_interval_ms = 500\n",
        Some(x.display()),
    );
    fill(&env, 1500);
    damage_page_of(&env, 700);

    let out = env.output(&["verify"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the damage is found");
    assert!(
        err.contains("worktrace repair") && !err.contains("panicked"),
        "says what to do: {err}"
    );

    // Returns once the agent, past the salvage, reports its status.
    let agent = env.start_agent();
    let stopped = agent.stop();
    let said = String::from_utf8_lossy(&stopped.stderr);
    assert!(
        said.contains("the database was damaged") && said.contains("could not be read"),
        "the agent says what it did: {said}"
    );
    let kept: Vec<_> = std::fs::read_dir(env.data_dir())
        .expect("data folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
        .collect();
    assert!(!kept.is_empty(), "the damaged file is kept aside");

    let verified = env.ok(&["verify"]);
    assert!(
        verified.contains("were lost when a damaged database was salvaged")
            && verified.contains("ok:"),
        "verify passes and names the break: {verified}"
    );
    let report = env.report_json(&["--from", "2025-03-03", "--to", "2025-03-05"]);
    assert!(
        report.to_string().contains("localc"),
        "the salvaged history is there: {report}"
    );
    assert!(
        env.ok(&["repair"]).contains("nothing to repair"),
        "a sound database is left alone"
    );
}
