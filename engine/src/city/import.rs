//! Cities from files: ESRI ASCII grids for elevation and land use, CSV for assets.

use std::path::Path;

use super::{City, LandUse, RoadClass};
use crate::files::InputPolicy;
use crate::grid::{AscError, read_asc};

/// Why a city could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Asc(#[from] AscError),
    #[error("{path}: {message}")]
    Content { path: String, message: String },
}

/// A city from an elevation grid and an optional land-use grid with codes 0 open, 1 road,
/// 2 building, 3 green, 4 water, 5 sea (cells marked road get the local road class;
/// buildings get one single-storey building per cell).
pub fn city_from_asc(
    elevation: &Path,
    landuse: Option<&Path>,
    inputs: &InputPolicy,
) -> Result<City, ImportError> {
    let dem = read_asc(elevation, inputs)?;
    // The lowest and highest ground on Earth bound an elevation in metres: anything
    // outside is another unit or a broken file, and would overflow the flood solver.
    let (lo, hi) = (-11_000.0, 9_000.0);
    if let Some(k) = dem
        .data
        .iter()
        .position(|v| !(v.is_finite() && (lo..=hi).contains(v)))
    {
        let (i, j) = dem.grid.cell_of(k);
        let v = dem.data[k];
        let what = if v.is_finite() {
            format!("elevation {v} is not a ground elevation in metres ({lo} to {hi})")
        } else {
            "elevation has no data (NODATA, NaN or a number too large)".to_string()
        };
        return Err(ImportError::Content {
            path: elevation.display().to_string(),
            message: format!(
                "line {}: {what} at column {}, row {}",
                dem.line_of(k),
                i + 1,
                j + 1,
            ),
        });
    }
    let mut city = City::flat(dem.grid);
    city.elevation = dem.data;
    if let Some(path) = landuse {
        let lu = read_asc(path, inputs)?;
        if lu.grid.nx != dem.grid.nx || lu.grid.ny != dem.grid.ny {
            return Err(ImportError::Content {
                path: path.display().to_string(),
                message: format!(
                    "land use is {} × {} cells but elevation is {} × {}",
                    lu.grid.nx, lu.grid.ny, dem.grid.nx, dem.grid.ny
                ),
            });
        }
        for (k, v) in lu.data.iter().enumerate() {
            let code = if v.is_finite() && *v >= 0.0 && v.fract() == 0.0 {
                LandUse::from_code(*v as u8)
            } else {
                None
            };
            let Some(l) = code else {
                let (i, j) = lu.grid.cell_of(k);
                return Err(ImportError::Content {
                    path: path.display().to_string(),
                    message: format!(
                        "line {}: land-use code {v} at column {}, row {} is not 0–5",
                        lu.line_of(k),
                        i + 1,
                        j + 1
                    ),
                });
            };
            city.landuse[k] = l;
            if l == LandUse::Road {
                city.road[k] = RoadClass::Local;
            }
        }
        add_cell_buildings(&mut city);
    }
    city.derive_surface();
    Ok(city)
}

/// One three-storey residential building per building cell (imports carry no attributes).
fn add_cell_buildings(city: &mut City) {
    use super::{Building, BuildingUse, Construction};
    let area = city.grid.cell_area() as f32;
    for k in 0..city.grid.len() {
        if city.landuse[k] == LandUse::Building {
            city.building[k] = city.buildings.len() as u32;
            city.buildings.push(Building {
                storeys: 3,
                height_m: 9.0,
                use_: BuildingUse::Residential,
                construction: Construction::FireResistive,
                occupants_night: 3.0 * area / super::generate::FLOOR_AREA_PER_RESIDENT_M2 as f32,
                occupants_day: 0.0,
                value_yuan: 3.0 * f64::from(area) * 3500.0,
                footprint_m2: area,
                anchor: k as u32,
            });
        }
    }
}
