//! The lineage of data files: where a file written somewhere came from, by its contents, never
//! by reading them. A file with the SHA-256 of a data file seen before is a copy of it (or the
//! same file renamed or moved); an archive whose directory lists a member with the CRC-32 and
//! size of a data file seen before holds it. Each file so found inherits what is known of its
//! ancestor — the client source, the download host, the table's size, the sensitive app it was
//! exported from — and the chain of names it went through:
//!
//! ```text
//! CONTACT_20261201_….csv (Bitrix24, 1,241 rows) → clients.csv → clients.zip → on the stick
//! ```
//!
//! Pure: no I/O, no clock reads. Holds at most [`MAX_TRACKED`] files (the oldest go first), in
//! memory only: an agent restart starts an empty lineage.

use std::collections::HashMap;

/// Data files remembered at most.
pub const MAX_TRACKED: usize = 10_000;
/// Names a chain keeps at most: the first (where it came from) and the latest ones.
pub const MAX_CHAIN: usize = 8;

/// What is known of a file's past.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ancestry {
    /// File names from the first data file seen to this one.
    pub chain: Vec<String>,
    /// The client source (CRM) label it first matched.
    pub source: Option<String>,
    /// The host it was downloaded from.
    pub origin_domain: Option<String>,
    /// Rows and columns of the table it was.
    pub table: Option<(u32, u32)>,
    /// The sensitive app in front when it was first written.
    pub export_from: Option<String>,
}

impl Ancestry {
    /// Whether the file comes from a client source or a sensitive app.
    pub fn is_sensitive(&self) -> bool {
        self.source.is_some() || self.export_from.is_some()
    }

    /// This file's facts where it has them, its ancestor's where it has not, and the chain
    /// with this file's name after its ancestor's.
    fn after(&self, parent: &Ancestry, name: &str) -> Ancestry {
        let mut chain = parent.chain.clone();
        if chain.last().map(String::as_str) != Some(name) {
            chain.push(name.to_owned());
        }
        if chain.len() > MAX_CHAIN {
            // Keep where it came from and the latest steps.
            chain.drain(1..chain.len() - (MAX_CHAIN - 1));
        }
        Ancestry {
            chain,
            source: self.source.clone().or_else(|| parent.source.clone()),
            origin_domain: self
                .origin_domain
                .clone()
                .or_else(|| parent.origin_domain.clone()),
            table: self.table.or(parent.table),
            export_from: self
                .export_from
                .clone()
                .or_else(|| parent.export_from.clone()),
        }
    }
}

/// The first 16 bytes of a file's SHA-256: enough to tell the remembered files apart (two
/// different files share them by chance with odds of about one in 2^128 per pair).
type Key = [u8; 16];
/// CRC-32 and size of a file's contents, as remembered (files of 4 GiB and more are not: none is
/// hashed, `hash_max_bytes` being far lower).
type CrcSize = (u32, u32);

fn crc_size((crc, size): (u32, u64)) -> Option<CrcSize> {
    u32::try_from(size).ok().map(|size| (crc, size))
}
/// The number of a word in [`Words`] plus one; 0 is none.
type Word = u16;

/// A file as lineage needs it.
#[derive(Debug, Clone, Copy)]
pub struct Contents<'a> {
    pub sha256: &'a [u8; 32],
    /// CRC-32 and size: what an archive's directory lists of its members.
    pub crc32_size: Option<(u32, u64)>,
    /// CRC-32 and size of the members, when the file is an archive.
    pub members: &'a [(u32, u64)],
}

/// The texts many files share (client sources, hosts, app names), kept once.
#[derive(Debug, Default)]
struct Words {
    texts: Vec<Box<str>>,
    ids: HashMap<Box<str>, Word>,
}

