//! Why a JUnit document could not be read (completely).
//!
//! Every variant that points into the document carries the byte offset, because the usual
//! way to investigate a bad report is to open it at that offset. Messages are written for the
//! person whose CI job just failed: they say what is wrong and, where there is one, the fix.

/// Why a document could not be read (completely).
///
/// Testcases delivered to the callback before the error was found stay valid: the reader hands
/// a testcase over only once its end tag has been seen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JunitError {
    /// The underlying reader failed.
    #[error("could not read the document at byte {offset}")]
    Io {
        /// Bytes successfully read before the failure.
        offset: u64,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// Bytes that are not UTF-8 in a document that declares another encoding (ISO-8859-1,
    /// windows-1252...); the reader only understands UTF-8.
    #[error(
        "the document declares encoding {encoding:?} and has bytes that are not UTF-8 at byte \
         {offset}; re-encode it as UTF-8, e.g. with `iconv -f {encoding} -t UTF-8`"
    )]
    DeclaredEncoding {
        /// The encoding the XML declaration names.
        encoding: String,
        /// Where the first byte that is not UTF-8 was found.
        offset: u64,
    },

    /// The document is UTF-16 (or UTF-32); the reader only understands UTF-8.
    #[error(
        "the document is encoded as UTF-16 or UTF-32 ({evidence}); re-encode it as UTF-8, \
         e.g. with `iconv -f UTF-16 -t UTF-8`"
    )]
    Utf16 {
        /// What gave the encoding away.
        evidence: &'static str,
    },

    /// The input is not XML at all (binary data, plain text, nothing).
    #[error("not a JUnit XML document: {reason} at byte {offset}")]
    NotXml {
        /// Where the problem was found.
        offset: u64,
        /// What was found instead of XML.
        reason: &'static str,
        /// The parser error, when there was one.
        #[source]
        source: Option<quick_xml::Error>,
    },

    /// The document is XML, but its root element is not `<testsuites>` or `<testsuite>`.
    #[error(
        "not a JUnit XML document: the root element is <{root}>, not <testsuites> or <testsuite>"
    )]
    UnexpectedRoot {
        /// The name of the root element found.
        root: String,
    },

    /// The document ended with elements still open: the file was cut short.
    #[error(
        "the document ends at byte {offset} with <{element}> still open; the file is probably truncated"
    )]
    Truncated {
        /// The innermost element left open.
        element: String,
        /// The length of the input.
        offset: u64,
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

    /// Something well-formed XML does not allow where it was found (a DOCTYPE after the root
    /// element, an element or attribute name that is not a name).
    #[error("malformed XML at byte {offset}: {what}")]
    Misplaced {
        /// Where it was found.
        offset: u64,
        /// What was found.
        what: &'static str,
    },

    /// An attribute value uses an entity reference that is not one of XML's five predefined
    /// entities or a character reference.
    #[error(
        "malformed XML at byte {offset}: the value of attribute `{attribute}` has a bad entity reference"
    )]
    BadEntityReference {
        /// Where the element starts.
        offset: u64,
        /// The attribute's name.
        attribute: String,
        /// What was wrong with the reference.
        #[source]
        source: quick_xml::escape::EscapeError,
    },

    /// The document declares entities in its DOCTYPE.
    #[error(
        "the document declares entities at byte {offset}; rxdist never expands them \
         (this is how entity-expansion bombs are defused), so it refuses the document"
    )]
    EntityDeclaration {
        /// Where the DOCTYPE starts.
        offset: u64,
    },

    /// An attribute value is longer than [`super::Limits::max_attribute_bytes`].
    #[error(
        "attribute `{attribute}` at byte {offset} is {length} bytes long, more than the limit of {limit}"
    )]
    AttributeTooLong {
        /// The attribute's name.
        attribute: String,
        /// Where the element starts.
        offset: u64,
        /// The value's length in bytes.
        length: usize,
        /// The limit in force.
        limit: usize,
    },

    /// A single tag, processing instruction or DOCTYPE is longer than the reader will buffer
    /// (eight times [`super::Limits::max_attribute_bytes`], at least 64 KiB).
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
}
