//! The three report formats, and telling them apart from a report's first bytes.
//!
//! Sniffing looks only at the head it is handed (the caller decides how much to read, and
//! decompresses first): a BOM, the XML prolog (declaration, comments, a DOCTYPE) and the name
//! of the root element for XML, the first record for LCOV. A UTF-16 head is sniffed through its
//! ASCII bytes so the report lands in the right group and its reader can say it is UTF-16.

/// A coverage report format that `rxdist merge` reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    /// Cobertura XML (coverage.py, gcovr, istanbul, cargo-llvm-cov, coverlet, ...).
    Cobertura,
    /// LCOV tracefiles (`lcov`, `coverage lcov`, istanbul's `lcov` reporter, ...).
    Lcov,
    /// JaCoCo's XML report.
    Jacoco,
}

impl Format {
    /// The name of the merged file in the output directory.
    pub fn output_name(self) -> &'static str {
        match self {
            Format::Cobertura => "coverage.xml",
            Format::Lcov => "coverage.lcov",
            Format::Jacoco => "jacoco.xml",
        }
    }

    /// The format's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Cobertura => "Cobertura",
            Format::Lcov => "LCOV",
            Format::Jacoco => "JaCoCo",
        }
    }
}

/// Which format the report starting with `head` is in, if any. Reads nothing more than `head`:
/// a few KiB of the (decompressed) report are enough for every producer known.
pub fn sniff(head: &[u8]) -> Option<Format> {
    let narrowed;
    let head = if let Some(ascii) = narrow_wide(head) {
        narrowed = ascii;
        &narrowed[..]
    } else {
        head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head)
    };
    let text = trim_start(head);
    if text.starts_with(b"<") {
        return sniff_xml(text);
    }
    sniff_lcov(text)
}

/// The ASCII bytes of a UTF-16 head (either byte order, with or without a BOM), or `None` when
/// the head does not look like UTF-16.
fn narrow_wide(head: &[u8]) -> Option<Vec<u8>> {
    let (body, high_first) = if let Some(rest) = head.strip_prefix(b"\xFF\xFE") {
        (rest, false)
    } else if let Some(rest) = head.strip_prefix(b"\xFE\xFF") {
        (rest, true)
    } else if head.len() >= 4 && head[1] == 0 && head[3] == 0 && head[0] != 0 {
        (head, false)
    } else if head.len() >= 4 && head[0] == 0 && head[2] == 0 && head[1] != 0 {
        (head, true)
    } else {
        return None;
    };
    Some(
        body.chunks_exact(2)
            .map(|pair| if high_first { pair[1] } else { pair[0] })
            .collect(),
    )
}

fn trim_start(text: &[u8]) -> &[u8] {
    let start = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(text.len());
    &text[start..]
}

/// Steps over the XML prolog and names the format of the root element.
fn sniff_xml(mut text: &[u8]) -> Option<Format> {
    loop {
        text = trim_start(text);
        if let Some(rest) = text.strip_prefix(b"<?") {
            text = after(rest, b"?>")?;
        } else if let Some(rest) = text.strip_prefix(b"<!--") {
            text = after(rest, b"-->")?;
        } else if let Some(rest) = text.strip_prefix(b"<!DOCTYPE") {
            // JaCoCo: <!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">
            let name = root_name(trim_start(rest));
            if name == b"report" && memchr::memmem::find(rest, b"JACOCO").is_some() {
                return Some(Format::Jacoco);
            }
            text = after(rest, b">")?;
        } else if let Some(rest) = text.strip_prefix(b"<") {
            let name = root_name(rest);
            return match name {
                b"coverage" => Some(Format::Cobertura),
                b"report" => Some(Format::Jacoco),
                _ => None,
            };
        } else {
            return None;
        }
    }
}

fn after<'a>(text: &'a [u8], end: &[u8]) -> Option<&'a [u8]> {
    memchr::memmem::find(text, end).map(|at| &text[at + end.len()..])
}

/// The element name at the start of `text` (up to whitespace, `>` or `/`).
fn root_name(text: &[u8]) -> &[u8] {
    let end = text
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'>' || b == b'/')
        .unwrap_or(text.len());
    &text[..end]
}

/// LCOV: the first line is one of the records a tracefile starts with.
fn sniff_lcov(text: &[u8]) -> Option<Format> {
    const FIRST_RECORDS: [&[u8]; 3] = [b"TN:", b"SF:", b"VER:"];
    FIRST_RECORDS
        .iter()
        .any(|record| text.starts_with(record))
        .then_some(Format::Lcov)
}

#[cfg(test)]
mod tests {
    use super::{Format, sniff};

    #[test]
    fn sniffs_every_producer_head() {
        let cases: [(&[u8], Option<Format>); 12] = [
            (
                b"<?xml version=\"1.0\" ?>\n<coverage version=\"7.17.3\" timestamp=\"1\">",
                Some(Format::Cobertura),
            ),
            (
                b"<?xml version=\"1.0\"?>\n<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n<coverage",
                Some(Format::Cobertura),
            ),
            (
                b"\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<!-- x <report> -->\r\n<coverage line-rate=\"1\">",
                Some(Format::Cobertura),
            ),
            (
                b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><!DOCTYPE report PUBLIC \"-//JACOCO//DTD Report 1.1//EN\" \"report.dtd\"><report name=\"x\">",
                Some(Format::Jacoco),
            ),
            (b"<report name=\"x\"><sessioninfo", Some(Format::Jacoco)),
            (b"TN:\nSF:/src/a.c\nDA:1,1\n", Some(Format::Lcov)),
            (b"\nSF:src/a.py\n", Some(Format::Lcov)),
            (b"<testsuites><testsuite/>", None),
            (b"<?xml version=\"1.0\"?><!-- never closed", None),
            (b"{\"coverage\": 1}", None),
            (b"", None),
            (
                b"\xFF\xFE<\0?\0x\0m\0l\0 \0?\0>\0<\0c\0o\0v\0e\0r\0a\0g\0e\0 \0",
                Some(Format::Cobertura),
            ),
        ];
        for (head, expected) in cases {
            assert_eq!(sniff(head), expected, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn names_are_stable() {
        assert_eq!(Format::Cobertura.output_name(), "coverage.xml");
        assert_eq!(Format::Lcov.output_name(), "coverage.lcov");
        assert_eq!(Format::Jacoco.output_name(), "jacoco.xml");
        assert_eq!(Format::Lcov.name(), "LCOV");
    }
}
