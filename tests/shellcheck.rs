//! Every shell script of the repository passes shellcheck: the action's and the installer's
//! scripts (`action/`, `dist/`), CI's (`.ci/`), and the helpers in `scripts/`, `tests/`,
//! `examples/` and `bench/`. A script is any file ending in `.sh` or starting with a `sh` or
//! `bash` shebang, wherever it is, so a new one cannot slip past. `.ci/run` installs
//! shellcheck; without it this test fails and says so.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::root;

/// Directories that hold no scripts of ours.
const SKIP: &[&str] = &["target", ".git", "node_modules", "__pycache__", ".venv"];

fn is_script(path: &Path) -> bool {
    if path.extension().is_some_and(|extension| extension == "sh") {
        return true;
    }
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    let first = bytes
        .split(|&byte| byte == b'\n')
        .next()
        .unwrap_or_default();
    let first = String::from_utf8_lossy(first);
    first.starts_with("#!")
        && (first.ends_with("/sh")
            || first.ends_with("/bash")
            || first.ends_with(" sh")
            || first.ends_with(" bash"))
}

fn scripts(dir: &Path, found: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !SKIP.contains(&name.as_str()) {
                scripts(&path, found);
            }
        } else if path.is_file() && is_script(&path) {
            found.push(path);
        }
    }
}

#[test]
fn every_shell_script_passes_shellcheck() {
    let root = root();
    let mut found = Vec::new();
    scripts(&root, &mut found);
    let relative: Vec<String> = found
        .iter()
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    for expected in [
        ".ci/run",
        "action/lib.sh",
        "action/plan.sh",
        "dist/install.sh",
        "scripts/venv.sh",
        "tests/run.sh",
        "examples/demo.sh",
        "bench/run.sh",
    ] {
        assert!(
            relative.iter().any(|path| path == expected),
            "{expected} was not found among the scripts: {relative:?}"
        );
    }

    // From the root, so `# shellcheck source=action/lib.sh` directives resolve.
    let output = Command::new("shellcheck")
        .args(["--external-sources", "--format=gcc"])
        .args(&relative)
        .current_dir(&root)
        .output();
    let output = match output {
        Ok(output) => output,
        Err(error) => panic!(
            "shellcheck could not run ({error}): install it (`apt-get install shellcheck`; .ci/run does)"
        ),
    };
    assert!(
        output.status.success(),
        "shellcheck found problems in the repository's scripts:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