impl Words {
    fn id(&mut self, text: Option<&str>) -> Word {
        let Some(text) = text else {
            return 0;
        };
        if let Some(id) = self.ids.get(text) {
            return *id;
        }
        // Past the last number a new word is not kept (the file is remembered without it).
        let Ok(id) = Word::try_from(self.texts.len() + 1) else {
            return 0;
        };
        self.texts.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    fn text(&self, id: Word) -> Option<String> {
        let i = usize::from(id).checked_sub(1)?;
        self.texts.get(i).map(|t| t.to_string())
    }
}

/// A remembered file, compactly: its names joined by NUL (which no file name holds), its
/// facts as word numbers.
#[derive(Debug)]
struct Entry {
    key: Key,
    crc: Option<CrcSize>,
    chain: Box<str>,
    table: Option<(u32, u32)>,
    source: Word,
    origin_domain: Word,
    export_from: Word,
}

/// The data files seen, by contents: a ring of at most [`MAX_TRACKED`] entries (the oldest is
/// overwritten first) and two indexes into it.
#[derive(Debug, Default)]
pub struct Lineage {
    entries: Vec<Entry>,
    /// The slot the next new file takes once the ring is full.
    next: usize,
    by_sha: HashMap<Key, u32>,
    by_crc: HashMap<CrcSize, u32>,
    words: Words,
}

fn key_of(sha: &[u8; 32]) -> Key {
    let mut key = [0u8; 16];
    key.copy_from_slice(&sha[..16]);
    key
}

impl Lineage {
    /// Files remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no file is remembered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The file `name` with `contents` and its own facts `own` (chain empty) is seen; returns
    /// its ancestry when it descends from a file seen before (a copy, or an archive holding
    /// one). With `track`, it is remembered as an ancestor for later files (data files are;
    /// other files only when they descend from one, such as a copy under another extension).
    pub fn see(
        &mut self,
        name: &str,
        contents: Contents<'_>,
        own: Ancestry,
        track: bool,
    ) -> Option<Ancestry> {
        let key = key_of(contents.sha256);
        let slot = self.by_sha.get(&key).copied().or_else(|| {
            contents
                .members
                .iter()
                .find_map(|m| crc_size(*m).and_then(|m| self.by_crc.get(&m).copied()))
        });
        let found = slot
            .and_then(|i| self.ancestry_at(i))
            .map(|parent| own.after(&parent, name));
        if track || found.is_some() {
            let keep = found.clone().unwrap_or_else(|| Ancestry {
                chain: vec![name.to_owned()],
                ..own
            });
            self.remember(key, contents.crc32_size.and_then(crc_size), &keep);
        }
        found
    }

    fn ancestry_at(&self, slot: u32) -> Option<Ancestry> {
        let e = self.entries.get(usize::try_from(slot).ok()?)?;
        Some(Ancestry {
            chain: e.chain.split('\0').map(str::to_owned).collect(),
            source: self.words.text(e.source),
            origin_domain: self.words.text(e.origin_domain),
            table: e.table,
            export_from: self.words.text(e.export_from),
        })
    }

    fn remember(&mut self, key: Key, crc: Option<CrcSize>, a: &Ancestry) {
        let entry = Entry {
            key,
            crc,
            chain: a.chain.join("\0").into(),
            table: a.table,
            source: self.words.id(a.source.as_deref()),
            origin_domain: self.words.id(a.origin_domain.as_deref()),
            export_from: self.words.id(a.export_from.as_deref()),
        };
        let slot = match self.by_sha.get(&key) {
            Some(slot) => *slot,
            None if self.entries.len() < MAX_TRACKED => {
                if self.entries.len() == self.entries.capacity() {
                    // Grow as a vector does, but never past the bound: the last doubling would
                    // hold 6,384 slots that are never used.
                    let want = (self.entries.capacity() * 2).clamp(16, MAX_TRACKED);
                    self.entries.reserve_exact(want - self.entries.len());
                }
                self.entries.push(entry);
                let slot = u32::try_from(self.entries.len() - 1).unwrap_or(u32::MAX);
                self.index(slot, key, crc);
                return;
            }
            None => {
                let slot = u32::try_from(self.next).unwrap_or(u32::MAX);
                self.next = (self.next + 1) % MAX_TRACKED;
                slot
            }
        };
        let Some(old) = usize::try_from(slot)
            .ok()
            .and_then(|i| self.entries.get_mut(i))
        else {
            return;
        };
        let old = std::mem::replace(old, entry);
        if self.by_sha.get(&old.key) == Some(&slot) {
            self.by_sha.remove(&old.key);
        }
        if let Some(c) = old.crc {
            if self.by_crc.get(&c) == Some(&slot) {
                self.by_crc.remove(&c);
            }
        }
        self.index(slot, key, crc);
    }

    fn index(&mut self, slot: u32, key: Key, crc: Option<CrcSize>) {
        self.by_sha.insert(key, slot);
        if let Some(c) = crc {
            self.by_crc.insert(c, slot);
        }
    }
}

/// A hex SHA-256 as bytes (`None` when it is not one).
pub fn sha_bytes(hex_digest: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(n: u8) -> [u8; 32] {
        [n; 32]
    }

    fn file(s: &[u8; 32], crc: Option<(u32, u64)>) -> Contents<'_> {
        Contents {
            sha256: s,
            crc32_size: crc,
            members: &[],
        }
    }

    fn crm_export() -> Ancestry {
        Ancestry {
            source: Some("Bitrix24".into()),
            origin_domain: Some("acme.bitrix24.ru".into()),
            table: Some((1241, 6)),
            ..Ancestry::default()
        }
    }

