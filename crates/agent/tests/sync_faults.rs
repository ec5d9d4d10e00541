//! Sync under faults: a lost acknowledgement (a proxy swallows the server's answer after it
//! committed) and the real `worktrace-server` process killed with SIGKILL in the middle of an
//! upload, on SQLite and PostgreSQL; PostgreSQL stopped under the server while a running agent
//! uploads. Whatever fails, every minute and every alert arrives once.

mod common;
mod company;
mod pc;

use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{wait_for, wait_for_app};
use company::{active_of, dashboard, usb_copy, window, Backend, Company, DAY, MIN, PASSWORD, T0};
use pc::{Desk, Keyring, Pc};
use worktrace_testkit::server::{self, ServerProcess};

/// A TCP proxy in front of the server that can swallow the server's answer to one request,
/// as a network failure after the server committed would.
struct Proxy {
    addr: SocketAddr,
    drop_next_answer: Arc<AtomicBool>,
}

impl Proxy {
    fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        let addr = listener.local_addr().expect("addr");
        let drop_next_answer = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&drop_next_answer);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let drop_answer = flag.swap(false, Ordering::SeqCst);
                pump(
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                if drop_answer {
                    std::thread::spawn(move || swallow(server, client));
                } else {
                    pump(server, client);
                }
            }
        });
        Proxy {
            addr,
            drop_next_answer,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}

/// Reads the server's answer and throws it away, then closes the client's connection.
fn swallow(mut server: TcpStream, client: TcpStream) {
    let mut buf = [0u8; 4096];
    let _ = server.read(&mut buf);
    let _ = client.shutdown(Shutdown::Both);
    let _ = server.shutdown(Shutdown::Both);
}

#[test]
fn a_lost_acknowledgement_is_resent_as_the_same_batch() {
    a_lost_acknowledgement_is_resent_as_the_same_batch_on(Backend::Sqlite);
}

#[test]
fn a_lost_acknowledgement_is_resent_as_the_same_batch_on_postgres() {
    a_lost_acknowledgement_is_resent_as_the_same_batch_on(Backend::Postgres);
}

fn a_lost_acknowledgement_is_resent_as_the_same_batch_on(backend: Backend) {
    let keyring = Keyring::start();
    let company = Company::on(backend);
    let proxy = Proxy::start(company.addr);
    let pc = Pc::new(&keyring);
    pc.enroll(&proxy.url(), &company.token());
    pc.append(&[window(T0, 20, "localc"), usb_copy(T0 + MIN, "clients.xlsx")]);

    proxy.drop_next_answer.store(true, Ordering::SeqCst);
    let err = pc.fails(&["sync", "--now"]);
    assert!(err.contains("cannot reach the server"), "{err}");
    let status = pc.ok(&["status"]);
    assert!(
        status.contains("batch 1 waits for the server's answer"),
        "the unanswered batch is kept: {status}"
    );
    assert_eq!(
        active_of(&company.day(), "localc"),
        20 * MIN,
        "the server did store the batch whose answer was lost"
    );

    // More work happens before the next round; it must go in a new batch.
    pc.append(&[window(T0 + 20 * MIN, 10, "localc")]);
    let out = pc.ok(&["sync", "--now"]);
    assert!(
        out.contains("sent 2 batches") && out.contains("1 the server already had"),
        "batch 1 is resent under its number, the new work goes in batch 2: {out}"
    );
    assert_eq!(
        active_of(&company.day(), "localc"),
        30 * MIN,
        "nothing counted twice, nothing missing"
    );
    assert_eq!(company.alerts().len(), 1, "the alert is stored once");
    let sent = pc.ok(&["sent"]);
    assert!(
        sent.contains("# batch 1 ") && sent.contains("sent again"),
        "the log says batch 1 was sent twice: {sent}"
    );
}

/// When the proxy kills the server during the next upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KillAt {
    /// Half of the request body has reached the server: nothing can have been stored.
    MidBody,
    /// The whole request went through and the server started answering (so it committed);
    /// the answer never reaches the PC.
    BeforeAnswer,
}

/// A TCP proxy that, when armed, SIGKILLs the server in the middle of the next request.
struct KillProxy {
    addr: SocketAddr,
    armed: Arc<std::sync::Mutex<Option<(KillAt, u32)>>>,
    killed: Arc<AtomicBool>,
}

/// Reads the request's head (up to the blank line) and its Content-Length.
fn read_head(client: &mut TcpStream) -> (Vec<u8>, usize) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match client.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (head, length)
}

