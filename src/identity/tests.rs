//! Tests of the id rules, including property tests that undo pytest's own mangling.

use std::collections::HashSet;

use proptest::prelude::*;

use super::{Framework, IdMapper, detect_framework, file_key};
use crate::junit::{Outcome, TestCase};

fn case(classname: Option<&str>, name: &str, file: Option<&str>) -> TestCase {
    TestCase {
        name: name.to_owned(),
        classname: classname.map(str::to_owned),
        file: file.map(str::to_owned),
        line: None,
        time: Some(0.1),
        outcome: Outcome::Passed,
        suites: vec!["pytest".to_owned()],
        id: None,
    }
}

fn nothing(_: &str) -> bool {
    false
}

fn pytest_map(case: &TestCase, known: &[&str], files: &[&str]) -> Option<String> {
    let known: HashSet<&str> = known.iter().copied().collect();
    let files: HashSet<&str> = files.iter().copied().collect();
    let known_ids = |id: &str| known.contains(id);
    let file_exists = |path: &str| files.contains(path);
    IdMapper::new(Framework::Pytest, &known_ids, &file_exists).map(case)
}

/// pytest's `mangle_test_address` plus the join into classname and name, as its junitxml
/// plugin does it.
fn mangle(node_id: &str) -> (String, String) {
    let (path, bracket, params) = match node_id.split_once('[') {
        Some((path, params)) => (path, "[", params),
        None => (node_id, "", ""),
    };
    let mut names: Vec<String> = path.split("::").map(str::to_owned).collect();
    let first = names[0].replace('/', ".");
    names[0] = first
        .strip_suffix(".py")
        .map_or(first.clone(), str::to_owned);
    let last = names.len() - 1;
    names[last] = format!("{}{bracket}{params}", names[last]);
    let name = names.pop().unwrap_or_default();
    (names.join("."), name)
}

#[test]
fn mangle_matches_pytest() {
    assert_eq!(
        mangle("tests/test_x.py::TestA::test_b[1.5-a/b]"),
        ("tests.test_x.TestA".into(), "test_b[1.5-a/b]".into())
    );
    assert_eq!(
        mangle("test_x.py::test_a"),
        ("test_x".into(), "test_a".into())
    );
}

#[test]
fn file_key_is_the_part_before_the_first_separator() {
    assert_eq!(
        file_key("tests/test_x.py::TestA::test_b"),
        "tests/test_x.py"
    );
    assert_eq!(file_key("spec/x_spec.rb"), "spec/x_spec.rb");
}

#[test]
fn generic_ids() {
    let generic = |case: &TestCase| IdMapper::new(Framework::Generic, &nothing, &nothing).map(case);
    assert_eq!(
        generic(&case(Some("a b"), "c", Some("./spec/x_spec.rb"))).as_deref(),
        Some("spec/x_spec.rb")
    );
    assert_eq!(
        generic(&case(Some("a b"), "c", Some("src/sum.test.js"))).as_deref(),
        Some("src/sum.test.js")
    );
    assert_eq!(
        generic(&case(Some("com.example.AppTest"), "adds", None)).as_deref(),
        Some("com.example.AppTest::adds")
    );
    assert_eq!(
        generic(&case(Some(""), "TestA", None)).as_deref(),
        Some("TestA")
    );
    assert_eq!(
        generic(&case(None, "TestA", Some(""))).as_deref(),
        Some("TestA")
    );
    assert_eq!(generic(&case(None, "", None)), None);
}

#[test]
fn pytest_xunit1_uses_the_file() {
    let cases = [
        (
            case(Some("test_x"), "test_a", Some("test_x.py")),
            "test_x.py::test_a",
        ),
        (
            case(
                Some("tests.test_x.TestA"),
                "test_b",
                Some("tests/test_x.py"),
            ),
            "tests/test_x.py::TestA::test_b",
        ),
        (
            case(
                Some("tests.test_x.TestA.TestNested"),
                "test_b[1.5-a/b]",
                Some("tests/test_x.py"),
            ),
            "tests/test_x.py::TestA::TestNested::test_b[1.5-a/b]",
        ),
        (
            case(
                Some("tests.v1.2.test_x"),
                "test_a[x.y]",
                Some("tests/v1.2/test_x.py"),
            ),
            "tests/v1.2/test_x.py::test_a[x.y]",
        ),
        (
            case(Some("tests.test_x"), "test_a", Some("./tests/test_x.py")),
            "tests/test_x.py::test_a",
        ),
        (
            case(Some("tests.test_x"), "test_a", Some("tests\\test_x.py")),
            "tests/test_x.py::test_a",
        ),
        // A file given absolute or relative to another directory than the rootdir.
        (
            case(
                Some("tests.test_x.TestA"),
                "test_a",
                Some("/home/ci/repo/tests/test_x.py"),
            ),
            "tests/test_x.py::TestA::test_a",
        ),
    ];
    for (case, want) in cases {
        assert_eq!(
            pytest_map(&case, &[], &[]).as_deref(),
            Some(want),
            "{case:?}"
        );
    }
}

