//! Migrations on a rusqlite connection: each one in an IMMEDIATE transaction, so the version is
//! read again under the write lock (another process may have migrated meanwhile) and the SQL,
//! the caller's step and the new version commit together or not at all.

use rusqlite::{Connection, TransactionBehavior};

use crate::{Error, Migration, Migrations, OnNewer};

/// Where an SQLite database records its schema version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ledger {
    /// `PRAGMA user_version` in the file's header (the agent's database).
    UserVersion,
    /// A `schema_migrations (version, applied_at, keeps_older)` table, a row per applied
    /// migration with the time it was applied in UTC milliseconds and whether older versions
    /// keep working after it (the server's database).
    Table,
}

impl Ledger {
    fn current(self, conn: &Connection) -> rusqlite::Result<i64> {
        match self {
            Ledger::UserVersion => conn.pragma_query_value(None, "user_version", |r| r.get(0)),
            Ledger::Table => {
                conn.execute_batch(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (
                        version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL,
                        keeps_older INTEGER NOT NULL DEFAULT 0)",
                )?;
                // A ledger written before the column existed: its migrations count as changing
                // what older versions rely on.
                let has_column: bool = conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM pragma_table_info('schema_migrations')
                                    WHERE name = 'keeps_older')",
                    [],
                    |r| r.get(0),
                )?;
                if !has_column {
                    conn.execute_batch(
                        "ALTER TABLE schema_migrations
                         ADD COLUMN keeps_older INTEGER NOT NULL DEFAULT 0",
                    )?;
                }
                conn.query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                    [],
                    |r| r.get(0),
                )
            }
        }
    }

    fn record(self, conn: &Connection, migration: &Migration) -> rusqlite::Result<()> {
        match self {
            Ledger::UserVersion => conn.pragma_update(None, "user_version", migration.version),
            Ledger::Table => conn
                .execute(
                    "INSERT INTO schema_migrations (version, applied_at, keeps_older)
                     VALUES (?1, strftime('%s','now') * 1000, ?2)",
                    rusqlite::params![migration.version, migration.keeps_older()],
                )
                .map(|_| ()),
        }
    }

    /// The first migration after `latest` that older versions cannot serve (only the table
    /// records it; `user_version` has no such record).
    fn first_breaking(self, conn: &Connection, latest: i64) -> rusqlite::Result<Option<i64>> {
        match self {
            Ledger::UserVersion => Ok(None),
            Ledger::Table => conn.query_row(
                "SELECT MIN(version) FROM schema_migrations WHERE version > ?1 AND NOT keeps_older",
                [latest],
                |r| r.get(0),
            ),
        }
    }
}

/// The version `conn` records (0 for a new database).
pub fn current(conn: &Connection, ledger: Ledger) -> rusqlite::Result<i64> {
    match ledger {
        Ledger::UserVersion => ledger.current(conn),
        // Never creates the table outside a migration's transaction.
        Ledger::Table => {
            let exists: bool = conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE name = 'schema_migrations')",
                [],
                |r| r.get(0),
            )?;
            if exists {
                conn.query_row(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                    [],
                    |r| r.get(0),
                )
            } else {
                Ok(0)
            }
        }
    }
}

/// Applies the migrations after the database's version, up to `target`, one transaction each.
/// `after` runs inside a migration's transaction, after its SQL: for work SQL cannot do (say,
/// computing rows of a new table from the old ones in Rust).
pub fn migrate<E>(
    conn: &mut Connection,
    set: &Migrations,
    ledger: Ledger,
    target: i64,
    on_newer: OnNewer,
    mut after: impl FnMut(&Connection, &Migration) -> Result<(), E>,
) -> Result<(), Error<rusqlite::Error, E>> {
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(Error::Database)?;
        let current = ledger.current(&tx).map_err(Error::Database)?;
        if current > set.latest() && on_newer == OnNewer::Open {
            let breaking = ledger
                .first_breaking(&tx, set.latest())
                .map_err(Error::Database)?;
            set.refuse_breaking(current, breaking)?;
        }
        let Some(migration) = set.next(current, target, on_newer)? else {
            return tx.commit().map_err(Error::Database);
        };
        tx.execute_batch(migration.sql).map_err(Error::Database)?;
        after(&tx, migration).map_err(Error::Step)?;
        ledger.record(&tx, migration).map_err(Error::Database)?;
        tx.commit().map_err(Error::Database)?;
    }
}

