//! Checks the GitHub Action's metadata (`action.yml`), the workflow the README tells teams to
//! paste, the repository's own workflows and the release manifest, without running GitHub:
//! every input documented and used, every output set by a step, no expression inside shell
//! code (script injection), every script the action runs present and given exactly the
//! variables it reads, and the pasted workflow wired to the action's real inputs and outputs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;
use serde_norway::Value;

use common::root;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Action {
    name: String,
    description: String,
    author: Option<String>,
    branding: Option<Value>,
    inputs: BTreeMap<String, Input>,
    outputs: BTreeMap<String, Output>,
    runs: Runs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    description: String,
    required: Option<bool>,
    default: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Output {
    description: String,
    value: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Runs {
    using: String,
    steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Step {
    name: Option<String>,
    id: Option<String>,
    #[serde(rename = "if")]
    condition: Option<String>,
    shell: Option<String>,
    run: Option<String>,
    uses: Option<String>,
    #[serde(default)]
    with: BTreeMap<String, Value>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    working_directory: Option<String>,
}

impl Step {
    fn label(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.id.clone())
            .unwrap_or_else(|| "a step".to_owned())
    }

    /// Every text of the step GitHub evaluates expressions in, besides `run:`.
    fn expression_texts(&self) -> Vec<String> {
        let mut texts: Vec<String> = self.env.values().cloned().collect();
        texts.extend(self.with.values().map(scalar));
        texts.extend(self.condition.clone());
        texts.extend(self.working_directory.clone());
        texts
    }
}

fn load_action() -> Action {
    let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml is readable");
    serde_norway::from_str(&text).expect("action.yml parses as an action")
}

/// A YAML scalar as the text GitHub sees.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Bool(flag) => flag.to_string(),
        Value::Number(number) => number.to_string(),
        Value::Null => String::new(),
        other => panic!("expected a scalar, found {other:?}"),
    }
}

/// The names following `prefix` in `text`: `refs("x inputs.a-b y", "inputs.")` is `["a-b"]`.
fn refs(text: &str, prefix: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        let boundary = rest[..at].chars().next_back().is_none_or(|before| {
            !(before.is_ascii_alphanumeric() || before == '_' || before == '.')
        });
        let after = &rest[at + prefix.len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        if boundary && !name.is_empty() {
            found.push(name.clone());
        }
        rest = &after[name.len()..];
    }
    found
}

/// `(step id, output name)` for every `steps.ID.outputs.NAME` in `text`.
fn step_output_refs(text: &str) -> Vec<(String, String)> {
    let name_of = |text: &str| -> String {
        text.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    for (at, _) in text.match_indices("steps.") {
        let boundary = text[..at].chars().next_back().is_none_or(|before| {
            !(before.is_ascii_alphanumeric() || before == '_' || before == '.')
        });
        let after = &text[at + "steps.".len()..];
        let id = name_of(after);
        if let Some(output) = after[id.len()..].strip_prefix(".outputs.")
            && boundary
            && !id.is_empty()
        {
            found.push((id, name_of(output)));
        }
    }
    found
}

/// The script a run step runs: exactly `bash "$GITHUB_ACTION_PATH/PATH"`.
fn script_of(step: &Step) -> String {
    let run = step.run.as_deref().expect("a run step");
    let path = run
        .trim()
        .strip_prefix("bash \"$GITHUB_ACTION_PATH/")
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or_else(|| {
            panic!(
                "step '{}' must only run a script of the action (bash \"$GITHUB_ACTION_PATH/...\"), not inline shell: {run}",
                step.label()
            )
        });
    path.to_owned()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative))
        .unwrap_or_else(|error| panic!("{relative} is readable: {error}"))
}

