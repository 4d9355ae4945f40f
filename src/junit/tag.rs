//! Start tags in the normal form, recognised without a parser.
//!
//! Most producers write `<name key="value" key="value">`: single spaces, double quotes,
//! distinct keys, values with nothing to escape. Such a tag is well-formed XML whatever
//! surrounds it, and it is what the merge writes. So the markup walk (`scan.rs`) reads it
//! straight from its buffer instead of through quick-xml, and the merge reads it (pass 1) and
//! copies it (pass 2) from its bytes, which gives the same result as quick-xml's attribute
//! parsing and writing each attribute again through `merge::sanitize`, several times faster;
//! any other tag takes that slower path. Keys recognised here are ASCII names.

use std::ops::Range;

/// Most attributes a tag may have to be recognised.
const MAX: usize = 16;

/// Bytes an attribute value may hold and still be copied as it is: anything
/// `merge::sanitize` would write unchanged in an attribute (not markup, not a reference, not
/// a control character other than tab, newline and carriage return, and not 0xEF, which may
/// start U+FFFE or U+FFFF).
static SAFE: [bool; 256] = {
    let mut table = [true; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = matches!(byte, 0x09 | 0x0A | 0x0D);
        byte += 1;
    }
    table[b'&' as usize] = false;
    table[b'<' as usize] = false;
    table[b'>' as usize] = false;
    table[b'"' as usize] = false;
    table[0xEF] = false;
    table
};

/// Whether every byte of `value` is [`SAFE`], eight at a time: most values are tens of
/// bytes of plain text.
fn all_safe(value: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    // Whether some byte of `word` is zero; of `word ^ ONES * b`, whether some byte is `b`.
    let has_zero = |word: u64| word.wrapping_sub(ONES) & !word & HIGHS != 0;
    let mut chunks = value.chunks_exact(8);
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let suspicious = word.wrapping_sub(ONES * 0x20) & !word & HIGHS != 0
            || has_zero(word ^ (ONES * u64::from(b'&')))
            || has_zero(word ^ (ONES * u64::from(b'<')))
            || has_zero(word ^ (ONES * u64::from(b'>')))
            || has_zero(word ^ (ONES * 0xEF));
        // A control byte may still be a tab or a newline: look closer.
        if suspicious && !chunk.iter().all(|&b| SAFE[b as usize]) {
            return false;
        }
    }
    chunks.remainder().iter().all(|&b| SAFE[b as usize])
}

/// Bytes after the first of an ASCII element or attribute name (the first is a letter or `_`).
static NAME: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 128 {
        table[byte] =
            (byte as u8).is_ascii_alphanumeric() || matches!(byte as u8, b'_' | b'-' | b'.' | b':');
        byte += 1;
    }
    table
};

/// `inner` without the XML whitespace at its end.
fn trim_end(inner: &[u8]) -> &[u8] {
    let kept = inner
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        .map_or(0, |last| last + 1);
    &inner[..kept]
}

/// A recognised tag: the positions of its name and attributes in its inner bytes (between
/// `<` and `>` or `/>`).
pub(super) struct NormalTag {
    /// Where the name ends.
    pub(super) name_end: usize,
    /// Per attribute: where its leading space is, where its `=` is, where its closing quote
    /// is. `u32`s, as a tag is far shorter than 4 GiB (the walk's markup limit), so that the
    /// table a tag costs to recognise is small to clear.
    attributes: [(u32, u32, u32); MAX],
    count: usize,
}

/// One attribute of a [`NormalTag`].
pub(super) struct Attribute {
    pub(super) key: Range<usize>,
    /// Inside the quotes.
    pub(super) value: Range<usize>,
}

