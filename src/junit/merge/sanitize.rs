//! Copying bytes the producer wrote so that the output is XML 1.0 whatever they held.
//!
//! Works on chunks of a stream without holding more than the chunk: an item (a character, a
//! UTF-8 sequence, an entity or character reference) that starts before the chunk's `limit` is
//! finished from the bytes after it, so the caller keeps [`LOOKAHEAD`] bytes beyond `limit`
//! buffered except where the data really ends. The visible form of what XML forbids is
//! [`super::super::write::Visible`]'s, the one `rxdist run` writes. Running the output through
//! again changes nothing.

use std::io::{self, Write};

use crate::junit::write::{Visible, allowed};

/// Bytes an item may need past where it starts: the longest reference kept as a reference.
pub(super) const LOOKAHEAD: usize = 32;

/// Where the bytes go in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Character data between tags: `>` is written `&gt;` (so `]]>` never appears), `<` `&lt;`.
    Text,
    /// A double-quoted attribute value, as written by the producer (still escaped): also `"`
    /// becomes `&quot;`.
    Attribute,
    /// The inside of a CDATA section: references mean nothing there, only characters XML
    /// forbids and bytes that are not UTF-8 are replaced.
    Cdata,
}

/// What a byte means to the fast scan: 0 copy as is, 1 look closer.
const fn table(mode: Mode) -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut byte: usize = 0;
    while byte < 256 {
        let special = match byte as u8 {
            0x09 | 0x0A | 0x0D => false,
            // Control characters; and, of the non-ASCII bytes (UTF-8 is checked a run at a
            // time), 0xEF: U+FFFE and U+FFFF (EF BF BE / EF BF BF) are the only valid
            // sequences XML forbids, so only it needs a second look inside a valid run.
            0x00..=0x1F | 0xEF => true,
            b'&' | b'<' | b'>' => !matches!(mode, Mode::Cdata),
            b'"' => matches!(mode, Mode::Attribute),
            _ => false,
        };
        table[byte] = special as u8;
        byte += 1;
    }
    table
}

static TEXT: [u8; 256] = table(Mode::Text);
static ATTRIBUTE: [u8; 256] = table(Mode::Attribute);
static CDATA: [u8; 256] = table(Mode::Cdata);

/// Writes the items of `data` that start before `limit` to `out`, escaped for `mode`; returns
/// how many bytes of `data` they took (at least `limit`, unless `limit` is past the end). Bytes
/// after `limit` are only looked at to finish an item; pass `limit == data.len()` when `data`
/// ends where the character data ends.
pub(super) fn sanitize<W: Write + ?Sized>(
    data: &[u8],
    limit: usize,
    mode: Mode,
    out: &mut W,
) -> io::Result<usize> {
    let table = match mode {
        Mode::Text => &TEXT,
        Mode::Attribute => &ATTRIBUTE,
        Mode::Cdata => &CDATA,
    };
    let limit = limit.min(data.len());
    let mut at = 0;
    while at < limit {
        // The longest prefix from `at` that is valid UTF-8 (looking past `limit` so that a
        // sequence straddling it is judged whole).
        let valid_end = match std::str::from_utf8(&data[at..]) {
            Ok(_) => data.len(),
            Err(error) => at + error.valid_up_to(),
        };
        let run_end = valid_end.min(limit);
        let mut run_start = at;
        while at < run_end {
            if table[data[at] as usize] == 0 {
                at += 1;
                continue;
            }
            let byte = data[at];
            if byte == 0xEF {
                // Valid UTF-8 here, so a three-byte sequence: only U+FFFE/U+FFFF are illegal.
                let code = decode3(&data[at..at + 3]);
                if code == 0xFFFE || code == 0xFFFF {
                    out.write_all(&data[run_start..at])?;
                    write!(out, "{}", Visible(code))?;
                    run_start = at + 3;
                }
                at += 3;
                continue;
            }
            out.write_all(&data[run_start..at])?;
            at += special(&data[at..], mode, out)?;
            run_start = at;
        }
        // A character that straddles `limit` is finished here, never split between calls.
        while at < valid_end && data[at] & 0xC0 == 0x80 {
            at += 1;
        }
        out.write_all(&data[run_start..at])?;
        if at < limit && at == valid_end {
            // Bytes that are not UTF-8: each one visible, up to where valid data resumes.
            let bad = match std::str::from_utf8(&data[at..]) {
                Err(error) => error.error_len().unwrap_or(data.len() - at),
                Ok(_) => 0,
            };
            for &byte in &data[at..at + bad] {
                write!(out, "{}", Visible(u32::from(byte)))?;
            }
            at += bad.max(1);
        }
    }
    Ok(at)
}

