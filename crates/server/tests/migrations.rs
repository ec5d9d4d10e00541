//! Schema upgrades on both databases: a database left by an older server, with the migrations it
//! knew recorded the way it recorded them, opens with its data and migrates the rest.

mod common;

use common::Backend;
use worktrace_server::model::{NewUser, Role};

/// The migration files of a backend, in order (`migrations/server/<backend>/NNNN_*.sql`).
fn files(backend: &str) -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations/server")
        .join(backend);
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("migration file"))
        .collect()
}

/// Schema 2 as an older server left it: the first two files applied in one transaction, each
/// recorded in `schema_migrations`, and an organisation with one person stored.
const OLD: usize = 2;

const OLD_DATA: &str = "INSERT INTO orgs (name, created_at) VALUES ('Acme', 1);
     INSERT INTO users (org_id, email, display_name, role, created_at)
     SELECT id, 'ann@acme.test', 'Ann', 'lead', 1 FROM orgs WHERE name = 'Acme';";

fn create_old_sqlite(path: &str) {
    let mut conn = rusqlite::Connection::open(path).expect("open the SQLite file");
    let tx = conn.transaction().expect("transaction");
    tx.execute_batch(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )
    .expect("version table");
    for (i, sql) in files("sqlite").iter().take(OLD).enumerate() {
        tx.execute_batch(sql).expect("old migration");
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, 1)",
            [i as i64 + 1],
        )
        .expect("record it");
    }
    tx.execute_batch(OLD_DATA).expect("old data");
    tx.commit().expect("commit");
}

async fn create_old_postgres(url: &str) -> tokio_postgres::Client {
    let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(connection);
    let tx = client.transaction().await.expect("transaction");
    tx.batch_execute(
        "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await
    .expect("version table");
    for (i, sql) in files("postgres").iter().take(OLD).enumerate() {
        tx.batch_execute(sql).await.expect("old migration");
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 1)",
            &[&(i as i64 + 1)],
        )
        .await
        .expect("record it");
    }
    tx.batch_execute(OLD_DATA).await.expect("old data");
    tx.commit().await.expect("commit");
    client
}

/// The versions recorded, in order.
async fn recorded(backend: Backend, url: &str, pg: Option<&tokio_postgres::Client>) -> Vec<i64> {
    let sql = "SELECT version FROM schema_migrations ORDER BY version";
    match (backend, pg) {
        (Backend::Postgres, Some(client)) => client
            .query(sql, &[])
            .await
            .expect("versions")
            .iter()
            .map(|r| r.get(0))
            .collect(),
        _ => {
            let path = url.strip_prefix("sqlite://").expect("a sqlite:// URL");
            let conn = rusqlite::Connection::open(path).expect("open");
            let mut st = conn.prepare(sql).expect("prepare");
            let rows = st.query_map([], |r| r.get(0)).expect("versions");
            rows.collect::<Result<_, _>>().expect("versions")
        }
    }
}

/// Runs `sql` on the database.
async fn execute(url: &str, pg: Option<&tokio_postgres::Client>, sql: &str) {
    match pg {
        Some(client) => {
            client.batch_execute(sql).await.expect("the statement");
        }
        None => {
            let path = url.strip_prefix("sqlite://").expect("a sqlite:// URL");
            let conn = rusqlite::Connection::open(path).expect("open");
            conn.execute_batch(sql).expect("the statement");
        }
    }
}

