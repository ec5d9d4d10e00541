//! The shape of a copied text — bytes, lines, columns, separator — counted chunk by chunk
//! while the text itself is dropped. Shared by the X11 and Windows clipboard readers.
//!
//! Pure: no I/O, no clock reads; it keeps counts only, never a byte of the text.

/// UTF-8 bytes counted at a time by [`Shape::of_utf16`]; each piece is wiped once counted.
const PIECE: usize = 16 * 1024;

/// The shape of a text counted chunk by chunk; the chunks are not kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shape {
    pub bytes: u64,
    newlines: u32,
    first_line_done: bool,
    tabs: u32,
    commas: u32,
    last: Option<u8>,
}

impl Shape {
    /// Counts one chunk of the text.
    pub fn feed(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        for &b in chunk {
            match b {
                b'\n' => {
                    self.newlines = self.newlines.saturating_add(1);
                    self.first_line_done = true;
                }
                b'\t' if !self.first_line_done => self.tabs += 1,
                b',' if !self.first_line_done => self.commas += 1,
                _ => {}
            }
        }
        if let Some(&b) = chunk.last() {
            self.last = Some(b);
        }
    }

    /// Counts UTF-16 text (Windows' `CF_UNICODETEXT`, up to its NUL) in pieces: each piece is
    /// encoded as UTF-8, counted, then zeroed, so no copy of the whole text is ever made.
    ///
    /// `"a\tb\r\n1\t2\r\n"` → 2 lines, 2 columns, tab, 10 bytes.
    pub fn of_utf16(text: &[u16]) -> Shape {
        let mut shape = Shape::default();
        let mut piece: Vec<u8> = Vec::with_capacity(PIECE + 4);
        let end = text.iter().position(|c| *c == 0).unwrap_or(text.len());
        for ch in char::decode_utf16(text[..end].iter().copied()) {
            let ch = ch.unwrap_or(char::REPLACEMENT_CHARACTER);
            let mut buf = [0u8; 4];
            piece.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            buf.fill(0);
            if piece.len() >= PIECE {
                shape.feed(&piece);
                piece.fill(0);
                piece.clear();
            }
        }
        shape.feed(&piece);
        piece.fill(0);
        shape
    }

    /// Lines, columns and separator.
    ///
    /// `"a\tb\tc\n1\t2\t3\n"` → (2, 3, "tab"); `"x,y\n1,2"` → (2, 2, "comma");
    /// `"hello"` → (1, 1, "none"); `""` → (0, 0, "none").
    pub fn finish(&self) -> (u32, u32, &'static str) {
        if self.bytes == 0 {
            return (0, 0, "none");
        }
        let lines = self.newlines + u32::from(self.last != Some(b'\n'));
        let (columns, sep) = if self.tabs > 0 {
            (self.tabs + 1, "tab")
        } else if self.commas > 0 {
            (self.commas + 1, "comma")
        } else {
            (1, "none")
        };
        (lines, columns, sep)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_of_tabular_and_plain_text() {
        let mut s = Shape::default();
        s.feed(b"a\tb\tc\n1\t2");
        s.feed(b"\t3\n");
        assert_eq!(
            s.finish(),
            (2, 3, "tab"),
            "chunks split mid-line count as one text"
        );
        let mut c = Shape::default();
        c.feed(b"x,y\n1,2");
        assert_eq!(
            c.finish(),
            (2, 2, "comma"),
            "last line without newline counts"
        );
        let mut p = Shape::default();
        p.feed(b"hello");
        assert_eq!(p.finish(), (1, 1, "none"));
        assert_eq!(Shape::default().finish(), (0, 0, "none"), "empty copy");
        let mut w = Shape::default();
        w.feed(b"a\tb\r\n1\t2\r\n");
        assert_eq!(
            w.finish(),
            (2, 2, "tab"),
            "Windows line ends count as one each"
        );
    }

    #[test]
    fn utf16_text_is_counted_as_utf8_in_pieces() {
        let text: Vec<u16> = "a\tb\r\n1\t2\r\n\0ignored".encode_utf16().collect();
        let s = Shape::of_utf16(&text);
        assert_eq!(s.finish(), (2, 2, "tab"), "stops at the NUL");
        assert_eq!(s.bytes, 10);
        let big: String = (0..3000).map(|i| format!("é{i}\t{i}\t€\n")).collect();
        let wide: Vec<u16> = big.encode_utf16().collect();
        let s = Shape::of_utf16(&wide);
        assert_eq!(
            s.bytes,
            big.len() as u64,
            "bytes are UTF-8 bytes, across pieces"
        );
        assert_eq!(s.finish(), (3000, 3, "tab"));
        let lone = [0xD800u16, b'x' as u16];
        assert_eq!(
            Shape::of_utf16(&lone).bytes,
            4,
            "a lone surrogate is one replacement"
        );
    }
}
