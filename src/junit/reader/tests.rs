//! Tests of the reader on small inline documents shaped like each producer's output, and on
//! the ways input goes wrong.

use std::fmt::Write as _;
use std::io::Read;

use proptest::prelude::*;

use super::{Limits, ReadSummary, read_testcases, read_with_stats};
use crate::junit::{JunitError, Outcome, TestCase};

fn read_bytes(xml: &[u8]) -> (Vec<TestCase>, Result<ReadSummary, JunitError>) {
    let mut cases = Vec::new();
    let result = read_testcases(xml, &Limits::default(), |case| cases.push(case));
    (cases, result)
}

fn read_ok(xml: &str) -> Vec<TestCase> {
    let (cases, result) = read_bytes(xml.as_bytes());
    let summary = result.unwrap_or_else(|err| panic!("{err}: {err:?}"));
    assert_eq!(summary.testcases, cases.len());
    cases
}

fn read_err(xml: &[u8]) -> (Vec<TestCase>, JunitError) {
    let (cases, result) = read_bytes(xml);
    match result {
        Ok(summary) => panic!("expected an error, read {summary:?}"),
        Err(err) => (cases, err),
    }
}

fn names(cases: &[TestCase]) -> Vec<&str> {
    cases.iter().map(|case| case.name.as_str()).collect()
}

#[test]
fn pytest_xunit1() {
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="1" skipped="1" tests="3" time="0.5" timestamp="2024-01-01T00:00:00" hostname="h">
<testcase classname="tests.test_x.TestA" name="test_b[1.5-a/b]" file="tests/test_x.py" line="11" time="0.123" />
<testcase classname="tests.test_x" name="test_fail" file="tests/test_x.py" line="20" time="0.2"><failure message="assert 1 == 2">def test_fail():
&gt;       assert 1 == 2
E       assert 1 == 2</failure></testcase>
<testcase classname="tests.test_x" name="test_skip" file="tests/test_x.py" line="30" time="0.000"><skipped type="pytest.skip" message="nope">tests/test_x.py:30: nope</skipped></testcase>
</testsuite></testsuites>"#,
    );
    assert_eq!(names(&cases), ["test_b[1.5-a/b]", "test_fail", "test_skip"]);
    assert_eq!(cases[0].classname.as_deref(), Some("tests.test_x.TestA"));
    assert_eq!(cases[0].file.as_deref(), Some("tests/test_x.py"));
    assert_eq!(cases[0].line, Some(11));
    assert_eq!(cases[0].time, Some(0.123));
    assert_eq!(cases[0].suites, ["pytest"]);
    assert_eq!(
        cases.iter().map(|c| c.outcome).collect::<Vec<_>>(),
        [Outcome::Passed, Outcome::Failed, Outcome::Skipped]
    );
}

#[test]
fn pytest_xunit2_without_file() {
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="1"><testcase classname="tests.test_x.TestA" name="test_b" time="1.5"><system-out>hi</system-out></testcase></testsuite></testsuites>"#,
    );
    assert_eq!(cases[0].file, None);
    assert_eq!(cases[0].line, None);
    assert_eq!(cases[0].time, Some(1.5));
}

#[test]
fn jest_junit_file_on_suite() {
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="2" failures="0" errors="0" time="1.2">
  <testsuite name="sum" errors="0" failures="0" skipped="0" timestamp="2024-01-01T00:00:00" time="0.5" tests="2" file="./src/sum.test.js">
    <testcase classname="sum adds" name="sum adds 1 + 2" time="0.002"></testcase>
    <testcase classname="sum adds" name="sum handles zero" time="0.001" file="src/other.test.js"/>
  </testsuite>
</testsuites>"#,
    );
    assert_eq!(cases[0].file.as_deref(), Some("src/sum.test.js"));
    assert_eq!(cases[1].file.as_deref(), Some("src/other.test.js"));
    assert_eq!(cases[0].suites, ["sum"]);
}

