//! Turning the file paths of reports from different checkouts into one name per file.
//!
//! Each shard runs in its own checkout, so one source file is `/home/runner/work/app/app/src/x.py`
//! in one report, `D:\a\app\app\src\x.py` in another and `src/x.py` in a third. A file's key is
//! found in four steps, always in this order:
//!
//! 1. backslashes become slashes; `./` segments and doubled slashes go;
//! 2. an absolute path inside one of the report's own `<source>` directories becomes relative
//!    to it (the way coverage.py writes relative names);
//! 3. otherwise a well-known CI checkout root is stripped ([`CI_ROOTS`]);
//! 4. the first `--path-map FROM=TO` whose FROM is a prefix (whole segments) is applied.
//!
//! Nothing here touches the file system: whether a path exists is never asked.

use std::str::FromStr;

use super::CoverageError;

/// A `--path-map FROM=TO` rule: paths starting with FROM (whole segments) start with TO instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathMap {
    /// The prefix to replace, slashes normalised.
    pub from: String,
    /// What replaces it; empty to strip FROM.
    pub to: String,
}

impl FromStr for PathMap {
    type Err = CoverageError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let Some((from, to)) = value.split_once('=') else {
            return Err(CoverageError::BadPathMap {
                value: value.to_owned(),
                reason: "it has no `=`; write FROM=TO, e.g. --path-map /home/runner/work/app/app/=",
            });
        };
        let from = clean(from);
        if from.is_empty() {
            return Err(CoverageError::BadPathMap {
                value: value.to_owned(),
                reason: "FROM is empty; write the path prefix to replace before the `=`",
            });
        }
        Ok(PathMap {
            from,
            to: clean(to),
        })
    }
}

impl PathMap {
    /// `path` with FROM replaced by TO, if FROM is a whole-segment prefix of it.
    fn apply(&self, path: &str) -> Option<String> {
        let rest = path.strip_prefix(self.from.as_str())?;
        let rest = if rest.is_empty() || self.from.ends_with('/') {
            rest
        } else {
            rest.strip_prefix('/')?
        };
        Some(match (self.to.is_empty(), rest.is_empty()) {
            (true, _) => rest.to_owned(),
            (false, true) => self.to.clone(),
            (false, false) if self.to.ends_with('/') => format!("{}{rest}", self.to),
            (false, false) => format!("{}/{rest}", self.to),
        })
    }
}

/// Checkout roots of CI services, as slash-separated patterns where `*` is any one segment and
/// `?:` any drive letter. A path below one of them is made relative to it.
pub const CI_ROOTS: &[&str] = &[
    // GitHub Actions: Linux, macOS, Windows, jobs in containers, container actions.
    "/home/runner/work/*/*",
    "/Users/runner/work/*/*",
    "?:/a/*/*",
    "/__w/*/*",
    "/github/workspace",
    // Azure Pipelines (Linux; Windows is `?:/a/1/s` above).
    "/home/vsts/work/*/s",
    // GitLab CI: /builds/GROUP/PROJECT (a nested group keeps its extra segments).
    "/builds/*/*",
    // CircleCI.
    "/home/circleci/project",
    // Buildkite: builds/AGENT/ORG/PIPELINE on Linux, macOS (Homebrew) and Docker agents.
    "/var/lib/buildkite-agent/builds/*/*/*",
    "/usr/local/var/buildkite-agent/builds/*/*/*",
    "/buildkite/builds/*/*/*",
    // Travis CI, Bitbucket Pipelines, Jenkins.
    "/home/travis/build/*/*",
    "/opt/atlassian/pipelines/agent/build",
    "/var/lib/jenkins/workspace/*",
    "/home/jenkins/agent/workspace/*",
];

/// Normalises the paths of one input.
#[derive(Debug)]
pub(super) struct Normaliser {
    /// The maps with FROM and TO cleaned like paths (callers may build them without
    /// [`PathMap::from_str`]).
    maps: Vec<PathMap>,
    /// The input's source directories, cleaned, longest first.
    sources: Vec<String>,
}

