//! Where a new data file came from and how big a table it holds, from metadata only: the
//! download origin the OS keeps beside the file, the client source (CRM) its name or origin
//! names, and its rows and columns counted from line breaks. Never a value of the file.
//!
//! The download origin:
//! - Linux: the `user.xdg.origin.url` and `user.xdg.referrer.url` extended attributes that
//!   `wget --xattr`, `curl --xattr` and KDE set on a download (Debian's Chromium 156 sets none);
//! - Windows: the `Zone.Identifier` stream (`HostUrl=`, `ReferrerUrl=`) that browsers and mail
//!   clients attach to a download.
//!
//! When a data file has neither, the watcher asks the browsers' own download history
//! ([`download_history`](crate::download_history)), which gives an [`Origin`] of the same
//! shape, so the event's `origin_url` and `origin_domain` mean the same whichever noted them.
//! The reading of the attributes is the only I/O here; the rest is pure.

use std::path::Path;

use regex::Regex;
use worktrace_domain::ClientSource;

use crate::error::Result;
use crate::matchers::compile_all;

/// The download origin of a file, as the OS noted it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The URL the file was downloaded from.
    pub url: Option<String>,
    /// The page that linked to it.
    pub referrer: Option<String>,
}

/// Longest URL read from an attribute or stream; a longer one is left out.
const MAX_URL: usize = 8 * 1024;

impl Origin {
    /// The host the file came from: of its URL, else of the page that linked to it.
    ///
    /// ```text
    /// url https://Acme.Bitrix24.ru/crm/contact/export/?x=1 → acme.bitrix24.ru
    /// url blob:https://app.hubspot.com/0c1d…                → app.hubspot.com
    /// url data:text/csv,…, referrer https://crm.acme.test/  → crm.acme.test
    /// ```
    pub fn domain(&self) -> Option<String> {
        [&self.url, &self.referrer]
            .into_iter()
            .flatten()
            .find_map(|u| host_of(u))
    }
}

/// The host name of a web address, in lower case; `None` for addresses without one (`data:`,
/// `file:`, `about:internet`). A `blob:` address names the page that made it.
pub fn host_of(url: &str) -> Option<String> {
    let url = url.trim();
    let inner = url
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("blob:"))
        .map_or(url, |_| &url[5..]);
    let parsed = url::Url::parse(inner).ok()?;
    if !matches!(parsed.scheme(), "http" | "https" | "ftp" | "ftps") {
        return None;
    }
    parsed
        .host_str()
        .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        .filter(|h| !h.is_empty())
}

/// The origin in a Windows `Zone.Identifier` stream.
///
/// ```text
/// [ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=https://crm.acme.test/\r\nHostUrl=https://crm.acme.test/x.csv
///   → url https://crm.acme.test/x.csv, referrer https://crm.acme.test/
/// ```
pub fn zone_identifier(text: &str) -> Origin {
    let mut origin = Origin::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() || value.len() > MAX_URL || value.eq_ignore_ascii_case("about:internet")
        {
            continue;
        }
        match key.trim().to_ascii_lowercase().as_str() {
            "hosturl" => origin.url = Some(value.to_owned()),
            "referrerurl" => origin.referrer = Some(value.to_owned()),
            _ => {}
        }
    }
    origin
}

/// The download origin the OS keeps for `path` (empty when there is none or it cannot be
/// read).
#[cfg(target_os = "linux")]
pub fn read_origin(path: &Path) -> Origin {
    let attribute = |name: &str| {
        let mut buf = vec![0u8; MAX_URL];
        let n = rustix::fs::getxattr(path, name, &mut buf[..]).ok()?;
        buf.truncate(n);
        String::from_utf8(buf).ok().filter(|s| !s.is_empty())
    };
    Origin {
        url: attribute("user.xdg.origin.url"),
        referrer: attribute("user.xdg.referrer.url"),
    }
}

/// The download origin the OS keeps for `path` (empty when there is none or it cannot be
/// read).
#[cfg(windows)]
pub fn read_origin(path: &Path) -> Origin {
    use std::io::Read;
    let mut stream = path.as_os_str().to_owned();
    stream.push(":Zone.Identifier");
    let Ok(file) = std::fs::File::open(&stream) else {
        return Origin::default();
    };
    let mut bytes = Vec::new();
    if file
        .take((4 * MAX_URL) as u64)
        .read_to_end(&mut bytes)
        .is_err()
    {
        return Origin::default();
    }
    zone_identifier(&String::from_utf8_lossy(&bytes))
}

/// The download origin the OS keeps for `path`: none on this OS.
#[cfg(not(any(target_os = "linux", windows)))]
pub fn read_origin(_path: &Path) -> Origin {
    Origin::default()
}

/// The file extensions whose rows and columns are counted from line breaks and the first
/// line's separators.
pub fn is_table(path: &Path) -> bool {
    matches!(extension(path).as_deref(), Some("csv" | "tsv"))
}

/// Members an archive's directory is read for at most.
pub const MAX_MEMBERS: usize = 10_000;

