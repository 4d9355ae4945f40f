//! Why a coverage report could not be read (completely), or the merge could not be written.
//!
//! Variants that point into a document carry where (a byte offset for XML, a line number for
//! LCOV), because the usual way to investigate a bad report is to open it there. Messages are
//! written for the person whose CI job just failed: what is wrong and, where there is one, the
//! fix.

use super::Format;

/// Why a coverage report could not be read (completely), or the merged report not written.
///
/// A reader hands a file (a Cobertura `<class>`, an LCOV record, a JaCoCo `<class>` or
/// `<sourcefile>`) to the merge only once it has been read whole, so when an input turns out
/// to be truncated or malformed, everything before the damage has been merged and nothing
/// after it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoverageError {
    /// The underlying reader failed.
    #[error("could not read the report at byte {offset}")]
    Io {
        /// Bytes successfully read before the failure.
        offset: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The document is UTF-16 (or UTF-32); the readers only understand UTF-8.
    #[error(
        "the report is encoded as UTF-16 or UTF-32 ({evidence}); re-encode it as UTF-8, \
         e.g. with `iconv -f UTF-16 -t UTF-8`"
    )]
    Utf16 {
        /// What gave the encoding away.
        evidence: &'static str,
    },

    /// The input is not a report of the expected format at all.
    #[error("not {} report: {reason}", with_article(*format))]
    NotCoverage {
        /// The format the input was read as.
        format: Format,
        /// What was found instead.
        reason: String,
    },

    /// The input ended in the middle of the report: the file was cut short.
    #[error("the report ends at {at} with {open} still open; the file is probably truncated")]
    Truncated {
        /// `<element>` for XML, `record of FILE` for LCOV.
        open: String,
        /// `byte N` or `line N`.
        at: String,
    },

    /// The document is not well-formed XML.
    #[error("malformed XML at byte {offset}")]
    Malformed {
        /// Where the parser noticed.
        offset: u64,
        /// What the parser objected to.
        #[source]
        source: quick_xml::Error,
    },

    /// An attribute value or text uses an entity reference that is neither one of XML's five
    /// predefined entities nor a character reference.
    #[error("malformed XML at byte {offset}: `{name}` has a bad entity reference")]
    BadEntityReference {
        /// Where the element starts.
        offset: u64,
        /// The attribute's or element's name.
        name: String,
        /// What was wrong with the reference.
        #[source]
        source: quick_xml::escape::EscapeError,
    },

    /// The document declares entities in its DOCTYPE.
    #[error(
        "the report declares entities at byte {offset}; rxdist never expands them \
         (this is how entity-expansion bombs are defused), so it refuses the report"
    )]
    EntityDeclaration {
        /// Where the DOCTYPE starts.
        offset: u64,
    },

    /// An attribute value, text or LCOV line is longer than [`super::Limits::max_value_bytes`].
    #[error("`{name}` at {at} is {length} bytes long, more than the limit of {limit}")]
    ValueTooLong {
        /// The attribute's name, or the LCOV record type.
        name: String,
        /// `byte N` or `line N`.
        at: String,
        /// The value's length in bytes.
        length: usize,
        /// The limit in force.
        limit: usize,
    },

    /// A single tag, text or DOCTYPE is longer than the reader will buffer.
    #[error("the markup at byte {offset} is longer than {limit} bytes without closing")]
    MarkupTooLong {
        /// Where the markup starts.
        offset: u64,
        /// The limit in force.
        limit: u64,
    },

    /// Elements are nested deeper than [`super::Limits::max_depth`].
    #[error("elements are nested more than {limit} deep at byte {offset}")]
    TooDeep {
        /// Where the element that went too deep starts.
        offset: u64,
        /// The limit in force.
        limit: usize,
    },

    /// A value the merge needs is not what the format allows (a line number that is not a
    /// number, an LCOV record with too few fields).
    #[error("bad {what} `{value}` at {at}")]
    BadValue {
        /// What the value is (`line number`, `DA record`, ...).
        what: &'static str,
        /// The offending value, shortened.
        value: String,
        /// `byte N` or `line N`.
        at: String,
    },

    /// An LCOV line is not UTF-8.
    #[error("line {line} is not UTF-8; rxdist reads LCOV files as UTF-8")]
    NotUtf8 {
        /// The 1-based line number.
        line: u64,
    },

    /// A `--path-map` value is not `FROM=TO`.
    #[error("bad --path-map `{value}`: {reason}")]
    BadPathMap {
        /// The value given.
        value: String,
        /// What is wrong and how to write it.
        reason: &'static str,
    },

    /// None of the inputs could be read.
    #[error("none of the {count} coverage reports could be read")]
    NothingReadable {
        /// How many inputs there were.
        count: usize,
        /// What went wrong with each, in input order.
        inputs: Vec<super::InputReport>,
    },

    /// Writing the merged report failed.
    #[error("cannot write the merged report")]
    Write(#[source] std::io::Error),
}

/// The format's name with its article (`an LCOV`).
fn with_article(format: Format) -> &'static str {
    match format {
        Format::Cobertura => "a Cobertura",
        Format::Lcov => "an LCOV",
        Format::Jacoco => "a JaCoCo",
    }
}

/// Shortens a value quoted in an error message to something a terminal line can hold.
pub(super) fn shorten(value: &str) -> String {
    const MAX: usize = 80;
    if value.len() <= MAX {
        return value.to_owned();
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &value[..end])
}