impl Normaliser {
    /// A normaliser for one input; [`Normaliser::add_source`] adds its source directories.
    pub(super) fn new(maps: &[PathMap]) -> Self {
        Normaliser {
            maps: maps
                .iter()
                .map(|map| PathMap {
                    from: clean(&map.from),
                    to: clean(&map.to),
                })
                .filter(|map| !map.from.is_empty())
                .collect(),
            sources: Vec::new(),
        }
    }

    /// Adds one of the input's `<source>` directories.
    pub(super) fn add_source(&mut self, source: &str) {
        let source = clean(source);
        if !source.is_empty() && !self.sources.contains(&source) {
            self.sources.push(source);
            self.sources
                .sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        }
    }

    /// The key of the file `raw` names.
    pub(super) fn file(&self, raw: &str) -> String {
        let path = clean(raw);
        let path = if is_absolute(&path) {
            let in_source = self.sources.iter().find_map(|source| {
                path.strip_prefix(source.as_str())
                    .and_then(|rest| rest.strip_prefix('/'))
                    .filter(|rest| !rest.is_empty())
            });
            match in_source.or_else(|| strip_ci_root(&path)) {
                Some(relative) => relative.to_owned(),
                None => path,
            }
        } else {
            path
        };
        self.map(path)
    }

    /// How a `<source>` directory is written in the merged report: CI root stripped (the root
    /// itself becomes `.`), then mapped.
    pub(super) fn source(&self, raw: &str) -> String {
        let path = clean(raw);
        let path = if path.is_empty() || ci_root_len(&path) == Some(path.len()) {
            ".".to_owned()
        } else {
            strip_ci_root(&path).map_or(path.clone(), str::to_owned)
        };
        self.map(path)
    }

    fn map(&self, path: String) -> String {
        self.maps
            .iter()
            .find_map(|map| map.apply(&path))
            .unwrap_or(path)
    }
}

