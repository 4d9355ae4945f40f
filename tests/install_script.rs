//! `dist/install.sh` against a fake release served by a local HTTP server on 127.0.0.1: a small
//! script posing as the rxdist binary, packed as the release packs it, listed in a manifest
//! written by `dist/update-manifest.sh`. A good sum installs into the tool cache and onto
//! `GITHUB_PATH` (and a second run reuses it without downloading); a bad sum, a missing asset or
//! an archive without the binary fail and install nothing; a runner with no asset, and the
//! unreleased manifest, build from source with cargo (a fake one that records its arguments).
#![cfg(unix)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use common::root;

const VERSION: &str = "9.9.9";
const TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "aarch64-apple-darwin",
    "x86_64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

/// A one-thread HTTP/1.1 server for fixed files; it records every requested path.
struct Server {
    base: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(files: BTreeMap<String, Vec<u8>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // Read the headers to the blank line; nothing in them matters here.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                    line.clear();
                }
                let path = request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("/")
                    .trim_start_matches('/')
                    .to_owned();
                seen.lock().unwrap().push(path.clone());
                let (status, body) = match files.get(&path) {
                    Some(body) => ("200 OK", body.clone()),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        Server { base, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

fn asset_name(target: &str) -> String {
    if target.contains("windows") {
        format!("rxdist-{VERSION}-{target}.zip")
    } else {
        format!("rxdist-{VERSION}-{target}.tar.gz")
    }
}

/// Packs each archive's members (name, content) with Python's tarfile or zipfile, which can
/// write any member name (including `../escape`) on every system; one interpreter for all.
fn pack(archives: &[(PathBuf, Vec<(&str, String)>)]) {
    let script = r#"
import io, json, sys, tarfile, zipfile
for archive, members in json.load(sys.stdin):
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive, "w") as out:
            for name, content in members:
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.external_attr = 0o755 << 16
                out.writestr(info, content)
    else:
        with tarfile.open(archive, "w:gz") as out:
            for name, content in members:
                data = content.encode()
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o755, 1577836800
                out.addfile(info, io.BytesIO(data))
"#;
    let spec = serde_json::to_vec(archives).unwrap();
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&spec).unwrap();
    assert!(child.wait().unwrap().success(), "the archives are packed");
}

/// Every target's archive in `assets`, each holding `members(binary name, target)`, and the
/// manifest `dist/update-manifest.sh` writes for them at `manifest`.
fn release_in(
    assets: &Path,
    manifest: &Path,
    members: impl Fn(&'static str, &str) -> Vec<(&'static str, String)>,
) {
    std::fs::create_dir_all(assets).unwrap();
    let archives: Vec<(PathBuf, Vec<(&str, String)>)> = TARGETS
        .iter()
        .map(|target| {
            let binary = if target.contains("windows") {
                "rxdist.exe"
            } else {
                "rxdist"
            };
            (assets.join(asset_name(target)), members(binary, target))
        })
        .collect();
    pack(&archives);
    let output = Command::new("bash")
        .arg(root().join("dist/update-manifest.sh"))
        .args([VERSION, "https://example.invalid/rxdist"])
        .arg(assets)
        .env("RXDIST_INSTALL_MANIFEST", manifest)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The script posing as rxdist.
fn fake_binary(label: &str) -> String {
    format!("#!/bin/sh\necho \"rxdist {VERSION} ({label})\"\n")
}

/// A fake release in a scratch directory: every target's archive, and the manifest
/// `dist/update-manifest.sh` writes for them.
struct Release {
    dir: tempfile::TempDir,
    manifest: PathBuf,
}

impl Release {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("manifest.json");
        release_in(&dir.path().join("assets"), &manifest, |binary, target| {
            vec![
                (binary, fake_binary(target)),
                ("README.md", "not extracted".to_owned()),
                ("../escape", "never written".to_owned()),
            ]
        });
        Release { dir, manifest }
    }

    fn asset(&self, target: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join("assets").join(asset_name(target))).unwrap()
    }
}

/// One run of the install script in a sandbox: its own tool cache, `GITHUB_PATH`, `GITHUB_OUTPUT`
/// and a bin directory (first on PATH) for fake tools.
struct Sandbox {
    dir: tempfile::TempDir,
}

struct Installed {
    code: i32,
    stderr: String,
    github_path: String,
    github_output: String,
}

impl Sandbox {
    fn new() -> Self {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(sandbox.bin()).unwrap();
        sandbox
    }

    fn bin(&self) -> PathBuf {
        self.dir.path().join("bin")
    }

    fn cache(&self) -> PathBuf {
        self.dir.path().join("tool-cache")
    }