#[test]
fn surefire_bare_testsuite_root_with_properties_and_reruns() {
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="https://maven.apache.org/surefire/maven-surefire-plugin/xsd/surefire-test-report.xsd" name="com.example.AppTest" time="1,234.5" tests="3" errors="1" skipped="0" failures="1">
  <properties>
    <property name="java.version" value="21"/>
    <property name="line.separator" value="&#10;"/>
  </properties>
  <testcase name="flaky" classname="com.example.AppTest" time="1,234.5">
    <flakyFailure message="boom" type="java.lang.AssertionError"><stackTrace>at x</stackTrace><system-out>o</system-out></flakyFailure>
  </testcase>
  <testcase name="broken" classname="com.example.AppTest" time="0.01">
    <failure message="expected" type="org.opentest4j.AssertionFailedError">trace</failure>
    <rerunFailure message="again" type="x"><stackTrace>trace</stackTrace></rerunFailure>
    <system-out><![CDATA[out]]></system-out>
  </testcase>
  <testcase name="crash" classname="com.example.AppTest" time="0.02"><error message="npe" type="java.lang.NullPointerException">java.lang.NullPointerException
	at com.example.App.run(App.java:10)</error></testcase>
</testsuite>"#,
    );
    assert_eq!(names(&cases), ["flaky", "broken", "crash"]);
    assert_eq!(cases[0].outcome, Outcome::Passed);
    assert_eq!(cases[0].time, Some(1234.5));
    assert_eq!(cases[1].outcome, Outcome::Failed);
    assert_eq!(cases[2].outcome, Outcome::Error);
    assert_eq!(cases[0].suites, ["com.example.AppTest"]);
}

#[test]
fn go_junit_report_and_gotestsum() {
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="2" failures="1">
	<testsuite name="example.com/pkg" tests="2" failures="1" errors="0" id="0" hostname="h" time="0.010" timestamp="2024-01-01T00:00:00Z">
		<properties><property name="go.version" value="go1.22"></property></properties>
		<testcase name="TestA" classname="example.com/pkg" time="0.000"></testcase>
		<testcase name="TestB/sub_case" classname="example.com/pkg" time="0.010">
			<failure message="Failed" type="">=== RUN   TestB/sub_case&#xA;    b_test.go:9: bad&#xA;</failure>
		</testcase>
	</testsuite>
</testsuites>"#,
    );
    assert_eq!(names(&cases), ["TestA", "TestB/sub_case"]);
    assert_eq!(cases[1].outcome, Outcome::Failed);
}

#[test]
fn nextest_and_playwright() {
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="2" failures="0" errors="0" uuid="x" timestamp="t" time="0.1">
    <testsuite name="rxdist::lib" tests="2" disabled="0" errors="0" failures="0">
        <testcase name="junit::tests::a" classname="rxdist::lib" timestamp="t" time="0.003">
            <flakyFailure timestamp="t" time="0.001" type="test failure">
                <system-out>out</system-out>
                <system-err>thread panicked</system-err>
            </flakyFailure>
        </testcase>
        <testcase name="junit::tests::b" classname="rxdist::lib" timestamp="t" time="0.002"/>
    </testsuite>
</testsuites>"#,
    );
    assert_eq!(names(&cases), ["junit::tests::a", "junit::tests::b"]);
    let cases = read_ok(
        r#"<testsuites id="" name="" tests="1" failures="0" skipped="0" errors="0" time="1.5">
<testsuite name="example.spec.ts" timestamp="t" hostname="chromium" tests="1" failures="0" skipped="0" time="1.2" errors="0">
<testcase name="has title" classname="example.spec.ts" time="1.2">
<properties><property name="annotation" value="x"/></properties>
</testcase>
</testsuite>
</testsuites>"#,
    );
    assert_eq!(cases[0].suites, ["example.spec.ts"]);
}

