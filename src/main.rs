//! `crucible`: run disaster scenarios over a city grid and check them against standards.

mod aggregate;
mod commands;
mod maps;
mod output;
mod report;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// crucible simulates urban fires, typhoon flooding and crowd surges over a city grid,
/// with the hazards coupled to each other and to the city's lifelines, and checks each
/// run against resilience standards.
///
/// Start with `crucible run scenarios/futian-default.toml --out out/default`, then look
/// at out/default/summary.json and out/default/maps/.
#[derive(Parser)]
#[command(name = "crucible", version, about, long_about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Let scenarios read files under DIR too (repeatable). By default a scenario reads
    /// only files in its own folder tree.
    #[arg(long, global = true, value_name = "DIR")]
    allow_path: Vec<std::path::PathBuf>,
}

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

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CRUCIBLE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    let cli = Cli::parse();
    // The worker pool is started here, so that a RAYON_NUM_THREADS the machine cannot
    // honour is an error rather than a panic inside the first parallel loop (or minutes
    // spent starting threads up to the system's limit).
    let env_threads = std::env::var("RAYON_NUM_THREADS").unwrap_or_default();
    if env_threads
        .trim()
        .parse::<usize>()
        .is_ok_and(|n| n > MAX_THREADS)
    {
        eprintln!("error: RAYON_NUM_THREADS={env_threads}: at most {MAX_THREADS} threads");
        return ExitCode::from(2);
    }
    if let Err(e) = rayon::ThreadPoolBuilder::new().build_global() {
        eprintln!("error: cannot start the worker threads (RAYON_NUM_THREADS={env_threads}): {e}");
        return ExitCode::from(2);
    }
    if let Err(e) = crucible_engine::files::allow_dirs(&cli.allow_path) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let outcome = match cli.command {
        Command::Run(a) => commands::run::run(a),
        Command::Check(a) => commands::check::run(a),
        Command::City(a) => commands::city::run(a),
        Command::Validate(a) => commands::validate::run(a),
        Command::Batch(a) => commands::batch::run(a),
        Command::PerfReport(a) => commands::perf::run(a),
        Command::Merge(a) => commands::batch::merge(a),
        Command::Drill(a) => commands::drill::run(a),
        Command::Schema => {
            println!("{}", crucible_engine::scenario::json_schema());
            Outcome::Ok
        }
    };
    match outcome {
        Outcome::Ok => ExitCode::SUCCESS,
        Outcome::Failed(m) => {
            eprintln!("error: {m}");
            ExitCode::from(1)
        }
        Outcome::BadInput(m) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
    }
}
