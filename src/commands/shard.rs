//! `rxdist shard`: one shard of the plan every shard computes identically.

use std::path::Path;

use super::{diagnostics, plan, render};
use crate::cli::ShardFormat;
use crate::error::{Completion, Error};
use crate::settings::ShardSettings;

/// Runs `rxdist shard`.
pub fn run(settings: &ShardSettings, format: ShardFormat, cwd: &Path) -> Result<Completion, Error> {
    if let Some(path) = &settings.bazel_status_file {
        // Bazel checks that the runner touched this file to know sharding was honoured.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| Error::Write {
                path: path.clone(),
                source,
            })?;
    }
    let planned = plan::build(&settings.plan, cwd)?;
    let shard = planned
        .plan
        .shards
        .get(settings.index)
        .ok_or_else(|| Error::NoTests {
            reason: format!("the plan has no shard {}", settings.index),
        })?;
    if shard.tests.is_empty() {
        diagnostics::warning(format_args!(
            "shard {} of {} is empty: there are fewer tests than shards",
            settings.index, planned.plan.total
        ));
    }
    render::emit(settings.plan.output.as_deref(), |out| match format {
        ShardFormat::List => out.write_all(render::shard_list(shard).as_bytes()),
        ShardFormat::Json => render::shard_json(shard, planned.plan.total, out),
        ShardFormat::PytestArgs => out.write_all(render::pytest_args(shard).as_bytes()),
    })?;
    Ok(Completion::Success)
}