/// Makes the database's folder and file private to the user before SQLite opens it: the folder
/// `0700` and the file `0600` (created empty when missing; SQLite gives its `-wal` and `-shm`
/// files the database file's mode). Existing ones are narrowed too, so an upgrade closes what
/// an older version left open. Does nothing on systems without Unix modes.
pub fn make_private(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Newer;

    const SET: Migrations = Migrations::new(&[
        Migration {
            version: 1,
            sql: "CREATE TABLE a (x INTEGER);",
        },
        Migration {
            version: 2,
            sql: "CREATE TABLE b (y INTEGER);",
        },
    ]);

    fn none(_: &Connection, _: &Migration) -> Result<(), ()> {
        Ok(())
    }

    #[test]
    fn both_ledgers_apply_each_migration_once_and_record_it() {
        for ledger in [Ledger::UserVersion, Ledger::Table] {
            let mut conn = Connection::open_in_memory().expect("memory database");
            migrate(&mut conn, &SET, ledger, 1, OnNewer::Refuse, none).expect("up to 1");
            assert_eq!(
                current(&conn, ledger).expect("version"),
                1,
                "stopped at the target"
            );
            migrate(&mut conn, &SET, ledger, 2, OnNewer::Refuse, none).expect("up to 2");
            migrate(&mut conn, &SET, ledger, 2, OnNewer::Refuse, none)
                .expect("again: nothing to apply, so no `table a exists` error");
            assert_eq!(current(&conn, ledger).expect("version"), 2, "{ledger:?}");
        }
    }

    #[test]
    fn a_failed_step_keeps_nothing_of_its_migration() {
        let mut conn = Connection::open_in_memory().expect("memory database");
        let failed = migrate(
            &mut conn,
            &SET,
            Ledger::Table,
            2,
            OnNewer::Refuse,
            |_, m| {
                if m.version == 2 {
                    Err("no")
                } else {
                    Ok(())
                }
            },
        );
        assert!(matches!(failed, Err(Error::Step("no"))), "{failed:?}");
        assert_eq!(
            current(&conn, Ledger::Table).expect("version"),
            1,
            "migration 1 committed on its own; 2 rolled back with its step"
        );
        let b: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'b'",
                [],
                |r| r.get(0),
            )
            .expect("schema");
        assert_eq!(b, 0, "the failed migration's table was rolled back");
    }

    #[test]
    fn a_newer_database_is_refused_unless_opened_as_it_is() {
        let mut conn = Connection::open_in_memory().expect("memory database");
        conn.pragma_update(None, "user_version", 7)
            .expect("pretend a newer build");
        let refused = migrate(
            &mut conn,
            &SET,
            Ledger::UserVersion,
            2,
            OnNewer::Refuse,
            none,
        );
        assert!(
            matches!(
                refused,
                Err(Error::Newer(Newer {
                    found: 7,
                    supported: 2,
                    breaking: None,
                }))
            ),
            "{refused:?}"
        );
        migrate(&mut conn, &SET, Ledger::UserVersion, 2, OnNewer::Open, none)
            .expect("opened as it is");
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .expect("schema");
        assert_eq!(tables, 0, "nothing applied to a newer database");
    }

    #[test]
    fn an_older_server_opens_a_newer_table_only_when_every_newer_migration_keeps_it_working() {
        const NEWER: Migrations = Migrations::new(&[
            Migration {
                version: 1,
                sql: "CREATE TABLE a (x INTEGER);",
            },
            Migration {
                version: 2,
                sql: "CREATE TABLE b (y INTEGER);",
            },
            Migration {
                version: 3,
                sql: "-- worktrace: older versions keep working\nCREATE TABLE c (z INTEGER);",
            },
            Migration {
                version: 4,
                sql: "-- worktrace: older versions keep working\nCREATE INDEX a_x ON a (x);",
            },
        ]);
        let mut conn = Connection::open_in_memory().expect("memory database");
        migrate(&mut conn, &NEWER, Ledger::Table, 4, OnNewer::Open, none).expect("newer build");
        // Migrations 3 and 4 only add: a build that knows 1–2 serves the database.
        migrate(&mut conn, &SET, Ledger::Table, 2, OnNewer::Open, none)
            .expect("an older build opens a schema that only grew");
        // One that knows only 1 meets migration 2, which did not say it keeps older ones working.
        const OLDEST: Migrations = Migrations::new(&[Migration {
            version: 1,
            sql: "CREATE TABLE a (x INTEGER);",
        }]);
        let refused = migrate(&mut conn, &OLDEST, Ledger::Table, 1, OnNewer::Open, none);
        assert!(
            matches!(
                refused,
                Err(Error::Newer(Newer {
                    found: 4,
                    supported: 1,
                    breaking: Some(2),
                }))
            ),
            "{refused:?}"
        );
    }
}