#[test]
fn pytest_xunit1_inherited_test_falls_back_on_the_classname() {
    // `TestChild` in tests/test_child.py inherits test_a from tests/base.py; pytest reports
    // the base's file but the child's node id.
    let inherited = case(
        Some("tests.test_child.TestChild"),
        "test_a",
        Some("tests/base.py"),
    );
    assert_eq!(pytest_map(&inherited, &[], &[]), None);
    assert_eq!(
        pytest_map(&inherited, &[], &["tests/test_child.py"]).as_deref(),
        Some("tests/test_child.py::TestChild::test_a")
    );
}

#[test]
fn pytest_xunit2_ambiguous_classnames() {
    let ambiguous = case(Some("a.b.c"), "test_z", None);
    // Nothing known: no guess.
    assert_eq!(pytest_map(&ambiguous, &[], &[]), None);
    // A known id decides.
    assert_eq!(
        pytest_map(&ambiguous, &["a/b.py::c::test_z"], &[]).as_deref(),
        Some("a/b.py::c::test_z")
    );
    // Files decide when no id is known; the longest module path wins.
    assert_eq!(
        pytest_map(&ambiguous, &[], &["a/b.py", "a/b/c.py"]).as_deref(),
        Some("a/b/c.py::test_z")
    );
    assert_eq!(
        pytest_map(&ambiguous, &[], &["a.py"]).as_deref(),
        Some("a.py::b::c::test_z")
    );
    // A known id beats an existing file.
    assert_eq!(
        pytest_map(&ambiguous, &["a.py::b::c::test_z"], &["a/b/c.py"]).as_deref(),
        Some("a.py::b::c::test_z")
    );
    // Several known ids: the longest module path wins.
    assert_eq!(
        pytest_map(
            &ambiguous,
            &["a.py::b::c::test_z", "a/b.py::c::test_z"],
            &[]
        )
        .as_deref(),
        Some("a/b.py::c::test_z")
    );
}

#[test]
fn pytest_xunit2_root_and_dotted_directories() {
    let hidden = case(Some(".github.scripts.test_release"), "test_tag", None);
    assert_eq!(
        pytest_map(&hidden, &[], &[".github/scripts/test_release.py"]).as_deref(),
        Some(".github/scripts/test_release.py::test_tag")
    );
    let hidden = case(
        Some(".github.scripts.test_release"),
        "test_tag",
        Some(".github/scripts/test_release.py"),
    );
    assert_eq!(
        pytest_map(&hidden, &[], &[]).as_deref(),
        Some(".github/scripts/test_release.py::test_tag")
    );
    let root = case(Some("test_x"), "test_a", None);
    assert_eq!(
        pytest_map(&root, &[], &["test_x.py"]).as_deref(),
        Some("test_x.py::test_a")
    );
    let dotted = case(Some("tests.v1.2.test_x.TestA"), "test_a[1.5]", None);
    assert_eq!(
        pytest_map(&dotted, &["tests/v1.2/test_x.py::TestA::test_a[1.5]"], &[]).as_deref(),
        Some("tests/v1.2/test_x.py::TestA::test_a[1.5]")
    );
    assert_eq!(
        pytest_map(&dotted, &[], &["tests/v1.2/test_x.py"]).as_deref(),
        Some("tests/v1.2/test_x.py::TestA::test_a[1.5]")
    );
}

#[test]
fn pytest_module_level_reports() {
    // A collection error: classname empty, dotted module path as the name.
    let error = case(Some(""), "tests.test_broken", None);
    assert_eq!(
        pytest_map(&error, &[], &["tests/test_broken.py"]).as_deref(),
        Some("tests/test_broken.py")
    );
    let with_file = case(None, "tests.test_broken", Some("tests/test_broken.py"));
    assert_eq!(
        pytest_map(&with_file, &[], &[]).as_deref(),
        Some("tests/test_broken.py")
    );
    assert_eq!(
        pytest_map(&case(Some("tests..x"), "test_a", None), &[], &[]),
        None
    );
    assert_eq!(
        pytest_map(
            &case(Some("tests.test_x"), "", None),
            &["tests/test_x.py::"],
            &[]
        ),
        None
    );
}