#[test]
fn phpunit_nested_suites_with_file() {
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="" tests="2" assertions="2" errors="0" failures="0" skipped="0" time="0.01">
    <testsuite name="Unit" tests="2">
      <testsuite name="Tests\Unit\ExampleTest" file="/app/tests/Unit/ExampleTest.php" tests="2">
        <testsuite name="Tests\Unit\ExampleTest::testData" tests="1">
          <testcase name="testData with data set #0" class="Tests\Unit\ExampleTest" classname="Tests.Unit.ExampleTest" file="/app/tests/Unit/ExampleTest.php" line="12" assertions="1" time="0.001"/>
        </testsuite>
        <testcase name="testBasic" class="Tests\Unit\ExampleTest" classname="Tests.Unit.ExampleTest" line="20" assertions="1" time="0.002"/>
      </testsuite>
    </testsuite>
  </testsuite>
</testsuites>"#,
    );
    assert_eq!(
        cases[0].suites,
        [
            "",
            "Unit",
            "Tests\\Unit\\ExampleTest",
            "Tests\\Unit\\ExampleTest::testData"
        ]
    );
    assert_eq!(cases[1].suites, ["", "Unit", "Tests\\Unit\\ExampleTest"]);
    assert_eq!(
        cases[1].file.as_deref(),
        Some("/app/tests/Unit/ExampleTest.php")
    );
}

#[test]
fn rspec_mocha_bazel() {
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="rspec" tests="1" skipped="0" failures="0" errors="0" time="0.01" timestamp="t" hostname="h">
<properties><property name="seed" value="1"/></properties>
<testcase classname="spec.x_spec" name="X does a thing" file="./spec/x_spec.rb" time="0.001"></testcase>
</testsuite>"#,
    );
    assert_eq!(cases[0].file.as_deref(), Some("spec/x_spec.rb"));
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="Mocha Tests" time="0.01" tests="1" failures="0">
  <testsuite name="Root Suite" timestamp="t" tests="0" file="test/a.spec.js" time="0" failures="0"></testsuite>
  <testsuite name="adds" timestamp="t" tests="1" file="test/a.spec.js" time="0.01" failures="0">
    <testcase name="adds works" time="0.0100" classname="works"></testcase>
  </testsuite>
</testsuites>"#,
    );
    assert_eq!(cases[0].file.as_deref(), Some("test/a.spec.js"));
    let cases = read_ok(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="//pkg:test" tests="1" failures="0" errors="1">
    <testcase name="//pkg:test" status="run" duration="3" time="3"><error message="exited with error code 1"></error></testcase>
  </testsuite>
</testsuites>"#,
    );
    assert_eq!(cases[0].outcome, Outcome::Error);
    assert_eq!(cases[0].time, Some(3.0));
}

