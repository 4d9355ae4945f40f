//! Snapshots of every `--help` text: a change to the interface shows up in review.

mod common;

use common::rxdist;

fn help(args: &[&str]) -> String {
    let output = rxdist().args(args).arg_help().run().success();
    output.stdout
}

trait Help {
    fn arg_help(self) -> Self;
}

impl Help for common::Rxdist {
    fn arg_help(self) -> Self {
        self.args(["--help"])
    }
}

#[test]
fn help_texts() {
    insta::assert_snapshot!("rxdist", help(&[]));
    insta::assert_snapshot!("plan", help(&["plan"]));
    insta::assert_snapshot!("shard", help(&["shard"]));
    insta::assert_snapshot!("run", help(&["run"]));
    insta::assert_snapshot!("merge", help(&["merge"]));
    insta::assert_snapshot!("timings", help(&["timings"]));
    insta::assert_snapshot!("timings_record", help(&["timings", "record"]));
    insta::assert_snapshot!("timings_show", help(&["timings", "show"]));
    insta::assert_snapshot!("timings_fetch", help(&["timings", "fetch"]));
}

#[test]
fn version_is_printed_with_exit_0() {
    let output = rxdist().args(["--version"]).run().success();
    assert_eq!(
        output.stdout.trim(),
        format!("rxdist {}", env!("CARGO_PKG_VERSION"))
    );
}
