//! Point assets: fire stations, hospitals, shelters and lifeline nodes.

use std::path::Path;

use bevy_ecs::prelude::{Component, World};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::files::{InputError, InputPolicy, MAX_TABLE_BYTES, read_input};
use crate::grid::GridSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetKind {
    FireStation,
    Hospital,
    /// Emergency shelter; `capacity` is people.
    Shelter,
    /// Power substation; `capacity` is customers served.
    Substation,
    /// Drainage pump station; `capacity` is m³/s.
    PumpStation,
    MetroEntrance,
    WaterPlant,
    Telecom,
}

impl AssetKind {
    pub fn label(self) -> &'static str {
        match self {
            Self::FireStation => "fire station",
            Self::Hospital => "hospital",
            Self::Shelter => "shelter",
            Self::Substation => "substation",
            Self::PumpStation => "pump station",
            Self::MetroEntrance => "metro entrance",
            Self::WaterPlant => "water plant",
            Self::Telecom => "telecom site",
        }
    }
}

/// An asset as described in a scenario or CSV file: map coordinates in metres.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetSpec {
    /// Unique identifier, e.g. `FS-01`.
    pub id: String,
    pub kind: AssetKind,
    /// Map x, m (same reference system as the city grid).
    pub x: f64,
    /// Map y, m.
    pub y: f64,
    /// Kind-specific capacity: people (shelter), engines (fire station), beds (hospital),
    /// customers (substation), m³/s (pump station).
    #[serde(default)]
    pub capacity: f64,
    /// Ids of assets this one needs to work (e.g. a pump station needs its substation).
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// An asset in a running simulation.
#[derive(Component, Debug, Clone)]
pub struct Asset {
    pub id: String,
    pub kind: AssetKind,
    /// Grid cell index.
    pub cell: usize,
    pub x: f64,
    pub y: f64,
    pub capacity: f64,
    pub depends_on: Vec<String>,
}

/// Whether an asset works; set by impacts (flooding, power loss), read by services.
#[derive(Component, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operational(pub bool);

/// Why an asset list could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AssetError {
    #[error(transparent)]
    Input(InputError),
    #[error("{path}, line {line}: {message}")]
    Row {
        path: String,
        line: u64,
        message: String,
    },
}

/// Spawns each of `assets` as an [`Asset`] entity on `grid`, in service. The assets
/// must have passed [`check_assets`] (they lie on the grid).
pub fn spawn_assets(world: &mut World, assets: &[AssetSpec], grid: &GridSpec) {
    for a in assets {
        let (i, j) = grid
            .locate(a.x, a.y)
            .expect("assets were checked to be on the grid");
        world.spawn((
            Asset {
                id: a.id.clone(),
                kind: a.kind,
                cell: grid.index(i, j),
                x: a.x,
                y: a.y,
                capacity: a.capacity,
                depends_on: a.depends_on.clone(),
            },
            Operational(true),
        ));
    }
}

/// Columns an assets CSV must have (a `capacity` cell may be empty: 0).
pub const REQUIRED_COLUMNS: [&str; 5] = ["id", "kind", "x", "y", "capacity"];
/// Columns an assets CSV may have (`depends_on`: `;`-separated ids, may be empty).
pub const OPTIONAL_COLUMNS: [&str; 1] = ["depends_on"];

