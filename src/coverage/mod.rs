//! STUB (local only, not committed)
use std::io::{BufRead, Write};
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Format {
    Cobertura,
    Lcov,
    Jacoco,
}
impl Format {
    pub fn output_name(self) -> &'static str {
        match self {
            Format::Cobertura => "coverage.xml",
            Format::Lcov => "coverage.lcov",
            Format::Jacoco => "jacoco.xml",
        }
    }
    pub fn name(self) -> &'static str {
        "x"
    }
}
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.windows(9).any(|w| w == b"<coverage") {
        Some(Format::Cobertura)
    } else {
        None
    }
}
pub struct PathMap {
    pub from: String,
    pub to: String,
}
#[derive(Default)]
pub struct CoverageOptions {
    pub path_maps: Vec<PathMap>,
}
pub struct CoverageInput<R> {
    pub label: String,
    pub reader: R,
}
pub struct CoverageReport {
    pub inputs: Vec<InputReport>,
    pub files: usize,
    pub lines: Ratio,
    pub branches: Ratio,
    pub warnings: Vec<String>,
}
pub struct InputReport {
    pub label: String,
    pub files: usize,
    pub problem: Option<CoverageError>,
}
pub struct Ratio {
    pub covered: u64,
    pub valid: u64,
}
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error("x")]
    X,
}
pub fn merge<R: BufRead, W: Write>(
    _f: Format,
    inputs: Vec<CoverageInput<R>>,
    _o: &CoverageOptions,
    _out: W,
) -> Result<CoverageReport, CoverageError> {
    Ok(CoverageReport {
        inputs: inputs
            .into_iter()
            .map(|i| InputReport {
                label: i.label,
                files: 0,
                problem: None,
            })
            .collect(),
        files: 0,
        lines: Ratio {
            covered: 0,
            valid: 0,
        },
        branches: Ratio {
            covered: 0,
            valid: 0,
        },
        warnings: vec![],
    })
}
