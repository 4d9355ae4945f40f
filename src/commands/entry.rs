//! Parsing the command line and dispatching to the subcommand.

use std::process::ExitCode;

use clap::Parser;

use super::diagnostics;
use crate::cli::{Cli, Command, TimingsCommand};
use crate::env::{Env, EnvVars};
use crate::error::{Completion, Error};
use crate::exit_code;
use crate::settings::{self, ConfigFile};

/// Runs rxdist with the process's arguments and environment.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // --help and --version are not errors.
            let code = if error.use_stderr() {
                exit_code::USAGE
            } else {
                exit_code::SUCCESS
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let env = Env::capture();
    match run(&cli, &env) {
        Ok(completion) => ExitCode::from(completion.exit_code()),
        Err(error) => {
            diagnostics::error(&error);
            ExitCode::from(error.exit_code())
        }
    }
}

fn run(cli: &Cli, env: &Env) -> Result<Completion, Error> {
    let cwd = std::env::current_dir().map_err(|source| Error::Read {
        path: ".".into(),
        source,
    })?;
    let file = ConfigFile::load(cli.config.as_deref(), &cwd)?;
    match &cli.command {
        Command::Plan(args) => {
            let settings = settings::resolve_plan(&args.plan, &file, env)?;
            super::plan::run(&settings, args.format, &cwd)
        }
        Command::Shard(args) if !args.command.is_empty() => {
            let run_args = settings::run_args_from_shard(args);
            let settings = settings::resolve_run(&run_args, &file, env)?;
            super::run::run(&settings, &cwd, interactive(env), env)
        }
        Command::Shard(args) => {
            let settings = settings::resolve_shard(args, &file, env)?;
            super::shard::run(&settings, args.format, &cwd)
        }
        Command::Run(args) => {
            let settings = settings::resolve_run(args, &file, env)?;
            super::run::run(&settings, &cwd, interactive(env), env)
        }
        Command::Merge(args) => {
            let settings = settings::resolve_merge(args, &file)?;
            super::merge::run(&settings, env)
        }
        Command::Timings(TimingsCommand::Record(args)) => {
            let settings = settings::resolve_record(args, &file)?;
            super::timings::record(&settings)
        }
        Command::Timings(TimingsCommand::Show(args)) => {
            let settings = settings::resolve_show(args, &file)?;
            super::timings::show(&settings, args.top, args.format)
        }
        Command::Timings(TimingsCommand::Fetch(args)) => {
            let settings = settings::resolve_fetch(args, &file, env)?;
            super::fetch::fetch(&settings, &cwd)
        }
    }
}

/// Whether to draw a progress bar: standard error is a terminal and `CI` is not set.
fn interactive(env: &Env) -> bool {
    use std::io::IsTerminal as _;
    std::io::stderr().is_terminal() && env.get(EnvVars::CI).is_none()
}
