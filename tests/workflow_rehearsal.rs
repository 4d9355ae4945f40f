//! A rehearsal of two whole GitHub workflow runs on this machine: the workflow the README tells
//! teams to paste (a plan job, a matrix of three test jobs, a merge job), played on copies of
//! the bundled example project `examples/shop`, with this test as the runner.
//!
//! What is real: the action's metadata (`action.yml`'s inputs and defaults, each step's `if:`,
//! `env:` and `working-directory`, the action's outputs, all read from the file and evaluated
//! here as the runner evaluates them), its scripts (`action/*.sh`, `dist/install.sh`), the
//! rxdist binary, pytest, and `rxdist timings fetch` speaking HTTP. What stands in: GitHub's
//! REST API and blob storage (the fake of `fake_github`), and `actions/upload-artifact@v4` and
//! `actions/download-artifact@v4`, replaced by copies laid out as those actions lay them out and
//! with their rules (an artifact is the upload directory's contents at its root, hidden files
//! left out, one upload per name per workflow run unless `overwrite`, `if-no-files-found`,
//! `pattern` with `merge-multiple`). Every job runs on a machine of its own (its own
//! `RUNNER_TEMP`, workspace and tool cache): artifacts are the only thing that crosses jobs.
//!
//! Run 1 is a push to the default branch with no timings anywhere: the plan splits by test
//! count, the shards run, the merge publishes `rxdist-timings`. The test then lists run 1's
//! artifacts in the fake as GitHub lists a finished run's artifacts. Run 2 is a pull request:
//! its plan fetches those timings through the fake, plans by duration, and its merge publishes
//! nothing. Both plans are scored against the per-test durations run 1 measured.
#![cfg(unix)]

mod common;
mod fake_github;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde::Deserialize;
use serde_json::{Value, json};

use common::{root, rxdist};
use fake_github::{ArtifactSpec, FakeGithub, NAME, OWNER, Route, SIGNATURE, TOKEN};

/// The shards the workflow asks for, and the workers each test job runs.
const SHARDS: usize = 3;
const WORKERS: &str = "2";
/// The README's test command.
const COMMAND: &str = "python -m pytest -q";
/// The repository's default branch (the fake's too).
const DEFAULT_BRANCH: &str = "main";

// ---------------------------------------------------------------------------------------------
// GitHub's expression language, as much of it as action.yml uses: contexts, 'strings', ==, !=,
// !, &&, ||, parentheses and the status functions. Values are JSON, as GitHub's are.

mod expression {
    use serde_json::Value;

    #[derive(Debug, Clone, PartialEq)]
    enum Token {
        Text(String),
        Name(String),
        Open,
        Close,
        And,
        Or,
        Not,
        Equal,
        NotEqual,
    }

    const STATUS_FUNCTIONS: [&str; 4] = ["success", "always", "failure", "cancelled"];

    fn tokens(text: &str) -> Vec<Token> {
        let chars: Vec<char> = text.chars().collect();
        let mut out = Vec::new();
        let mut at = 0;
        while at < chars.len() {
            let next = chars.get(at + 1).copied();
            match chars[at] {
                c if c.is_whitespace() => at += 1,
                '(' => {
                    out.push(Token::Open);
                    at += 1;
                }
                ')' => {
                    out.push(Token::Close);
                    at += 1;
                }
                '&' if next == Some('&') => {
                    out.push(Token::And);
                    at += 2;
                }
                '|' if next == Some('|') => {
                    out.push(Token::Or);
                    at += 2;
                }
                '=' if next == Some('=') => {
                    out.push(Token::Equal);
                    at += 2;
                }
                '!' if next == Some('=') => {
                    out.push(Token::NotEqual);
                    at += 2;
                }
                '!' => {
                    out.push(Token::Not);
                    at += 1;
                }
                '\'' => {
                    // A quote inside a string is written twice.
                    let mut text_value = String::new();
                    at += 1;
                    loop {
                        let c = *chars
                            .get(at)
                            .unwrap_or_else(|| panic!("unclosed string in {text:?}"));
                        at += 1;
                        if c == '\'' {
                            if chars.get(at) == Some(&'\'') {
                                text_value.push('\'');
                                at += 1;
                            } else {
                                break;
                            }
                        } else {
                            text_value.push(c);
                        }
                    }
                    out.push(Token::Text(text_value));
                }
                c if c.is_ascii_alphanumeric() || c == '_' => {
                    let start = at;
                    while chars
                        .get(at)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    {
                        at += 1;
                    }
                    out.push(Token::Name(chars[start..at].iter().collect()));
                }
                c => panic!("the rehearsal does not know {c:?} in the expression {text:?}"),
            }
        }
        out
    }

    struct Parser<'a> {
        tokens: Vec<Token>,
        at: usize,
        context: &'a Value,
        failed: bool,
        text: &'a str,
    }

    impl Parser<'_> {
        fn eat(&mut self, token: &Token) -> bool {
            if self.tokens.get(self.at) == Some(token) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn or(&mut self) -> Value {
            let mut left = self.and();
            while self.eat(&Token::Or) {
                let right = self.and();
                if !truthy(&left) {
                    left = right;
                }
            }
            left
        }

        fn and(&mut self) -> Value {
            let mut left = self.comparison();
            while self.eat(&Token::And) {
                let right = self.comparison();
                if truthy(&left) {
                    left = right;
                }
            }
            left
        }

        fn comparison(&mut self) -> Value {
            let left = self.unary();
            if self.eat(&Token::Equal) {
                let right = self.unary();
                Value::Bool(equal(&left, &right))
            } else if self.eat(&Token::NotEqual) {
                let right = self.unary();
                Value::Bool(!equal(&left, &right))
            } else {
                left
            }
        }

        fn unary(&mut self) -> Value {
            if self.eat(&Token::Not) {
                Value::Bool(!truthy(&self.unary()))
            } else {
                self.primary()
            }
        }

        fn primary(&mut self) -> Value {
            let token = self.tokens.get(self.at).cloned();
            self.at += 1;
            match token {
                Some(Token::Open) => {
                    let value = self.or();
                    assert!(self.eat(&Token::Close), "unbalanced ( in {:?}", self.text);
                    value
                }
                Some(Token::Text(text)) => Value::String(text),
                Some(Token::Name(name)) if self.eat(&Token::Open) => {
                    assert!(self.eat(&Token::Close), "{name}() takes no arguments here");
                    Value::Bool(match name.as_str() {
                        "success" => !self.failed,
                        "always" => true,
                        "failure" => self.failed,
                        "cancelled" => false,
                        _ => panic!("the rehearsal does not know {name}() in {:?}", self.text),
                    })
                }
                Some(Token::Name(name)) => match name.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    _ => lookup(self.context, &name),
                },
                other => panic!("unexpected {other:?} in {:?}", self.text),
            }
        }
    }

    /// `a.b.c` in the contexts; what is not there is null, as in GitHub.
    fn lookup(context: &Value, path: &str) -> Value {
        let mut value = context;
        for part in path.split('.') {
            match value.get(part) {
                Some(inner) => value = inner,
                None => return Value::Null,
            }
        }
        value.clone()
    }

    /// GitHub's truthiness: null, false, 0 and '' are false.
    pub fn truthy(value: &Value) -> bool {
        match value {
            Value::Null => false,
            Value::Bool(flag) => *flag,
            Value::Number(number) => number.as_f64() != Some(0.0),
            Value::String(text) => !text.is_empty(),
            Value::Array(_) | Value::Object(_) => true,
        }
    }

    /// A value as text, as `${{ }}` puts it into a string.
    pub fn text(value: &Value) -> String {
        match value {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            other => other.to_string(),
        }
    }

    /// GitHub compares strings ignoring case; action.yml compares nothing but strings (and
    /// null, which equals '' as GitHub's coercion to numbers has it).
    fn equal(left: &Value, right: &Value) -> bool {
        text(left).eq_ignore_ascii_case(&text(right))
    }

    /// Evaluates an expression (without `${{ }}`).
    pub fn evaluate(text: &str, context: &Value, failed: bool) -> Value {
        let mut parser = Parser {
            tokens: tokens(text),
            at: 0,
            context,
            failed,
            text,
        };
        let value = parser.or();
        assert_eq!(
            parser.at,
            parser.tokens.len(),
            "trailing tokens in {text:?}"
        );
        value
    }

    /// A step's `if:`: without a status function, `success() && (...)` is implied.
    pub fn condition(text: &str, context: &Value, failed: bool) -> bool {
        let text = text.trim();
        let text = text
            .strip_prefix("${{")
            .and_then(|inner| inner.strip_suffix("}}"))
            .unwrap_or(text);
        let has_status = tokens(text).windows(2).any(|pair| {
            matches!(&pair[0], Token::Name(name) if STATUS_FUNCTIONS.contains(&name.as_str()))
                && pair[1] == Token::Open
        });
        let value = truthy(&evaluate(text, context, failed));
        if has_status { value } else { !failed && value }
    }

    /// Replaces every `${{ ... }}` in `text` by its value.
    pub fn interpolate(text: &str, context: &Value, failed: bool) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find("}}")
                .unwrap_or_else(|| panic!("unclosed ${{{{ in {text:?}"))
                + start;
            out.push_str(&self::text(&evaluate(
                &rest[start + 3..end],
                context,
                failed,
            )));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }
}