#[test]
fn detection_from_cases() {
    let mut plain = case(Some("com.example.AppTest"), "adds", None);
    plain.suites = vec!["com.example.AppTest".to_owned()];
    assert_eq!(
        Framework::detect_from_cases(std::slice::from_ref(&plain)),
        Framework::Generic
    );
    assert_eq!(
        Framework::detect_from_cases(&[] as &[crate::junit::TestCase]),
        Framework::Generic
    );
    let mut named = plain.clone();
    named.suites = vec!["pytest".to_owned()];
    assert_eq!(
        Framework::detect_from_cases(&[plain.clone(), named]),
        Framework::Pytest
    );
    let mut python_file = plain.clone();
    python_file.file = Some("tests/test_x.py".to_owned());
    assert_eq!(
        Framework::detect_from_cases(&[plain.clone(), python_file]),
        Framework::Pytest
    );
    let mut renamed = case(Some("tests.test_x.TestA"), "test_b", None);
    renamed.suites = vec!["my-suite".to_owned()];
    assert_eq!(
        Framework::detect_from_cases(&[renamed.clone(), renamed]),
        Framework::Pytest
    );
}

#[test]
fn detection_from_ids() {
    assert_eq!(
        Framework::detect_from_ids(["tests/test_x.py::test_a", "tests/test_y.py"]),
        Framework::Pytest
    );
    assert_eq!(
        Framework::detect_from_ids(["spec/x_spec.rb", "com.example.AppTest::adds"]),
        Framework::Generic
    );
    assert_eq!(Framework::detect_from_ids([]), Framework::Generic);
}

#[test]
fn detection_from_both() {
    let mut plain = case(Some("tests.helpers"), "checks", None);
    plain.suites = vec!["renamed".to_owned()];
    let cases = std::slice::from_ref(&plain);
    assert_eq!(detect_framework(cases, []), Framework::Generic);
    assert_eq!(
        detect_framework(cases, ["tests/helpers.py::checks"]),
        Framework::Pytest
    );
    assert_eq!(
        detect_framework(&[] as &[crate::junit::TestCase], ["spec/x_spec.rb"]),
        Framework::Generic
    );
}

/// A valid pytest node id: directories (some with dots), a `test_*.py` module, classes and a
/// function name with optional parameters.
fn node_id() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec("\\.?[a-z_][a-z0-9_]{0,5}(\\.[0-9]{1,2})?", 0..3),
        "test_[a-z0-9_]{1,6}",
        proptest::collection::vec("Test[A-Za-z0-9_]{0,5}", 0..3),
        "test_[a-z0-9_]{0,6}",
        proptest::option::of("[a-zA-Z0-9_./: -]{0,12}"),
    )
        .prop_map(|(dirs, module, classes, function, params)| {
            let mut id = String::new();
            for dir in dirs {
                id.push_str(&dir);
                id.push('/');
            }
            id.push_str(&module);
            id.push_str(".py");
            for class in classes {
                id.push_str("::");
                id.push_str(&class);
            }
            id.push_str("::");
            id.push_str(&function);
            if let Some(params) = params {
                id.push('[');
                id.push_str(&params);
                id.push(']');
            }
            id
        })
}

proptest! {
    #[test]
    fn xunit1_round_trips(id in node_id()) {
        let (classname, name) = mangle(&id);
        let reported = case(Some(&classname), &name, Some(file_key(&id)));
        prop_assert_eq!(pytest_map(&reported, &[], &[]), Some(id));
    }

    #[test]
    fn xunit2_round_trips_with_known_ids(id in node_id()) {
        let (classname, name) = mangle(&id);
        let reported = case(Some(&classname), &name, None);
        prop_assert_eq!(pytest_map(&reported, &[id.as_str()], &[]), Some(id.clone()));
    }

    #[test]
    fn xunit2_round_trips_with_existing_files(id in node_id()) {
        let (classname, name) = mangle(&id);
        let reported = case(Some(&classname), &name, None);
        prop_assert_eq!(pytest_map(&reported, &[], &[file_key(&id)]), Some(id.clone()));
    }
}