/// Backslashes to slashes, no `.` segments, no doubled or trailing slashes.
pub(super) fn clean(raw: &str) -> String {
    let raw = raw.trim();
    let slashed;
    let raw = if raw.contains('\\') {
        slashed = raw.replace('\\', "/");
        slashed.as_str()
    } else {
        raw
    };
    if !raw.contains("//") && !raw.contains("./") && !raw.ends_with('/') && raw != "." {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    if raw.starts_with('/') {
        out.push('/');
    }
    for segment in raw.split('/') {
        if segment.is_empty() || segment == "." {
            continue;
        }
        if !out.is_empty() && !out.ends_with('/') {
            out.push('/');
        }
        out.push_str(segment);
    }
    out
}

/// Whether `path` (cleaned) is absolute on Unix or Windows.
fn is_absolute(path: &str) -> bool {
    path.starts_with('/') || is_drive(path.split('/').next().unwrap_or(""))
}

fn is_drive(segment: &str) -> bool {
    let bytes = segment.as_bytes();
    bytes.len() == 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':'
}

/// The length of the CI checkout root `path` starts with, if it does.
fn ci_root_len(path: &str) -> Option<usize> {
    CI_ROOTS.iter().find_map(|pattern| {
        let mut length = 0;
        let mut segments = path.split('/');
        for want in pattern.split('/') {
            let got = segments.next()?;
            let matches = match want {
                "*" => !got.is_empty(),
                "?:" => is_drive(got),
                _ => got == want,
            };
            if !matches {
                return None;
            }
            length += got.len() + 1;
        }
        Some(length - 1)
    })
}

/// `path` relative to the CI checkout root it starts with, if it does and names something
/// below it.
fn strip_ci_root(path: &str) -> Option<&str> {
    let root = ci_root_len(path)?;
    path[root..]
        .strip_prefix('/')
        .filter(|rest| !rest.is_empty())
}

#[cfg(test)]
mod tests {
    use super::{Normaliser, PathMap, clean};

    #[test]
    fn cleaning() {
        assert_eq!(clean(r"src\pkg\mod.py"), "src/pkg/mod.py");
        assert_eq!(clean("./src//pkg/./mod.py"), "src/pkg/mod.py");
        assert_eq!(clean("/abs/dir/"), "/abs/dir");
        assert_eq!(clean(r"C:\a\b\"), "C:/a/b");
        assert_eq!(clean("."), "");
        assert_eq!(clean("plain/path.rs"), "plain/path.rs");
    }

    #[test]
    fn ci_roots_are_stripped() {
        let normaliser = Normaliser::new(&[]);
        for (raw, key) in [
            ("/home/runner/work/app/app/src/x.py", "src/x.py"),
            ("/Users/runner/work/app/app/src/x.py", "src/x.py"),
            (r"D:\a\app\app\src\x.py", "src/x.py"),
            ("/builds/group/project/lib/y.rb", "lib/y.rb"),
            ("/home/circleci/project/y.js", "y.js"),
            (
                "/var/lib/buildkite-agent/builds/agent-1/org/pipe/src/z.go",
                "src/z.go",
            ),
            ("/home/vsts/work/1/s/a.cs", "a.cs"),
            ("/__w/app/app/src/x.py", "src/x.py"),
            // Not a root: kept.
            ("/home/runner/x.py", "/home/runner/x.py"),
            ("/opt/src/x.py", "/opt/src/x.py"),
            ("relative/x.py", "relative/x.py"),
        ] {
            assert_eq!(normaliser.file(raw), key, "{raw}");
        }
    }

    #[test]
    fn own_sources_come_before_ci_roots() {
        let mut normaliser = Normaliser::new(&[]);
        normaliser.add_source("/home/runner/work/app/app/src");
        normaliser.add_source("/home/runner/work/app/app");
        assert_eq!(
            normaliser.file("/home/runner/work/app/app/src/pkg/m.py"),
            "pkg/m.py"
        );
        assert_eq!(normaliser.file("/home/runner/work/app/app/t.py"), "t.py");
        assert_eq!(normaliser.file("pkg/m.py"), "pkg/m.py");
        assert_eq!(normaliser.source("/home/runner/work/app/app/src"), "src");
        assert_eq!(normaliser.source("/home/runner/work/app/app"), ".");
        assert_eq!(normaliser.source("/tmp/a/app"), "/tmp/a/app");
    }

    #[test]
    fn path_maps_rewrite_whole_segments() {
        let mut maps: Vec<PathMap> = ["/tmp/b/proj=/tmp/a/proj", "build/src/=src", "lib=", "x=y/"]
            .iter()
            .map(|map| map.parse().unwrap())
            .collect();
        // Built directly, not parsed: cleaned all the same.
        maps.push(PathMap {
            from: r"C:\build\".to_owned(),
            to: String::new(),
        });
        let normaliser = Normaliser::new(&maps);
        assert_eq!(normaliser.file("/tmp/b/proj/m.py"), "/tmp/a/proj/m.py");
        assert_eq!(
            normaliser.file("/tmp/b/project/m.py"),
            "/tmp/b/project/m.py"
        );
        assert_eq!(normaliser.file("build/src/m.c"), "src/m.c");
        assert_eq!(normaliser.file("lib/m.rb"), "m.rb");
        assert_eq!(normaliser.file("library/m.rb"), "library/m.rb");
        assert_eq!(normaliser.file("x/m"), "y/m");
        assert_eq!(normaliser.file("x"), "y");
        assert_eq!(normaliser.file(r"C:\build\src\m.cs"), "src/m.cs");
    }

    #[test]
    fn bad_path_maps_say_how_to_write_one() {
        let err = "no-equals".parse::<PathMap>().unwrap_err().to_string();
        assert!(err.contains("FROM=TO"), "{err}");
        let err = "=to".parse::<PathMap>().unwrap_err().to_string();
        assert!(err.contains("FROM is empty"), "{err}");
        let map: PathMap = r"C:\a\b\=src".parse().unwrap();
        assert_eq!(map.from, "C:/a/b");
    }
}