// ---------------------------------------------------------------------------------------------
// action.yml, as the runner reads it.

#[derive(Debug, Deserialize)]
struct Action {
    inputs: BTreeMap<String, ActionInput>,
    outputs: BTreeMap<String, ActionOutput>,
    runs: Runs,
}

#[derive(Debug, Deserialize)]
struct ActionInput {
    required: Option<bool>,
    default: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ActionOutput {
    value: String,
}

#[derive(Debug, Deserialize)]
struct Runs {
    using: String,
    steps: Vec<ActionStep>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct ActionStep {
    name: String,
    id: Option<String>,
    #[serde(rename = "if")]
    condition: Option<String>,
    shell: Option<String>,
    run: Option<String>,
    uses: Option<String>,
    #[serde(default)]
    with: BTreeMap<String, serde_norway::Value>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    working_directory: Option<String>,
}

fn action() -> Action {
    let text = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let action: Action = serde_norway::from_str(&text).unwrap();
    assert_eq!(action.runs.using, "composite");
    action
}

fn scalar(value: &serde_norway::Value) -> String {
    match value {
        serde_norway::Value::String(text) => text.clone(),
        serde_norway::Value::Bool(flag) => flag.to_string(),
        serde_norway::Value::Number(number) => number.to_string(),
        other => panic!("a `with:` value that is not a scalar: {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The runner: workflow runs, their artifacts, jobs and steps.

/// The event that started a workflow run.
struct Event {
    name: &'static str,
    /// `GITHUB_REF`.
    git_ref: String,
    /// `GITHUB_REF_NAME`.
    ref_name: String,
    /// `GITHUB_HEAD_REF` and `GITHUB_BASE_REF` (pull requests only).
    head_ref: String,
    base_ref: String,
    /// The branch GitHub files the run's artifacts under (`workflow_run.head_branch`).
    head_branch: String,
    payload: Value,
}

impl Event {
    fn repository() -> Value {
        json!({
            "id": fake_github::REPO_ID,
            "name": NAME,
            "full_name": format!("{OWNER}/{NAME}"),
            "default_branch": DEFAULT_BRANCH,
            "owner": {"login": OWNER},
        })
    }

    fn push_to_default_branch() -> Event {
        Event {
            name: "push",
            git_ref: format!("refs/heads/{DEFAULT_BRANCH}"),
            ref_name: DEFAULT_BRANCH.to_owned(),
            head_ref: String::new(),
            base_ref: String::new(),
            head_branch: DEFAULT_BRANCH.to_owned(),
            payload: json!({
                "ref": format!("refs/heads/{DEFAULT_BRANCH}"),
                "before": "0".repeat(40),
                "after": "a".repeat(40),
                "repository": Event::repository(),
            }),
        }
    }

    fn pull_request(number: u64, branch: &str) -> Event {
        Event {
            name: "pull_request",
            git_ref: format!("refs/pull/{number}/merge"),
            ref_name: format!("{number}/merge"),
            head_ref: branch.to_owned(),
            base_ref: DEFAULT_BRANCH.to_owned(),
            head_branch: branch.to_owned(),
            payload: json!({
                "action": "synchronize",
                "number": number,
                "pull_request": {
                    "number": number,
                    "head": {"ref": branch, "repo": Event::repository()},
                    "base": {"ref": DEFAULT_BRANCH, "repo": Event::repository()},
                },
                "repository": Event::repository(),
            }),
        }
    }
}

/// An artifact as upload-artifact stored it: the upload directory's files, by relative path.
#[derive(Debug, Clone)]
struct Artifact {
    name: String,
    files: BTreeMap<String, Vec<u8>>,
    /// `compression-level: 0`: stored in the zip as they are.
    stored: bool,
}

impl Artifact {
    /// The zip GitHub serves for it.
    fn zip(&self) -> Vec<u8> {
        let method = if self.stored {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        let options = zip::write::SimpleFileOptions::default().compression_method(method);
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in &self.files {
            writer.start_file(name.as_str(), options).unwrap();
            writer.write_all(bytes).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }
}

/// What one step left behind.
#[derive(Debug, Clone)]
struct StepRecord {
    name: String,
    /// `success`, `failure` or `skipped`.
    outcome: &'static str,
    outputs: BTreeMap<String, String>,
}

/// What one job left behind.
#[derive(Debug)]
struct JobResult {
    job: String,
    success: bool,
    /// The action's outputs.
    outputs: BTreeMap<String, String>,
    steps: Vec<StepRecord>,
    /// The job summary (every step's `GITHUB_STEP_SUMMARY`, in order).
    summary: String,
    /// Every step's standard output and error.
    log: String,
    /// Workflow commands (`::warning ...::`, `::error ...::`) the steps printed.
    annotations: Vec<String>,
    /// The job's machine: `RUNNER_TEMP` is `_temp` in it, the workspace `work`.
    machine: PathBuf,
}

impl JobResult {
    fn step(&self, name: &str) -> &StepRecord {
        self.steps
            .iter()
            .find(|step| step.name == name)
            .unwrap_or_else(|| panic!("no step {name:?} in {}", self.job))
    }

    fn workspace(&self) -> PathBuf {
        self.machine.join("work")
    }

    fn runner_temp(&self) -> PathBuf {
        self.machine.join("_temp")
    }

    #[track_caller]
    fn assert_success(&self) {
        assert!(
            self.success,
            "job {} failed: {:?}\n{}",
            self.job,
            self.steps
                .iter()
                .map(|step| (&step.name, step.outcome))
                .collect::<Vec<_>>(),
            self.log
        );
    }
}

/// One workflow run: its event, its artifacts, and the directory its jobs' machines live in.
struct WorkflowRun<'a> {
    id: u64,
    event: Event,
    dir: PathBuf,
    api_url: &'a str,
    action: &'a Action,
    /// In upload order.
    artifacts: Mutex<Vec<Artifact>>,
}

impl WorkflowRun<'_> {
    fn artifact(&self, name: &str) -> Option<Artifact> {
        self.artifacts
            .lock()
            .unwrap()
            .iter()
            .find(|artifact| artifact.name == name)
            .cloned()
    }

    fn artifact_names(&self) -> Vec<String> {
        let artifacts = self.artifacts.lock().unwrap();
        artifacts
            .iter()
            .map(|artifact| artifact.name.clone())
            .collect()
    }

    /// Runs a job whose one action step is `uses: ./` (this action) `with:` the given inputs, on
    /// a fresh machine with a fresh checkout of the example project.
    fn job(
        &self,
        job_id: &str,
        machine_name: &str,
        with: &[(&str, String)],
        matrix: &Value,
        strategy: (usize, usize),
    ) -> JobResult {
        let mut machine = self.boot(job_id, machine_name, matrix, strategy);
        machine.context["inputs"] = self.inputs(with, &machine.context);
        for (number, step) in self.action.runs.steps.iter().enumerate() {
            self.step(&mut machine, number, step);
        }
        let Machine {
            context,
            mut result,
            ..
        } = machine;
        for (name, output) in &self.action.outputs {
            let value = expression::interpolate(&output.value, &context, !result.success);
            result.outputs.insert(name.clone(), value);
        }
        result
    }

    /// A fresh machine: directories, the checkout, rxdist on PATH, the event file, the runner's
    /// variables and the expression contexts but `inputs`.
    fn boot(
        &self,
        job_id: &str,
        machine_name: &str,
        matrix: &Value,
        strategy: (usize, usize),
    ) -> Machine {
        let machine = self.dir.join(machine_name);
        let workspace = machine.join("work");
        let temp = machine.join("_temp");
        let bin = machine.join("bin");
        for dir in [&temp, &bin, &machine.join("home"), &machine.join("_tool")] {
            std::fs::create_dir_all(dir).unwrap();
        }
        // actions/checkout: the example project is the repository here.
        copy_dir(&root().join("examples/shop"), &workspace);
        // The rxdist the workflow built or installed before (the action's `version: installed`).
        symlink(env!("CARGO_BIN_EXE_rxdist"), bin.join("rxdist")).unwrap();
        let event_path = machine.join("_github_workflow/event.json");
        std::fs::create_dir_all(event_path.parent().unwrap()).unwrap();
        std::fs::write(&event_path, self.event.payload.to_string()).unwrap();

        let context = json!({
            "github": {
                "token": TOKEN,
                "event_name": self.event.name,
                "event": self.event.payload,
                "ref": self.event.git_ref,
                "ref_name": self.event.ref_name,
                "head_ref": self.event.head_ref,
                "base_ref": self.event.base_ref,
                "repository": format!("{OWNER}/{NAME}"),
                "run_id": self.id.to_string(),
                "run_attempt": "1",
                "job": job_id,
                "workspace": workspace.display().to_string(),
                "action_path": root().display().to_string(),
            },
            "matrix": matrix,
            "strategy": {"job-index": strategy.0, "job-total": strategy.1, "fail-fast": false},
            "runner": {"os": "Linux", "temp": temp.display().to_string()},
            "inputs": {},
            "steps": {},
        });
        let mut env: Vec<(String, String)> = vec![
            ("HOME", machine.join("home").display().to_string()),
            ("CI", "true".into()),
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_ACTION_PATH", root().display().to_string()),
            ("GITHUB_API_URL", self.api_url.to_owned()),
            ("GITHUB_SERVER_URL", "https://github.com".into()),
            ("GITHUB_REPOSITORY", format!("{OWNER}/{NAME}")),
            ("GITHUB_REPOSITORY_OWNER", OWNER.into()),
            ("GITHUB_EVENT_NAME", self.event.name.into()),
            ("GITHUB_EVENT_PATH", event_path.display().to_string()),
            ("GITHUB_REF", self.event.git_ref.clone()),
            ("GITHUB_REF_NAME", self.event.ref_name.clone()),
            ("GITHUB_HEAD_REF", self.event.head_ref.clone()),
            ("GITHUB_BASE_REF", self.event.base_ref.clone()),
            ("GITHUB_SHA", "a".repeat(40)),
            ("GITHUB_RUN_ID", self.id.to_string()),
            ("GITHUB_RUN_NUMBER", self.id.to_string()),
            ("GITHUB_RUN_ATTEMPT", "1".into()),
            ("GITHUB_JOB", job_id.into()),
            ("GITHUB_WORKSPACE", workspace.display().to_string()),
            ("RUNNER_TEMP", temp.display().to_string()),
            (
                "RUNNER_TOOL_CACHE",
                machine.join("_tool").display().to_string(),
            ),
            ("RUNNER_OS", "Linux".into()),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        // The Python the test suite runs with (tests/run.sh puts it on PATH).
        for name in ["VIRTUAL_ENV", "TMPDIR"] {
            if let Ok(value) = std::env::var(name) {
                env.push((name.to_owned(), value));
            }
        }
        Machine {
            context,
            env,
            path: vec![
                bin.display().to_string(),
                std::env::var("PATH").unwrap_or_default(),
            ],
            result: JobResult {
                job: machine_name.to_owned(),
                success: true,
                outputs: BTreeMap::new(),
                steps: Vec::new(),
                summary: String::new(),
                log: String::new(),
                annotations: Vec::new(),
                machine,
            },
        }
    }

    /// The action's inputs: what `with:` gives, else the default, evaluated.
    fn inputs(&self, with: &[(&str, String)], context: &Value) -> Value {
        for (name, _) in with {
            assert!(
                self.action.inputs.contains_key(*name),
                "the workflow passes {name}, which action.yml does not declare"
            );
        }
        let mut inputs = serde_json::Map::new();
        for (name, input) in &self.action.inputs {
            let value = match with.iter().find(|(given, _)| given == name) {
                Some((_, value)) => value.clone(),
                None => {
                    expression::interpolate(input.default.as_deref().unwrap_or(""), context, false)
                }
            };
            assert!(
                !(input.required == Some(true) && value.is_empty()),
                "the required input {name} is missing"
            );
            inputs.insert(name.clone(), Value::String(value));
        }
        Value::Object(inputs)
    }

    /// One step of the action: skipped unless its `if:` holds; its outcome and outputs go into
    /// the `steps` context.
    fn step(&self, machine: &mut Machine, number: usize, step: &ActionStep) {
        let failed = !machine.result.success;
        let runs = step
            .condition
            .as_deref()
            .is_none_or(|condition| expression::condition(condition, &machine.context, failed));
        let mut record = StepRecord {
            name: step.name.clone(),
            outcome: "skipped",
            outputs: BTreeMap::new(),
        };
        if runs {
            let ok = if let Some(script) = &step.run {
                run_script(machine, step, script, number, &mut record)
            } else {
                let uses = step.uses.as_deref().expect("a step runs or uses");
                let with: BTreeMap<String, String> = step
                    .with
                    .iter()
                    .map(|(name, value)| {
                        let value =
                            expression::interpolate(&scalar(value), &machine.context, failed);
                        (name.clone(), value)
                    })
                    .collect();
                let done = self.uses(uses, &with, &machine.result.workspace());
                let log = &mut machine.result.log;
                match done {
                    Ok(note) => {
                        log.push_str(&note);
                        true
                    }
                    Err(error) => {
                        let _ = writeln!(log, "{}: {error}", step.name);
                        false
                    }
                }
            };
            record.outcome = if ok { "success" } else { "failure" };
            machine.result.success &= ok;
        }
        if let Some(id) = &step.id {
            machine.context["steps"][id] = json!({
                "outputs": record.outputs,
                "outcome": record.outcome,
                "conclusion": record.outcome,
            });
        }
        machine.result.steps.push(record);
    }

    /// Stands in for the artifact actions. `Ok` carries a log line.
    fn uses(
        &self,
        uses: &str,
        with: &BTreeMap<String, String>,
        workspace: &Path,
    ) -> Result<String, String> {
        let known: BTreeSet<&str> = match uses {
            "actions/upload-artifact@v4" => [
                "name",
                "path",
                "if-no-files-found",
                "compression-level",
                "overwrite",
            ]
            .into(),
            "actions/download-artifact@v4" => ["name", "pattern", "merge-multiple", "path"].into(),
            other => panic!("the rehearsal cannot stand in for {other}"),
        };
        for name in with.keys() {
            assert!(known.contains(name.as_str()), "{uses} given {name}");
        }
        let get = |name: &str| with.get(name).map_or("", String::as_str);
        let path = workspace.join(get("path"));
        if uses.starts_with("actions/upload-artifact") {
            self.upload(
                if get("name").is_empty() {
                    "artifact"
                } else {
                    get("name")
                },
                &path,
                if get("if-no-files-found").is_empty() {
                    "warn"
                } else {
                    get("if-no-files-found")
                },
                get("compression-level") == "0",
                get("overwrite") == "true",
            )
        } else {
            self.download(
                get("name"),
                get("pattern"),
                get("merge-multiple") == "true",
                &path,
            )
        }
    }

    /// upload-artifact@v4 with one directory as `path`: its files, hidden ones left out,
    /// relative to it.
    fn upload(
        &self,
        name: &str,
        dir: &Path,
        if_no_files_found: &str,
        stored: bool,
        overwrite: bool,
    ) -> Result<String, String> {
        let mut files = BTreeMap::new();
        if dir.is_dir() {
            for (relative, bytes) in read_tree(dir) {
                let hidden = relative.split('/').any(|part| part.starts_with('.'));
                if !hidden {
                    files.insert(relative, bytes);
                }
            }
        }
        if files.is_empty() {
            return match if_no_files_found {
                "error" => Err(format!(
                    "no files were found with the provided path: {}",
                    dir.display()
                )),
                "warn" => Ok(format!("upload {name}: no files found, nothing uploaded\n")),
                "ignore" => Ok(String::new()),
                other => panic!("if-no-files-found: {other}"),
            };
        }
        let mut artifacts = self.artifacts.lock().unwrap();
        if let Some(at) = artifacts.iter().position(|artifact| artifact.name == name) {
            if !overwrite {
                return Err(format!(
                    "failed to create artifact {name}: an artifact with this name already exists on the workflow run"
                ));
            }
            artifacts.remove(at);
        }
        let note = format!("uploaded {name} ({} files)\n", files.len());
        artifacts.push(Artifact {
            name: name.to_owned(),
            files,
            stored,
        });
        Ok(note)
    }

    /// download-artifact@v4: by name into `path`, or every artifact matching `pattern`, each into
    /// `path/NAME`, or all into `path` with `merge-multiple`.
    fn download(
        &self,
        name: &str,
        pattern: &str,
        merge_multiple: bool,
        dir: &Path,
    ) -> Result<String, String> {
        let artifacts = self.artifacts.lock().unwrap();
        let chosen: Vec<&Artifact> = if name.is_empty() {
            let pattern = glob::Pattern::new(if pattern.is_empty() { "*" } else { pattern })
                .map_err(|error| error.to_string())?;
            artifacts
                .iter()
                .filter(|artifact| pattern.matches(&artifact.name))
                .collect()
        } else {
            let found: Vec<&Artifact> = artifacts
                .iter()
                .filter(|artifact| artifact.name == name)
                .collect();
            if found.is_empty() {
                return Err(format!(
                    "unable to download artifact(s): artifact not found for name: {name}"
                ));
            }
            found
        };
        for artifact in &chosen {
            let target = if name.is_empty() && !merge_multiple {
                dir.join(&artifact.name)
            } else {
                dir.to_path_buf()
            };
            for (relative, bytes) in &artifact.files {
                let file = target.join(relative);
                std::fs::create_dir_all(file.parent().unwrap()).unwrap();
                std::fs::write(file, bytes).unwrap();
            }
        }
        Ok(format!("downloaded {} artifact(s)\n", chosen.len()))
    }
}

/// A job's machine while its steps run: the expression contexts, the runner's variables, PATH
/// (which `GITHUB_PATH` grows), and what the job has left so far.
struct Machine {
    context: Value,
    env: Vec<(String, String)>,
    path: Vec<String>,
    result: JobResult,
}

/// A `run:` step: the script as GitHub's `bash` shell runs it, from a file, with the step's
/// `env:` over the runner's variables and fresh `GITHUB_OUTPUT`, `GITHUB_STEP_SUMMARY` and
/// `GITHUB_PATH` files, read back afterwards.
fn run_script(
    machine: &mut Machine,
    step: &ActionStep,
    script: &str,
    number: usize,
    record: &mut StepRecord,
) -> bool {
    assert_eq!(step.shell.as_deref(), Some("bash"), "{}", step.name);
    assert!(
        !script.contains("${{"),
        "{}: an expression inside shell code",
        step.name
    );
    let result = &mut machine.result;
    let files = result
        .machine
        .join(format!("_runner_file_commands/step-{number}"));
    std::fs::create_dir_all(&files).unwrap();
    let script_file = files.join("script.sh");
    std::fs::write(&script_file, script).unwrap();
    let (output_file, summary_file, path_file) = (
        files.join("output"),
        files.join("summary"),
        files.join("path"),
    );
    for file in [&output_file, &summary_file, &path_file] {
        std::fs::write(file, "").unwrap();
    }
    let cwd = match &step.working_directory {
        Some(dir) => result
            .workspace()
            .join(expression::interpolate(dir, &machine.context, false)),
        None => result.workspace(),
    };
    let mut command = Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail"])
        .arg(&script_file)
        .current_dir(&cwd)
        .env_clear()
        .envs(machine.env.iter().map(|(name, value)| (name, value)))
        .env("PATH", machine.path.join(":"))
        .env("GITHUB_OUTPUT", &output_file)
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("GITHUB_PATH", &path_file);
    for (name, value) in &step.env {
        command.env(
            name,
            expression::interpolate(value, &machine.context, false),
        );
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let _ = write!(
        result.log,
        "--- {} (exit {:?})\n{stdout}{stderr}",
        step.name,
        output.status.code()
    );
    result.annotations.extend(
        stdout
            .lines()
            .filter(|line| line.starts_with("::"))
            .map(str::to_owned),
    );
    record.outputs = parse_output_file(&std::fs::read_to_string(&output_file).unwrap());
    result
        .summary
        .push_str(&std::fs::read_to_string(&summary_file).unwrap());
    // GITHUB_PATH: later steps find these first.
    for dir in std::fs::read_to_string(&path_file).unwrap().lines().rev() {
        machine.path.insert(0, dir.to_owned());
    }
    output.status.success()
}

/// `GITHUB_OUTPUT`'s two forms: `name=value` and `name<<DELIMITER` ... `DELIMITER`.
fn parse_output_file(text: &str) -> BTreeMap<String, String> {
    let mut outputs = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delimiter)) = line.split_once("<<") {
            let mut value = Vec::new();
            for inner in lines.by_ref() {
                if inner == delimiter {
                    break;
                }
                value.push(inner);
            }
            outputs.insert(name.to_owned(), value.join("\n"));
        } else if let Some((name, value)) = line.split_once('=') {
            outputs.insert(name.to_owned(), value.to_owned());
        } else {
            assert!(
                line.is_empty(),
                "a GITHUB_OUTPUT line GitHub would refuse: {line:?}"
            );
        }
    }
    outputs
}

/// Every file under `dir`, by path relative to it with `/` (not what symbolic links point to:
/// the machines' `bin/rxdist` links to the binary under test).
fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let relative = path.strip_prefix(dir).unwrap();
                let relative = relative
                    .components()
                    .map(|part| part.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.push((relative, std::fs::read(&path).unwrap()));
            }
        }
    }
    files.sort();
    files
}

/// A checkout: the project's files without Python's caches.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "__pycache__" || name == ".pytest_cache" {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The workflow (the README's, with three shards of two workers), and what the runs left.

/// One workflow run's jobs, and the run itself (its artifacts).
struct Played<'a> {
    run: WorkflowRun<'a>,
    plan: JobResult,
    tests: Vec<JobResult>,
    merge: JobResult,
}