    /// A fake `cargo` that records its arguments and, like `cargo install --root R`, leaves
    /// a binary in R/bin.
    fn fake_cargo(&self) -> PathBuf {
        let log = self.dir.path().join("cargo-args");
        let script = format!(
            r#"#!/bin/sh
printf '%s\n' "$@" > '{log}'
while [ $# -gt 0 ]; do
  if [ "$1" = --root ]; then root=$2; fi
  shift
done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "rxdist built from source"\n' > "$root/bin/rxdist"
chmod +x "$root/bin/rxdist"
"#,
            log = log.display()
        );
        let cargo = self.bin().join("cargo");
        std::fs::write(&cargo, script).unwrap();
        std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
        log
    }

    fn install(&self, env: &[(&str, &str)]) -> Installed {
        let github_path = self.dir.path().join("github-path");
        let github_output = self.dir.path().join("github-output");
        let _ = std::fs::remove_file(&github_path);
        let _ = std::fs::remove_file(&github_output);
        // bash by absolute path: a test may give the script a PATH without it.
        let mut command = Command::new("/bin/bash");
        command
            .arg(root().join("dist/install.sh"))
            .env_clear()
            .env(
                "PATH",
                format!("{}:/usr/local/bin:/usr/bin:/bin", self.bin().display()),
            )
            .env("HOME", self.dir.path())
            .env("RUNNER_TOOL_CACHE", self.cache())
            .env("GITHUB_PATH", &github_path)
            .env("GITHUB_OUTPUT", &github_output)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64");
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        Installed {
            code: output.status.code().unwrap_or(-1),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            github_path: std::fs::read_to_string(&github_path).unwrap_or_default(),
            github_output: std::fs::read_to_string(&github_output).unwrap_or_default(),
        }
    }

    /// Every file under the tool cache, relative to it.
    fn cached_files(&self) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else {
                    out.push(path.strip_prefix(base).unwrap().display().to_string());
                }
            }
        }
        let mut files = Vec::new();
        walk(&self.cache(), &self.cache(), &mut files);
        files.sort();
        files
    }
}

fn served(release: &Release, tamper: Option<&str>) -> Server {
    let mut files = BTreeMap::new();
    for target in TARGETS {
        let mut bytes = release.asset(target);
        if tamper == Some(target) {
            let last = bytes.len() - 1;
            bytes[last] ^= 0xff;
        }
        files.insert(asset_name(target), bytes);
    }
    Server::start(files)
}

