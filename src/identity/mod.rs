//! Test identity: turning a JUnit testcase into the id a runner can select again.
//!
//! For pytest the id is the node id (`tests/test_x.py::TestA::test_b[1]`), rebuilt from the
//! `file` attribute (xunit1) or, without it (xunit2), from pytest's classname rule checked
//! against the collected test list, the history's ids, or files that exist. For other
//! frameworks it is the file path or `classname::name`. Pure: the caller hands in whatever
//! knowledge (known ids, a file-exists predicate) it has.

mod pytest;

use crate::junit::TestCase;

/// Which rule turns testcases into ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framework {
    /// pytest node ids.
    Pytest,
    /// Any other runner: file path when the testcase names a file, else `classname::name`.
    Generic,
}

impl Framework {
    /// Guesses the framework that wrote `cases`.
    ///
    /// pytest when any enclosing suite is named `pytest` (pytest names its suite so unless
    /// told otherwise), when any testcase's file is a `.py` file, or when most testcases look
    /// like pytest's mangled node ids (a `test_*` or `*_test` module in the classname and a
    /// `test*` name). Generic otherwise.
    pub fn detect_from_cases<'c>(cases: impl IntoIterator<Item = &'c TestCase>) -> Framework {
        // One pass: reports can hold hundreds of thousands of testcases.
        let (mut with_classname, mut pytest_like) = (0usize, 0usize);
        for case in cases {
            let named_pytest = case.suites.iter().any(|suite| suite == "pytest");
            let python_file = case
                .file
                .as_deref()
                .is_some_and(|file| has_extension(file, ".py"));
            if named_pytest || python_file {
                return Framework::Pytest;
            }
            if case
                .classname
                .as_deref()
                .is_some_and(|classname| !classname.is_empty())
            {
                with_classname += 1;
                pytest_like += usize::from(looks_like_pytest_case(case));
            }
        }
        if with_classname > 0 && pytest_like * 2 > with_classname {
            Framework::Pytest
        } else {
            Framework::Generic
        }
    }

    /// Guesses the framework from ids (a collected list or the history's): pytest when most
    /// non-empty ids are node ids, `path.py` or `path.py::...`.
    pub fn detect_from_ids<'i>(ids: impl IntoIterator<Item = &'i str>) -> Framework {
        let (mut total, mut node_ids) = (0usize, 0usize);
        for id in ids.into_iter().filter(|id| !id.is_empty()) {
            total += 1;
            if has_extension(file_key(id), ".py") {
                node_ids += 1;
            }
        }
        if total > 0 && node_ids * 2 > total {
            Framework::Pytest
        } else {
            Framework::Generic
        }
    }
}

/// Guesses the framework from both the testcases of a report and the ids already known for
/// the project (collected list or history): pytest when either says pytest, since a generic
/// report never looks like pytest by accident but a pytest report may lack every hint (a
/// renamed suite, xunit2 without `file`) that the ids still give.
pub fn detect_framework<'c, 'i>(
    cases: impl IntoIterator<Item = &'c TestCase>,
    known_ids: impl IntoIterator<Item = &'i str>,
) -> Framework {
    if Framework::detect_from_cases(cases) == Framework::Pytest
        || Framework::detect_from_ids(known_ids) == Framework::Pytest
    {
        Framework::Pytest
    } else {
        Framework::Generic
    }
}

/// Whether `path` ends with `extension`, ignoring ASCII case (Windows producers).
fn has_extension(path: &str, extension: &str) -> bool {
    path.len() >= extension.len()
        && path.is_char_boundary(path.len() - extension.len())
        && path[path.len() - extension.len()..].eq_ignore_ascii_case(extension)
}

/// Whether a testcase without other evidence looks like pytest wrote it: a `test_*` or
/// `*_test` module somewhere in the classname, and a `test*` function name.
fn looks_like_pytest_case(case: &TestCase) -> bool {
    let classname = case.classname.as_deref().unwrap_or_default();
    case.name.starts_with("test")
        && classname
            .split('.')
            .any(|part| part.starts_with("test_") || part.ends_with("_test"))
}

/// The part of an id before the first `::`: the file for pytest ids, the whole id otherwise.
pub fn file_key(id: &str) -> &str {
    id.split_once("::").map_or(id, |(file, _)| file)
}

/// Maps testcases to ids.
pub struct IdMapper<'a> {
    framework: Framework,
    known_ids: &'a dyn Fn(&str) -> bool,
    file_exists: &'a dyn Fn(&str) -> bool,
}

impl<'a> IdMapper<'a> {
    /// A mapper for `framework`; `known_ids` says whether an id is known to exist (collected
    /// list or history) and `file_exists` whether a relative path names a file.
    pub fn new(
        framework: Framework,
        known_ids: &'a dyn Fn(&str) -> bool,
        file_exists: &'a dyn Fn(&str) -> bool,
    ) -> Self {
        IdMapper {
            framework,
            known_ids,
            file_exists,
        }
    }

    /// The framework this mapper applies.
    pub fn framework(&self) -> Framework {
        self.framework
    }

    /// The id of `case`, or `None` when it cannot be determined.
    ///
    /// pytest ids come from `pytest::node_id`; `None` means the classname fits no candidate
    /// node id that is known or whose file exists. Generic ids are the testcase's file (with a
    /// leading `./` removed), else `classname::name`, else `name`; `None` only when the
    /// testcase has none of them.
    pub fn map(&self, case: &TestCase) -> Option<String> {
        if let Some(id) = case.id.as_ref().filter(|id| !id.is_empty()) {
            return Some(id.clone());
        }
        match self.framework {
            Framework::Pytest => pytest::node_id(case, self.known_ids, self.file_exists),
            Framework::Generic => generic_id(case),
        }
    }
}

/// The generic rule: the file when there is one, else `classname::name`, else `name`.
fn generic_id(case: &TestCase) -> Option<String> {
    if let Some(file) = case
        .file
        .as_deref()
        .map(strip_dot_slash)
        .filter(|file| !file.is_empty())
    {
        return Some(file.to_owned());
    }
    match case.classname.as_deref() {
        Some(classname) if !classname.is_empty() => Some(format!("{classname}::{}", case.name)),
        _ if !case.name.is_empty() => Some(case.name.clone()),
        _ => None,
    }
}

/// `path` without leading `./` components.
fn strip_dot_slash(mut path: &str) -> &str {
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path
}

#[cfg(test)]
mod tests;
