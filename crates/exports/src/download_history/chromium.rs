//! A download in a Chromium-family browser's `History` database (Chromium, Chrome, Edge, Brave,
//! Yandex Browser, Opera, Vivaldi): the `downloads` row whose `target_path` (where the browser
//! saved it) or `current_path` (where it last saw it) is the file's path, and the last address
//! of its redirect chain in `downloads_url_chains`.

use rusqlite::{Connection, OptionalExtension};

use super::Unreadable;
use crate::provenance::Origin;

/// The newest download saved at `path`, with the end of its redirect chain.
const QUERY: &str = "SELECT d.referrer, d.tab_url, d.tab_referrer_url, \
       (SELECT c.url FROM downloads_url_chains c WHERE c.id = d.id \
        ORDER BY c.chain_index DESC LIMIT 1) \
     FROM downloads d WHERE d.target_path = ?1 OR d.current_path = ?1 \
     ORDER BY d.id DESC LIMIT 1";

/// The origin the history notes for the file at `path`; `None` when no download was saved
/// there.
pub(super) fn origin_of(db: &Connection, path: &str) -> Result<Option<Origin>, Unreadable> {
    let row = db
        .query_row(QUERY, [path], |r| {
            Ok(Row {
                referrer: r.get(0)?,
                tab_url: r.get(1)?,
                tab_referrer_url: r.get(2)?,
                final_url: r.get(3)?,
            })
        })
        .optional()?;
    Ok(row.map(|r| r.origin()))
}

/// The columns of one download that say where it came from.
#[derive(Debug, Default)]
struct Row {
    referrer: Option<String>,
    tab_url: Option<String>,
    tab_referrer_url: Option<String>,
    final_url: Option<String>,
}

impl Row {
    /// The download's address is the end of its redirect chain; the page that linked to it is
    /// the request's referrer, else the page of the tab it started in, else that page's own
    /// referrer (a download started by a script on a page names no referrer).
    ///
    /// ```text
    /// chain …/export/contacts, referrer "", tab https://acme.bitrix24.ru/crm/contact/
    ///   → url …/export/contacts, referrer https://acme.bitrix24.ru/crm/contact/
    /// ```
    fn origin(self) -> Origin {
        let present = |s: Option<String>| s.filter(|s| !s.is_empty() && s.len() <= MAX_URL);
        Origin {
            url: present(self.final_url),
            referrer: present(self.referrer)
                .or(present(self.tab_url))
                .or(present(self.tab_referrer_url)),
        }
    }
}

/// Longest address taken from the history, as from an attribute.
const MAX_URL: usize = 8 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    /// The two tables as Chromium 156 (history schema version 70) creates them.
    const SCHEMA: &str = "CREATE TABLE downloads (id INTEGER PRIMARY KEY,guid VARCHAR NOT \
        NULL,current_path LONGVARCHAR NOT NULL,target_path LONGVARCHAR NOT NULL,start_time \
        INTEGER NOT NULL,received_bytes INTEGER NOT NULL,total_bytes INTEGER NOT NULL,state \
        INTEGER NOT NULL,danger_type INTEGER NOT NULL,interrupt_reason INTEGER NOT NULL,hash \
        BLOB NOT NULL,end_time INTEGER NOT NULL,opened INTEGER NOT NULL,last_access_time \
        INTEGER NOT NULL,transient INTEGER NOT NULL,referrer VARCHAR NOT NULL,site_url VARCHAR \
        NOT NULL,embedder_download_data VARCHAR NOT NULL,tab_url VARCHAR NOT \
        NULL,tab_referrer_url VARCHAR NOT NULL,http_method VARCHAR NOT NULL,by_ext_id VARCHAR \
        NOT NULL,by_ext_name VARCHAR NOT NULL,by_web_app_id VARCHAR NOT NULL,etag VARCHAR NOT \
        NULL,last_modified VARCHAR NOT NULL,mime_type VARCHAR(255) NOT \
        NULL,original_mime_type VARCHAR(255) NOT NULL);
        CREATE TABLE downloads_url_chains (id INTEGER NOT NULL,chain_index INTEGER NOT \
        NULL,url LONGVARCHAR NOT NULL, PRIMARY KEY (id, chain_index) );";

    fn download(db: &Connection, id: i64, current: &str, target: &str, tab: &str, chain: &[&str]) {
        db.execute(
            "INSERT INTO downloads VALUES (?1, 'g', ?2, ?3, 0, 54, 54, 1, 0, 0, x'', 0, 0, 0, 0, \
             '', '', '', ?4, '', '', '', '', '', '', '', 'text/csv', 'text/csv')",
            rusqlite::params![id, current, target, tab],
        )
        .expect("insert a download");
        for (i, url) in chain.iter().enumerate() {
            db.execute(
                "INSERT INTO downloads_url_chains VALUES (?1, ?2, ?3)",
                rusqlite::params![id, i as i64, url],
            )
            .expect("insert its chain");
        }
    }

    #[test]
    fn a_download_is_found_by_the_path_it_was_saved_at_or_last_seen_at() {
        let db = Connection::open_in_memory().expect("in-memory database");
        db.execute_batch(SCHEMA).expect("Chromium's schema");
        download(
            &db,
            1,
            "/home/a/Downloads/clients.csv",
            "/home/a/Downloads/clients.csv",
            "https://acme.bitrix24.ru/crm/contact/",
            &[
                "https://acme.bitrix24.ru/crm/contact/export/",
                "https://cdn.bitrix24.ru/export/7f3a.csv",
            ],
        );
        // Still downloading: the file is only at its temporary name yet.
        download(
            &db,
            2,
            "/home/a/Downloads/Unconfirmed 170896.crdownload",
            "/home/a/Downloads/report.csv",
            "",
            &["https://crm.acme.test/report.csv"],
        );
        let found = origin_of(&db, "/home/a/Downloads/clients.csv").expect("query");
        assert_eq!(
            found,
            Some(Origin {
                url: Some("https://cdn.bitrix24.ru/export/7f3a.csv".into()),
                referrer: Some("https://acme.bitrix24.ru/crm/contact/".into()),
            }),
            "the end of the redirect chain, and the tab's page as the referrer"
        );
        let found = origin_of(&db, "/home/a/Downloads/report.csv").expect("query");
        assert_eq!(
            found.and_then(|o| o.url).as_deref(),
            Some("https://crm.acme.test/report.csv"),
            "matched by its target path"
        );
        assert_eq!(
            origin_of(&db, "/home/a/Downloads/Clients.csv").expect("query"),
            None,
            "only the exact path matches"
        );
        assert_eq!(
            origin_of(&db, "/home/a/Downloads").expect("query"),
            None,
            "no prefix match"
        );
    }

    #[test]
    fn a_database_without_the_tables_is_an_error_not_a_panic() {
        let db = Connection::open_in_memory().expect("in-memory database");
        assert!(origin_of(&db, "/x.csv").is_err());
    }
}