/// The CRC-32 and size of each file in an archive whose members are matched, known by its
/// extension: a zip's from its central directory, a 7z's from its header (rar is not read).
/// Empty when the file is neither or cannot be read. At most [`MAX_MEMBERS`].
pub fn archive_members(path: &Path) -> Vec<(u32, u64)> {
    match extension(path).as_deref() {
        Some("zip") => zip_members(path),
        Some("7z") => sevenz_members(path),
        _ => Vec::new(),
    }
}

/// The CRC-32 and size of each file in a zip archive (xlsx, docx and ods are zips too), read
/// from its central directory without decompressing anything; empty when `path` is no zip or
/// cannot be read. At most [`MAX_MEMBERS`].
pub fn zip_members(path: &Path) -> Vec<(u32, u64)> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let Ok(mut archive) = zip::ZipArchive::new(std::io::BufReader::new(file)) else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for i in 0..archive.len().min(MAX_MEMBERS) {
        if let Ok(member) = archive.by_index_raw(i) {
            if !member.is_dir() {
                members.push((member.crc32(), member.size()));
            }
        }
    }
    members
}

/// The most memory a 7z header's decoder may take (KiB). 7-Zip packs the header with LZMA and
/// a dictionary no larger than the header; a header that asks for more is not read.
const SEVENZ_HEADER_MEMORY_KB: usize = 16 * 1024;

/// The CRC-32 and size of each file in a 7z archive, read from the archive's header (which
/// 7-Zip usually packs itself: only the header is unpacked, never a member's data); empty when
/// `path` is no 7z, is encrypted or cannot be read. At most [`MAX_MEMBERS`].
pub fn sevenz_members(path: &Path) -> Vec<(u32, u64)> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let mut reader = std::io::BufReader::new(file);
    let Ok(archive) = sevenz_rust2::Archive::read_with_memory_limit(
        &mut reader,
        &sevenz_rust2::Password::empty(),
        SEVENZ_HEADER_MEMORY_KB,
    ) else {
        return Vec::new();
    };
    archive
        .files
        .iter()
        .filter(|f| f.has_stream && f.has_crc && !f.is_directory)
        .filter_map(|f| u32::try_from(f.crc).ok().map(|crc| (crc, f.size)))
        .take(MAX_MEMBERS)
        .collect()
}

/// How much of a worksheet's XML is read for its declared size: the `<dimension>` element
/// comes before any cell.
const SHEET_HEAD_BYTES: u64 = 8 * 1024;

/// The rows and columns an xlsx workbook's first worksheet declares (`<dimension
/// ref="A1:F1240"/>` → 1,240 rows, 6 columns), read from the first bytes of the sheet, never
/// its cells' values; `None` when the file is no xlsx or declares nothing. (An ods declares no
/// size: its rows would have to be read, so it gets none.)
pub fn sheet_shape(path: &Path) -> Option<(u32, u32)> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut archive = zip::ZipArchive::new(std::io::BufReader::new(file)).ok()?;
    let number = |name: &str| {
        name.strip_prefix("xl/worksheets/sheet")?
            .strip_suffix(".xml")?
            .parse::<u32>()
            .ok()
    };
    let first = archive
        .file_names()
        .take(MAX_MEMBERS)
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .filter_map(|n| number(&n).map(|k| (k, n)))
        .min()?
        .1;
    let member = archive.by_name(&first).ok()?;
    let mut head = Vec::with_capacity(SHEET_HEAD_BYTES as usize);
    member.take(SHEET_HEAD_BYTES).read_to_end(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head);
    let element = &text[text.find("<dimension")?..];
    let element = &element[..element.find('>')?];
    let range = element.split("ref=\"").nth(1)?.split('"').next()?;
    dimension(range)
}

/// `"A1:F1240"` → (1240, 6); `"B2"` → (1, 1); anything else → none.
fn dimension(range: &str) -> Option<(u32, u32)> {
    let cell = |c: &str| -> Option<(u32, u32)> {
        let split = c.find(|ch: char| ch.is_ascii_digit())?;
        let (letters, digits) = c.split_at(split);
        if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let column = letters.bytes().try_fold(0u32, |n, b| {
            n.checked_mul(26)?.checked_add(u32::from(b - b'A' + 1))
        })?;
        Some((digits.parse().ok()?, column))
    };
    let (start, end) = match range.split_once(':') {
        Some((a, b)) => (cell(a)?, cell(b)?),
        None => (cell(range)?, cell(range)?),
    };
    Some((
        end.0.checked_sub(start.0)? + 1,
        end.1.checked_sub(start.1)? + 1,
    ))
}

/// Whether the file is an xlsx workbook by its extension.
pub fn is_sheet(path: &Path) -> bool {
    extension(path).as_deref() == Some("xlsx")
}

/// The file's extension in lower case.
fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// The policy's client sources, compiled.
#[derive(Debug, Clone, Default)]
pub struct ClientSources {
    sources: Vec<(String, Vec<Regex>, Vec<Regex>)>,
}

