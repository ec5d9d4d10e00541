//! Graceful shutdown over a real socket: a request in flight when shutdown begins still gets
//! its answer, and the server then stops.

mod common;

use common::world::{batch, World};
use common::Backend;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.expect("headers");
    conn.write_all(first).await.expect("first half");
    conn.flush().await.expect("flush");
    // Let the server start on the request before shutdown begins.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let addr = w.server.addr;
    let stopping = tokio::spawn(w.server.shutdown());
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
