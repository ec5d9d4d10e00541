//! Schema migrations for every Worktrace database (the agent's SQLite file, the server's SQLite
//! file, the server's PostgreSQL database): numbered SQL files embedded in the binary, applied in
//! order, each in its own transaction together with the record of its version.
//!
//! A file is never edited once released: a database that has applied it never reads it again.
//! This crate decides only which migration comes next; the adapters ([`sqlite`], [`postgres`])
//! run it. It never reads the clock (the database records when a migration was applied).

#![forbid(unsafe_code)]

#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

/// The line a migration file holds when programs older than it keep working on the schema it
/// leaves (it only adds: a table, a nullable or defaulted column, an index). A file without it
/// changes what older programs rely on, and they refuse a database that has applied it.
pub const KEEPS_OLDER: &str = "-- worktrace: older versions keep working";

/// One numbered SQL file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// The number in the file's name: 1 for `0001_….sql`.
    pub version: i64,
    /// The file's text, embedded with `include_str!`.
    pub sql: &'static str,
}

/// A database's migrations, numbered 1, 2, 3, … without gaps (checked when the constant is
/// built, so a list that skips or repeats a number does not compile).
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    list: &'static [Migration],
}

impl Migration {
    /// Whether programs older than this migration keep working after it ([`KEEPS_OLDER`]).
    pub fn keeps_older(&self) -> bool {
        self.sql.lines().any(|line| line.trim() == KEEPS_OLDER)
    }
}

/// What to do with a database whose schema is newer than the newest migration this build has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnNewer {
    /// Refuse it: a newer program may have changed what its tables mean.
    Refuse,
    /// Use it as it is and apply nothing when every newer migration it records says older
    /// versions keep working ([`KEEPS_OLDER`]), refuse it otherwise (the server: API nodes of
    /// two versions share one database while they are upgraded one after another, as long as
    /// the newer one only added to the schema). Needs a ledger that records this per migration
    /// (the `schema_migrations` table).
    Open,
}

/// The database's schema is newer than this build knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Newer {
    /// The version the database records.
    pub found: i64,
    /// The newest version this build has.
    pub supported: i64,
    /// The first newer migration that changed what older versions rely on, when that is why
    /// the database is refused under [`OnNewer::Open`].
    pub breaking: Option<i64>,
}

/// A migration that did not apply; nothing of it was kept (its transaction was rolled back).
#[derive(Debug)]
pub enum Error<D, E> {
    /// The database's schema is newer than this build's, and [`OnNewer::Refuse`] was asked for.
    Newer(Newer),
    /// The database failed (reading the version, the migration's SQL, recording the version).
    Database(D),
    /// The caller's own step after a migration's SQL failed.
    Step(E),
}

impl<D, E> From<Newer> for Error<D, E> {
    fn from(newer: Newer) -> Self {
        Error::Newer(newer)
    }
}

impl Migrations {
    /// The list, checked: versions 1, 2, 3, … in order.
    ///
    /// ```
    /// use worktrace_migrate::{Migration, Migrations};
    /// const SET: Migrations = Migrations::new(&[
    ///     Migration { version: 1, sql: "CREATE TABLE a (x INTEGER);" },
    ///     Migration { version: 2, sql: "CREATE TABLE b (y INTEGER);" },
    /// ]);
    /// assert_eq!(SET.latest(), 2);
    /// ```
    pub const fn new(list: &'static [Migration]) -> Self {
        let mut i = 0;
        while i < list.len() {
            assert!(
                list[i].version == i as i64 + 1,
                "migrations are numbered 1, 2, 3, … in order, without gaps"
            );
            i += 1;
        }
        Migrations { list }
    }

    /// The newest version: the schema this build writes and understands.
    pub const fn latest(&self) -> i64 {
        self.list.len() as i64
    }

    /// Refuses a database at `current` when it is newer than this build and `on_newer` says so.
    pub fn check(&self, current: i64, on_newer: OnNewer) -> Result<(), Newer> {
        if current > self.latest() && on_newer == OnNewer::Refuse {
            return Err(Newer {
                found: current,
                supported: self.latest(),
                breaking: None,
            });
        }
        Ok(())
    }

    /// Under [`OnNewer::Open`], refuses a database at `current` whose first newer migration
    /// that changed what older versions rely on is `breaking` (none: it is opened as it is).
    pub fn refuse_breaking(&self, current: i64, breaking: Option<i64>) -> Result<(), Newer> {
        match breaking {
            Some(_) => Err(Newer {
                found: current,
                supported: self.latest(),
                breaking,
            }),
            None => Ok(()),
        }
    }

    /// The migration to apply next to a database at `current`, if any up to `target`.
    ///
    /// ```text
    /// migrations 1..=4, current 2, target 4  → 3
    /// migrations 1..=4, current 2, target 2  → none
    /// migrations 1..=4, current 4            → none
    /// migrations 1..=4, current 5            → Newer {found 5, supported 4} (Refuse) or none (Open)
    /// ```
    pub fn next(
        &self,
        current: i64,
        target: i64,
        on_newer: OnNewer,
    ) -> Result<Option<&'static Migration>, Newer> {
        self.check(current, on_newer)?;
        let list: &'static [Migration] = self.list;
        Ok(list
            .iter()
            .find(|m| m.version > current && m.version <= target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SET: Migrations = Migrations::new(&[
        Migration {
            version: 1,
            sql: "1",
        },
        Migration {
            version: 2,
            sql: "2",
        },
        Migration {
            version: 3,
            sql: "3",
        },
        Migration {
            version: 4,
            sql: "4",
        },
    ]);

    #[test]
    fn the_next_migration_follows_the_current_version_up_to_the_target() {
        let cases = [
            (0, 4, Some(1)),
            (2, 4, Some(3)),
            (2, 2, None),
            (2, 3, Some(3)),
            (4, 4, None),
            (0, 0, None),
        ];
        for (current, target, want) in cases {
            let got = SET
                .next(current, target, OnNewer::Refuse)
                .expect("not newer")
                .map(|m| m.version);
            assert_eq!(
                got, want,
                "at {current} up to {target}, the next is the lowest version above current"
            );
        }
    }

    #[test]
    fn a_migration_keeps_older_versions_working_only_when_its_file_says_so() {
        let kept = Migration {
            version: 1,
            sql: "-- adds a table\n-- worktrace: older versions keep working\nCREATE TABLE t (x INT);",
        };
        let changed = Migration {
            version: 2,
            sql: "ALTER TABLE t DROP COLUMN x; -- worktrace: older versions keep working",
        };
        assert!(kept.keeps_older());
        assert!(
            !changed.keeps_older(),
            "the marker is a line of its own, not text after a statement"
        );
    }

    #[test]
    fn a_newer_database_is_refused_or_opened_as_asked() {
        assert_eq!(
            SET.next(5, 4, OnNewer::Refuse),
            Err(Newer {
                found: 5,
                supported: 4,
                breaking: None,
            }),
            "a schema this build does not know is refused"
        );
        assert_eq!(
            SET.next(5, 4, OnNewer::Open),
            Ok(None),
            "opened as it is, nothing applied"
        );
    }
}
