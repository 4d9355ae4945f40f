//! Rebuilding pytest node ids from what pytest's junitxml plugin wrote.
//!
//! pytest writes a node id such as `tests/unit/test_x.py::TestA::test_b[1.5-a/b]` as
//! `classname="tests.unit.test_x.TestA"` and `name="test_b[1.5-a/b]"`: the path's `/` become
//! `.`, a trailing `.py` is dropped, the classes are joined on with `.`, and the last part (with
//! any parameters) is the name. The mapping loses where the path ends and the classes begin,
//! and whether a `.` was a `/`. With xunit1's `file` attribute the path is known; without it
//! (xunit2, pytest's default since 6.0) every split of the classname is a candidate and outside
//! knowledge (known ids, files that exist) picks one.

use crate::junit::TestCase;

/// Most candidate paths tried for dotted directory names (`tests/v1.2/test_x.py`), which need
/// every choice of `.` or `/` between classname parts; bounds the work per testcase.
const DOTTED_DIRECTORY_BUDGET: usize = 512;

/// The node id of `case`, or `None` if it cannot be determined.
pub(super) fn node_id(
    case: &TestCase,
    known_ids: &dyn Fn(&str) -> bool,
    file_exists: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let classname = case.classname.as_deref().unwrap_or_default();
    let file = case
        .file
        .as_deref()
        .map(normalise_path)
        .filter(|file| !file.is_empty());
    if classname.is_empty() {
        // A report about a whole module (a collection error): pytest puts the dotted module
        // path in the name and leaves the classname empty.
        return match file {
            Some(file) => Some(file),
            None => resolve(&case.name, None, known_ids, file_exists),
        };
    }
    if case.name.is_empty() {
        return None;
    }
    if let Some(id) = file
        .as_deref()
        .and_then(|file| from_file(file, classname, &case.name))
    {
        return Some(id);
    }
    // No file, or a file that does not match the classname (a test inherited from a base
    // class in another module reports the base's file): fall back on the classname alone.
    resolve(classname, Some(&case.name), known_ids, file_exists)
}

/// `file` with Windows separators turned into `/` and leading `./` removed.
fn normalise_path(file: &str) -> String {
    let file = file.replace('\\', "/");
    let mut path = file.as_str();
    while let Some(rest) = path.strip_prefix("./") {
        path = rest;
    }
    path.to_owned()
}

/// The node id when `file` (or, for absolute paths and paths relative to another directory,
/// a trailing part of it) is the path pytest mangled into the front of `classname`.
fn from_file(file: &str, classname: &str, name: &str) -> Option<String> {
    // Longest suffix first: the whole path is right whenever it matches.
    let starts = std::iter::once(0).chain(file.match_indices('/').map(|(at, _)| at + 1));
    for start in starts {
        let path = &file[start..];
        if path.is_empty() {
            continue;
        }
        let dotted = dotted_path(path);
        let classes = if classname == dotted {
            Some("")
        } else {
            classname
                .strip_prefix(dotted.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
        };
        if let Some(classes) = classes {
            let classes: Vec<&str> = classes
                .split('.')
                .filter(|class| !class.is_empty())
                .collect();
            return Some(build(path, &classes, Some(name)));
        }
    }
    None
}

/// pytest's mangling of a node id path: `/` to `.`, and a trailing `.py` dropped.
fn dotted_path(path: &str) -> String {
    let path = path.strip_suffix(".py").unwrap_or(path);
    path.replace('/', ".")
}

/// `path::Class::...::name` (or just the path and classes when there is no name).
fn build(path: &str, classes: &[&str], name: Option<&str>) -> String {
    let mut id = String::with_capacity(path.len() + 32);
    id.push_str(path);
    for part in classes.iter().copied().chain(name) {
        id.push_str("::");
        id.push_str(part);
    }
    id
}

/// Picks among the splits of `dotted` into a module path and classes: the first candidate whose
/// id is known, else the first whose file exists, longest module path first.
fn resolve(
    dotted: &str,
    name: Option<&str>,
    known_ids: &dyn Fn(&str) -> bool,
    file_exists: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let parts: Vec<&str> = dotted.split('.').collect();
    // A module report names no function: the whole dotted name is the path. Otherwise every
    // split is a candidate whose module part can be a module name and whose classes are all
    // non-empty (an empty part is a `.` that belongs to a directory such as `.github`).
    let module_lengths: Vec<usize> = if name.is_some() {
        (1..=parts.len()).rev().collect()
    } else {
        vec![parts.len()]
    };
    let module_lengths: Vec<usize> = module_lengths
        .into_iter()
        .filter(|&length| {
            is_module_name(parts[length - 1]) && parts[length..].iter().all(|part| !part.is_empty())
        })
        .collect();
    let candidates = candidates(&parts, &module_lengths);
    let id_of =
        |(path, module_length): &(String, usize)| build(path, &parts[*module_length..], name);
    if let Some(id) = candidates.iter().map(id_of).find(|id| known_ids(id)) {
        return Some(id);
    }
    candidates
        .iter()
        .find(|(path, _)| file_exists(path))
        .map(id_of)
}

/// Whether `part` can name a Python file pytest collects: not empty, not starting with a digit.
fn is_module_name(part: &str) -> bool {
    part.chars()
        .next()
        .is_some_and(|first| !first.is_ascii_digit())
}

/// Candidate module paths with the number of classname parts each uses, in order of preference:
/// all-`/` paths longest first, then paths with dotted directory names (`v1.2`, `.github`),
/// longest first, within [`DOTTED_DIRECTORY_BUDGET`]. Paths with an empty segment are left out.
fn candidates(parts: &[&str], module_lengths: &[usize]) -> Vec<(String, usize)> {
    let mut out: Vec<(String, usize)> = module_lengths
        .iter()
        .filter(|&&length| parts[..length].iter().all(|part| !part.is_empty()))
        .map(|&length| (format!("{}.py", parts[..length].join("/")), length))
        .collect();
    let mut budget = DOTTED_DIRECTORY_BUDGET;
    for &length in module_lengths {
        // The module's own name has no dot, so only the separators between directory parts
        // (all but the last part) can be dots.
        let choices = length.saturating_sub(2);
        if choices == 0 || choices >= usize::BITS as usize {
            continue;
        }
        for dots in 1..(1usize << choices) {
            if budget == 0 {
                return out;
            }
            budget -= 1;
            let mut path = String::from(parts[0]);
            for (index, part) in parts[1..length].iter().enumerate() {
                path.push(if dots >> index & 1 == 1 { '.' } else { '/' });
                path.push_str(part);
            }
            if path.split('/').all(|segment| !segment.is_empty()) {
                path.push_str(".py");
                out.push((path, length));
            }
        }
    }
    out
}