/// The code point of a valid three-byte UTF-8 sequence.
fn decode3(bytes: &[u8]) -> u32 {
    (u32::from(bytes[0] & 0x0F) << 12)
        | (u32::from(bytes[1] & 0x3F) << 6)
        | u32::from(bytes[2] & 0x3F)
}

/// Writes the escaped form of the ASCII item at the start of `data`; returns its length.
fn special<W: Write + ?Sized>(data: &[u8], mode: Mode, out: &mut W) -> io::Result<usize> {
    match data[0] {
        b'&' => reference(data, out),
        b'<' => out.write_all(b"&lt;").map(|()| 1),
        b'>' => out.write_all(b"&gt;").map(|()| 1),
        b'"' if mode == Mode::Attribute => out.write_all(b"&quot;").map(|()| 1),
        byte => write!(out, "{}", Visible(u32::from(byte))).map(|()| 1),
    }
}

/// Handles a `&`: a predefined entity or a character reference to a legal character is kept
/// as written, a character reference to an illegal character is written visibly, and any other
/// `&` becomes `&amp;`. Returns the bytes taken.
fn reference<W: Write + ?Sized>(data: &[u8], out: &mut W) -> io::Result<usize> {
    let window = &data[..data.len().min(LOOKAHEAD)];
    let Some(semicolon) = memchr::memchr(b';', window) else {
        return out.write_all(b"&amp;").map(|()| 1);
    };
    let body = &window[1..semicolon];
    let length = semicolon + 1;
    if matches!(body, b"lt" | b"gt" | b"amp" | b"apos" | b"quot") {
        return out.write_all(&data[..length]).map(|()| length);
    }
    let code = match body {
        [b'#', b'x', digits @ ..] if !digits.is_empty() => parse_code(digits, 16),
        [b'#', digits @ ..] if !digits.is_empty() => parse_code(digits, 10),
        _ => None,
    };
    match code {
        Some(code) if char::from_u32(code).is_some_and(allowed) => {
            out.write_all(&data[..length]).map(|()| length)
        }
        Some(code) => write!(out, "{}", Visible(code)).map(|()| length),
        None => out.write_all(b"&amp;").map(|()| 1),
    }
}