impl KillProxy {
    fn start(upstream: SocketAddr) -> KillProxy {
        use std::io::Write;
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        let addr = listener.local_addr().expect("addr");
        let armed: Arc<std::sync::Mutex<Option<(KillAt, u32)>>> = Arc::default();
        let killed = Arc::new(AtomicBool::new(false));
        let (armed2, killed2) = (Arc::clone(&armed), Arc::clone(&killed));
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(mut server) = TcpStream::connect(upstream) else {
                    continue;
                };
                let plan = armed2.lock().expect("lock").take();
                let Some((at, pid)) = plan else {
                    pump(
                        client.try_clone().expect("clone"),
                        server.try_clone().expect("clone"),
                    );
                    pump(server, client);
                    continue;
                };
                let mut client = client;
                let (mut head, length) = read_head(&mut client);
                let mut body = vec![0u8; length];
                let _ = client.read_exact(&mut body);
                let _ = server.set_read_timeout(Some(Duration::from_secs(20)));
                match at {
                    KillAt::MidBody => {
                        // The server answers `100 Continue` when the handler starts to read
                        // the body: then half of it goes in, and the server is killed while
                        // it waits for the rest.
                        head.truncate(head.len().saturating_sub(2));
                        head.extend_from_slice(b"Expect: 100-continue\r\n\r\n");
                        let _ = server.write_all(&head);
                        let mut interim = [0u8; 25];
                        let read = server.read_exact(&mut interim);
                        assert!(
                            read.is_ok() && interim == *b"HTTP/1.1 100 Continue\r\n\r\n",
                            "the server did not start to read the body ({read:?}): {}",
                            String::from_utf8_lossy(&interim)
                        );
                        let _ = server.write_all(&body[..length / 2]);
                        let _ = server.flush();
                    }
                    KillAt::BeforeAnswer => {
                        let _ = server.write_all(&head);
                        let _ = server.write_all(&body);
                        let _ = server.flush();
                        let mut first = [0u8; 1];
                        let _ = server.read(&mut first);
                    }
                }
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
                killed2.store(true, Ordering::SeqCst);
                let _ = client.shutdown(Shutdown::Both);
            }
        });
        KillProxy {
            addr,
            armed,
            killed,
        }
    }

    fn arm(&self, at: KillAt, pid: u32) {
        self.killed.store(false, Ordering::SeqCst);
        *self.armed.lock().expect("lock") = Some((at, pid));
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// The real server process killed with SIGKILL in the middle of an upload (once while it
/// reads the body, once after it committed but before the PC has the answer), restarted on
/// the same database: after the PC retries, every minute and every alert is there once.
#[test]
fn a_server_killed_mid_upload_loses_nothing_and_doubles_nothing() {
    let keyring = Keyring::start();
    let bin = server::built_binary(
        "worktrace-server",
        "worktrace-server",
        &std::env::current_exe().expect("the test's path"),
        env!("CARGO"),
        env!("CARGO_MANIFEST_DIR"),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The records are dated in March 2025: keep them whatever today's date.
    let mut server = ServerProcess::new(bin).args(["--retention-days", "36500"]);
    server.admin(
        &[
            "create-admin",
            "--org",
            "Acme",
            "--email",
            "admin@acme.test",
            "--name",
            "Ada",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    server.admin(
        &["add-user", "--email", "anna@acme.test", "--name", "Anna"],
        None,
    );
    let token = server.admin(&["enrollment-token", "--email", "anna@acme.test"], None);
    server.start().unwrap_or_else(|e| panic!("{e}"));
    let proxy = KillProxy::start(server.addr());
    let pc = Pc::new(&keyring);
    pc.enroll(&proxy.url(), &token);
    let day_path = |server: &ServerProcess| {
        let people = dashboard(&server.url(), "/api/admin/users");
        let anna = people
            .as_array()
            .expect("people")
            .iter()
            .find(|p| p["email"] == "anna@acme.test")
            .and_then(|p| p["id"].as_i64())
            .expect("anna");
        format!("/api/people/{anna}/days/{DAY}")
    };

    let mut expected = 0;
    let mut alerts = 0;
    for (round, at) in [KillAt::MidBody, KillAt::BeforeAnswer]
        .into_iter()
        .enumerate()
    {
        let start = T0 + round as i64 * 60 * MIN;
        pc.append(&[
            window(start, 20, "localc"),
            usb_copy(start + MIN, &format!("export{round}.csv")),
        ]);
        expected += 20 * MIN;
        alerts += 1;
        proxy.arm(at, server.pid());
        let err = pc.fails(&["sync", "--now"]);
        assert!(
            proxy.killed.load(Ordering::SeqCst),
            "{at:?}: the server was killed during the upload"
        );
        assert!(
            err.contains("cannot reach the server") || err.contains("failed"),
            "{at:?}: the PC says the upload did not go through: {err}"
        );
        let status = server.wait();
        assert!(
            status.code().is_none(),
            "{at:?}: the server died of the signal, not by exiting: {status:?}"
        );
        server.start().unwrap_or_else(|e| panic!("{e}"));
        let out = pc.ok(&["sync", "--now"]);
        assert!(out.starts_with("sent 1 batches"), "{at:?}: resent: {out}");
        if at == KillAt::BeforeAnswer {
            assert!(
                out.contains("1 the server already had"),
                "{at:?}: the server had committed the batch, so the resend is a duplicate: {out}"
            );
        } else {
            assert!(
                !out.contains("already had"),
                "{at:?}: nothing was stored from half a body: {out}"
            );
        }
        let day = dashboard(&server.url(), &day_path(&server));
        assert_eq!(
            active_of(&day, "localc"),
            expected,
            "{at:?}: every minute once after the retry: {day}"
        );
        let stored = dashboard(
            &server.url(),
            "/api/alerts?include_acknowledged=true&include_folded=true&limit=200",
        );
        assert_eq!(
            stored["alerts"].as_array().map(Vec::len),
            Some(alerts),
            "{at:?}: every alert once: {stored}"
        );
    }
    assert!(pc.ok(&["status"]).contains("Queued: 0 items"));
}

/// PostgreSQL stopped under the server while a running agent uploads every second, on a real
/// display with the real keychain: its uploads are answered 503 with `Retry-After`, the agent
/// says why and keeps what it records meanwhile, and once the database is back its own
/// retries deliver everything once: the server holds the whole record chain and the day's
/// active time the PC has.
#[test]
fn a_running_agent_keeps_its_work_while_the_database_is_away_and_delivers_it_once() {
    let keyring = Keyring::start();
    let company = Company::on(Backend::Postgres);
    let x = worktrace_testkit::XSession::start().expect("a real X display (Xvfb + openbox)");
    let Desk {
        pc,
        alpha,
        beta,
        agent,
    } = Desk::start(&company.running_agent_settings(), &keyring, &x);
    // Each switch makes the span before it final, so there is something to upload.
    let switch = |w: &worktrace_testkit::TestWindow, app: &str| {
        x.activate(w).expect("focus");
        x.input().expect("input");
        wait_for_app(&pc.env.data_dir(), app);
    };
    switch(&alpha, "XTerm");
    switch(&beta, "betaapp");
    wait_for(Duration::from_secs(60), "the first upload", || {
        !pc.ok(&["status"]).contains("Last upload: never")
    });

    company.postgres().stop().expect("stop PostgreSQL");
    for (w, app) in [(&alpha, "XTerm"), (&beta, "betaapp"), (&alpha, "XTerm")] {
        switch(w, app);
    }
    wait_for(
        Duration::from_secs(60),
        "an upload refused while the database is away",
        || {
            let status = pc.ok(&["status"]);
            status.contains("HTTP 503") && status.contains("PostgreSQL")
        },
    );
    company
        .postgres()
        .start_again()
        .expect("start PostgreSQL again");
    // The agent's own retries (after at least the server's Retry-After) deliver the backlog.
    wait_for(Duration::from_secs(180), "the backlog delivered", || {
        let status = pc.ok(&["status"]);
        status.contains("Queued: 0 items\n") && !status.contains("Last error")
    });
    let out = agent.stop();
    assert!(out.status.success());
    // What the stop saved (the span in front) goes too.
    pc.ok(&["sync", "--now"]);

    let verify = pc.ok(&["verify"]);
    let records: i64 = verify
        .strip_prefix("ok: ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("verify counts the records: {verify}"));
    let server = company.server.as_ref().expect("running");
    let devices = company
        .rt
        .block_on(server.store.list_devices(company.admin.org_id))
        .expect("devices");
    assert_eq!(devices.len(), 1, "one PC: {devices:?}");
    assert_eq!(
        devices[0].chain_seq,
        Some(records),
        "every record of the chain reached the server"
    );
    let today = {
        let now = chrono::Utc::now().timestamp_millis();
        worktrace_store::DayClock::default()
            .work_day(now)
            .to_string()
    };
    let day = company.dashboard(&format!("/api/people/{}/days/{today}", company.employee.id));
    let local = pc.env.report_json(&["--by", "day"]);
    let local_ms = (common::total(&local, "active_seconds") * 1000.0).round() as i64;
    assert!(local_ms > 0, "the PC recorded active time: {local}");
    assert_eq!(
        day["totals"]["active_ms"].as_i64(),
        Some(local_ms),
        "the server has the day's active time the PC has, once: {day} {local}"
    );
}