#[test]
fn every_input_is_documented_and_used() {
    let action = load_action();
    assert_eq!(action.name, "rxdist");
    assert!(!action.description.is_empty());
    assert!(action.author.is_some() && action.branding.is_some());
    let used: BTreeSet<String> = action
        .runs
        .steps
        .iter()
        .flat_map(Step::expression_texts)
        .flat_map(|text| refs(&text, "inputs."))
        .collect();
    for (name, input) in &action.inputs {
        assert!(
            input.description.trim().len() > 10,
            "input {name} has no real description"
        );
        // The runner rejects expressions in descriptions (only defaults are evaluated).
        assert!(
            !input.description.contains("${{"),
            "input {name}'s description holds an expression"
        );
        assert!(
            input.required == Some(true) || input.default.is_some(),
            "optional input {name} has no default"
        );
        assert!(
            used.contains(name),
            "input {name} is declared but no step's env, with, if or working-directory uses it"
        );
    }
    for name in &used {
        assert!(
            action.inputs.contains_key(name),
            "a step uses inputs.{name}, which is not declared"
        );
    }
    assert_eq!(
        action.inputs["github-token"].default.as_deref(),
        Some("${{ github.token }}")
    );
    assert_eq!(action.inputs["mode"].required, Some(true));
}

#[test]
fn no_expression_is_pasted_into_shell_code() {
    let action = load_action();
    assert_eq!(action.runs.using, "composite");
    for step in &action.runs.steps {
        match (&step.run, &step.uses) {
            (Some(run), None) => {
                assert!(
                    !run.contains("${{"),
                    "step '{}' pastes an expression into its shell code; pass it through env: instead:\n{run}",
                    step.label()
                );
                assert_eq!(
                    step.shell.as_deref(),
                    Some("bash"),
                    "step '{}' must say shell: bash (Git Bash on Windows)",
                    step.label()
                );
                let script = script_of(step);
                assert!(
                    root().join(&script).is_file(),
                    "step '{}' runs {script}, which does not exist",
                    step.label()
                );
            }
            (None, Some(uses)) => {
                assert!(
                    uses.starts_with("actions/upload-artifact@v4")
                        || uses.starts_with("actions/download-artifact@v4"),
                    "step '{}' uses {uses}: only the artifact actions, at their major version",
                    step.label()
                );
                assert!(step.shell.is_none() && step.env.is_empty());
            }
            _ => panic!("step '{}' must either run or use", step.label()),
        }
    }
}

#[test]
fn every_script_gets_exactly_the_variables_it_reads() {
    let action = load_action();
    for step in action.runs.steps.iter().filter(|step| step.run.is_some()) {
        let path = script_of(step);
        let script = read(&path);
        for name in step.env.keys() {
            assert!(
                script.contains(name.as_str()),
                "step '{}' sets {name}, which {path} never reads",
                step.label()
            );
        }
        let mut read_names: BTreeSet<String> = refs(&script, "RXA_")
            .into_iter()
            .map(|name| format!("RXA_{name}"))
            .collect();
        if script.contains("rxdist_bin") {
            read_names.insert("RXA_BIN".to_owned());
        }
        for name in &read_names {
            assert!(
                step.env.contains_key(name),
                "{path} reads {name}, which step '{}' does not set",
                step.label()
            );
        }
    }
}

/// Whether `script` writes the step output `name` (through `set_output` or a `name=` line).
fn script_sets_output(script: &str, name: &str) -> bool {
    script.contains(&format!("set_output {name} "))
        || script.contains(&format!("'{name}=%s"))
        || script.contains(&format!("\\n{name}=%s"))
}

