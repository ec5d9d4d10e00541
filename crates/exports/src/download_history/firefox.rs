//! A download in Firefox's `places.sqlite`: the page (`moz_places.url`, the download's address)
//! that carries a `downloads/destinationFileURI` annotation naming the file, as a `file:` URI.
//! Firefox notes no referrer there.
//! Tried with a real Firefox ESR 153 (Debian 12), which writes the annotation about 0.3 s after
//! the file is complete, into its WAL (see `tests/provenance.rs`).

use std::path::Path;

use rusqlite::Connection;

use super::Unreadable;
use crate::provenance::Origin;

/// The downloads' addresses and destinations, newest first. Firefox escapes a `file:` URI its
/// own way, so the destinations are compared as paths, after decoding, not as text.
const QUERY: &str = "SELECT p.url, a.content FROM moz_annos a \
     JOIN moz_anno_attributes n ON n.id = a.anno_attribute_id \
     JOIN moz_places p ON p.id = a.place_id \
     WHERE n.name = 'downloads/destinationFileURI' \
     ORDER BY a.dateAdded DESC LIMIT ?1";

/// Downloads compared at most (Firefox expires its download history; this bounds a large one).
const MAX_DOWNLOADS: i64 = 10_000;

/// The origin the history notes for the file at `path`; `None` when no download was saved
/// there.
pub(super) fn origin_of(db: &Connection, path: &Path) -> Result<Option<Origin>, Unreadable> {
    let mut statement = db.prepare(QUERY)?;
    let mut rows = statement.query([MAX_DOWNLOADS])?;
    while let Some(row) = rows.next()? {
        let (Some(url), Some(destination)) = (
            row.get::<_, Option<String>>(0)?,
            row.get::<_, Option<String>>(1)?,
        ) else {
            continue;
        };
        if names(&destination, path) {
            return Ok(Some(Origin {
                url: Some(url),
                referrer: None,
            }));
        }
    }
    Ok(None)
}

/// Whether the `file:` URI `uri` names `path`.
///
/// ```text
/// file:///home/a/Downloads/%D0%9A%D0%BB%D0%B8%D0%B5%D0%BD%D1%82%D1%8B.csv, /home/a/Downloads/Клиенты.csv → true
/// file:///home/a/Downloads/clients.csv, /home/a/Downloads/clients(1).csv                   → false
/// ```
fn names(uri: &str, path: &Path) -> bool {
    url::Url::parse(uri)
        .ok()
        .filter(|u| u.scheme() == "file")
        .and_then(|u| u.to_file_path().ok())
        .is_some_and(|p| p == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three tables involved, with the columns a real Firefox ESR 153 made (its
    /// `origin_id` refers to `moz_origins`, left out here).
    const SCHEMA: &str = "
        CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, title LONGVARCHAR,
          rev_host LONGVARCHAR, visit_count INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL,
          typed INTEGER DEFAULT 0 NOT NULL, frecency INTEGER DEFAULT -1 NOT NULL,
          last_visit_date INTEGER, guid TEXT, foreign_count INTEGER DEFAULT 0 NOT NULL,
          url_hash INTEGER DEFAULT 0 NOT NULL, description TEXT, preview_image_url TEXT,
          site_name TEXT, origin_id INTEGER, recalc_frecency INTEGER NOT NULL DEFAULT 0,
          alt_frecency INTEGER, recalc_alt_frecency INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE moz_anno_attributes (id INTEGER PRIMARY KEY, name VARCHAR(32) UNIQUE NOT NULL);
        CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER NOT NULL,
          anno_attribute_id INTEGER, content LONGVARCHAR, flags INTEGER DEFAULT 0,
          expiration INTEGER DEFAULT 0, type INTEGER DEFAULT 0, dateAdded INTEGER DEFAULT 0,
          lastModified INTEGER DEFAULT 0);";

    #[cfg(unix)]
    #[test]
    fn a_download_is_found_by_its_destination_file() {
        let db = Connection::open_in_memory().expect("in-memory database");
        db.execute_batch(SCHEMA).expect("Firefox's schema");
        db.execute_batch(
            "INSERT INTO moz_anno_attributes VALUES (1, 'downloads/destinationFileURI'),
                                                    (2, 'downloads/metaData');
             INSERT INTO moz_places (id, url) VALUES
               (1, 'https://acme.amocrm.ru/export/leads.csv'),
               (2, 'https://crm.acme.test/older.csv');
             INSERT INTO moz_annos (place_id, anno_attribute_id, content, dateAdded) VALUES
               (1, 1, 'file:///home/a/Downloads/%D0%9A%D0%BB%D0%B8%D0%B5%D0%BD%D1%82%D1%8B.csv', 20),
               (1, 2, '{\"state\":1,\"endTime\":1764590000000,\"fileSize\":54}', 20),
               (2, 1, 'file:///home/a/Downloads/clients.csv', 10);",
        )
        .expect("two downloads");
        let found = origin_of(&db, Path::new("/home/a/Downloads/Клиенты.csv")).expect("query");
        assert_eq!(
            found.and_then(|o| o.url).as_deref(),
            Some("https://acme.amocrm.ru/export/leads.csv"),
            "its escaped file URI names the file"
        );
        let found = origin_of(&db, Path::new("/home/a/Downloads/clients.csv")).expect("query");
        assert_eq!(
            found.and_then(|o| o.url).as_deref(),
            Some("https://crm.acme.test/older.csv")
        );
        assert_eq!(
            origin_of(&db, Path::new("/home/a/Downloads/clients(1).csv")).expect("query"),
            None,
            "only the exact path matches"
        );
    }

    #[test]
    fn a_file_uri_names_only_its_own_path() {
        assert!(
            !names("https://x.test/a.csv", Path::new("/a.csv")),
            "not a file URI"
        );
        assert!(!names("not a uri", Path::new("/a.csv")));
    }
}
