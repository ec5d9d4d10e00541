//! The PostgreSQL store over TLS, against a real cluster that accepts only TLS connections:
//! `sslmode=require` and `verify-full` with `sslrootcert` connect (and migrate), a CA that did
//! not sign the server's certificate is refused, and `sslmode=require` against a cluster
//! without TLS fails with a message that says so.

mod common;

use common::pg::PgCluster;
use worktrace_server::store;
use worktrace_testkit::tls::TestPki;

fn pki() -> TestPki {
    TestPki::new().unwrap_or_else(|e| panic!("{e}"))
}

async fn open_err(url: &str) -> String {
    match store::open(url).await {
        Ok(_) => panic!("{url} must not connect"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn the_store_connects_over_tls_as_sslmode_asks() {
    let pki = pki();
    let cluster = PgCluster::start_tls(&pki.server_cert, &pki.server_key)
        .unwrap_or_else(|e| panic!("PostgreSQL with TLS could not start: {e}"));
    let url = cluster
        .create_database("worktrace")
        .unwrap_or_else(|e| panic!("createdb: {e}"));

    // The cluster takes no unencrypted connection, so a working store proves TLS is in use.
    let err = open_err(&format!("{url}?sslmode=disable")).await;
    assert!(
        err.contains("pg_hba.conf") || err.contains("no encryption"),
        "the cluster refuses plain connections: {err}"
    );

    let s = store::open(&format!("{url}?sslmode=require"))
        .await
        .unwrap_or_else(|e| panic!("sslmode=require connects and migrates: {e}"));
    s.ping().await.expect("queries answer over TLS");
    drop(s);

    // Without sslmode the default is libpq's `prefer`: TLS when the server has it.
    let s = store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("the default (prefer) uses TLS here: {e}"));
    s.ping().await.expect("ping");
    drop(s);

    let ca = pki.ca_cert.display();
    let s = store::open(&format!("{url}?sslmode=verify-full&sslrootcert={ca}"))
        .await
        .unwrap_or_else(|e| panic!("verify-full with the CA connects: {e}"));
    s.ping().await.expect("ping");
    drop(s);

    let other = TestPki::new().unwrap_or_else(|e| panic!("{e}"));
    let err = open_err(&format!(
        "{url}?sslmode=verify-full&sslrootcert={}",
        other.ca_cert.display()
    ))
    .await;
    assert!(
        err.to_lowercase().contains("certificate"),
        "a CA that did not sign the server's certificate is refused: {err}"
    );
}

#[tokio::test]
async fn sslmode_require_fails_clearly_against_a_cluster_without_tls() {
    let cluster = PgCluster::start().unwrap_or_else(|e| panic!("PostgreSQL could not start: {e}"));
    let url = cluster
        .create_database("worktrace")
        .unwrap_or_else(|e| panic!("createdb: {e}"));
    let err = open_err(&format!("{url}?sslmode=require")).await;
    assert!(
        err.contains("TLS") && err.contains("sslmode"),
        "says the server has no TLS and what asked for it: {err}"
    );
}
