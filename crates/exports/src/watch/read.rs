//! Reading a file once for what detection keeps of it: its SHA-256, its CRC-32 and, for a
//! table, its rows and columns. The agent's update download checks its file with the same
//! digest.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::shape::Shape;

/// What one read of a file gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    /// SHA-256 in hex.
    pub sha256: String,
    /// CRC-32, as an archive's directory lists a member.
    pub crc32: u32,
    /// Rows (lines, the header among them) and columns (separators of the first line, plus
    /// one), when asked for.
    pub table: Option<(u32, u32)>,
}

/// Reads the file once: its SHA-256, its CRC-32 and, with `table`, its rows and columns counted from line
/// breaks and the first line's tabs or commas. `None` when it cannot be read. The bytes pass
/// through a fixed buffer and are dropped at once; only the counts are kept.
pub fn read_file(path: &Path, table: bool) -> Option<FileRead> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut crc = crc32fast::Hasher::new();
    let mut shape = table.then(Shape::default);
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                crc.update(&buf[..n]);
                if let Some(shape) = &mut shape {
                    shape.feed(&buf[..n]);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    buf.fill(0);
    Some(FileRead {
        sha256: hex::encode(hasher.finalize()),
        crc32: crc.finalize(),
        table: shape.map(|s| {
            let (rows, columns, _) = s.finish();
            (rows, columns)
        }),
    })
}

/// The file's SHA-256 in hex, or `None` when it cannot be read.
pub fn sha256_of(path: &Path) -> Option<String> {
    read_file(path, false).map(|r| r.sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_read_counts_a_tables_rows_and_columns() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("clients.csv");
        let mut text = String::from("name,phone,city\n");
        for i in 0..1239 {
            text.push_str(&format!("client {i},+7 900 000 {i:04},Moscow\n"));
        }
        std::fs::write(&p, &text).expect("write");
        let read = read_file(&p, true).expect("readable");
        assert_eq!(read.table, Some((1240, 3)), "1,239 rows and the header");
        assert_eq!(Some(read.sha256), sha256_of(&p), "the same digest");
        assert_eq!(read_file(&p, false).expect("readable").table, None);
    }

    #[test]
    fn sha256_of_a_real_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("a.txt");
        std::fs::write(&p, b"abc").expect("write");
        assert_eq!(
            sha256_of(&p).as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            "the well-known digest of \"abc\""
        );
        assert_eq!(
            sha256_of(&dir.path().join("missing")),
            None,
            "missing file: no hash"
        );
    }
}
