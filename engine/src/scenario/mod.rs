//! Scenario files: TOML, versioned (`format = 1`), strict (unknown keys are errors).
//!
//! Errors name the file, the key path, the line and column, and what was expected.
//! Relative file paths inside a scenario are resolved against the scenario's folder.

mod error;
mod locate;
mod narrow;

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use error::ScenarioError;

use crate::city::AssetSpec;
use crate::city::generate::GenerateSpec;
use crate::files::InputPolicy;
use crate::hazards::HazardSpec;
use crate::spec::{KeyPath, Problem, in_range, positive};
use crate::standards::Standard;

/// The scenario format this build reads.
pub const FORMAT: u32 = 1;

/// A scenario: the city, the hazards, the population, the plan and the standards to
/// check, for one simulated event.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; this build reads 1.
    pub format: u32,
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Seed of the run's random streams (`--seed` overrides it).
    #[serde(default)]
    pub seed: u64,
    pub time: TimeSpec,
    pub city: CitySource,
    /// Assets in addition to the city's own: a CSV file (`id,kind,x,y,capacity,depends_on`).
    #[serde(default)]
    pub assets_csv: Option<PathBuf>,
    /// Assets in addition to the city's own, inline.
    #[serde(default)]
    pub assets: Vec<AssetSpec>,
    #[serde(default)]
    pub population: PopulationSpec,
    /// The hazards of the scenario; each entry's `kind` picks its plugin.
    #[serde(default)]
    pub hazards: Vec<HazardSpec>,
    #[serde(default)]
    pub plan: PlanSpec,
    /// Rules the run is checked against.
    #[serde(default)]
    pub standards: Vec<Standard>,
    #[serde(default)]
    pub outputs: OutputSpec,
    /// Switches for the couplings between hazards (all on by default).
    #[serde(default)]
    pub couplings: crate::coupling::Couplings,
    /// Inputs of the plan's indicators (GDP, population, annual frequency).
    #[serde(default)]
    pub indicators: crate::indicators::IndicatorSpec,
}

/// Simulated time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    /// Length of the run, s.
    pub duration_s: f64,
    /// Length of one tick, s. Hazards that need finer steps sub-step inside a tick.
    pub tick_s: f64,
    /// Wall-clock time of t = 0 (ISO 8601, UTC), used to align storm tracks and labels.
    #[serde(default)]
    pub start: Option<String>,
}

/// Where the city comes from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum CitySource {
    /// A procedurally generated coastal district.
    Generate(GenerateSpec),
    /// ESRI ASCII grids.
    Raster(RasterCity),
}

/// A city from ESRI ASCII grids.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RasterCity {
    /// Ground elevation grid (.asc), m.
    pub elevation: PathBuf,
    /// Land-use grid (.asc) with codes 0 open, 1 road, 2 building, 3 green, 4 water, 5 sea.
    #[serde(default)]
    pub landuse: Option<PathBuf>,
    /// EPSG code of the grids' coordinates.
    #[serde(default)]
    pub epsg: Option<u32>,
}

/// Who is where when the event starts.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    /// Daytime occupancy (workers in offices) instead of night (residents at home).
    #[serde(default)]
    pub daytime: bool,
}

/// The plan under test: changes to the city's assets and response settings that a
/// resilience engineer compares (plan A against plan B).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSpec {
    #[serde(default = "baseline")]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Assets the plan adds (new stations, shelters, pumps).
    #[serde(default)]
    pub add_assets: Vec<AssetSpec>,
    /// Ids of city assets the plan removes.
    #[serde(default)]
    pub remove_assets: Vec<String>,
}

fn baseline() -> String {
    "baseline".into()
}

impl Default for PlanSpec {
    fn default() -> Self {
        Self {
            name: baseline(),
            description: String::new(),
            add_assets: Vec::new(),
            remove_assets: Vec::new(),
        }
    }
}

/// What a run writes.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Sampling interval of `timeseries.csv`, s.
    #[serde(default = "default_interval")]
    pub metrics_interval_s: f64,
    /// Write `maps/` (rasters as .asc and PNG).
    #[serde(default = "yes")]
    pub maps: bool,
}

fn default_interval() -> f64 {
    300.0
}
fn yes() -> bool {
    true
}

impl Default for OutputSpec {
    fn default() -> Self {
        Self {
            metrics_interval_s: default_interval(),
            maps: true,
        }
    }
}

/// A parsed and checked scenario, with what is needed to point at its lines later.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub scenario: Scenario,
    /// The file as given (for messages).
    pub file: String,
    /// Folder that relative paths are resolved against.
    pub base_dir: PathBuf,
    /// Where the files the scenario names may be read from: its folder tree and the
    /// folders allowed with `--allow-path` (see [`crate::files`]).
    pub inputs: InputPolicy,
    text: String,
}

impl LoadedScenario {
    /// An error about the value at `path`, with its line and column when found.
    pub fn error_at(&self, path: &KeyPath, message: impl Into<String>) -> ScenarioError {
        error_in(&self.file, &self.text, path, message)
    }

    /// A path from the scenario, resolved against its folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The source text.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// Read and check a scenario file.
pub fn load(path: &Path) -> Result<LoadedScenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioError {
        file: file.clone(),
        key: String::new(),
        line: None,
        col: None,
        message: format!("cannot read the file: {e}"),
    })?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&text, &file, &base)
}