#[test]
fn every_output_and_step_reference_is_set_by_a_step() {
    let action = load_action();
    let steps: BTreeMap<&str, &Step> = action
        .runs
        .steps
        .iter()
        .filter_map(|step| step.id.as_deref().map(|id| (id, step)))
        .collect();
    let check = |text: &str, context: &str| {
        for (id, name) in step_output_refs(text) {
            let step = steps
                .get(id.as_str())
                .unwrap_or_else(|| panic!("{context} refers to steps.{id}, which no step is"));
            let script = read(&script_of(step));
            assert!(
                script_sets_output(&script, &name),
                "{context} refers to steps.{id}.outputs.{name}, which {} never sets",
                script_of(step)
            );
        }
    };
    for (name, output) in &action.outputs {
        assert!(
            !output.description.is_empty() && !output.description.contains("${{"),
            "output {name} needs a plain description"
        );
        let found = step_output_refs(&output.value);
        assert!(
            !found.is_empty(),
            "output {name} is not a step's output: {}",
            output.value
        );
        check(&output.value, &format!("output {name}"));
    }
    for step in &action.runs.steps {
        for text in step.expression_texts() {
            check(&text, &format!("step '{}'", step.label()));
        }
    }
    for name in [
        "matrix",
        "total",
        "predicted-imbalance",
        "history",
        "junit",
        "coverage",
    ] {
        assert!(
            action.outputs.contains_key(name),
            "the action declares no {name} output"
        );
    }
}

#[test]
fn results_survive_failures_and_timings_are_published_only_from_the_default_branch() {
    let action = load_action();
    let uploads: Vec<&Step> = action
        .runs
        .steps
        .iter()
        .filter(|step| {
            step.uses
                .as_deref()
                .is_some_and(|uses| uses.starts_with("actions/upload-artifact"))
        })
        .collect();
    let condition = |step: &Step| step.condition.clone().unwrap_or_default();
    let name = |step: &Step| step.with.get("name").map(scalar).unwrap_or_default();

    let shard = uploads
        .iter()
        .find(|step| name(step).contains("shard-name"))
        .expect("run mode uploads the shard's results");
    assert!(
        condition(shard).contains("always()"),
        "the shard's results must be uploaded when tests fail"
    );
    let merged = uploads
        .iter()
        .find(|step| name(step).contains("merged-name"))
        .expect("merge mode uploads the merged reports");
    assert!(condition(merged).contains("always()"));

    let publish: Vec<&&Step> = uploads
        .iter()
        .filter(|step| name(step) == "${{ inputs.history-artifact }}")
        .collect();
    assert_eq!(publish.len(), 1, "exactly one step publishes the timings");
    let publish = condition(publish[0]);
    for needed in [
        "success()",
        "github.event_name == 'push'",
        "github.ref_name == github.event.repository.default_branch",
        "inputs.test-result == 'success'",
        "steps.merge.outputs.complete == 'true'",
        "steps.prepare.outputs.mode == 'merge'",
    ] {
        assert!(
            publish.contains(needed),
            "publishing the timings must require {needed}: {publish}"
        );
    }
    assert!(
        !publish.contains("||"),
        "every condition of publishing must hold at once: {publish}"
    );
}

/// A workflow's jobs and what the checks below need of them.
fn jobs(workflow: &Value) -> &serde_norway::Mapping {
    workflow
        .get("jobs")
        .and_then(Value::as_mapping)
        .expect("the workflow has jobs")
}

fn text_at<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str)
}

/// Every string in a YAML tree.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Sequence(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Mapping(map) => map.values().for_each(|item| strings(item, out)),
        Value::Tagged(tagged) => strings(&tagged.value, out),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn needs(job: &Value) -> Vec<String> {
    match job.get("needs") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Sequence(many)) => many.iter().map(scalar).collect(),
        _ => Vec::new(),
    }
}