fn run(output: &std::process::Output) -> String {
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_good_sum_installs_into_the_tool_cache_and_onto_the_path() {
    let release = Release::new();
    let server = served(&release, None);
    let sandbox = Sandbox::new();
    let manifest = release.manifest.to_string_lossy().into_owned();
    let env = [
        ("RXDIST_INSTALL_MANIFEST", manifest.as_str()),
        ("RXDIST_INSTALL_BASE_URL", server.base.as_str()),
    ];

    let installed = sandbox.install(&env);
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    let dir = sandbox.cache().join("rxdist").join(VERSION).join("x64");
    assert_eq!(installed.github_path, format!("{}\n", dir.display()));
    let binary = dir.join("rxdist");
    assert_eq!(
        installed.github_output,
        format!(
            "path={}\nversion=rxdist {VERSION} (x86_64-unknown-linux-musl)\n",
            binary.display()
        )
    );
    assert_eq!(
        run(&Command::new(&binary).output().unwrap()),
        format!("rxdist {VERSION} (x86_64-unknown-linux-musl)\n")
    );
    // Only the binary left the archive; the marker holds the sum it was checked against.
    assert_eq!(
        sandbox.cached_files(),
        [
            format!("rxdist/{VERSION}/x64.complete"),
            format!("rxdist/{VERSION}/x64/rxdist"),
        ]
    );
    assert!(!sandbox.cache().join("escape").exists());
    assert!(
        !sandbox
            .cache()
            .join("rxdist")
            .join(VERSION)
            .join("escape")
            .exists()
    );
    assert_eq!(
        std::fs::read_to_string(dir.with_extension("complete")).unwrap(),
        format!(
            "{}\n",
            sha256_hex(&release.asset("x86_64-unknown-linux-musl"))
        )
    );
    assert_eq!(server.requests(), [asset_name("x86_64-unknown-linux-musl")]);

    // A second job on the same runner finds it in the cache and downloads nothing.
    let again = sandbox.install(&env);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stderr.contains("using the cached rxdist"),
        "{}",
        again.stderr
    );
    assert_eq!(again.github_path, installed.github_path);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn every_runner_gets_its_own_asset() {
    let release = Release::new();
    let server = served(&release, None);
    let manifest = release.manifest.to_string_lossy().into_owned();
    for (os, arch, target, binary) in [
        ("Linux", "ARM64", "aarch64-unknown-linux-musl", "rxdist"),
        ("macOS", "ARM64", "aarch64-apple-darwin", "rxdist"),
        ("macOS", "X64", "x86_64-apple-darwin", "rxdist"),
        ("Windows", "X64", "x86_64-pc-windows-msvc", "rxdist.exe"),
    ] {
        let sandbox = Sandbox::new();
        let installed = sandbox.install(&[
            ("RXDIST_INSTALL_MANIFEST", manifest.as_str()),
            ("RXDIST_INSTALL_BASE_URL", server.base.as_str()),
            ("RUNNER_OS", os),
            ("RUNNER_ARCH", arch),
        ]);
        assert_eq!(installed.code, 0, "{os} {arch}: {}", installed.stderr);
        let arch_dir = arch.to_lowercase();
        let path = sandbox
            .cache()
            .join("rxdist")
            .join(VERSION)
            .join(&arch_dir)
            .join(binary);
        assert!(
            installed
                .github_output
                .contains(&format!("version=rxdist {VERSION} ({target})")),
            "{os} {arch}: {}",
            installed.github_output
        );
        assert_eq!(
            run(&Command::new(&path).output().unwrap()),
            format!("rxdist {VERSION} ({target})\n")
        );
    }
    let mut requested = server.requests();
    requested.sort();
    let mut expected: Vec<String> = TARGETS[1..]
        .iter()
        .map(|target| asset_name(target))
        .collect();
    expected.sort();
    assert_eq!(requested, expected);
}

#[test]
fn a_bad_sum_fails_closed_and_installs_nothing() {
    let release = Release::new();
    let server = served(&release, Some("x86_64-unknown-linux-musl"));
    let sandbox = Sandbox::new();
    let manifest = release.manifest.to_string_lossy().into_owned();
    let installed = sandbox.install(&[
        ("RXDIST_INSTALL_MANIFEST", manifest.as_str()),
        ("RXDIST_INSTALL_BASE_URL", server.base.as_str()),
    ]);
    assert_eq!(installed.code, 1);
    assert!(
        installed
            .stderr
            .contains("sha256 mismatch for rxdist-9.9.9-x86_64-unknown-linux-musl.tar.gz")
            && installed.stderr.contains("nothing was installed"),
        "{}",
        installed.stderr
    );
    assert_eq!(sandbox.cached_files(), Vec::<String>::new());
    assert_eq!(installed.github_path, "");
    assert_eq!(installed.github_output, "");
    assert_eq!(server.requests().len(), 1, "a mismatch is not retried");
}

#[test]
fn a_missing_asset_or_binary_fails_and_installs_nothing() {
    let release = Release::new();
    let manifest = release.manifest.to_string_lossy().into_owned();

    // The server has no such file.
    let empty = Server::start(BTreeMap::new());
    let sandbox = Sandbox::new();
    let installed = sandbox.install(&[
        ("RXDIST_INSTALL_MANIFEST", manifest.as_str()),
        ("RXDIST_INSTALL_BASE_URL", empty.base.as_str()),
    ]);
    assert_eq!(installed.code, 1);
    assert!(
        installed.stderr.contains("could not download"),
        "{}",
        installed.stderr
    );
    assert_eq!(sandbox.cached_files(), Vec::<String>::new());
    assert_eq!(installed.github_path, "");

    // The archive matches its sum but holds no rxdist.
    let dir = tempfile::tempdir().unwrap();
    let assets = dir.path().join("assets");
    let hollow_manifest = dir.path().join("manifest.json");
    release_in(&assets, &hollow_manifest, |_, _| {
        vec![("README.md", "no binary".to_owned())]
    });
    let files = TARGETS
        .iter()
        .map(|target| {
            (
                asset_name(target),
                std::fs::read(assets.join(asset_name(target))).unwrap(),
            )
        })
        .collect();
    let server = Server::start(files);
    let sandbox = Sandbox::new();
    let installed = sandbox.install(&[
        ("RXDIST_INSTALL_MANIFEST", hollow_manifest.to_str().unwrap()),
        ("RXDIST_INSTALL_BASE_URL", server.base.as_str()),
    ]);
    assert_eq!(installed.code, 1);
    assert!(
        installed.stderr.contains("holds no rxdist"),
        "{}",
        installed.stderr
    );
    assert_eq!(sandbox.cached_files(), Vec::<String>::new());
    assert_eq!(installed.github_path, "");
}

#[test]
fn a_runner_without_an_asset_builds_from_source() {
    let release = Release::new();
    let server = served(&release, None);
    let sandbox = Sandbox::new();
    let log = sandbox.fake_cargo();
    let source = tempfile::tempdir().unwrap();
    let manifest = release.manifest.to_string_lossy().into_owned();
    let installed = sandbox.install(&[
        ("RXDIST_INSTALL_MANIFEST", manifest.as_str()),
        ("RXDIST_INSTALL_BASE_URL", server.base.as_str()),
        ("RXDIST_INSTALL_SOURCE", source.path().to_str().unwrap()),
        ("RUNNER_OS", "Linux"),
        ("RUNNER_ARCH", "ARM"),
    ]);
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    assert!(
        installed
            .stderr
            .contains("no release asset of rxdist 9.9.9 for Linux ARM"),
        "{}",
        installed.stderr
    );
    let root_dir = sandbox
        .cache()
        .join("rxdist")
        .join(format!("{VERSION}-source"))
        .join("arm");
    assert_eq!(
        std::fs::read_to_string(&log).unwrap(),
        format!(
            "install\n--locked\n--force\n--root\n{}\n--path\n{}\n",
            root_dir.display(),
            source.path().canonicalize().unwrap().display()
        )
    );
    assert_eq!(
        installed.github_path,
        format!("{}\n", root_dir.join("bin").display())
    );
    assert!(server.requests().is_empty(), "nothing is downloaded");
}

#[test]
fn the_unreleased_manifest_builds_this_checkout_and_downloads_nothing() {
    // The committed manifest: no release yet, so the action must build what it runs from.
    let sandbox = Sandbox::new();
    let log = sandbox.fake_cargo();
    let installed = sandbox.install(&[]);
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    assert!(
        installed.stderr.contains("no release of rxdist")
            && installed.stderr.contains("building it from source"),
        "{}",
        installed.stderr
    );
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(
        args.ends_with(&format!(
            "--path\n{}\n",
            root().canonicalize().unwrap().display()
        )),
        "{args}"
    );
    assert!(
        installed
            .github_output
            .contains("version=rxdist built from source")
    );
}

#[test]
fn another_version_is_built_from_its_tag_and_installed_uses_the_path() {
    let release = Release::new();
    let manifest = release.manifest.to_string_lossy().into_owned();
    let sandbox = Sandbox::new();
    let log = sandbox.fake_cargo();
    let installed = sandbox.install(&[
        ("RXDIST_INSTALL_MANIFEST", manifest.as_str()),
        ("RXDIST_INSTALL_VERSION", "v1.2.3"),
    ]);
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(
        args.ends_with("--git\nhttps://example.invalid/rxdist\n--tag\nv1.2.3\n"),
        "{args}"
    );

    // `installed`: the rxdist already on PATH, nothing built or downloaded.
    let sandbox = Sandbox::new();
    let binary = sandbox.bin().join("rxdist");
    std::fs::write(&binary, fake_binary("preinstalled")).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755)).unwrap();
    let installed = sandbox.install(&[("RXDIST_INSTALL_VERSION", "installed")]);
    assert_eq!(installed.code, 0, "{}", installed.stderr);
    assert_eq!(
        installed.github_output,
        format!(
            "path={}\nversion=rxdist {VERSION} (preinstalled)\n",
            binary.display()
        )
    );
    assert_eq!(sandbox.cached_files(), Vec::<String>::new());
}

#[test]
fn building_without_cargo_says_what_to_do() {
    // A PATH with the tools the script needs and no cargo anywhere.
    let sandbox = Sandbox::new();
    let tools = sandbox.dir.path().join("tools");
    std::fs::create_dir(&tools).unwrap();
    for tool in ["dirname", "sed", "grep", "tr", "cat", "mkdir", "uname"] {
        let found = ["/usr/bin", "/bin"]
            .iter()
            .map(|dir| Path::new(dir).join(tool))
            .find(|path| path.exists())
            .unwrap_or_else(|| panic!("{tool} is installed"));
        std::os::unix::fs::symlink(found, tools.join(tool)).unwrap();
    }
    let installed = sandbox.install(&[
        ("RXDIST_INSTALL_VERSION", "source"),
        ("PATH", tools.to_str().unwrap()),
    ]);
    assert_eq!(installed.code, 1, "{}", installed.stderr);
    assert!(
        installed.stderr.contains("needs cargo") && installed.stderr.contains("rust-toolchain"),
        "{}",
        installed.stderr
    );
    assert_eq!(installed.github_path, "");
}