/// Parse and check scenario text; `file` names it in messages.
pub fn parse(text: &str, file: &str, base_dir: &Path) -> Result<LoadedScenario, ScenarioError> {
    let scenario: Scenario = parse_document(text, file)?;
    let loaded = LoadedScenario {
        scenario,
        file: file.to_owned(),
        base_dir: base_dir.to_path_buf(),
        inputs: InputPolicy::for_scenario(base_dir),
        text: text.to_owned(),
    };
    if let Err((path, message)) = check(&loaded.scenario) {
        return Err(loaded.error_at(&path, message));
    }
    Ok(loaded)
}

/// Deserialize a strict TOML document (a scenario or a batch file), with errors that name
/// the file, key path, line and column.
pub fn parse_document<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &str,
) -> Result<T, ScenarioError> {
    let de = toml::Deserializer::parse(text).map_err(|e| error::from_toml(file, text, &e, None))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = KeyPath::from_serde(e.path());
        let message = e.inner().message();
        // Inside a tagged or flattened table serde stops at the table: find the key.
        if !message.starts_with("missing field") {
            let narrowed = narrow::narrow::<T>(text, &path, message);
            if narrowed != path {
                return error_in(
                    file,
                    text,
                    &narrowed,
                    error::with_suggestion(message.trim()),
                );
            }
        }
        error::from_toml(file, text, e.inner(), Some(&path))
    })
}

/// An error about the value at `path` of a TOML document, with its line and column.
pub fn error_in(
    file: &str,
    text: &str,
    path: &KeyPath,
    message: impl Into<String>,
) -> ScenarioError {
    let (line, col) = locate::line_col_of(text, path).unzip();
    ScenarioError {
        file: file.to_owned(),
        key: path.to_string(),
        line,
        col,
        message: message.into(),
    }
}

/// Semantic checks that types alone cannot express.
fn check(s: &Scenario) -> Result<(), Problem> {
    let root = KeyPath::root();
    if s.format != FORMAT {
        return Err((
            root.key("format"),
            format!(
                "this crucible reads format {FORMAT}, the file says {}",
                s.format
            ),
        ));
    }
    let t = root.key("time");
    positive(t.key("duration_s"), s.time.duration_s, "the run's duration")?;
    positive(t.key("tick_s"), s.time.tick_s, "the tick")?;
    if s.time.tick_s > s.time.duration_s {
        return Err((
            t.key("tick_s"),
            format!(
                "the tick ({} s) is longer than the run ({} s)",
                s.time.tick_s, s.time.duration_s
            ),
        ));
    }
    if s.time.duration_s / s.time.tick_s > 1e8 {
        return Err((
            t.key("tick_s"),
            "more than 10^8 ticks: use a longer tick".into(),
        ));
    }
    if let Some(start) = &s.time.start {
        crate::time::parse_utc(start).map_err(|m| (t.key("start"), m))?;
    }
    positive(
        root.key("outputs").key("metrics_interval_s"),
        s.outputs.metrics_interval_s,
        "the metrics interval",
    )?;
    let c = root.key("city");
    match &s.city {
        CitySource::Generate(g) => {
            positive(c.key("width_m"), g.width_m, "the city's width")?;
            positive(c.key("height_m"), g.height_m, "the city's height")?;
            positive(c.key("cell_m"), g.cell_m, "the cell size")?;
            if g.cell_m > g.width_m.min(g.height_m) {
                return Err((
                    c.key("cell_m"),
                    format!("the cell ({} m) is larger than the city", g.cell_m),
                ));
            }
            in_range(
                c.key("residents_per_km2"),
                g.residents_per_km2,
                0.0,
                200_000.0,
                "the resident density",
            )?;
            in_range(
                c.key("sea_fraction"),
                g.sea_fraction,
                0.0,
                0.5,
                "the sea fraction",
            )?;
            in_range(
                c.key("hill_height_m"),
                g.hill_height_m,
                0.0,
                3000.0,
                "the hill height",
            )?;
        }
        CitySource::Raster(_) => {}
    }
    for (k, a) in s.assets.iter().enumerate() {
        in_range(
            root.key("assets").index(k).key("capacity"),
            a.capacity,
            0.0,
            f64::INFINITY,
            "capacity",
        )?;
    }
    for (k, st) in s.standards.iter().enumerate() {
        if !st.threshold.is_finite() {
            return Err((
                root.key("standards").index(k).key("threshold"),
                format!(
                    "the threshold must be a finite number, got {}",
                    st.threshold
                ),
            ));
        }
        if st.source.trim().is_empty() {
            return Err((
                root.key("standards").index(k).key("source"),
                "name the document the rule comes from".into(),
            ));
        }
    }
    let ind = root.key("indicators");
    positive(ind.key("gdp_yuan"), s.indicators.gdp_yuan, "the GDP")?;
    if let Some(p) = s.indicators.population {
        positive(ind.key("population"), p, "the population")?;
    }
    in_range(
        ind.key("annual_frequency"),
        s.indicators.annual_frequency,
        0.0,
        f64::INFINITY,
        "the annual frequency",
    )?;
    for (k, h) in s.hazards.iter().enumerate() {
        h.check(&root.key("hazards").index(k))?;
    }
    Ok(())
}

/// The JSON Schema of the scenario format, for editors.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Scenario);
    serde_json::to_string_pretty(&schema).expect("a schema serialises")
}