#[test]
fn filepath_attribute_and_nearest_suite_wins() {
    let cases = read_ok(
        r#"<testsuites><testsuite name="a" file="outer.rb"><testsuite name="b" filepath="./inner.rb"><testcase name="t"/></testsuite><testcase name="u"/></testsuite></testsuites>"#,
    );
    assert_eq!(cases[0].file.as_deref(), Some("inner.rb"));
    assert_eq!(cases[1].file.as_deref(), Some("outer.rb"));
    assert_eq!(cases[1].suites, ["a"]);
    let cases = read_ok(r#"<testsuite file="suite.js"><testcase name="t" file=""/></testsuite>"#);
    assert_eq!(cases[0].file.as_deref(), Some("suite.js"));
}

#[test]
fn odd_times_and_bad_time_count() {
    let (cases, result) = read_bytes(
        br#"<testsuite><testcase name="a" time="1,5"/><testcase name="b"/><testcase name="c" time="-1"/><testcase name="d" time=" 2e0s "/><testcase name="e" time="NaN"/></testsuite>"#,
    );
    let summary = result.expect("well-formed");
    assert_eq!(
        cases.iter().map(|c| c.time).collect::<Vec<_>>(),
        [Some(1.5), None, None, Some(2.0), None]
    );
    assert_eq!(
        summary,
        ReadSummary {
            testcases: 5,
            bad_times: 3
        }
    );
}

#[test]
fn byte_order_mark_is_skipped() {
    let cases =
        read_ok("\u{FEFF}<?xml version=\"1.0\"?><testsuite><testcase name=\"a\"/></testsuite>");
    assert_eq!(names(&cases), ["a"]);
}

#[test]
fn cdata_comments_and_entities_in_bodies() {
    let cases = read_ok(
        r#"<testsuites><!-- <testcase name="commented"/> --><testsuite name="s">
<testcase name="a"><system-out><![CDATA[</system-out> ]]]]><![CDATA[> <testcase name="fake"/> ]]></system-out>
<system-err><!-- </system-err> -->&amp; &lt;testcase&gt; &unknown;</system-err></testcase>
<testcase name="b"><failure><![CDATA[</failure>]]></failure><error/></testcase>
<!-- between --><testcase name="c"><skipped/><failure message="x"/></testcase>
</testsuite></testsuites>"#,
    );
    assert_eq!(names(&cases), ["a", "b", "c"]);
    assert_eq!(
        cases.iter().map(|c| c.outcome).collect::<Vec<_>>(),
        [Outcome::Passed, Outcome::Error, Outcome::Failed]
    );
}

#[test]
fn empty_testcase_and_precedence() {
    let cases = read_ok(
        r#"<testsuite><testcase/><testcase name="s"><skipped/></testcase><testcase name="e"><error/><failure/><skipped/></testcase><testcase name="f"><skipped/><failure/></testcase></testsuite>"#,
    );
    assert_eq!(names(&cases), ["", "s", "e", "f"]);
    assert_eq!(cases[0].classname, None);
    assert_eq!(
        cases.iter().map(|c| c.outcome).collect::<Vec<_>>(),
        [
            Outcome::Passed,
            Outcome::Skipped,
            Outcome::Error,
            Outcome::Failed
        ]
    );
}

#[test]
fn attribute_entities_are_unescaped() {
    let cases = read_ok(
        r#"<testsuite><testcase name="a &lt;b&gt; &amp; &quot;c&quot; &#x41;&#66;" classname="x&apos;y"/></testsuite>"#,
    );
    assert_eq!(cases[0].name, "a <b> & \"c\" AB");
    assert_eq!(cases[0].classname.as_deref(), Some("x'y"));
}

#[test]
fn plain_doctype_is_ignored() {
    let cases = read_ok(
        r#"<?xml version="1.0"?><!DOCTYPE testsuite SYSTEM "junit.dtd"><testsuite><testcase name="a"/></testsuite>"#,
    );
    assert_eq!(names(&cases), ["a"]);
}

#[test]
fn namespaced_and_unknown_elements() {
    let cases = read_ok(
        r#"<j:testsuites xmlns:j="urn:x"><j:testsuite name="s"><meta><x><y/></x></meta><j:testcase name="a"><weird>text<b/></weird></j:testcase></j:testsuite></j:testsuites>"#,
    );
    assert_eq!(names(&cases), ["a"]);
    assert_eq!(cases[0].suites, ["s"]);
}