impl NormalTag {
    /// Recognises `inner`, a tag without its `<` and its `>` or `/>`. Its keys are ASCII
    /// names (a non-ASCII key takes the slow path, whose check is the full one).
    pub(super) fn parse(inner: &[u8]) -> Option<NormalTag> {
        // pytest writes `<testcase ... />`: whitespace before the end of a tag is no attribute
        // and is not written again.
        let inner = trim_end(inner);
        if u32::try_from(inner.len()).is_err() {
            return None;
        }
        let name_end = memchr::memchr(b' ', inner).unwrap_or(inner.len());
        let name = &inner[..name_end];
        if !name
            .first()
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
            || !name.iter().all(|&b| NAME[b as usize])
        {
            return None;
        }
        let mut tag = NormalTag {
            name_end,
            attributes: [(0, 0, 0); MAX],
            count: 0,
        };
        // Byte loops rather than memchr: keys and most values are a few bytes long.
        let length = inner.len();
        let mut at = name_end;
        while at < length {
            // `at` is on the space before a key.
            if tag.count == MAX {
                return None;
            }
            let key_start = at + 1;
            if !inner
                .get(key_start)
                .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
            {
                return None;
            }
            let mut equals = key_start + 1;
            while equals < length && NAME[inner[equals] as usize] {
                equals += 1;
            }
            if inner.get(equals) != Some(&b'=') || inner.get(equals + 1) != Some(&b'"') {
                return None;
            }
            let value = equals + 2;
            let close = value + memchr::memchr(b'"', inner.get(value..)?)?;
            if !all_safe(&inner[value..close]) {
                return None;
            }
            let key = &inner[key_start..equals];
            // Keys are a few bytes: comparing them inline beats calling memcmp.
            let same =
                |seen: &[u8]| seen.len() == key.len() && seen.iter().zip(key).all(|(a, b)| a == b);
            if tag.keys(inner).any(same) {
                return None;
            }
            // In range: `inner` is shorter than `u32::MAX` bytes.
            tag.attributes[tag.count] = (at as u32, equals as u32, close as u32);
            tag.count += 1;
            at = close + 1;
            if at < length && inner[at] != b' ' {
                return None;
            }
        }
        Some(tag)
    }

    /// How long `inner` is without the whitespace that may end it: what is written again.
    pub(super) fn trimmed_len(inner: &[u8]) -> usize {
        trim_end(inner).len()
    }

    fn keys<'i>(&self, inner: &'i [u8]) -> impl Iterator<Item = &'i [u8]> + use<'_, 'i> {
        self.attributes[..self.count]
            .iter()
            .map(|&(space, equals, _)| &inner[space as usize + 1..equals as usize])
    }

    /// The attributes, in order.
    pub(super) fn attributes(&self) -> impl Iterator<Item = Attribute> + '_ {
        self.attributes[..self.count]
            .iter()
            .map(|&(space, equals, close)| Attribute {
                key: space as usize + 1..equals as usize,
                value: equals as usize + 2..close as usize,
            })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{NormalTag, SAFE, all_safe};

    proptest! {
        #[test]
        fn the_word_check_agrees_with_the_table(
            bytes in proptest::collection::vec(
                prop_oneof![any::<u8>(), Just(b'a'), Just(b'\t'), Just(b'&'), Just(0xEF)],
                0..40,
            )
        ) {
            prop_assert_eq!(all_safe(&bytes), bytes.iter().all(|&b| SAFE[b as usize]));
        }
    }

    #[test]
    fn recognises_only_the_written_form() {
        let tag = NormalTag::parse(br#"testcase classname="a.b" name="t[1]" time="0.5""#)
            .expect("normal");
        assert_eq!(tag.name_end, 8);
        let inner = br#"testcase classname="a.b" name="t[1]" time="0.5""#;
        let values: Vec<&[u8]> = tag.attributes().map(|a| &inner[a.value]).collect();
        assert_eq!(values, [&b"a.b"[..], b"t[1]", b"0.5"]);
        assert!(NormalTag::parse(b"testcase").is_some());
        // pytest's empty-element tags end in ` />`.
        let spaced = br#"testcase name="a" time="1" "#;
        let tag = NormalTag::parse(spaced).expect("normal");
        assert_eq!(tag.attributes().count(), 2);
        assert_eq!(NormalTag::trimmed_len(spaced), spaced.len() - 1);
        for other in [
            &br#"testcase  name="a""#[..],
            b"testcase name='a'",
            br#"testcase name = "a""#,
            b"testcase\tname=\"a\"",
            "t\u{e9}st name=\"a\"".as_bytes(),
            br#"1testcase name="a""#,
            br#"testcase 1name="a""#,
            br#"testcase n@me="a""#,
            "testcase nämé=\"a\"".as_bytes(),
            br#"testcase name="a"name="b""#,
            br#"testcase name="a" name="b""#,
            br#"testcase name="a &amp; b""#,
            br#"testcase name="a > b""#,
            b"testcase name=\"\x1b\"",
            "testcase name=\"\u{FFFE}\"".as_bytes(),
            br#"testcase name="a"#,
            b"",
        ] {
            assert!(
                NormalTag::parse(other).is_none(),
                "{:?}",
                String::from_utf8_lossy(other)
            );
        }
    }
}