    #[test]
    fn a_crm_export_renamed_zipped_and_copied_keeps_its_story() {
        let mut l = Lineage::default();
        let csv = sha(1);
        let first = l.see(
            "CONTACT_1.csv",
            file(&csv, Some((77, 900))),
            crm_export(),
            true,
        );
        assert_eq!(first, None, "nothing before it");

        // Renamed: the same contents under another name.
        let renamed = l
            .see(
                "clients.csv",
                file(&csv, Some((77, 900))),
                Ancestry::default(),
                true,
            )
            .expect("a copy of the export");
        assert_eq!(renamed.chain, ["CONTACT_1.csv", "clients.csv"]);
        assert_eq!(renamed.source.as_deref(), Some("Bitrix24"));

        // Zipped: the archive lists a member with the CSV's CRC-32 and size.
        let zip = sha(2);
        let zipped = l
            .see(
                "clients.zip",
                Contents {
                    sha256: &zip,
                    crc32_size: Some((5, 300)),
                    members: &[(1, 2), (77, 900)],
                },
                Ancestry::default(),
                true,
            )
            .expect("holds the export");
        assert_eq!(
            zipped.chain,
            ["CONTACT_1.csv", "clients.csv", "clients.zip"]
        );

        // Copied to the stick: the archive's SHA-256; not tracked itself (not a data file here).
        let copied = l
            .see("clients.zip", file(&zip, None), Ancestry::default(), false)
            .expect("a copy of the archive");
        assert_eq!(
            copied.chain,
            ["CONTACT_1.csv", "clients.csv", "clients.zip"]
        );
        assert_eq!(copied.source.as_deref(), Some("Bitrix24"));
        assert_eq!(copied.origin_domain.as_deref(), Some("acme.bitrix24.ru"));
        assert_eq!(copied.table, Some((1241, 6)));
        assert!(copied.is_sensitive());
    }

    #[test]
    fn unrelated_files_have_no_lineage_and_own_facts_win() {
        let mut l = Lineage::default();
        assert_eq!(
            l.see("a.csv", file(&sha(1), None), Ancestry::default(), true),
            None
        );
        assert_eq!(
            l.see("b.csv", file(&sha(2), None), Ancestry::default(), true),
            None
        );
        let own = Ancestry {
            source: Some("Salesforce".into()),
            ..Ancestry::default()
        };
        let mut l = Lineage::default();
        l.see("x.csv", file(&sha(3), None), crm_export(), true);
        let copy = l
            .see("report1.csv", file(&sha(3), None), own, true)
            .expect("a copy");
        assert_eq!(copy.source.as_deref(), Some("Salesforce"), "its own match");
        assert_eq!(
            copy.table,
            Some((1241, 6)),
            "the ancestor's where it has none"
        );
    }

    #[test]
    fn memory_is_bounded_and_the_oldest_go_first() {
        let mut l = Lineage::default();
        for i in 0..(MAX_TRACKED as u32 + 5) {
            let mut s = [0u8; 32];
            s[..4].copy_from_slice(&i.to_le_bytes());
            l.see("f.csv", file(&s, Some((i, 1))), Ancestry::default(), true);
        }
        assert_eq!(l.len(), MAX_TRACKED);
        assert_eq!(l.by_sha.len(), MAX_TRACKED);
        assert_eq!(l.by_crc.len(), MAX_TRACKED);
        let mut first = [0u8; 32];
        first[..4].copy_from_slice(&0u32.to_le_bytes());
        assert!(
            !l.by_sha.contains_key(&key_of(&first)),
            "the first one went"
        );
        let mut last = [0u8; 32];
        last[..4].copy_from_slice(&(MAX_TRACKED as u32 + 4).to_le_bytes());
        assert!(
            l.see("copy.csv", file(&last, None), Ancestry::default(), false)
                .is_some(),
            "the latest is found"
        );
    }

    #[test]
    fn a_long_chain_keeps_its_start_and_latest_steps() {
        let mut l = Lineage::default();
        let s = sha(9);
        l.see("origin.csv", file(&s, None), crm_export(), true);
        let mut last = None;
        for i in 0..20 {
            last = l.see(
                &format!("n{i}.csv"),
                file(&s, None),
                Ancestry::default(),
                true,
            );
        }
        let chain = last.expect("a copy").chain;
        assert_eq!(chain.len(), MAX_CHAIN);
        assert_eq!(chain[0], "origin.csv");
        assert_eq!(chain[MAX_CHAIN - 1], "n19.csv");
    }

    #[test]
    fn hex_digests_become_bytes() {
        assert_eq!(sha_bytes(&"01".repeat(32)), Some([1; 32]));
        assert_eq!(sha_bytes("zz"), None);
    }
}