async fn an_old_database_opens_and_migrates(backend: Backend) {
    let (url, _guard) = common::database(backend);
    let name = if backend == Backend::Sqlite {
        "sqlite"
    } else {
        "postgres"
    };
    let pg = match backend {
        Backend::Sqlite => {
            create_old_sqlite(url.strip_prefix("sqlite://").expect("a sqlite:// URL"));
            None
        }
        Backend::Postgres => Some(create_old_postgres(&url).await),
    };
    let all: Vec<i64> = (1..=files(name).len() as i64).collect();

    let store = worktrace_server::store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("an old {backend:?} database opens: {e}"));
    assert_eq!(
        recorded(backend, &url, pg.as_ref()).await,
        all,
        "the old versions stay recorded once and the newer ones are added, on {backend:?}"
    );
    let (ann, _) = store
        .user_by_email("ann@acme.test")
        .await
        .expect("read")
        .expect("the person stored under schema 2 is still there");
    assert_eq!(
        (ann.display_name.as_str(), ann.role, ann.deactivated_at),
        ("Ann", Role::Lead, None),
        "the old row reads through the new schema (a later migration added deactivated_at)"
    );
    let org = store
        .org_by_name("Acme")
        .await
        .expect("read")
        .expect("the organisation stored under schema 2");
    assert_eq!(ann.org_id, org, "the person still belongs to it");
    let team = store
        .create_team(org, "Sales", 2, &common::cli_change(org, "team"))
        .await
        .expect("a new write");
    let bob = store
        .create_user(
            &NewUser {
                org_id: org,
                email: "bob@acme.test".into(),
                display_name: "Bob".into(),
                role: Role::Employee,
                password_hash: None,
            },
            2,
            &common::cli_change(org, "user"),
        )
        .await
        .expect("a new person next to the old one");
    store
        .add_member(
            team.id,
            bob.id,
            false,
            &common::cli_change(org, "membership"),
        )
        .await
        .expect("member");
    drop(store);

    let store = worktrace_server::store::open(&url)
        .await
        .expect("reopened: nothing left to migrate");
    assert_eq!(
        recorded(backend, &url, pg.as_ref()).await,
        all,
        "a second open applies nothing again"
    );
    assert_eq!(
        store.team_members(team.id).await.expect("members").len(),
        1,
        "what was written after the upgrade survives a reopen"
    );
    drop(store);

    // A newer server migrated the database further. One migration that only added (its file
    // says older versions keep working): this server still serves it.
    let latest = *all.last().expect("migrations");
    execute(
        &url,
        pg.as_ref(),
        &format!(
            "INSERT INTO schema_migrations (version, applied_at, keeps_older) VALUES ({}, 1, TRUE)",
            latest + 1
        ),
    )
    .await;
    let store = worktrace_server::store::open(&url)
        .await
        .unwrap_or_else(|e| panic!("a schema that only grew is served on {backend:?}: {e}"));
    assert_eq!(
        store.team_members(team.id).await.expect("members").len(),
        1,
        "and read as before"
    );
    drop(store);
    // Then one that changed what this version relies on: refused, saying which and what to do.
    execute(
        &url,
        pg.as_ref(),
        &format!(
            "INSERT INTO schema_migrations (version, applied_at, keeps_older) VALUES ({}, 1, FALSE)",
            latest + 2
        ),
    )
    .await;
    let refused = worktrace_server::store::open(&url)
        .await
        .err()
        .unwrap_or_else(|| panic!("a changed schema is refused on {backend:?}"))
        .to_string();
    assert!(
        refused.contains(&format!("version {}", latest + 2))
            && refused.contains(&format!("migration {}", latest + 2))
            && refused.contains("update it"),
        "{refused}"
    );
}

#[tokio::test]
async fn an_old_sqlite_database_opens_and_migrates() {
    an_old_database_opens_and_migrates(Backend::Sqlite).await;
}

#[tokio::test]
async fn an_old_postgres_database_opens_and_migrates() {
    an_old_database_opens_and_migrates(Backend::Postgres).await;
}

/// Three nodes starting at once against an empty database: the advisory lock lets one migrate
/// at a time, so each migration is applied and recorded once and every node opens.
#[tokio::test]
async fn nodes_starting_together_on_an_empty_postgres_migrate_it_once() {
    let (url, _guard) = common::database(Backend::Postgres);
    let (a, b, c) = tokio::join!(
        worktrace_server::store::open(&url),
        worktrace_server::store::open(&url),
        worktrace_server::store::open(&url)
    );
    for (node, opened) in [("first", a), ("second", b), ("third", c)] {
        opened.unwrap_or_else(|e| panic!("the {node} node opens: {e}"));
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .expect("connect to PostgreSQL");
    tokio::spawn(connection);
    let all: Vec<i64> = (1..=files("postgres").len() as i64).collect();
    assert_eq!(
        recorded(Backend::Postgres, &url, Some(&client)).await,
        all,
        "every migration recorded once"
    );
}