impl Played<'_> {
    fn jobs(&self) -> impl Iterator<Item = &JobResult> {
        std::iter::once(&self.plan)
            .chain(&self.tests)
            .chain(std::iter::once(&self.merge))
    }
}

/// Plays the README's workflow: plan, the matrix of test jobs side by side, merge.
fn play(run: WorkflowRun<'_>) -> Played<'_> {
    let version = || ("version", "installed".to_owned());
    let plan = run.job(
        "plan",
        "plan",
        &[
            ("mode", "plan".to_owned()),
            ("shards", SHARDS.to_string()),
            version(),
        ],
        &Value::Null,
        (0, 1),
    );
    plan.assert_success();
    // strategy.matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}
    let matrix: Value = serde_json::from_str(&plan.outputs["matrix"]).unwrap();
    let entries = matrix["include"].as_array().unwrap().clone();
    let total = entries.len();
    let tests: Vec<JobResult> = std::thread::scope(|scope| {
        let handles: Vec<_> = entries
            .iter()
            .enumerate()
            .map(|(index, entry)| {
                let run = &run;
                scope.spawn(move || {
                    run.job(
                        "test",
                        &format!("test-{index}"),
                        &[
                            ("mode", "run".to_owned()),
                            ("command", COMMAND.to_owned()),
                            ("workers", WORKERS.to_owned()),
                            version(),
                        ],
                        entry,
                        (index, total),
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    for job in &tests {
        job.assert_success();
    }
    // needs.test.result: success when every matrix job succeeded.
    let result = if tests.iter().all(|job| job.success) {
        "success"
    } else {
        "failure"
    };
    let merge = run.job(
        "merge",
        "merge",
        &[
            ("mode", "merge".to_owned()),
            ("history", plan.outputs["history"].clone()),
            ("test-result", result.to_owned()),
            version(),
        ],
        &Value::Null,
        (0, 1),
    );
    merge.assert_success();
    Played {
        run,
        plan,
        tests,
        merge,
    }
}

/// Lists a finished run's artifacts in the fake as GitHub does: newest first, each a zip of its
/// files with their sha256 as `digest`, filed under the run's branch.
fn list_in_fake(fake: &FakeGithub, played: &Played<'_>, first_id: u64) -> BTreeMap<String, u64> {
    let mut ids = BTreeMap::new();
    let artifacts = played.run.artifacts.lock().unwrap();
    let mut state = fake.state();
    for (offset, artifact) in artifacts.iter().enumerate() {
        let mut spec = ArtifactSpec::new(
            first_id + offset as u64,
            &played.run.event.head_branch,
            &fake_github::days_from_now(0),
            artifact.zip(),
        );
        spec.name.clone_from(&artifact.name);
        ids.insert(artifact.name.clone(), spec.id);
        state.artifacts.insert(0, spec);
    }
    ids
}

/// The plan the plan job made, as JSON with every shard's tests: the same inputs `plan.sh` gave
/// `rxdist plan` (the pinned history, pytest's collection in the workspace), `--format json`.
fn plan_json(plan_job: &JobResult) -> Value {
    let history = plan_job
        .runner_temp()
        .join("rxdist-rxdist/pinned/history.zst");
    let output = rxdist()
        .current_dir(plan_job.workspace())
        .args(["plan", "--collect", "pytest", "--format", "json", "--total"])
        .args([SHARDS.to_string()])
        .args(["--history".as_ref(), history.as_os_str()])
        .run()
        .success();
    let plan: Value = serde_json::from_str(&output.stdout).unwrap();
    // It is the plan of the matrix: the same tests and predictions per shard.
    let matrix: Value = serde_json::from_str(&plan_job.outputs["matrix"]).unwrap();
    let entries = matrix["include"].as_array().unwrap();
    let shards = plan["shards"].as_array().unwrap();
    assert_eq!(entries.len(), shards.len());
    for (entry, shard) in entries.iter().zip(shards) {
        assert_eq!(entry["index"], shard["index"]);
        assert_eq!(
            entry["tests"].as_u64().unwrap(),
            shard["tests"].as_array().unwrap().len() as u64
        );
        assert_eq!(entry["predicted_seconds"], shard["predicted_seconds"]);
    }
    plan
}

/// Every testcase of a JUnit report as a pytest id (`file::Class::name`) with its seconds.
fn testcases(report: &str) -> Vec<(String, f64)> {
    let mut reader = quick_xml::Reader::from_str(report);
    let mut found = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(element) | quick_xml::events::Event::Empty(element)
                if element.name().as_ref() == "testcase" =>
            {
                let mut attributes = BTreeMap::new();
                for attribute in element.attributes() {
                    let attribute = attribute.unwrap();
                    let key = attribute.key.as_ref().to_owned();
                    let value = quick_xml::escape::unescape(&attribute.value)
                        .unwrap()
                        .into_owned();
                    attributes.insert(key, value);
                }
                let file = &attributes["file"];
                let module = file.trim_end_matches(".py").replace('/', ".");
                let classes = attributes["classname"]
                    .strip_prefix(&module)
                    .unwrap_or_else(|| panic!("classname outside {file}: {attributes:?}"));
                let mut id = file.clone();
                for class in classes.split('.').filter(|part| !part.is_empty()) {
                    id.push_str("::");
                    id.push_str(class);
                }
                id.push_str("::");
                id.push_str(&attributes["name"]);
                found.push((id, attributes["time"].parse().unwrap()));
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    found
}

/// The value of a `<property>` of a JUnit report.
fn property(report: &str, name: &str) -> Option<String> {
    let mut reader = quick_xml::Reader::from_str(report);
    loop {
        match reader.read_event().unwrap() {
            quick_xml::events::Event::Start(element) | quick_xml::events::Event::Empty(element)
                if element.name().as_ref() == "property" =>
            {
                let value = |key: &str| {
                    element
                        .try_get_attribute(key)
                        .unwrap()
                        .map(|attribute| attribute.value.into_owned())
                };
                if value("name").as_deref() == Some(name) {
                    return value("value");
                }
            }
            quick_xml::events::Event::Eof => return None,
            _ => {}
        }
    }
}

/// A plan's slowest shard and its mean shard, in seconds, when every test takes what it took
/// in run 1.
fn score(plan: &Value, measured: &BTreeMap<String, f64>) -> (f64, f64) {
    let shards: Vec<f64> = plan["shards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|shard| {
            shard["tests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| {
                    let id = id.as_str().unwrap();
                    *measured
                        .get(id)
                        .unwrap_or_else(|| panic!("run 1 did not measure {id}"))
                })
                .sum()
        })
        .collect();
    let slowest = shards.iter().copied().fold(0.0, f64::max);
    (slowest, shards.iter().sum::<f64>() / shards.len() as f64)
}

/// Every file under `dir` with `needle` in it.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    read_tree(dir)
        .into_iter()
        .filter(|(_, bytes)| {
            bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
        .map(|(path, _)| path)
        .collect()
}

#[test]
fn two_workflow_runs_plan_run_merge_publish_then_plan_better_from_the_published_timings() {
    let fake = FakeGithub::start();
    let action = action();
    let dir = tempfile::tempdir().unwrap();
    let start_run = |id: u64, event: Event| WorkflowRun {
        id,
        event,
        dir: dir.path().join(format!("run-{id}")),
        api_url: &fake.api_url,
        action: &action,
        artifacts: Mutex::new(Vec::new()),
    };

    // ---- Run 1: a push to the default branch, and no timings anywhere yet.
    let first = play(start_run(1001, Event::push_to_default_branch()));
    let (collected, measured) = check_run_1(&fake, &first);

    // ---- Between the runs: GitHub lists run 1's artifacts, the timings among them.
    let ids = list_in_fake(&fake, &first, 7001);

    // ---- Run 2: a pull request. It reads the default branch's timings and publishes none.
    let second = play(start_run(1002, Event::pull_request(42, "feature/returns")));
    check_run_2(&fake, &first, &second, &ids, &collected);

    // ---- Plan 2 is better than plan 1, scored with the seconds every test took in run 1.
    check_plans(&first, &second, &collected, &measured);

    // ---- The token (and the blob URL's signature) went nowhere but where they belong.
    for job in first.jobs().chain(second.jobs()) {
        for secret in [TOKEN, SIGNATURE] {
            assert!(!job.log.contains(secret), "{secret} in {}'s log", job.job);
            assert!(
                !job.summary.contains(secret),
                "{secret} in {}'s summary",
                job.job
            );
            assert!(
                !job.outputs.values().any(|value| value.contains(secret)),
                "{secret} in {}'s outputs",
                job.job
            );
        }
    }
    for secret in [TOKEN, SIGNATURE] {
        let found = files_containing(dir.path(), secret);
        assert!(found.is_empty(), "{secret} written to {found:?}");
    }
}

/// Run 1: planned by count after a fruitless fetch, every shard run and uploaded, merged into
/// one report holding every test once, and published. Returns the collected tests and the
/// seconds each took.
fn check_run_1(fake: &FakeGithub, first: &Played<'_>) -> (BTreeSet<String>, BTreeMap<String, f64>) {
    let bearer = format!("Bearer {TOKEN}");
    // The plan job asked GitHub once, with the token, found nothing, said so, and split by
    // test count; it pinned a note for the shards instead of timings.
    let lists = fake.received(Route::List);
    assert_eq!(lists.len(), 1, "{lists:?}");
    assert_eq!(lists[0].authorization.as_deref(), Some(bearer.as_str()));
    assert!(fake.received(Route::Zip).is_empty());
    assert_eq!(first.plan.outputs["timings"], "false");
    assert!(
        first
            .plan
            .annotations
            .iter()
            .any(|line| line.starts_with("::warning")
                && line.contains("planning goes on without them")),
        "{:?}",
        first.plan.annotations
    );
    let pinned = first.run.artifact("rxdist-history-plan-attempt-1").unwrap();
    assert_eq!(pinned.files.keys().collect::<Vec<_>>(), ["README.txt"]);

    // Every job uploaded what action.yml says, under names unique in the run.
    let expected: BTreeSet<String> = [
        "rxdist-history-plan-attempt-1",
        "rxdist-shard-0-of-3-attempt-1",
        "rxdist-shard-1-of-3-attempt-1",
        "rxdist-shard-2-of-3-attempt-1",
        "rxdist-merged-attempt-1",
        "rxdist-timings",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    let uploaded: BTreeSet<String> = first.run.artifact_names().into_iter().collect();
    assert_eq!(uploaded, expected);
    assert_shards_and_summaries(first);

    // The merge job merged every shard's report into one holding every test once and, this
    // being a green push to the default branch, published the next timings: run 1's.
    let collected = collected_tests(&first.plan);
    let measured = merged_report(first, &collected);
    assert_eq!(first.merge.outputs["complete"], "true");
    assert_eq!(
        first
            .merge
            .step("Publish the timings for later runs")
            .outcome,
        "success"
    );
    let published = first.run.artifact("rxdist-timings").unwrap();
    assert_eq!(published.files.keys().collect::<Vec<_>>(), ["history.zst"]);
    let published_history = first.merge.machine.join("published.zst");
    std::fs::write(&published_history, &published.files["history.zst"]).unwrap();
    let shown = rxdist()
        .args(["timings", "show", "--format", "json", "--history"])
        .args([published_history.as_os_str()])
        .run()
        .success();
    let shown: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(shown["runs"], 1);
    assert_eq!(shown["tests"], collected.len());

    (collected, measured)
}

/// Run 2: the fetch went through the fake as GitHub's API and blob storage would see it, the
/// shards ran from the pinned timings, and the merge of a pull request published nothing.
fn check_run_2(
    fake: &FakeGithub,
    first: &Played<'_>,
    second: &Played<'_>,
    ids: &BTreeMap<String, u64>,
    collected: &BTreeSet<String>,
) {
    let bearer = format!("Bearer {TOKEN}");
    let published = first.run.artifact("rxdist-timings").unwrap();
    // One list and one download through the API with the token; the blob host, a second
    // port, got the download without it. The event named the default branch: no repo call.
    let lists = fake.received(Route::List);
    assert_eq!(lists.len(), 2, "{lists:?}");
    assert_eq!(lists[1].authorization.as_deref(), Some(bearer.as_str()));
    let zips = fake.received(Route::Zip);
    assert_eq!(zips.len(), 1, "{zips:?}");
    assert_eq!(zips[0].authorization.as_deref(), Some(bearer.as_str()));
    let wanted = format!("/actions/artifacts/{}/zip", ids["rxdist-timings"]);
    assert!(zips[0].url.ends_with(&wanted), "{zips:?}");
    let blobs = fake.received(Route::Blob);
    assert_eq!(blobs.len(), 1, "{blobs:?}");
    assert_eq!(
        blobs[0].authorization, None,
        "the token went to the blob host"
    );
    assert!(fake.received(Route::Repo).is_empty());
    assert!(fake.received(Route::Other).is_empty());

    assert_eq!(second.plan.outputs["timings"], "true");
    assert!(
        second.plan.annotations.is_empty(),
        "{:?}",
        second.plan.annotations
    );
    let pinned = second
        .run
        .artifact("rxdist-history-plan-attempt-1")
        .unwrap();
    assert_eq!(
        pinned.files["history.zst"], published.files["history.zst"],
        "run 2 pinned exactly what run 1 published"
    );
    assert_shards_and_summaries(second);
    merged_report(second, collected);
    assert_eq!(second.merge.outputs["complete"], "true");
    assert_eq!(
        second
            .merge
            .step("Publish the timings for later runs")
            .outcome,
        "skipped"
    );
    assert!(second.run.artifact("rxdist-timings").is_none());
}

/// Both plans, as `rxdist plan --format json` makes them from the plan jobs' inputs, scored
/// against run 1's measurements.
fn check_plans(
    first: &Played<'_>,
    second: &Played<'_>,
    collected: &BTreeSet<String>,
    measured: &BTreeMap<String, f64>,
) {
    // Run 2's shards ran exactly the plan its matrix announced. (Run 1's did not: without
    // pinned timings `rxdist run` splits by path hash, not as the count-based plan said.)
    let plan_2 = plan_json(&second.plan);
    for (index, job) in second.tests.iter().enumerate() {
        let report = std::fs::read_to_string(&job.outputs["junit"]).unwrap();
        let ran: BTreeSet<String> = testcases(&report).into_iter().map(|(id, _)| id).collect();
        let shard = &plan_2["shards"][index];
        assert_eq!(ran, ids_of(shard), "shard {index} of run 2");
        // And its report carries the plan's prediction, for the merge's balance table.
        let predicted: f64 = property(&report, "rxdist.predicted_seconds")
            .unwrap()
            .parse()
            .unwrap();
        let planned = shard["predicted_seconds"].as_f64().unwrap();
        assert!(
            (predicted - planned).abs() < 0.0015,
            "shard {index}: the run predicted {predicted}s, the plan {planned}s"
        );
    }

    // Both plans hold every collected test; plan 2's slowest shard is faster, scored with the
    // seconds every test took in run 1.
    let plan_1 = plan_json(&first.plan);
    for plan in [&plan_1, &plan_2] {
        let planned: BTreeSet<String> = plan["shards"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(ids_of)
            .collect();
        assert_eq!(&planned, collected);
    }
    let (slowest_1, mean) = score(&plan_1, measured);
    let (slowest_2, _) = score(&plan_2, measured);
    let executed_1 = run_1_as_executed(first, measured);
    let predicted_1: f64 = first.plan.outputs["predicted-imbalance"].parse().unwrap();
    let predicted_2: f64 = second.plan.outputs["predicted-imbalance"].parse().unwrap();
    eprintln!(
        "scored with run 1's durations (mean shard {mean:.3}s):\n  \
         plan 1 (by count):   slowest shard {slowest_1:.3}s, predicted imbalance {predicted_1:.3}\n  \
         run 1 as executed:   slowest shard {executed_1:.3}s\n  \
         plan 2 (by timings): slowest shard {slowest_2:.3}s, predicted imbalance {predicted_2:.3}"
    );
    assert!(
        slowest_2 < slowest_1,
        "plan 2's slowest shard {slowest_2:.3}s, plan 1's {slowest_1:.3}s"
    );
    // Plan 1's predicted imbalance counts tests (it had no durations), so this compares unlike
    // figures; what makes it meaningful is that plan 2's predictions are run 1's measurements.
    assert!(predicted_2 <= predicted_1, "{predicted_2} > {predicted_1}");
    for shard in plan_2["shards"].as_array().unwrap() {
        let predicted = shard["predicted_seconds"].as_f64().unwrap();
        let scored: f64 = ids_of(shard).iter().map(|id| measured[id]).sum();
        assert!(
            (predicted - scored).abs() <= 0.05 * scored,
            "shard {}: predicted {predicted}s, run 1 measured {scored:.3}s",
            shard["index"]
        );
    }
}

/// A plan shard's test ids.
fn ids_of(shard: &Value) -> BTreeSet<String> {
    shard["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect()
}

/// Run 1's slowest shard as its test jobs split it, scored like the plans.
fn run_1_as_executed(played: &Played<'_>, measured: &BTreeMap<String, f64>) -> f64 {
    played
        .tests
        .iter()
        .map(|job| {
            let report = std::fs::read_to_string(&job.outputs["junit"]).unwrap();
            testcases(&report)
                .iter()
                .map(|(id, _)| measured[id])
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

/// Every shard job ran, uploaded its report and timings, and wrote its job summary; the plan
/// and merge jobs wrote theirs.
fn assert_shards_and_summaries(played: &Played<'_>) {
    assert!(
        played
            .plan
            .summary
            .starts_with("### rxdist plan: 3 shards\n"),
        "{}",
        played.plan.summary
    );
    assert_eq!(played.tests.len(), SHARDS);
    for (index, job) in played.tests.iter().enumerate() {
        let stem = format!("{index}-of-{SHARDS}-attempt-1");
        let artifact = played
            .run
            .artifact(&format!("rxdist-shard-{stem}"))
            .unwrap();
        assert_eq!(
            artifact.files.keys().collect::<Vec<_>>(),
            [&format!("junit-{stem}.xml"), &format!("timings-{stem}.zst")]
        );
        assert!(
            job.summary
                .starts_with(&format!("## rxdist run: shard {}/{SHARDS}\n", index + 1)),
            "{}",
            job.summary
        );
        assert_eq!(
            job.outputs["junit"],
            job.runner_temp()
                .join(format!("rxdist-rxdist/shard/junit-{stem}.xml"))
                .display()
                .to_string()
        );
    }
    // The merge job's summary: the whole run's totals and a balance row per shard.
    let summary = &played.merge.summary;
    assert!(
        summary.starts_with(&format!("## rxdist merge: {SHARDS} JUnit reports\n")),
        "{summary}"
    );
    assert!(
        summary.contains("**35 tests**: 35 passed, 0 failed"),
        "{summary}"
    );
    for shard in 1..=SHARDS {
        assert!(
            summary.contains(&format!("\n| {shard}/{SHARDS} | ")),
            "{summary}"
        );
    }
}

/// The tests pytest collects in the example project: the tests of plan 1.
fn collected_tests(plan_job: &JobResult) -> BTreeSet<String> {
    let output = rxdist()
        .current_dir(plan_job.workspace())
        .args([
            "plan",
            "--collect",
            "pytest",
            "--format",
            "json",
            "--total",
            "1",
        ])
        .run()
        .success();
    let plan: Value = serde_json::from_str(&output.stdout).unwrap();
    let tests: BTreeSet<String> = plan["shards"][0]["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|id| id.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(tests.len(), 35, "the example project's tests");
    tests
}

/// The merged report the merge job uploaded: every collected test exactly once. Returns each
/// test's seconds.
fn merged_report(played: &Played<'_>, collected: &BTreeSet<String>) -> BTreeMap<String, f64> {
    let merged = played.run.artifact("rxdist-merged-attempt-1").unwrap();
    let report = String::from_utf8(merged.files["junit.xml"].clone()).unwrap();
    let cases = testcases(&report);
    let mut measured = BTreeMap::new();
    for (id, seconds) in cases {
        assert!(
            measured.insert(id.clone(), seconds).is_none(),
            "{id} twice in the merged report"
        );
    }
    assert_eq!(
        measured.keys().cloned().collect::<BTreeSet<_>>(),
        *collected,
        "the merged report of run {}",
        played.run.id
    );
    measured
}

/// The runner stand-in itself: conditions and `${{ }}` as GitHub evaluates them, and the
/// artifact actions' rules. The rehearsal is only as true as these.
#[test]
fn the_runner_evaluates_expressions_and_keeps_the_artifact_rules_as_github_does() {
    use expression::{condition, interpolate};
    let context = json!({
        "inputs": {"mode": "Plan", "history": ""},
        "steps": {"merge": {"outcome": "skipped", "outputs": {"complete": "true"}}},
        "github": {"ref_name": "main", "event": {"repository": {"default_branch": "main"}}},
        "matrix": null,
    });
    // Strings compare ignoring case; a condition without a status function implies success().
    assert!(condition("inputs.mode == 'plan'", &context, false));
    assert!(!condition("inputs.mode == 'plan'", &context, true));
    assert!(condition(
        "always() && inputs.mode == 'plan'",
        &context,
        true
    ));
    assert!(!condition(
        "success() && inputs.mode == 'plan'",
        &context,
        true
    ));
    assert!(condition("${{ inputs.mode != 'run' }}", &context, false));
    assert!(!condition(
        "(inputs.mode == 'plan' || inputs.mode == 'merge') && inputs.history != ''",
        &context,
        false
    ));
    assert!(condition(
        "github.ref_name == github.event.repository.default_branch && !(steps.merge.outcome != 'skipped')",
        &context,
        false
    ));
    // `||` gives the first truthy value; what is missing is ''.
    assert_eq!(
        interpolate(
            "${{ inputs.history || steps.merge.outputs.complete }}",
            &context,
            false
        ),
        "true"
    );
    assert_eq!(
        interpolate("[${{ matrix.history }}]", &context, false),
        "[]"
    );
    assert_eq!(
        interpolate("a ${{ 'it''s' }} b", &context, false),
        "a it's b"
    );

    // upload-artifact: hidden files left out, nothing to upload per if-no-files-found, one
    // upload per name unless overwrite; download-artifact: by name, or by pattern, merged.
    let action = action();
    let dir = tempfile::tempdir().unwrap();
    let run = WorkflowRun {
        id: 1,
        event: Event::push_to_default_branch(),
        dir: dir.path().to_path_buf(),
        api_url: "http://127.0.0.1:9",
        action: &action,
        artifacts: Mutex::new(Vec::new()),
    };
    let source = dir.path().join("source");
    std::fs::create_dir_all(source.join("sub")).unwrap();
    std::fs::write(source.join("a.xml"), "a").unwrap();
    std::fs::write(source.join("sub/b.xml"), "b").unwrap();
    std::fs::write(source.join(".hidden"), "h").unwrap();
    let empty = dir.path().join("empty");
    assert!(run.upload("x-1", &empty, "error", false, false).is_err());
    assert!(run.upload("x-1", &empty, "warn", false, false).is_ok());
    assert!(run.artifact_names().is_empty());
    run.upload("x-1", &source, "error", false, false).unwrap();
    let files = run.artifact("x-1").unwrap().files;
    assert_eq!(files.keys().collect::<Vec<_>>(), ["a.xml", "sub/b.xml"]);
    let again = run.upload("x-1", &source, "error", false, false);
    assert!(again.unwrap_err().contains("already exists"));
    run.upload("x-1", &source, "error", false, true).unwrap();
    std::fs::remove_dir_all(source.join("sub")).unwrap();
    run.upload("x-2", &source, "error", false, false).unwrap();
    run.upload("y", &source, "error", false, false).unwrap();
    let out = dir.path().join("out");
    run.download("", "x-*", true, &out).unwrap();
    let merged: Vec<String> = read_tree(&out).into_iter().map(|(path, _)| path).collect();
    assert_eq!(merged, ["a.xml", "sub/b.xml"]);
    let apart = dir.path().join("apart");
    run.download("", "x-*", false, &apart).unwrap();
    let apart: Vec<String> = read_tree(&apart)
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(apart, ["x-1/a.xml", "x-1/sub/b.xml", "x-2/a.xml"]);
    assert!(run.download("z", "", false, &out).is_err());
}
