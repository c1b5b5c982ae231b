//! `crucible`: run disaster scenarios over a city grid and check them against standards.

// Printing goes through `say!`/`tell!` (console.rs): `println!` panics on a closed pipe.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod aggregate;
mod commands;
mod console;
mod logging;
mod maps;
mod output;
mod progress;
mod report;
mod run_folder;

use std::process::ExitCode;

use clap::{ArgAction, Parser, Subcommand};

use crate::console::Verbosity;

/// crucible simulates urban fires, typhoon flooding and crowd surges over a city grid,
/// with the hazards coupled to each other and to the city's lifelines, and checks each
/// run against resilience standards.
///
/// Start with `crucible run scenarios/futian-default.toml --out out/default`, then look
/// at out/default/summary.json and out/default/maps/.
#[derive(Parser)]
#[command(
    name = "crucible",
    version,
    about,
    long_about,
    max_term_width = 100,
    after_long_help = AFTER_HELP
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Let scenarios read files under DIR too (repeatable). By default a scenario reads
    /// only files in its own folder tree.
    #[arg(long, global = true, value_name = "DIR")]
    allow_path: Vec<std::path::PathBuf>,
    /// Print only errors: no progress, no warnings.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more: -v what the engine reports as information, -vv debugging detail.
    #[arg(short, long, global = true, action = ArgAction::Count)]
    verbose: u8,
}

const AFTER_HELP: &str = "\
Output folders (--out): created if missing. An existing folder must be empty or one crucible
wrote (it holds .crucible-output.json, the list of the files crucible put there); any other
folder is refused (exit 2). Only files on that list are replaced or removed: files of your
own beside the outputs, even in maps/ or plots/, are left alone.

Progress: a bar on a terminal; otherwise (a log file, CI) a plain line every 10 s
(CRUCIBLE_PROGRESS_S=seconds to change it). A warning repeated (say once per run of a batch)
is printed once, and its count at the end.

Environment:
  RAYON_NUM_THREADS=N  worker threads, 1 to 4096 (unset or empty: one per core); anything
                       else is refused (exit 2)
  CRUCIBLE_LOG=FILTER  log filter replacing -q/-v (e.g. `info`, `crucible_engine=debug`)
  NO_COLOR=1           no colour (there is none anyway when stderr is not a terminal)

Exit codes: 0 success, 1 the run (or a validation case) failed, 2 bad input.";

#[derive(Subcommand)]
enum Command {
    /// Run one scenario and write summary.json, timeseries.csv, events.jsonl and maps/.
    Run(commands::run::Args),
    /// Check a scenario or batch file (types, ranges, files it names, memory it needs)
    /// without running it.
    Check(commands::check::Args),
    /// Build a scenario's city and write each layer as .asc and PNG, with assets.csv.
    City(commands::city::Args),
    /// Run a batch of seeded variations of a scenario; write runs.csv, standards.csv,
    /// statistics, plots and report.html.
    Batch(commands::batch::Args),
    /// Combine the folders of a sharded batch into what the unsharded batch writes.
    Merge(commands::batch::MergeArgs),
    /// Turn a scenario run into a drill package: MSEL, situation, evaluation sheet, maps.
    Drill(commands::drill::Args),
    /// Run a validation suite (flood, fire, crowd, typhoon, city, or all) and write its
    /// table, report and plots.
    Validate(commands::validate::Args),
    /// Print the figures of the last `cargo bench` as a table (and JSON with --json).
    PerfReport(commands::perf::Args),
    /// Print the JSON Schema of the scenario format (for editors).
    Schema,
}

/// Most worker threads (RAYON_NUM_THREADS, `batch --jobs`): far beyond any core count,
/// low enough to stay under the system's thread limit.
pub const MAX_THREADS: usize = 4096;

/// Exit codes: 0 success, 1 the run (or a validation case) failed, 2 bad input.
pub enum Outcome {
    Ok,
    Failed(String),
    BadInput(String),
}

/// The worker threads RAYON_NUM_THREADS asks for (None: one per core). Rayon itself
/// would ignore a value it cannot read and silently use one thread per core.
fn worker_threads() -> Result<Option<usize>, String> {
    let Some(value) = std::env::var_os("RAYON_NUM_THREADS") else {
        return Ok(None);
    };
    let text = value.to_string_lossy();
    if text.trim().is_empty() {
        return Ok(None);
    }
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(Some(n)),
        Ok(n) if n > MAX_THREADS => Err(format!(
            "RAYON_NUM_THREADS={text}: at most {MAX_THREADS} threads"
        )),
        _ => Err(format!(
            "RAYON_NUM_THREADS={text}: expected a whole number of threads from 1 to {MAX_THREADS} (unset it for one per core)"
        )),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = match (cli.quiet, cli.verbose) {
        (true, _) => Verbosity::Quiet,
        (false, 0) => Verbosity::Normal,
        (false, 1) => Verbosity::Verbose,
        (false, _) => Verbosity::Debug,
    };
    console::set_verbosity(verbosity);
    logging::init(verbosity);
    let code = exit_code(run(cli.command, cli.allow_path));
    logging::finish();
    code
}

fn run(command: Command, allow_path: Vec<std::path::PathBuf>) -> Outcome {
    // The worker pool is started here, so that a RAYON_NUM_THREADS the machine cannot
    // honour is an error rather than a panic inside the first parallel loop (or minutes
    // spent starting threads up to the system's limit).
    let threads = match worker_threads() {
        Ok(t) => t,
        Err(m) => return Outcome::BadInput(m),
    };
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads {
        pool = pool.num_threads(n);
    }
    if let Err(e) = pool.build_global() {
        return Outcome::BadInput(format!("cannot start the worker threads: {e}"));
    }
    if let Err(e) = crucible_engine::files::allow_dirs(&allow_path) {
        return Outcome::BadInput(e.to_string());
    }
    match command {
        Command::Run(a) => commands::run::run(a),
        Command::Check(a) => commands::check::run(a),
        Command::City(a) => commands::city::run(a),
        Command::Validate(a) => commands::validate::run(a),
        Command::Batch(a) => commands::batch::run(a),
        Command::PerfReport(a) => commands::perf::run(a),
        Command::Merge(a) => commands::batch::merge(a),
        Command::Drill(a) => commands::drill::run(a),
        Command::Schema => {
            crate::say!("{}", crucible_engine::scenario::json_schema());
            Outcome::Ok
        }
    }
}

fn exit_code(outcome: Outcome) -> ExitCode {
    match outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::Failed(m) => {
            crate::tell!("error: {m}");
            ExitCode::from(1)
        }
        Outcome::BadInput(m) => {
            crate::tell!("error: {m}");
            ExitCode::from(2)
        }
    }
}
