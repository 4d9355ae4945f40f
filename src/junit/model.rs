//! The data the reader extracts from one `<testcase>`.

use serde::{Deserialize, Serialize};

/// How a testcase ended, as far as its JUnit element says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// No `<failure>`, `<error>` or `<skipped>` child.
    Passed,
    /// A `<failure>` child (an assertion failed).
    Failed,
    /// An `<error>` child (the test could not run to completion).
    Error,
    /// A `<skipped>` child.
    Skipped,
}

impl Outcome {
    /// One letter, used to store recent outcomes compactly in the history.
    pub fn letter(self) -> char {
        match self {
            Outcome::Passed => 'p',
            Outcome::Failed => 'f',
            Outcome::Error => 'e',
            Outcome::Skipped => 's',
        }
    }

    /// Inverse of [`Outcome::letter`].
    pub fn from_letter(letter: char) -> Option<Self> {
        match letter {
            'p' => Some(Outcome::Passed),
            'f' => Some(Outcome::Failed),
            'e' => Some(Outcome::Error),
            's' => Some(Outcome::Skipped),
            _ => None,
        }
    }

    /// Whether the test did not pass (a failure or an error).
    pub fn is_failure(self) -> bool {
        matches!(self, Outcome::Failed | Outcome::Error)
    }
}

/// One `<testcase>` element, reduced to what timing and identity need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    /// The `name` attribute (required by every dialect; empty if a producer omitted it).
    pub name: String,
    /// The `classname` attribute, if any.
    pub classname: Option<String>,
    /// The `file` attribute of the testcase, or failing that of the nearest enclosing
    /// `<testsuite>` that has one (jest-junit, Playwright and PHPUnit put it there), or of a
    /// `filepath` attribute (some rspec formatters).
    pub file: Option<String>,
    /// The `line` attribute, if it parses.
    pub line: Option<u32>,
    /// The `time` attribute in seconds, if present and meaningful (see [`super::parse_time`]).
    pub time: Option<f64>,
    /// How it ended.
    pub outcome: Outcome,
    /// Names of the enclosing `<testsuite>` elements, outermost first.
    pub suites: Vec<String>,
    /// The test id rxdist wrote into the testcase's `rxdist.id` property, if any: it wins
    /// over every mapping rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}