impl ClientSources {
    /// Compiles the policy's list; a bad pattern is named by its field.
    pub fn new(sources: &[ClientSource]) -> Result<ClientSources> {
        let mut compiled = Vec::with_capacity(sources.len());
        for (i, s) in sources.iter().enumerate() {
            let names = compile_all(
                &format!("client_sources[{i}].file_names"),
                s.file_names.iter().map(String::as_str),
            )?;
            let domains = compile_all(
                &format!("client_sources[{i}].domains"),
                s.domains.iter().map(String::as_str),
            )?;
            compiled.push((s.label.clone(), names, domains));
        }
        Ok(ClientSources { sources: compiled })
    }

    /// The label of the first source whose file-name pattern matches `file_name` or whose
    /// domain pattern matches `domain`.
    ///
    /// ```text
    /// ("CONTACT_20261201_1a2b_3c4d.csv", None)         → Bitrix24
    /// ("clients.csv", Some("acme.bitrix24.ru"))         → Bitrix24
    /// ("clients.csv", Some("example.org"))              → None
    /// ```
    pub fn source_of(&self, file_name: &str, domain: Option<&str>) -> Option<&str> {
        self.sources
            .iter()
            .find(|(_, names, domains)| {
                names.iter().any(|r| r.is_match(file_name))
                    || domain.is_some_and(|d| domains.iter().any(|r| r.is_match(d)))
            })
            .map(|(label, _, _)| label.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use worktrace_domain::ExportPolicy;

    #[test]
    fn a_sheet_s_declared_range_gives_its_rows_and_columns() {
        assert_eq!(dimension("A1:F1240"), Some((1240, 6)));
        assert_eq!(dimension("B2"), Some((1, 1)));
        assert_eq!(dimension("A1:AA10"), Some((10, 27)));
        assert_eq!(dimension("F1:A1"), None, "backwards");
        assert_eq!(dimension("1:2"), None);
        assert_eq!(dimension(""), None);
    }

    #[test]
    fn the_host_is_taken_from_the_url_then_the_referrer() {
        let origin = |url: Option<&str>, referrer: Option<&str>| Origin {
            url: url.map(str::to_owned),
            referrer: referrer.map(str::to_owned),
        };
        for (o, host) in [
            (
                origin(
                    Some("https://Acme.Bitrix24.ru/crm/contact/export/?x=1"),
                    None,
                ),
                Some("acme.bitrix24.ru"),
            ),
            (
                origin(Some("blob:https://app.hubspot.com/0c1d-22"), None),
                Some("app.hubspot.com"),
            ),
            (
                origin(Some("data:text/csv,a,b"), Some("https://crm.acme.test/x")),
                Some("crm.acme.test"),
            ),
            (origin(Some("file:///home/a/x.csv"), None), None),
            (origin(Some("not a url"), None), None),
            (origin(None, None), None),
        ] {
            assert_eq!(o.domain().as_deref(), host, "{o:?}");
        }
    }

    #[test]
    fn a_zone_identifier_gives_its_urls() {
        let text = "[ZoneTransfer]\r\nZoneId=3\r\nReferrerUrl=https://crm.acme.test/\r\n\
                    HostUrl=https://crm.acme.test/x.csv\r\n";
        let o = zone_identifier(text);
        assert_eq!(o.url.as_deref(), Some("https://crm.acme.test/x.csv"));
        assert_eq!(o.referrer.as_deref(), Some("https://crm.acme.test/"));
        // Mail clients and some browsers write this instead of an address.
        let o = zone_identifier("[ZoneTransfer]\nZoneId=3\nHostUrl=about:internet\n");
        assert_eq!(o, Origin::default());
    }

    #[test]
    fn the_default_sources_know_the_usual_crm_exports() {
        let s = ClientSources::new(&ExportPolicy::default().client_sources).expect("compile");
        for (name, domain, source) in [
            ("CONTACT_20261201_1a2b3c_4d5e6f.csv", None, Some("Bitrix24")),
            ("clients.csv", Some("acme.bitrix24.ru"), Some("Bitrix24")),
            ("report1764590000000.csv", None, Some("Salesforce")),
            ("x.csv", Some("acme.my.salesforce.com"), Some("Salesforce")),
            (
                "hubspot-crm-exports-all-contacts-2026-12-01.zip",
                None,
                Some("HubSpot"),
            ),
            ("amocrm_export_leads.xlsx", None, Some("amoCRM")),
            ("Контрагенты.xlsx", None, Some("1C")),
            ("clients.csv", Some("example.org"), None),
            ("contact.csv", None, None),
        ] {
            assert_eq!(s.source_of(name, domain), source, "{name} {domain:?}");
        }
    }

    #[test]
    fn tables_are_known_by_their_extension() {
        assert!(is_table(Path::new("/a/Clients.CSV")));
        assert!(is_table(Path::new("b.tsv")));
        assert!(!is_table(Path::new("c.xlsx")));
        assert!(!is_table(Path::new("csv")));
    }
}
