//! Shared test support: real stores on both backends (a temp SQLite file, a throwaway
//! PostgreSQL cluster).

#![allow(dead_code)]

pub use worktrace_testkit::pg;
pub mod world;

use worktrace_server::store::{self, Store};

/// Which database a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Keeps a backend's files and server alive for as long as the test holds it.
#[derive(Debug)]
pub enum Guard {
    Sqlite(tempfile::TempDir),
    Postgres(pg::PgCluster),
}

/// A database URL on a fresh, empty database of the given backend. Never skips: a backend that
/// cannot start fails the test with the reason.
pub fn database(backend: Backend) -> (String, Guard) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir for the SQLite file");
            let url = format!("sqlite://{}", dir.path().join("server.db").display());
            (url, Guard::Sqlite(dir))
        }
        Backend::Postgres => {
            let cluster = pg::PgCluster::start()
                .unwrap_or_else(|e| panic!("PostgreSQL could not start for the test: {e}"));
            let url = cluster
                .create_database("worktrace")
                .unwrap_or_else(|e| panic!("could not create the test database: {e}"));
            (url, Guard::Postgres(cluster))
        }
    }
}

/// An opened, migrated store on a fresh database.
pub async fn open_store(backend: Backend) -> (Store, Guard) {
    let (url, guard) = database(backend);
    let store = store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("open {backend:?} store: {e}"));
    (store, guard)
}

/// The audit entry of a change a test makes straight on the store, as the server CLI.
pub fn cli_change(org: i64, kind: &'static str) -> worktrace_server::model::ChangeEntry {
    use worktrace_server::model::{Actor, ChangeEntry, Target};
    ChangeEntry::new(
        org,
        1,
        Actor::ServerCli,
        "test_change",
        Target {
            kind,
            id: None,
            name: "test".into(),
        },
        None,
        None,
    )
}