/// The value of a character reference's digits, if they are all digits of `radix` and the
/// value is a Unicode code point (a surrogate included).
fn parse_code(digits: &[u8], radix: u32) -> Option<u32> {
    let mut value: u32 = 0;
    for &digit in digits {
        let digit = char::from(digit).to_digit(radix)?;
        value = value.checked_mul(radix)?.checked_add(digit)?;
    }
    (value <= 0x10_FFFF).then_some(value)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{LOOKAHEAD, Mode, sanitize};

    fn run(data: &[u8], mode: Mode) -> String {
        let mut out = Vec::new();
        let taken = sanitize(data, data.len(), mode, &mut out).unwrap();
        assert_eq!(taken, data.len());
        String::from_utf8(out).expect("the output is UTF-8")
    }

    /// Feeds `data` in chunks of `size`, the way the copier does.
    fn chunked(data: &[u8], size: usize, mode: Mode) -> String {
        let mut out = Vec::new();
        let mut at = 0;
        while at < data.len() {
            let end = (at + size + LOOKAHEAD).min(data.len());
            let limit = if end == data.len() { end - at } else { size };
            at += sanitize(&data[at..end], limit, mode, &mut out).unwrap();
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_escapes() {
        assert_eq!(run(b"a > b && c", Mode::Text), "a &gt; b &amp;&amp; c");
        assert_eq!(run(b"]]> x", Mode::Text), "]]&gt; x");
        assert_eq!(
            run(b"&lt;&amp;&quot;&apos;&gt;", Mode::Text),
            "&lt;&amp;&quot;&apos;&gt;"
        );
        assert_eq!(
            run(b"&foo; &#; &#x; &#xZZ;", Mode::Text),
            "&amp;foo; &amp;#; &amp;#x; &amp;#xZZ;"
        );
        assert_eq!(
            run(b"&#10;&#x41;&#128512;", Mode::Text),
            "&#10;&#x41;&#128512;"
        );
        assert_eq!(
            run(b"&#x1B;&#0;&#xD800;&#xFFFE;", Mode::Text),
            "\\x1b\\x00\\ud800\\ufffe"
        );
        assert_eq!(run(b"&#x110000;", Mode::Text), "&amp;#x110000;");
        assert_eq!(
            run(b"&#99999999999999;", Mode::Text),
            "&amp;#99999999999999;"
        );
        assert_eq!(run(b"tab\there\r\n", Mode::Text), "tab\there\r\n");
    }

    #[test]
    fn control_characters_and_bad_utf8_become_visible() {
        assert_eq!(run(b"a\x1b[31mb\x00", Mode::Text), "a\\x1b[31mb\\x00");
        assert_eq!(run("héllo ✓ 😀".as_bytes(), Mode::Text), "héllo ✓ 😀");
        assert_eq!(run(b"a\xffb\xc3", Mode::Text), "a\\xffb\\xc3");
        assert_eq!(run(b"\xe2\x9c", Mode::Cdata), "\\xe2\\x9c");
        assert_eq!(
            run("\u{FFFE}x\u{FFFF}\u{FFFD}".as_bytes(), Mode::Text),
            "\\ufffex\\uffff\u{FFFD}"
        );
        // Overlong encodings and encoded surrogates are not UTF-8.
        assert_eq!(
            run(b"\xc0\x80\xed\xa0\x80", Mode::Text),
            "\\xc0\\x80\\xed\\xa0\\x80"
        );
    }

    #[test]
    fn cdata_keeps_markup_characters() {
        assert_eq!(run(b"<a> & &foo; \x07", Mode::Cdata), "<a> & &foo; \\x07");
    }

    #[test]
    fn attributes_escape_quotes_and_brackets() {
        assert_eq!(
            run(b"say \"hi\" <x> 'y'", Mode::Attribute),
            "say &quot;hi&quot; &lt;x&gt; 'y'"
        );
    }

    proptest! {
        #[test]
        fn output_is_xml_text_and_a_fixed_point(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            for mode in [Mode::Text, Mode::Attribute, Mode::Cdata] {
                let once = run(&data, mode);
                prop_assert!(once.chars().all(crate::junit::write::allowed), "{once:?}");
                prop_assert_eq!(&run(once.as_bytes(), mode), &once);
                if mode != Mode::Cdata {
                    prop_assert!(!once.contains('<') && !once.contains('>'));
                    let wrapped = if mode == Mode::Text {
                        format!("<a>{once}</a>")
                    } else {
                        format!("<a b=\"{once}\"/>")
                    };
                    let mut reader = quick_xml::Reader::from_str(&wrapped);
                    loop {
                        match reader.read_event() {
                            Ok(quick_xml::events::Event::Eof) => break,
                            Ok(quick_xml::events::Event::Empty(start)) => {
                                for attribute in start.attributes() {
                                    prop_assert!(attribute.unwrap().normalized_value(quick_xml::XmlVersion::Implicit1_0).is_ok());
                                }
                            }
                            Ok(_) => {}
                            Err(err) => prop_assert!(false, "{err}: {wrapped:?}"),
                        }
                    }
                }
            }
        }

        #[test]
        fn chunking_does_not_change_the_output(
            data in proptest::collection::vec(prop_oneof![any::<u8>(), Just(b'&'), Just(b';'), Just(b'#')], 0..300),
            size in 1usize..40,
        ) {
            for mode in [Mode::Text, Mode::Cdata] {
                prop_assert_eq!(chunked(&data, size, mode), run(&data, mode));
            }
        }
    }
}