/// Checks a workflow that shards through the action (`uses` is how it names the action): it
/// parses, asks for the permissions the action needs, gives the action only its real inputs,
/// wires the plan's matrix and pinned timings into the run and merge jobs, and pastes no
/// expression into shell code.
fn check_sharded_workflow(text: &str, uses: &str, what: &str) {
    let action = load_action();
    let workflow: Value =
        serde_norway::from_str(text).unwrap_or_else(|error| panic!("{what} parses: {error}"));
    let permissions = workflow.get("permissions").expect("a permissions block");
    assert_eq!(
        text_at(permissions, "actions"),
        Some("read"),
        "{what} must grant actions: read"
    );
    assert_eq!(text_at(permissions, "contents"), Some("read"));

    let jobs = jobs(&workflow);
    let by_mode = action_steps_by_mode(&action, jobs, uses, what);
    let (plan_job, plan_step) = by_mode.get("plan").expect("a plan job");
    let (run_job, _) = by_mode.get("run").expect("a job running the shards");
    let (merge_job, merge_step) = by_mode.get("merge").expect("a merge job");
    check_plan_outputs(&action, jobs, plan_job, plan_step, what);

    let run = &jobs[run_job.as_str()];
    assert!(
        needs(run).contains(plan_job),
        "{what}: the shards need the plan"
    );
    let matrix = run
        .get("strategy")
        .and_then(|strategy| strategy.get("matrix"))
        .map(scalar);
    assert_eq!(
        matrix.as_deref(),
        Some(format!("${{{{ fromJSON(needs.{plan_job}.outputs.matrix) }}}}").as_str()),
        "{what}: the shards' matrix must be the plan's"
    );

    let merge = &jobs[merge_job.as_str()];
    let merge_needs = needs(merge);
    assert!(merge_needs.contains(plan_job) && merge_needs.contains(run_job));
    let condition = text_at(merge, "if").unwrap_or_default();
    assert!(
        condition.contains("!cancelled()") || condition.contains("always()"),
        "{what}: the merge job must run when tests fail"
    );
    let with = merge_step.get("with").expect("merge inputs");
    assert_eq!(
        text_at(with, "history"),
        Some(format!("${{{{ needs.{plan_job}.outputs.history }}}}").as_str()),
        "{what}: the merge job must get the pinned timings"
    );
    assert_eq!(
        text_at(with, "test-result"),
        Some(format!("${{{{ needs.{run_job}.result }}}}").as_str()),
        "{what}: the merge job must say how the shards did"
    );

    check_needs_references(jobs, what);
}

/// The steps using the action, by mode: (job name, step). At most one of each but install.
fn action_steps_by_mode(
    action: &Action,
    jobs: &serde_norway::Mapping,
    uses: &str,
    what: &str,
) -> BTreeMap<String, (String, Value)> {
    let mut by_mode: BTreeMap<String, (String, Value)> = BTreeMap::new();
    for (job_name, job) in jobs {
        let job_name = scalar(job_name);
        let steps = job
            .get("steps")
            .and_then(Value::as_sequence)
            .expect("jobs have steps");
        for step in steps {
            if let Some(run) = text_at(step, "run") {
                assert!(
                    !run.contains("${{"),
                    "{what}: job {job_name} pastes an expression into shell code: {run}"
                );
            }
            if text_at(step, "uses") != Some(uses) {
                continue;
            }
            let with = step
                .get("with")
                .and_then(Value::as_mapping)
                .expect("the action gets inputs");
            for key in with.keys() {
                let key = scalar(key);
                assert!(
                    action.inputs.contains_key(&key),
                    "{what}: job {job_name} gives the action '{key}', which is not one of its inputs"
                );
            }
            let mode = with
                .get("mode")
                .map(scalar)
                .expect("the action gets its mode");
            let mode = if mode == "shard" {
                "run".to_owned()
            } else {
                mode
            };
            assert!(
                ["plan", "run", "merge", "install"].contains(&mode.as_str()),
                "{what}: unknown mode {mode}"
            );
            if mode != "install" {
                let previous = by_mode.insert(mode.clone(), (job_name.clone(), step.clone()));
                assert!(previous.is_none(), "{what}: two {mode} steps");
            }
        }
    }
    by_mode
}

