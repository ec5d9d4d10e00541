//! Graceful shutdown over a real socket: a request in flight when shutdown begins still gets
//! its answer, and the server then stops.

mod common;

use common::world::{batch, World};
use common::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// How long the test waits for the server to do each thing it must.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(20);

#[tokio::test]
async fn requests_in_flight_finish_during_shutdown() {
    let w = World::start(Backend::Sqlite).await;
    let admin = w.login("admin@acme.test").await;
    let (_, secret) = w.enroll(&admin, &w.emp_a).await;
    let body = serde_json::to_vec(&batch(1, 1, &[("app", 5, 1)], None)).expect("json");
    let (first, rest) = body.split_at(body.len() / 2);

    let mut conn = tokio::net::TcpStream::connect(w.server.addr)
        .await
        .expect("connect");
    let head = format!(
        "POST /api/ingest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.expect("headers");
    conn.flush().await.expect("flush");
    // The server answers `100 Continue` once it has taken the request and its handler starts
    // to read the body: from then on the request is in flight.
    let mut interim = [0u8; 25];
    tokio::time::timeout(LIMIT, conn.read_exact(&mut interim))
        .await
        .expect("the server never started to read the request's body (no 100 Continue)")
        .expect("read the interim answer");
    assert_eq!(
        &interim, b"HTTP/1.1 100 Continue\r\n\r\n",
        "the handler asks for the body"
    );
    conn.write_all(first).await.expect("first half");
    conn.flush().await.expect("flush");

    let addr = w.server.addr;
    let stopping = tokio::spawn(w.server.shutdown());
    // Shutdown has begun once the listener is closed.
    let until = tokio::time::Instant::now() + LIMIT;
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        assert!(
            tokio::time::Instant::now() < until,
            "the server still accepted connections {LIMIT:?} after shutdown began"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    // A shutdown that did not wait would end right after closing the listener, and nothing
    // the server does afterwards marks "it would have ended by now": only time can show that
    // it does not end, so it gets 300 ms to.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !stopping.is_finished(),
        "shutdown waits for the request in flight"
    );
    conn.write_all(rest).await.expect("second half");
    let mut response = String::new();
    conn.read_to_string(&mut response).await.expect("response");
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "the in-flight request is answered: {response}"
    );
    stopping.await.expect("join").expect("clean shutdown");
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "after shutdown no new connections are accepted"
    );
}
