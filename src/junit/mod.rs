//! JUnit XML reading and writing, pure: bytes in, testcases out; a report in, bytes out.
//!
//! The reader streams: it never builds a DOM, never keeps `system-out`/`system-err` bodies,
//! never expands entities or reads a DTD, and hands each complete `<testcase>` to a callback as
//! soon as its end tag is seen, so a truncated file still yields every testcase before the cut.
//! It does no I/O of its own beyond the reader it is handed.

pub mod digest;
mod error;
mod input;
pub(crate) use input::{declares_entities, is_wide_encoding};
pub mod merge;
mod model;
mod reader;
mod scan;
mod tag;
mod time;
pub mod write;

pub use error::JunitError;
pub use model::{Outcome, TestCase};
pub use reader::{ID_PROPERTY, Limits, ReadSummary, read_testcases};
pub use time::parse_time;
