//! `rxdist timings record` and `rxdist timings show`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::{diagnostics, inputs};
use crate::atomic;
use crate::cli::ShowFormat;
use crate::error::{Completion, Error};
use crate::identity::{Framework, IdMapper};
use crate::junit::{self, TestCase};
use crate::settings::{RecordSettings, ShowSettings};
use crate::timings::{History, Observation, Retention, RunOrder, read_durations_json, store};

/// How many unmapped testcases are named in the warning.
const UNMAPPED_EXAMPLES: usize = 5;

/// What one run's inputs yielded.
#[derive(Default)]
struct RunInputs {
    /// JUnit testcases, per report, in document order.
    junit: Vec<(PathBuf, Vec<TestCase>)>,
    /// Durations imported from JSON files (no order, no outcome).
    imported: Vec<Observation>,
    /// Inputs that could not be read (completely).
    broken: Vec<(PathBuf, Error)>,
    /// Files read successfully.
    read: usize,
}

/// Runs `rxdist timings record`.
pub fn record(settings: &RecordSettings) -> Result<Completion, Error> {
    // Load first: a corrupt history must stop us before anything is overwritten.
    let existing = inputs::load_history(&settings.history)?;
    let created = existing.is_none();
    let mut history = existing.unwrap_or_default();

    let (files, missing) = inputs::expand_inputs(&settings.inputs);
    let mut run = RunInputs {
        broken: missing,
        ..RunInputs::default()
    };
    for path in &files {
        read_one(path, &mut run);
    }
    for (path, error) in &run.broken {
        diagnostics::warning(format_args!("skipping {}", path.display()));
        diagnostics::error(error);
    }
    // A truncated report still yields its complete testcases: only when nothing at all came
    // out of the inputs is this a failure rather than a partial success.
    if run.junit.is_empty() && run.imported.is_empty() && !run.broken.is_empty() {
        return Err(Error::NoReadableInput {
            count: run.broken.len(),
        });
    }

    let known_list = match &settings.tests {
        Some(path) => {
            let file = std::fs::File::open(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            inputs::read_test_list(std::io::BufReader::new(file)).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?
        }
        None => Vec::new(),
    };
    let observations = observations(&run, &history, &known_list, settings);
    if observations.is_empty() {
        return Err(Error::NoTests {
            reason: "the inputs hold no testcases".into(),
        });
    }
    // Setup costs are inferred from which test of a file ran first; imported durations carry
    // no order, so a run that includes any is recorded without that inference.
    let order = if run.imported.is_empty() {
        RunOrder::Execution
    } else {
        RunOrder::Unknown
    };
    let retention = Retention {
        max_unseen_runs: settings.retention_runs,
    };
    let report = history.record_with(&observations, retention, order);
    let bytes = store::encode(&history).map_err(|source| Error::History {
        path: settings.history.clone(),
        source,
    })?;
    atomic::write(&settings.history, &bytes).map_err(|source| Error::Write {
        path: settings.history.clone(),
        source,
    })?;
    if report.already_recorded {
        diagnostics::info(format_args!(
            "this run is already in {}; nothing changed",
            settings.history.display()
        ));
    } else {
        diagnostics::info(format_args!(
            "{} {}: run {}, {} tests from {} files ({} new, {} updated, {} dropped as unseen for {} runs)",
            if created { "created" } else { "updated" },
            settings.history.display(),
            history.runs(),
            observations.len(),
            run.read,
            report.added,
            report.updated,
            report.dropped,
            settings.retention_runs,
        ));
    }
    Ok(if run.broken.is_empty() {
        Completion::Success
    } else {
        Completion::PartialInput
    })
}

fn read_one(path: &Path, run: &mut RunInputs) {
    let (kind, mut reader) = match inputs::open_report(path) {
        Ok(opened) => opened,
        Err(error) => {
            run.broken.push((path.to_path_buf(), error));
            return;
        }
    };
    match kind {
        inputs::ReportKind::DurationsJson => {
            let mut bytes = Vec::new();
            if let Err(source) = std::io::Read::read_to_end(&mut reader, &mut bytes) {
                run.broken.push((
                    path.to_path_buf(),
                    Error::Read {
                        path: path.to_path_buf(),
                        source,
                    },
                ));
                return;
            }
            match read_durations_json(&bytes) {
                Ok(durations) => {
                    run.read += 1;
                    run.imported
                        .extend(durations.into_iter().map(|(id, seconds)| Observation {
                            id,
                            seconds: Some(seconds),
                            outcome: None,
                        }));
                }
                Err(source) => run.broken.push((
                    path.to_path_buf(),
                    Error::Import {
                        path: path.to_path_buf(),
                        source,
                    },
                )),
            }
        }
        inputs::ReportKind::Junit => {
            let mut cases = Vec::new();
            let result =
                junit::read_testcases(reader, &junit::Limits::default(), |case| cases.push(case));
            match result {
                Ok(_) => run.read += 1,
                // The testcases before the damage are kept: a truncated report still counts.
                Err(source) => run.broken.push((
                    path.to_path_buf(),
                    Error::Junit {
                        path: path.to_path_buf(),
                        source,
                    },
                )),
            }
            if !cases.is_empty() {
                run.junit.push((path.to_path_buf(), cases));
            }
        }
    }
}

fn observations(
    run: &RunInputs,
    history: &History,
    known_list: &[String],
    settings: &RecordSettings,
) -> Vec<Observation> {
    let framework = settings.framework.unwrap_or_else(|| {
        let all: Vec<&TestCase> = run.junit.iter().flat_map(|(_, cases)| cases).collect();
        Framework::detect_from_cases(all.iter().copied())
    });
    let known: HashSet<&str> = known_list.iter().map(String::as_str).collect();
    let known_ids = |id: &str| known.contains(id) || history.contains(id);
    let rootdir = settings.rootdir.clone();
    let file_exists = move |path: &str| rootdir.join(path).is_file();
    let mapper = IdMapper::new(framework, &known_ids, &file_exists);
    let mut observations = Vec::new();
    let mut unmapped = Vec::new();
    for (_, cases) in &run.junit {
        for case in cases {
            match mapper.map(case) {
                Some(id) => observations.push(Observation {
                    id,
                    seconds: case.time,
                    outcome: Some(case.outcome),
                }),
                None => unmapped.push(case),
            }
        }
    }
    if !unmapped.is_empty() {
        let examples: Vec<String> = unmapped
            .iter()
            .take(UNMAPPED_EXAMPLES)
            .map(|case| format!("{}::{}", case.classname.as_deref().unwrap_or(""), case.name))
            .collect();
        diagnostics::warning(format_args!(
            "{} testcases could not be mapped to {} test ids and were not recorded (e.g. {}); \
             pass the collected list with --tests, run from the project root or set --rootdir, \
             or use --framework generic",
            unmapped.len(),
            match framework {
                Framework::Pytest => "pytest",
                Framework::Generic => "generic",
            },
            examples.join(", "),
        ));
    }
    observations.extend(run.imported.iter().cloned());
    observations
}

/// Runs `rxdist timings show`.
pub fn show(settings: &ShowSettings, top: usize, format: ShowFormat) -> Result<Completion, Error> {
    let bytes = std::fs::read(&settings.history).map_err(|source| Error::Read {
        path: settings.history.clone(),
        source,
    })?;
    let history_error = |source| Error::History {
        path: settings.history.clone(),
        source,
    };
    let history = store::decode(&bytes).map_err(history_error)?;
    let digest = store::digest(&bytes).map_err(history_error)?;
    let summary = history.summary(top);
    super::render::emit(None, |out| match format {
        ShowFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &summary)?;
            out.write_all(b"\n")
        }
        ShowFormat::Text => out.write_all(
            super::render::summary_text(&summary, &settings.history, &digest.to_string())
                .as_bytes(),
        ),
    })?;
    Ok(Completion::Success)
}