#[test]
fn malformed_is_reported_with_offset() {
    let (cases, err) =
        read_err(br#"<testsuite><testcase name="a"/><testcase name="b"></testsuite>"#);
    assert_eq!(names(&cases), ["a"]);
    assert!(
        matches!(err, JunitError::Malformed { offset: 50, .. }),
        "{err:?}"
    );
    assert_eq!(err.to_string(), "malformed XML at byte 50");
}

#[test]
fn truncated_delivers_complete_testcases_first() {
    let doc = r#"<testsuites><testsuite name="s"><testcase name="a"/><testcase name="b"><system-out>lots of"#;
    let (cases, err) = read_err(doc.as_bytes());
    assert_eq!(names(&cases), ["a"]);
    match err {
        JunitError::Truncated { element, offset } => {
            assert_eq!(element, "system-out");
            assert_eq!(offset, doc.len() as u64);
        }
        other => panic!("{other:?}"),
    }
    let (cases, err) = read_err(
        br#"<testsuites><testsuite name="s"><testcase name="a"></testcase><testcase name="b" ti"#,
    );
    assert_eq!(names(&cases), ["a"]);
    assert!(
        matches!(&err, JunitError::Truncated { element, .. } if element == "testsuite"),
        "{err:?}"
    );
    let (_, err) = read_err(b"<testsuites><testsuite><testcase name=\"a\"/>");
    assert!(
        matches!(&err, JunitError::Truncated { element, .. } if element == "testsuite"),
        "{err:?}"
    );
    assert!(err.to_string().contains("<testsuite> still open"), "{err}");
}

#[test]
fn binary_and_non_xml() {
    let (_, err) = read_err(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR");
    assert!(matches!(err, JunitError::NotXml { .. }), "{err:?}");
    let (_, err) = read_err(b"PK\x03\x04\x14\x00\x06\x00<garbage");
    assert!(matches!(err, JunitError::NotXml { .. }), "{err:?}");
    let (_, err) = read_err(b"hello world");
    assert!(
        err.to_string().starts_with("not a JUnit XML document"),
        "{err}"
    );
    let (_, err) = read_err(b"");
    assert_eq!(
        err.to_string(),
        "not a JUnit XML document: the input is empty at byte 0"
    );
    let (_, err) = read_err(b"<\x01\x02\x03>");
    assert!(matches!(err, JunitError::NotXml { .. }), "{err:?}");
    let (_, err) = read_err(b"<?xml version=\"1.0\"?><html><body/></html>");
    assert!(
        matches!(&err, JunitError::UnexpectedRoot { root } if root == "html"),
        "{err:?}"
    );
    assert!(err.to_string().contains("<html>"), "{err}");
}

#[test]
fn utf16_is_refused_with_advice() {
    let doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><testsuite/>";
    let le: Vec<u8> = doc.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let be: Vec<u8> = doc.encode_utf16().flat_map(u16::to_be_bytes).collect();
    for bytes in [
        le.clone(),
        be.clone(),
        [&b"\xFF\xFE"[..], &le].concat(),
        [&b"\xFE\xFF"[..], &be].concat(),
    ] {
        let (_, err) = read_err(&bytes);
        assert!(matches!(err, JunitError::Utf16 { .. }), "{err:?}");
        assert!(err.to_string().contains("re-encode it as UTF-8"), "{err}");
    }
    let (_, err) = read_err(doc.as_bytes());
    assert!(matches!(err, JunitError::Utf16 { .. }), "{err:?}");
}

#[test]
fn a_declared_single_byte_encoding_is_named_in_the_error() {
    // Plain ASCII in a document declared ISO-8859-1 reads as it is; the first byte of
    // another character ends the input there, and the error says what to do.
    let doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<testsuite name=\"s\">\
<testcase classname=\"a\" name=\"ok\"/><testcase classname=\"a\" name=\"caf\xe9\"/></testsuite>";
    let (cases, err) = read_err(doc);
    assert_eq!(names(&cases), ["ok"]);
    assert!(
        matches!(&err, JunitError::DeclaredEncoding { encoding, .. } if encoding == "ISO-8859-1"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("re-encode it as UTF-8, e.g. with `iconv -f ISO-8859-1 -t UTF-8`"),
        "{err}"
    );
    // Without a declaration, or declaring UTF-8, the same bytes are plain malformed XML.
    for declaration in [&b""[..], b"<?xml version=\"1.0\" encoding=\"utf-8\"?>"] {
        let doc = [
            declaration,
            &doc[doc.iter().position(|&b| b == b'\n').unwrap()..],
        ]
        .concat();
        let (_, err) = read_err(&doc);
        assert!(matches!(err, JunitError::Malformed { .. }), "{err:?}");
    }
}

#[test]
fn entity_declarations_are_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<testsuite><testcase name="&lol3;"/></testsuite>"#;
    let (cases, err) = read_err(bomb.as_bytes());
    assert!(cases.is_empty());
    assert!(
        matches!(err, JunitError::EntityDeclaration { offset: 22 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("never expands them"), "{err}");
}

#[test]
fn unknown_entity_in_attribute_is_malformed() {
    let (cases, err) =
        read_err(br#"<testsuite><testcase name="ok"/><testcase name="a &lol; b"/></testsuite>"#);
    assert_eq!(names(&cases), ["ok"]);
    assert!(
        matches!(&err, JunitError::BadEntityReference { attribute, offset: 32, .. } if attribute == "name"),
        "{err:?}"
    );
    // Also on attributes the reader otherwise ignores.
    let (_, err) = read_err(
        br#"<testsuite><testcase name="a"><failure message="&bad;"/></testcase></testsuite>"#,
    );
    assert!(
        matches!(err, JunitError::BadEntityReference { .. }),
        "{err:?}"
    );
}

#[test]
fn nesting_limit() {
    let limits = Limits {
        max_depth: 5,
        ..Limits::default()
    };
    let ok = "<testsuites><testsuite><testsuite><testcase><failure/></testcase></testsuite></testsuite></testsuites>";
    assert!(read_testcases(ok.as_bytes(), &limits, |_| {}).is_ok());
    let deep = "<testsuites><testsuite><testsuite><testsuite><testsuite><testcase/></testsuite></testsuite></testsuite></testsuite></testsuites>";
    let err = read_testcases(deep.as_bytes(), &limits, |_| {}).expect_err("too deep");
    assert!(
        matches!(
            err,
            JunitError::TooDeep {
                limit: 5,
                offset: 56
            }
        ),
        "{err:?}"
    );
    let bomb = "<testsuites>".repeat(100_000);
    let err = read_testcases(bomb.as_bytes(), &Limits::default(), |_| {}).expect_err("too deep");
    assert!(
        matches!(err, JunitError::TooDeep { limit: 64, .. }),
        "{err:?}"
    );
}

#[test]
fn attribute_limit() {
    let limits = Limits {
        max_attribute_bytes: 10,
        ..Limits::default()
    };
    let ok = r#"<testsuite><testcase name="0123456789"/></testsuite>"#;
    assert!(read_testcases(ok.as_bytes(), &limits, |_| {}).is_ok());
    let long = r#"<testsuite><testcase name="a" classname="0123456789a"/></testsuite>"#;
    let err = read_testcases(long.as_bytes(), &limits, |_| {}).expect_err("too long");
    assert!(
        matches!(&err, JunitError::AttributeTooLong { attribute, length: 11, limit: 10, offset: 11 } if attribute == "classname"),
        "{err:?}"
    );
}

#[test]
fn enormous_tags_are_refused_without_buffering_them() {
    let limits = Limits {
        max_attribute_bytes: 10,
        ..Limits::default()
    };
    let tag = format!(
        "<testsuite><testcase name=\"a\" {}/></testsuite>",
        "x=\"1\" ".repeat(100_000)
    );
    let err = read_testcases(tag.as_bytes(), &limits, |_| {}).expect_err("too long");
    assert!(
        matches!(
            err,
            JunitError::MarkupTooLong {
                offset: 11,
                limit: 65_536
            }
        ),
        "{err:?}"
    );
    let unclosed = format!("<testsuite><testcase name=\"{}", "a".repeat(600_000));
    let err =
        read_testcases(unclosed.as_bytes(), &Limits::default(), |_| {}).expect_err("too long");
    assert!(matches!(err, JunitError::MarkupTooLong { .. }), "{err:?}");
    let comment = format!(
        "<testsuite><!-- {} --><testcase name=\"a\"/></testsuite>",
        "-".repeat(200_000)
    );
    assert!(read_testcases(comment.as_bytes(), &Limits::default(), |_| {}).is_ok());
}

#[test]
fn io_errors_are_reported() {
    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk on fire"))
        }
    }
    let err = read_testcases(std::io::BufReader::new(Failing), &Limits::default(), |_| {})
        .expect_err("fails");
    assert!(matches!(err, JunitError::Io { .. }), "{err:?}");
}

/// Generates a document on the fly: a header, one testcase whose `<system-out>` holds `size`
/// bytes of output (in CDATA chunks and plain text), and a second testcase.
struct HugeOutput {
    produced: u64,
    size: u64,
    stage: usize,
    pending: Vec<u8>,
}

impl HugeOutput {
    fn new(size: u64) -> Self {
        HugeOutput {
            produced: 0,
            size,
            stage: 0,
            pending: Vec::new(),
        }
    }
}

impl Read for HugeOutput {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        const CHUNK: &[u8] =
            b"<![CDATA[log line with </system-out> inside & <tags>]]> plain &amp; text line 0123456789\n";
        while self.pending.is_empty() {
            match self.stage {
                0 => {
                    self.pending.extend_from_slice(b"<testsuites><testsuite name=\"s\"><testcase name=\"big\" time=\"1\"><system-out>");
                    self.stage = 1;
                }
                1 if self.produced < self.size => {
                    for _ in 0..64 {
                        self.pending.extend_from_slice(CHUNK);
                    }
                    self.produced += self.pending.len() as u64;
                }
                1 => {
                    self.pending.extend_from_slice(
                        b"</system-out></testcase><testcase name=\"after\" time=\"2\"/></testsuite></testsuites>",
                    );
                    self.stage = 2;
                }
                _ => return Ok(0),
            }
        }
        let amount = self.pending.len().min(out.len());
        out[..amount].copy_from_slice(&self.pending[..amount]);
        self.pending.drain(..amount);
        Ok(amount)
    }
}

#[test]
fn memory_stays_bounded_under_a_huge_system_out() {
    let size = 210 * 1024 * 1024;
    let mut cases = Vec::new();
    let input = std::io::BufReader::new(HugeOutput::new(size));
    let (summary, stats) =
        read_with_stats(input, &Limits::default(), |case| cases.push(case)).expect("well-formed");
    assert_eq!(summary.testcases, 2);
    assert_eq!(names(&cases), ["big", "after"]);
    assert!(
        stats.max_event_buffer <= 64 * 1024,
        "event buffer grew to {}",
        stats.max_event_buffer
    );
}

/// A generated testcase: what goes into the document and what must come out.
#[derive(Debug, Clone)]
struct Generated {
    name: String,
    classname: String,
    time: Option<f64>,
    outcome: Outcome,
    body: String,
}

fn generated_case() -> impl Strategy<Value = Generated> {
    (
        "[a-zA-Z0-9_ <>&\"'\\[\\]./:-]{0,20}",
        "[a-zA-Z0-9_.]{0,20}",
        proptest::option::of(0.0f64..1e6),
        prop_oneof![
            Just(Outcome::Passed),
            Just(Outcome::Failed),
            Just(Outcome::Error),
            Just(Outcome::Skipped)
        ],
        "[a-z <>&\\]]{0,30}",
    )
        .prop_map(|(name, classname, time, outcome, body)| Generated {
            name,
            classname,
            time,
            outcome,
            body,
        })
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn render(suites: &[Vec<Generated>]) -> String {
    let mut doc = String::from("<?xml version=\"1.0\"?>\n<testsuites>");
    for (index, suite) in suites.iter().enumerate() {
        write!(doc, "<testsuite name=\"s{index}\"><properties><property name=\"p\" value=\"v\"/></properties>").expect("writing to a String cannot fail");
        for case in suite {
            write!(
                doc,
                "<testcase name=\"{}\" classname=\"{}\"",
                escape(&case.name),
                escape(&case.classname)
            )
            .expect("writing to a String cannot fail");
            if let Some(time) = case.time {
                write!(doc, " time=\"{time}\"").expect("writing to a String cannot fail");
            }
            doc.push('>');
            let element = match case.outcome {
                Outcome::Passed => "system-out",
                Outcome::Failed => "failure",
                Outcome::Error => "error",
                Outcome::Skipped => "skipped",
            };
            let cdata = case.body.replace("]]>", "]]]]><![CDATA[>");
            write!(
                doc,
                "<{element} message=\"m\">{}<![CDATA[{cdata}]]></{element}>",
                escape(&case.body)
            )
            .expect("writing to a String cannot fail");
            doc.push_str("<system-err/></testcase>\n");
        }
        doc.push_str("</testsuite>");
    }
    doc.push_str("</testsuites>\n");
    doc
}

proptest! {
    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = read_bytes(&bytes);
    }

    #[test]
    fn never_panics_on_mangled_documents(
        suites in proptest::collection::vec(proptest::collection::vec(generated_case(), 0..4), 1..3),
        cut in any::<proptest::sample::Index>(),
        byte in any::<u8>(),
    ) {
        let mut doc = render(&suites).into_bytes();
        let at = cut.index(doc.len());
        doc[at] = byte;
        let _ = read_bytes(&doc);
        let _ = read_bytes(&doc[..at]);
    }

    #[test]
    fn generated_documents_round_trip(
        suites in proptest::collection::vec(proptest::collection::vec(generated_case(), 0..6), 1..4),
    ) {
        let doc = render(&suites);
        let (cases, result) = read_bytes(doc.as_bytes());
        let summary = result.map_err(|err| TestCaseError::fail(format!("{err}: {err:?}\n{doc}")))?;
        let expected: Vec<&Generated> = suites.iter().flatten().collect();
        prop_assert_eq!(summary.testcases, expected.len());
        prop_assert_eq!(summary.bad_times, expected.iter().filter(|case| case.time.is_none()).count());
        prop_assert_eq!(cases.len(), expected.len());
        for (case, want) in cases.iter().zip(expected) {
            prop_assert_eq!(&case.name, &want.name);
            prop_assert_eq!(case.classname.as_deref(), Some(want.classname.as_str()));
            prop_assert_eq!(case.time, want.time);
            prop_assert_eq!(case.outcome, want.outcome);
        }
    }

    #[test]
    fn truncation_keeps_a_prefix_of_the_testcases(
        suite in proptest::collection::vec(generated_case(), 1..8),
        cut in any::<proptest::sample::Index>(),
    ) {
        let doc = render(std::slice::from_ref(&suite));
        let at = cut.index(doc.len());
        let (cases, _) = read_bytes(&doc.as_bytes()[..at]);
        prop_assert!(cases.len() <= suite.len());
        for (case, want) in cases.iter().zip(&suite) {
            prop_assert_eq!(&case.name, &want.name);
        }
    }
}

#[test]
fn an_rxdist_id_property_names_the_test_and_other_properties_do_not() {
    let cases = read_ok(
        r#"<testsuite name="s">
  <testcase classname="bin" name="tests::a" time="1"><properties><property name="other" value="x"/><property name="rxdist.id" value="tests::a"/></properties><failure message="m">text</failure></testcase>
  <testcase classname="bin" name="tests::b" time="1"><properties><property name="rxdist.idx" value="no"/></properties></testcase>
</testsuite>"#,
    );
    assert_eq!(cases[0].id.as_deref(), Some("tests::a"));
    assert_eq!(cases[0].outcome, Outcome::Failed);
    assert_eq!(cases[1].id, None);
}