/// Read assets from a CSV file with header `id,kind,x,y,capacity[,depends_on]`, through
/// the scenario's input policy (see [`crate::files`]).
pub fn read_assets_csv(path: &Path, inputs: &InputPolicy) -> Result<Vec<AssetSpec>, AssetError> {
    let name = path.display().to_string();
    let text = read_input(path, inputs, MAX_TABLE_BYTES).map_err(AssetError::Input)?;
    parse_assets_csv(&text, &name)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssetRow {
    id: String,
    kind: AssetKind,
    x: f64,
    y: f64,
    #[serde(default)]
    capacity: Option<f64>,
    #[serde(default)]
    depends_on: Option<String>,
}

/// Parse assets CSV text; `name` is used in error messages. Every column of
/// [`REQUIRED_COLUMNS`] must be in the header (a missing `capacity` would otherwise give
/// every asset capacity 0), no column outside them and [`OPTIONAL_COLUMNS`] may be, and
/// the file must have at least one asset: a file named but empty is a mistake.
pub fn parse_assets_csv(text: &str, name: &str) -> Result<Vec<AssetSpec>, AssetError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let row_error = |line: u64, message: String| AssetError::Row {
        path: name.to_owned(),
        line,
        message,
    };
    let columns = || {
        format!(
            "required columns: {}; optional: {}",
            REQUIRED_COLUMNS.join(","),
            OPTIONAL_COLUMNS.join(",")
        )
    };
    let headers = reader
        .headers()
        .map_err(|e| row_error(1, format!("cannot read the header: {e}")))?
        .clone();
    if headers.iter().all(str::is_empty) {
        return Err(row_error(
            1,
            format!(
                "the file is empty: give a header and one row per asset ({})",
                columns()
            ),
        ));
    }
    if let Some(missing) = REQUIRED_COLUMNS
        .iter()
        .find(|c| !headers.iter().any(|h| h == **c))
    {
        return Err(row_error(
            1,
            format!("no `{missing}` column in the header ({})", columns()),
        ));
    }
    if let Some(unknown) = headers
        .iter()
        .find(|h| !REQUIRED_COLUMNS.contains(h) && !OPTIONAL_COLUMNS.contains(h))
    {
        return Err(row_error(
            1,
            format!(
                "unknown column {} in the header ({})",
                crate::files::excerpt(unknown, 40),
                columns()
            ),
        ));
    }
    let mut out = Vec::new();
    for row in reader.deserialize::<AssetRow>() {
        let row = row.map_err(|e| {
            row_error(
                e.position().map_or(0, |p| p.line()),
                match e.kind() {
                    csv::ErrorKind::Deserialize { err, .. } => format!(
                        "column {}: {}",
                        err.field().map_or("?".into(), |f| (f + 1).to_string()),
                        err
                    ),
                    _ => e.to_string(),
                },
            )
        })?;
        out.push(AssetSpec {
            id: row.id,
            kind: row.kind,
            x: row.x,
            y: row.y,
            capacity: row.capacity.unwrap_or(0.0),
            depends_on: row
                .depends_on
                .map(|d| {
                    d.split(';')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        });
    }
    if out.is_empty() {
        return Err(row_error(
            1,
            "the file has a header but no asset: give one row per asset, or remove \
             `assets_csv`"
                .into(),
        ));
    }
    Ok(out)
}

/// Check assets against the grid: finite coordinates on the grid, unique ids, known
/// dependencies, non-negative capacity. Returns (index, message) of the first problem.
pub fn check_assets(assets: &[AssetSpec], grid: &GridSpec) -> Result<(), (usize, String)> {
    let mut ids = std::collections::BTreeSet::new();
    for (k, a) in assets.iter().enumerate() {
        if !ids.insert(a.id.as_str()) {
            return Err((k, format!("asset id `{}` is used twice", a.id)));
        }
        if !(a.x.is_finite() && a.y.is_finite()) || grid.locate(a.x, a.y).is_none() {
            return Err((
                k,
                format!(
                    "asset `{}` at ({}, {}) is off the grid (x {}–{}, y {}–{})",
                    a.id,
                    a.x,
                    a.y,
                    grid.x0,
                    grid.x0 + grid.width_m(),
                    grid.y0,
                    grid.y0 + grid.height_m()
                ),
            ));
        }
        if !(a.capacity.is_finite() && a.capacity >= 0.0) {
            return Err((
                k,
                format!("asset `{}` has capacity {}, expected ≥ 0", a.id, a.capacity),
            ));
        }
    }
    for (k, a) in assets.iter().enumerate() {
        if let Some(d) = a.depends_on.iter().find(|d| !ids.contains(d.as_str())) {
            return Err((
                k,
                format!("asset `{}` depends on unknown asset `{d}`", a.id),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_parse_and_errors_name_the_line() {
        let ok = "id,kind,x,y,capacity,depends_on\nS1,substation,10,10,5000,\nP1,pump_station,20,20,4,S1\n";
        let a = parse_assets_csv(ok, "a.csv").unwrap();
        assert_eq!(a[1].depends_on, vec!["S1".to_string()]);
        let bad =
            "id,kind,x,y,capacity,depends_on\nS1,substation,10,10,5000,\nP1,volcano,20,20,4,S1\n";
        let e = parse_assets_csv(bad, "a.csv").unwrap_err().to_string();
        assert!(e.contains("a.csv, line 3"), "{e}");
        let grid = GridSpec::new(10, 10, 10.0);
        assert!(check_assets(&a, &grid).is_ok());
        // A missing required column, an unknown one and an empty file are refused.
        let no_capacity = "id,kind,x,y\nS1,substation,10,10\n";
        let e = parse_assets_csv(no_capacity, "a.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a.csv, line 1") && e.contains("no `capacity` column"),
            "{e}"
        );
        let extra = "id,kind,x,y,capacity,colour\nS1,substation,10,10,1,red\n";
        let e = parse_assets_csv(extra, "a.csv").unwrap_err().to_string();
        assert!(e.contains("unknown column `colour`"), "{e}");
        for empty in ["", "\n", "id,kind,x,y,capacity\n"] {
            let e = parse_assets_csv(empty, "a.csv").unwrap_err().to_string();
            assert!(e.contains("a.csv, line 1"), "{empty:?}: {e}");
        }
        // `depends_on` is optional, and an empty capacity cell is 0.
        let minimal =
            parse_assets_csv("id,kind,x,y,capacity\nS1,substation,10,10,\n", "a.csv").unwrap();
        assert_eq!((minimal[0].capacity, minimal[0].depends_on.len()), (0.0, 0));
        let mut off = a.clone();
        off[0].x = 1e6;
        assert_eq!(check_assets(&off, &grid).unwrap_err().0, 0);
    }
}