/// The plan job hands on the matrix and the pinned timings' name from the action's outputs.
fn check_plan_outputs(
    action: &Action,
    jobs: &serde_norway::Mapping,
    plan_job: &str,
    plan_step: &Value,
    what: &str,
) {
    let plan_id = text_at(plan_step, "id").expect("the plan step has an id");
    let outputs = jobs[plan_job]
        .get("outputs")
        .expect("the plan job has outputs");
    for (name, value) in outputs.as_mapping().expect("outputs map") {
        let value = scalar(value);
        for (id, output) in step_output_refs(&value) {
            assert_eq!(
                id, plan_id,
                "{what}: plan job output {name:?} reads another step"
            );
            assert!(
                action.outputs.contains_key(&output),
                "{what}: the action has no output {output}"
            );
        }
    }
    for name in ["matrix", "history"] {
        assert_eq!(
            text_at(outputs, name),
            Some(format!("${{{{ steps.{plan_id}.outputs.{name} }}}}").as_str()),
            "{what}: the plan job must output the action's {name}"
        );
    }
}

/// Every needs.JOB.outputs.NAME names a job this one needs and an output that job declares.
fn check_needs_references(jobs: &serde_norway::Mapping, what: &str) {
    for (job_name, job) in jobs {
        let mut texts = Vec::new();
        strings(job, &mut texts);
        for text in texts {
            for needed in refs(&text, "needs.") {
                assert!(
                    needs(job).contains(&needed),
                    "{what}: job {} reads needs.{needed} without needing it",
                    scalar(job_name)
                );
                let after = format!("needs.{needed}.outputs.");
                for output in refs(&text, &after) {
                    let declared = jobs[needed.as_str()]
                        .get("outputs")
                        .and_then(|outputs| outputs.get(output.as_str()));
                    assert!(
                        declared.is_some(),
                        "{what}: job {needed} has no output {output}"
                    );
                }
            }
        }
    }
}

/// The README's fenced blocks of one language, each with the heading above it.
fn readme_blocks(language: &str) -> Vec<(String, String)> {
    let readme = read("README.md");
    let mut blocks = Vec::new();
    let mut heading = String::new();
    let mut lines = readme.lines();
    while let Some(line) = lines.next() {
        if line.starts_with('#') {
            line.trim_start_matches('#').trim().clone_into(&mut heading);
        } else if line == format!("```{language}") {
            let block: Vec<&str> = lines.by_ref().take_while(|line| *line != "```").collect();
            blocks.push((heading.clone(), block.join("\n")));
        }
    }
    blocks
}

#[test]
fn the_readme_workflow_uses_the_action_as_it_is() {
    let adopt: Vec<(String, String)> = readme_blocks("yaml")
        .into_iter()
        .filter(|(heading, _)| heading == "Adopt in GitHub Actions")
        .collect();
    assert_eq!(adopt.len(), 1, "one workflow to paste");
    let workflow = &adopt[0].1;
    check_sharded_workflow(workflow, "rxdist/rxdist@v0", "the README's workflow");

    // The README's table of inputs names every input.
    let readme = read("README.md");
    let action = load_action();
    for name in action.inputs.keys() {
        assert!(
            readme
                .lines()
                .any(|line| line.starts_with("| `") && line.contains(&format!("`{name}`"))),
            "the README's input table lacks {name}"
        );
    }
}

#[test]
fn every_yaml_block_of_the_readme_parses() {
    let blocks = readme_blocks("yaml");
    assert!(blocks.len() >= 5, "the README shows its YAML");
    for (heading, block) in blocks {
        serde_norway::from_str::<Value>(&block)
            .unwrap_or_else(|error| panic!("a YAML block under '{heading}' parses: {error}"));
    }
}

#[test]
fn ci_shards_its_own_suite_through_the_action() {
    check_sharded_workflow(&read(".github/workflows/ci.yml"), "./", "ci.yml");
}

