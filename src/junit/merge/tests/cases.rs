//! The merge on small inline documents, one rule at a time.

use std::fmt::Write as _;
use std::io::{self, Cursor, Read, Seek, SeekFrom, Write};

use super::{merge_bytes, merge_unchecked};
use crate::junit::merge::{MergeError, MergeInput, MergeOptions, RetryPolicy, merge};
use crate::junit::{JunitError, Limits, Outcome, read_testcases};

const COLLAPSE: RetryPolicy = RetryPolicy::Collapse;

/// A pytest-like shard: one suite named `pytest` on machine `host`, holding `cases`.
fn shard(host: &str, cases: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" tests="0" hostname="{host}">{cases}</testsuite></testsuites>"#
    )
}

fn outcomes(xml: &str) -> Vec<(String, Outcome)> {
    let mut found = Vec::new();
    read_testcases(xml.as_bytes(), &Limits::default(), |case| {
        found.push((case.name, case.outcome));
    })
    .unwrap();
    found
}

#[test]
fn assertions_are_recounted_from_the_testcases_written() {
    // Only some testcases carry a count (kept beside the testcase table); a retry counts once,
    // with the count of the attempt that stands.
    let first = shard(
        "h",
        r#"<testcase classname="t" name="a" assertions="2"><failure/></testcase><testcase classname="t" name="b"/><testcase classname="t" name="c" assertions="5"/>"#,
    );
    let second = shard(
        "h",
        r#"<testcase classname="t" name="d"/><testcase classname="t" name="a" assertions="3"/>"#,
    );
    let (out, report) = merge_bytes(
        &[("1", first.as_bytes()), ("2", second.as_bytes())],
        COLLAPSE,
    );
    assert_eq!(report.retries_collapsed, 1);
    assert!(
        out.contains(r#"<testsuites name="pytest tests" tests="4" failures="0" errors="0" skipped="0" assertions="8""#),
        "{out}"
    );
    assert!(
        out.contains(r#"<testsuite name="pytest" tests="4" failures="0" errors="0" skipped="0" assertions="8""#),
        "{out}"
    );
}

#[test]
fn a_testcase_tag_longer_than_its_record_holds_is_refused() {
    // Five attributes of 3.5 MiB: within raised attribute limits, beyond a record's 16 MiB.
    let value = "x".repeat(3_500_000);
    let mut attributes = String::new();
    for n in 0..5 {
        write!(attributes, r#" a{n}="{value}""#).unwrap();
    }
    let xml = shard(
        "h",
        &format!(
            r#"<testcase classname="t" name="ok"/><testcase classname="t" name="big"{attributes}/>"#
        ),
    );
    let mut inputs = vec![MergeInput {
        label: "big".to_owned(),
        reader: Cursor::new(xml.as_bytes()),
    }];
    let options = MergeOptions {
        limits: Limits {
            max_attribute_bytes: 4 << 20,
            ..Limits::default()
        },
        ..MergeOptions::default()
    };
    let mut out = Vec::new();
    let report = merge(&mut inputs, &options, &mut out).unwrap();
    assert!(
        matches!(
            report.inputs[0].problem,
            Some(JunitError::MarkupTooLong { limit, .. }) if limit == (1 << 24) - 1
        ),
        "{:?}",
        report.inputs[0].problem
    );
    assert_eq!(report.inputs[0].testcases, 1);
    assert!(String::from_utf8(out).unwrap().contains(r#"name="ok""#));
}

#[test]
fn machine_hostnames_do_not_split_suites() {
    let a = shard("runner-1", r#"<testcase classname="t" name="a" time="1"/>"#);
    let b = shard("runner-2", r#"<testcase classname="t" name="b" time="2"/>"#);
    let (out, report) = merge_bytes(&[("a", a.as_bytes()), ("b", b.as_bytes())], COLLAPSE);
    assert_eq!(report.suites, 1);
    assert_eq!(report.totals.tests, 2);
    assert!((report.totals.time - 3.0).abs() < 1e-9);
    assert!(out.contains(r#"hostname="runner-1""#) && !out.contains("runner-2"));
}

#[test]
fn hostnames_that_differ_inside_one_input_are_projects() {
    let xml = r#"<testsuites>
        <testsuite name="spec" hostname="chromium"><testcase classname="spec" name="t"/></testsuite>
        <testsuite name="spec" hostname="firefox"><testcase classname="spec" name="t"><failure/></testcase></testsuite>
        </testsuites>"#;
    let (_, report) = merge_bytes(&[("x", xml.as_bytes())], COLLAPSE);
    assert_eq!(
        (
            report.suites,
            report.retries_collapsed,
            report.totals.failures
        ),
        (2, 0, 1)
    );
}

#[test]
fn playwright_keeps_projects_apart_across_files() {
    let project = |name: &str, failure: &str| {
        format!(
            r#"<testsuites id="" name="" tests="1"><testsuite name="a.spec.ts" hostname="{name}" tests="1"><testcase name="t" classname="a.spec.ts" time="1">{failure}</testcase></testsuite></testsuites>"#
        )
    };
    let chromium = project("chromium", "");
    let firefox = project("firefox", "<failure message=\"x\"/>");
    let (_, report) = merge_bytes(
        &[("c", chromium.as_bytes()), ("f", firefox.as_bytes())],
        COLLAPSE,
    );
    assert_eq!(
        (report.suites, report.totals.tests, report.totals.failures),
        (2, 2, 1)
    );
    // The same project from two shards joins.
    let again = project("chromium", "");
    let (_, report) = merge_bytes(
        &[("c", chromium.as_bytes()), ("c2", again.as_bytes())],
        COLLAPSE,
    );
    assert_eq!((report.suites, report.totals.tests), (1, 1));
}

#[test]
fn nested_suites_join_by_their_whole_chain() {
    let doc = |outer: &str, name: &str| {
        format!(
            r#"<testsuites><testsuite name="{outer}"><testsuite name="Class"><testcase classname="C" name="{name}"/></testsuite></testsuite></testsuites>"#
        )
    };
    let a = doc("unit", "one");
    let b = doc("unit", "two");
    let c = doc("integration", "one");
    let (out, report) = merge_bytes(
        &[
            ("a", a.as_bytes()),
            ("b", b.as_bytes()),
            ("c", c.as_bytes()),
        ],
        COLLAPSE,
    );
    // unit, unit/Class, integration, integration/Class.
    assert_eq!(report.suites, 4);
    assert_eq!(report.totals.tests, 3);
    let unit = out.find(r#"name="unit""#).unwrap();
    let integration = out.find(r#"name="integration""#).unwrap();
    assert!(unit < integration);
}

#[test]
fn testcases_directly_under_the_root_stay_there() {
    let xml = r#"<testsuites name="r"><testcase classname="c" name="n" time="0.5"/><testsuite name="s"><testcase classname="c" name="m"/></testsuite></testsuites>"#;
    let (out, report) = merge_bytes(&[("x", xml.as_bytes())], COLLAPSE);
    assert_eq!(report.totals.tests, 2);
    assert!(out.contains("<testsuites name=\"r\" tests=\"2\""));
}

#[test]
fn the_three_retry_policies() {
    let fail = |n: u8| {
        format!(
            r#"<testcase classname="t" name="x" time="{n}"><failure message="attempt {n}">trace {n}</failure></testcase>"#
        )
    };
    let pass = r#"<testcase classname="t" name="x" time="9"/>"#;
    let a = shard("h", &fail(1));
    let b = shard("h", pass);
    let c = shard("h", &fail(3));
    let inputs = [
        ("a", a.as_bytes()),
        ("b", b.as_bytes()),
        ("c", c.as_bytes()),
    ];

    let (out, report) = merge_bytes(&inputs, RetryPolicy::Collapse);
    assert_eq!(outcomes(&out), [("x".to_owned(), Outcome::Passed)]);
    assert_eq!((report.retries_collapsed, report.totals.flaky), (2, 1));
    assert_eq!(out.matches("<flakyFailure").count(), 2);
    assert!(out.find("attempt 1").unwrap() < out.find("attempt 3").unwrap());
    assert!(out.contains(r#"<testcase classname="t" name="x" time="9">"#));

    let (out, report) = merge_bytes(&inputs, RetryPolicy::Last);
    assert_eq!(outcomes(&out), [("x".to_owned(), Outcome::Failed)]);
    assert_eq!(report.retries_collapsed, 2);
    assert!(out.contains("attempt 3") && !out.contains("attempt 1"));

    let (out, report) = merge_bytes(&inputs, RetryPolicy::Keep);
    assert_eq!(outcomes(&out).len(), 3);
    assert_eq!(report.totals.failures, 2);
}

#[test]
fn when_every_attempt_failed_the_last_one_stands_with_the_others_as_reruns() {
    let a = shard(
        "h",
        r#"<testcase classname="t" name="x"><error message="first">e1</error></testcase>"#,
    );
    let b = shard(
        "h",
        r#"<testcase classname="t" name="x"><failure message="second">f2</failure><system-out>out 2</system-out></testcase>"#,
    );
    let (out, report) = merge_bytes(&[("a", a.as_bytes()), ("b", b.as_bytes())], COLLAPSE);
    assert_eq!((report.totals.failures, report.totals.errors), (1, 0));
    assert!(out.contains(r#"<rerunError message="first">"#));
    assert!(out.contains("<stackTrace>e1</stackTrace>"));
    // The attempts go before the leader's own output.
    assert!(out.find("<rerunError").unwrap() < out.find("out 2").unwrap());
}

#[test]
fn a_skip_is_dropped_only_when_another_attempt_ran() {
    let skipped = shard(
        "h",
        r#"<testcase classname="t" name="x"><skipped message="not this shard"/></testcase>"#,
    );
    let ran = shard("h", r#"<testcase classname="t" name="x" time="1"/>"#);
    for order in [[&skipped, &ran], [&ran, &skipped]] {
        let (out, report) = merge_bytes(
            &[("1", order[0].as_bytes()), ("2", order[1].as_bytes())],
            COLLAPSE,
        );
        assert_eq!(outcomes(&out), [("x".to_owned(), Outcome::Passed)]);
        assert_eq!((report.skips_dropped, report.retries_collapsed), (1, 0));
    }
    let (out, _) = merge_bytes(
        &[("1", skipped.as_bytes()), ("2", skipped.as_bytes())],
        COLLAPSE,
    );
    assert_eq!(outcomes(&out), [("x".to_owned(), Outcome::Skipped)]);
    let (out, _) = merge_bytes(
        &[("1", skipped.as_bytes()), ("2", ran.as_bytes())],
        RetryPolicy::Keep,
    );
    assert_eq!(outcomes(&out).len(), 2);
}

#[test]
fn attempts_an_input_already_folded_are_kept_and_renamed() {
    // nextest wrote a test that failed three times; another shard ran it and it passed.
    let nextest = shard(
        "h",
        r#"<testcase classname="t" name="x" time="1"><failure message="a1">one</failure><rerunFailure message="a2" time="1">two</rerunFailure><rerunFailure message="a3" time="1">three</rerunFailure></testcase>"#,
    );
    let pass = shard("h", r#"<testcase classname="t" name="x" time="2"/>"#);
    let (out, report) = merge_bytes(
        &[("n", nextest.as_bytes()), ("p", pass.as_bytes())],
        COLLAPSE,
    );
    assert_eq!((report.totals.tests, report.totals.flaky), (1, 1));
    assert_eq!(out.matches("<flakyFailure").count(), 3);
    assert!(!out.contains("<rerunFailure"));
    for text in ["one", "two", "three"] {
        assert!(out.contains(text), "{text} lost:\n{out}");
    }
    // A passing attempt with its own flaky failures, folded into a later pass, keeps them.
    let flaky = shard(
        "h",
        r#"<testcase classname="t" name="x" time="1"><flakyFailure message="f">flake</flakyFailure></testcase>"#,
    );
    let (out, _) = merge_bytes(&[("f", flaky.as_bytes()), ("p", pass.as_bytes())], COLLAPSE);
    assert!(out.contains("flake"));
}

#[test]
fn the_pytest_teardown_pair_is_two_identities_and_reruns_collapse_pairwise() {
    let pair = r#"<testcase classname="t" name="x" time="0.1"><failure message="assert 1 == 2">call</failure></testcase><testcase classname="t" name="x" time="0.2"><error message="failed on teardown with &quot;RuntimeError&quot;">teardown</error></testcase>"#;
    let run = shard("h", pair);
    let (out, report) = merge_bytes(&[("1", run.as_bytes())], COLLAPSE);
    assert_eq!((report.totals.tests, report.retries_collapsed), (2, 0));
    let (out2, report) = merge_bytes(&[("1", run.as_bytes()), ("2", run.as_bytes())], COLLAPSE);
    assert_eq!((report.totals.tests, report.retries_collapsed), (2, 2));
    assert_eq!(
        outcomes(&out2),
        [
            ("x".to_owned(), Outcome::Failed),
            ("x".to_owned(), Outcome::Error)
        ]
    );
    assert_eq!(outcomes(&out), outcomes(&out2));
    assert_eq!(
        (
            out2.matches("<rerunFailure").count(),
            out2.matches("<rerunError").count()
        ),
        (1, 1)
    );
}

#[test]
fn properties_once_outputs_concatenated() {
    let doc = |shard: &str, out: &str| {
        format!(
            r#"<testsuite name="s"><properties><property name="python" value="3.12"/><property name="shard" value="{shard}"/></properties><testcase classname="c" name="{shard}"/><system-out>{out}</system-out><system-err/></testsuite>"#
        )
    };
    let a = doc("1", "first\n");
    let b = doc("2", "second &amp; last\n");
    let (out, report) = merge_bytes(&[("a", a.as_bytes()), ("b", b.as_bytes())], COLLAPSE);
    assert_eq!(report.suites, 1);
    assert_eq!(out.matches(r#"name="python""#).count(), 1);
    assert_eq!(out.matches(r#"name="shard""#).count(), 2);
    assert!(out.contains("<system-out>first\nsecond &amp; last\n</system-out>"));
    assert!(!out.contains("system-err"));
}

#[test]
fn properties_longer_than_the_buffer_are_compared_whole() {
    // Two large properties that differ only in their last byte, and one repeated: the
    // digest of what is written decides, past the in-memory buffer too.
    let big = "x".repeat(200 * 1024);
    let doc = |last: char| {
        format!(
            r#"<testsuite name="s"><properties><property name="log">{big}{last}</property><property name="same">{big}</property></properties><testcase classname="c" name="{last}"/></testsuite>"#
        )
    };
    let a = doc('a');
    let b = doc('b');
    let (out, report) = merge_bytes(&[("a", a.as_bytes()), ("b", b.as_bytes())], COLLAPSE);
    assert_eq!(report.suites, 1);
    assert_eq!(out.matches(r#"name="log""#).count(), 2);
    assert_eq!(out.matches(r#"name="same""#).count(), 1);
    assert!(out.contains(&format!("{big}a</property>")));
    assert!(out.contains(&format!("{big}b</property>")));
}

#[test]
fn times_are_rounded_to_milliseconds_and_summed_exactly() {
    let xml = r#"<testsuite name="s" time="99"><testcase classname="c" name="a" time="0.0004"/><testcase classname="c" name="b" time="0.1005"/><testcase classname="c" name="c" time="1e-1"/></testsuite>"#;
    let (out, report) = merge_bytes(&[("x", xml.as_bytes())], COLLAPSE);
    assert!(out.contains(r#"name="a" time="0""#), "{out}");
    assert!(out.contains(r#"name="c" time="0.1""#), "{out}");
    let time = |name: &str| {
        let pattern = format!("name=\"{name}\" time=\"");
        let at = out.find(&pattern).unwrap() + pattern.len();
        out[at..].split('"').next().unwrap().parse::<f64>().unwrap()
    };
    assert!((report.totals.time - (time("a") + time("b") + time("c"))).abs() < 1e-9);
}

#[test]
fn counters_are_recounted_everywhere_and_mismatches_capped() {
    let mut suites = String::new();
    for n in 0..150 {
        let _ = write!(
            suites,
            r#"<testsuite name="s{n}" tests="2"><testcase classname="c" name="t"/></testsuite>"#
        );
    }
    let xml = format!("<testsuites tests=\"7\">{suites}</testsuites>");
    let (out, report) = merge_bytes(&[("x", xml.as_bytes())], COLLAPSE);
    assert_eq!(
        report.counter_mismatches.len(),
        super::super::MAX_COUNTER_MISMATCHES
    );
    assert!(
        report.notes.iter().any(|note| note.starts_with("51 more")),
        "{:?}",
        report.notes
    );
    assert!(
        out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"150\"")
    );
}

#[test]
fn garbage_in_text_comes_out_as_xml() {
    let mut xml = b"<testsuite name=\"s\"><!-- padding so the NUL is no sign of binary data --><testcase classname=\"c\" name=\"t\"><failure>".to_vec();
    xml.extend_from_slice(b"\x00\x01\x1b[0m \xff\xfe \xc3 &nope; &#0; &#x1F4A9; ]]> done");
    xml.extend_from_slice(b"</failure></testcase></testsuite>");
    let (out, report) = merge_bytes(&[("x", &xml)], COLLAPSE);
    assert!(report.inputs[0].problem.is_none());
    assert!(
        out.contains(r"\x00\x01\x1b[0m \xff\xfe \xc3 &amp;nope; \x00 &#x1F4A9; ]]&gt; done"),
        "{out}"
    );
}

/// A document whose suite holds `size` bytes of `system-out`, produced on the fly.
struct Generated {
    head: Vec<u8>,
    size: u64,
    tail: Vec<u8>,
    position: u64,
}

impl Generated {
    fn new(size: u64) -> Self {
        Generated {
            head: br#"<testsuite name="big"><testcase classname="c" name="t"/><system-out>"#
                .to_vec(),
            size,
            tail: b"</system-out></testsuite>".to_vec(),
            position: 0,
        }
    }

    fn len(&self) -> u64 {
        self.head.len() as u64 + self.size + self.tail.len() as u64
    }
}

impl Read for Generated {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let head = self.head.len() as u64;
        let mut written = 0;
        while written < out.len() && self.position < self.len() {
            let at = self.position;
            out[written] = if at < head {
                self.head[at as usize]
            } else if at < head + self.size {
                // Lines of log with an escape now and then.
                match (at - head) % 64 {
                    63 => b'\n',
                    10 => b'&',
                    11..=13 => b"amp"[((at - head) % 64 - 11) as usize],
                    14 => b';',
                    _ => b'x',
                }
            } else {
                self.tail[(at - head - self.size) as usize]
            };
            written += 1;
            self.position += 1;
        }
        Ok(written)
    }
}

impl Seek for Generated {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.position = match to {
            SeekFrom::Start(at) => at,
            SeekFrom::End(delta) => self.len().saturating_add_signed(delta),
            SeekFrom::Current(delta) => self.position.saturating_add_signed(delta),
        };
        Ok(self.position)
    }
}

/// A writer that keeps a count and the largest single write.
#[derive(Default)]
struct Measure {
    written: u64,
    largest: usize,
}

impl Write for Measure {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len() as u64;
        self.largest = self.largest.max(buf.len());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_huge_system_out_is_streamed_in_chunks() {
    let size = 16 << 20;
    let mut inputs = vec![MergeInput {
        label: "big".to_owned(),
        reader: Generated::new(size),
    }];
    let mut out = Measure::default();
    let report = merge(&mut inputs, &MergeOptions::default(), &mut out).unwrap();
    assert_eq!(report.totals.tests, 1);
    assert!(report.inputs[0].problem.is_none());
    let frame = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="1" failures="0" errors="0" skipped="0" time="0">
  <testsuite name="big" tests="1" failures="0" errors="0" skipped="0" time="0">
    <testcase classname="c" name="t"/>
    <system-out></system-out>
  </testsuite>
</testsuites>
"#;
    assert_eq!(out.written, frame.len() as u64 + size);
    // Nothing was gathered whole: the writes are the output buffer's chunks.
    assert!(
        out.largest <= crate::junit::merge::emit::OUT_BUFFER,
        "{}",
        out.largest
    );
    assert!(out.largest < size as usize / 8, "{}", out.largest);
}

/// Reads `first` until the first seek away from the start, then `second`.
struct Changing {
    first: Cursor<Vec<u8>>,
    second: Cursor<Vec<u8>>,
    switched: bool,
}

impl Read for Changing {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.switched {
            self.second.read(out)
        } else {
            self.first.read(out)
        }
    }
}

impl Seek for Changing {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        // Pass 2 seeks into the middle; measuring the length or rewinding is not pass 2.
        if !matches!(to, SeekFrom::Start(0) | SeekFrom::End(0)) {
            self.switched = true;
        }
        self.first.seek(to)?;
        self.second.seek(to)
    }
}

#[test]
fn an_input_that_changes_between_the_passes_is_an_error() {
    let xml = shard("h", r#"<testcase classname="t" name="x"/>"#).into_bytes();
    let mut changed = xml.clone();
    let at = changed.windows(9).position(|w| w == b"<testcase").unwrap();
    changed[at] = b' ';
    let mut inputs = vec![MergeInput {
        label: "moving".to_owned(),
        reader: Changing {
            first: Cursor::new(xml),
            second: Cursor::new(changed),
            switched: false,
        },
    }];
    let err = merge(&mut inputs, &MergeOptions::default(), io::sink()).unwrap_err();
    assert!(
        matches!(&err, MergeError::Changed { label, .. } if label == "moving"),
        "{err:?}"
    );
}

#[test]
fn a_failing_writer_is_the_only_error() {
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let xml = shard("h", r#"<testcase classname="t" name="x"/>"#);
    let mut inputs = vec![MergeInput {
        label: "x".to_owned(),
        reader: Cursor::new(xml.as_bytes()),
    }];
    let err = merge(&mut inputs, &MergeOptions::default(), Full).unwrap_err();
    assert!(matches!(err, MergeError::Write(_)), "{err:?}");
}

#[test]
fn broken_inputs_keep_what_came_before_the_damage() {
    let good = shard("h", r#"<testcase classname="t" name="a"/>"#);
    let truncated = r#"<testsuites><testsuite name="pytest"><testcase classname="t" name="b"/><testcase classname="t" name="c"><failure>cut"#;
    let not_xml = "just some text";
    let (out, report) = merge_bytes(
        &[
            ("good", good.as_bytes()),
            ("truncated", truncated.as_bytes()),
            ("text", not_xml.as_bytes()),
            ("empty", b""),
        ],
        COLLAPSE,
    );
    assert!(report.inputs[0].problem.is_none());
    assert!(matches!(
        report.inputs[1].problem,
        Some(JunitError::Truncated { .. })
    ));
    assert!(matches!(
        report.inputs[2].problem,
        Some(JunitError::NotXml { .. })
    ));
    assert!(matches!(
        report.inputs[3].problem,
        Some(JunitError::NotXml { .. })
    ));
    assert_eq!(report.inputs[1].testcases, 1);
    let names: Vec<String> = outcomes(&out).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn suites_left_open_by_a_broken_input_keep_their_properties_and_outputs() {
    // Each suite's children are kept together although the nested suite interleaves them,
    // and the suites the damage leaves open keep what was read of them.
    let truncated = concat!(
        r#"<testsuites><testsuite name="outer"><properties><property name="p" value="1"/></properties>"#,
        r#"<testsuite name="done"><properties><property name="d" value="2"/></properties>"#,
        r#"<testcase classname="t" name="a"/><system-out>done out</system-out></testsuite>"#,
        r#"<testsuite name="open"><properties><property name="q" value="3"/></properties>"#,
        r#"<testcase classname="t" name="b"/><system-out>open out</system-out>"#,
        r#"<testcase classname="t" name="c"><failure>cut"#,
    );
    let (out, report) = merge_bytes(&[("truncated", truncated.as_bytes())], COLLAPSE);
    assert!(matches!(
        report.inputs[0].problem,
        Some(JunitError::Truncated { .. })
    ));
    let expected = [
        r#"<testsuite name="outer""#,
        r#"<property name="p" value="1"/>"#,
        r#"<testsuite name="done""#,
        r#"<property name="d" value="2"/>"#,
        r#"name="a""#,
        "done out",
        r#"<testsuite name="open""#,
        r#"<property name="q" value="3"/>"#,
        r#"name="b""#,
        "open out",
    ];
    let mut at = 0;
    for part in expected {
        let found = out[at..]
            .find(part)
            .unwrap_or_else(|| panic!("{part} not after byte {at} in:\n{out}"));
        at += found + part.len();
    }
    assert_eq!(out.matches("<property ").count(), 3, "{out}");
    assert!(!out.contains(r#"name="c""#), "{out}");
}

#[test]
fn limits_apply_as_in_the_reader() {
    let long = format!(
        r#"<testsuite name="s"><testcase classname="c" name="ok"/><testcase classname="c" name="{}"/></testsuite>"#,
        "x".repeat(100)
    );
    let mut inputs = vec![MergeInput {
        label: "long".to_owned(),
        reader: Cursor::new(long.as_bytes()),
    }];
    let options = MergeOptions {
        limits: Limits {
            max_attribute_bytes: 50,
            ..Limits::default()
        },
        ..MergeOptions::default()
    };
    let report = merge(&mut inputs, &options, io::sink()).unwrap();
    assert!(matches!(
        report.inputs[0].problem,
        Some(JunitError::AttributeTooLong { .. })
    ));
    assert_eq!(report.totals.tests, 1);
}

#[test]
fn duplicate_attributes_keep_the_last_one() {
    let xml = r#"<testsuite name="s"><testcase classname="c" name="first" name="second" time="1"/></testsuite>"#;
    let (out, _) = merge_bytes(&[("x", xml.as_bytes())], COLLAPSE);
    assert!(
        out.contains(r#"<testcase classname="c" name="second" time="1"/>"#),
        "{out}"
    );
}

#[test]
fn unchecked_merge_of_nothing_is_an_empty_root() {
    let (out, report) = merge_unchecked(&[], COLLAPSE);
    assert_eq!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites tests=\"0\" failures=\"0\" errors=\"0\" skipped=\"0\" time=\"0\"/>\n"
    );
    assert!(report.inputs.is_empty());
}

#[test]
fn a_tag_that_fails_the_checks_is_never_written() {
    for xml in [
        &b"<testsuite n\x18ame=\"s0\"><testcase classname=\"c\" name=\"n\"/></testsuite>"[..],
        b"<testsuites n\x18ame=\"r\"><testsuite name=\"s\"/></testsuites>",
        b"<testsuites><testsuite name=\"s\"><testcase classname=\"c\" n\x01=\"n\"/></testsuite></testsuites>",
    ] {
        let (out, report) = merge_bytes(&[("x", xml)], COLLAPSE);
        assert!(matches!(report.inputs[0].problem, Some(JunitError::Misplaced { .. })), "{report:?}");
        assert!(!out.contains('\u{18}') && !out.contains('\u{1}'), "{out}");
    }
}

#[test]
fn a_time_inside_another_value_is_not_the_time() {
    let xml = r#"<testsuite name="s"><testcase classname="c" name="x time=" time="1.23456"/><testcase classname="c" name=" time=" file="a"/></testsuite>"#;
    let (out, report) = merge_bytes(&[("x", xml.as_bytes())], COLLAPSE);
    assert!(
        out.contains(r#"<testcase classname="c" name="x time=" time="1.235"/>"#),
        "{out}"
    );
    assert!(
        out.contains(r#"<testcase classname="c" name=" time=" file="a"/>"#),
        "{out}"
    );
    assert!((report.totals.time - 1.235).abs() < 1e-9);
}

#[test]
fn bytes_that_are_not_utf8_inside_a_tag_end_the_input_there() {
    // quick-xml reads tags as UTF-8; a Latin-1 name is where the input breaks, and what came
    // before it is merged.
    let xml = b"<testsuite name=\"s\"><testcase classname=\"c\" name=\"ok\"/><testcase classname=\"c\" name=\"caf\xe9\"/><testcase classname=\"c\" name=\"after\"/></testsuite>";
    let (out, report) = merge_bytes(&[("latin1", xml)], COLLAPSE);
    assert!(report.inputs[0].problem.is_some(), "{report:?}");
    assert_eq!(report.inputs[0].testcases, 1);
    assert!(out.contains(r#"name="ok""#) && !out.contains("after"));
}
