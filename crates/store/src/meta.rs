//! The `meta` table: the database's own small facts (chain head, rollup clock, outbox
//! counters), one value per key.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Failure;

/// An integer fact.
pub(crate) fn meta_i64(conn: &Connection, key: &str) -> Result<Option<i64>, Failure> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// A text fact.
pub(crate) fn meta_text(conn: &Connection, key: &str) -> Result<Option<String>, Failure> {
    Ok(conn
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()?)
}

/// Sets a fact.
pub(crate) fn set_meta(
    conn: &Connection,
    key: &str,
    value: &dyn rusqlite::ToSql,
) -> Result<(), Failure> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}