#[test]
fn release_builds_every_target_of_the_manifest() {
    let release: Value =
        serde_norway::from_str(&read(".github/workflows/release.yml")).expect("release.yml parses");
    let mut texts = Vec::new();
    strings(&release, &mut texts);
    let built: BTreeSet<String> = jobs(&release)["build"]
        .get("strategy")
        .and_then(|strategy| strategy.get("matrix"))
        .and_then(|matrix| matrix.get("include"))
        .and_then(Value::as_sequence)
        .expect("a matrix of targets")
        .iter()
        .map(|entry| text_at(entry, "target").expect("a target").to_owned())
        .collect();
    let manifest = manifest();
    let listed: BTreeSet<String> = manifest.targets.keys().cloned().collect();
    assert_eq!(built, listed);
    for (job, value) in jobs(&release) {
        for step in value
            .get("steps")
            .and_then(Value::as_sequence)
            .expect("steps")
        {
            if let Some(run) = text_at(step, "run") {
                assert!(
                    !run.contains("${{"),
                    "release.yml job {} pastes an expression into shell code",
                    scalar(job)
                );
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    version: String,
    released: bool,
    repository: String,
    note: String,
    targets: BTreeMap<String, Target>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Target {
    asset: String,
    url: String,
    sha256: String,
}

fn manifest() -> Manifest {
    serde_json::from_str(&read("dist/manifest.json")).expect("dist/manifest.json parses")
}

#[test]
fn the_manifest_lists_every_target_honestly() {
    let manifest = manifest();
    assert_eq!(manifest.version, env!("CARGO_PKG_VERSION"));
    let targets: Vec<&str> = manifest.targets.keys().map(String::as_str).collect();
    assert_eq!(
        targets,
        [
            "aarch64-apple-darwin",
            "aarch64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc",
            "x86_64-unknown-linux-musl",
        ]
    );
    for (name, target) in &manifest.targets {
        let extension = if name.contains("windows") {
            "zip"
        } else {
            "tar.gz"
        };
        assert_eq!(
            target.asset,
            format!("rxdist-{}-{name}.{extension}", manifest.version)
        );
        if manifest.released {
            assert!(
                target.sha256.len() == 64
                    && target
                        .sha256
                        .chars()
                        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
                "{name}'s sha256 is not one"
            );
            assert!(
                target.url.starts_with(&manifest.repository) && target.url.ends_with(&target.asset)
            );
        } else {
            // Until a release exists there is nothing to download: no URL, no sum, and the
            // note says the action builds from source.
            assert!(target.url.is_empty() && target.sha256.is_empty(), "{name}");
        }
    }
    if !manifest.released {
        assert!(manifest.repository.is_empty());
        assert!(manifest.note.contains("builds rxdist from source"));
    }
}

#[cfg(unix)]
#[test]
fn the_manifest_is_in_the_layout_the_install_script_reads() {
    // dist/install.sh reads the manifest line by line; the committed file must be exactly
    // what dist/update-manifest.sh writes.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("manifest.json");
    let status = std::process::Command::new("bash")
        .arg(root().join("dist/update-manifest.sh"))
        .arg(env!("CARGO_PKG_VERSION"))
        .env("RXDIST_INSTALL_MANIFEST", &out)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        read("dist/manifest.json"),
        "dist/manifest.json differs from what dist/update-manifest.sh writes"
    );
}

#[test]
fn reference_scanner_finds_names_at_word_boundaries() {
    assert_eq!(
        refs("${{ inputs.a-b || inputs.c_d }} myinputs.x", "inputs."),
        ["a-b", "c_d"]
    );
    assert_eq!(
        step_output_refs("${{ steps.one.outputs.x-y || steps.two.outputs.z }} steps.three"),
        [
            ("one".to_owned(), "x-y".to_owned()),
            ("two".to_owned(), "z".to_owned())
        ]
    );
    assert!(Path::new(&root()).join("action.yml").is_file());
}
