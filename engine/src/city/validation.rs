//! Validation of the city generator against its calibration targets (Futian, 2020).

use super::generate::{FUTIAN_AREA_KM2, FUTIAN_RESIDENTS, GenerateSpec, generate};
use super::{AssetKind, LandUse};
use crate::validation::{Case, CaseResult, Check, Suite};

pub fn suite() -> Suite {
    Suite {
        name: "city",
        title: "City generator calibration",
        cases: vec![Case {
            name: "futian-calibration",
            run: futian_calibration,
        }],
    }
}

/// A 6 × 4 km district at 10 m: resident density equals Futian's; every resident is
/// within the fire-station district area of the standard; land-use shares are those of
/// a dense coastal district.
pub fn futian_calibration() -> CaseResult {
    let case = "futian-calibration";
    let city = generate(&GenerateSpec::new(6000.0, 4000.0, 10.0));
    let land_km2 = city.land_area_m2() / 1e6;
    let density = city
        .buildings
        .iter()
        .filter(|b| b.use_ == super::BuildingUse::Residential)
        .map(|b| f64::from(b.occupants_night))
        .sum::<f64>()
        / land_km2;
    let target = FUTIAN_RESIDENTS / FUTIAN_AREA_KM2;
    let share = |l: LandUse| {
        100.0 * city.landuse.iter().filter(|&&x| x == l).count() as f64 / city.grid.len() as f64
    };
    let stations = city
        .assets
        .iter()
        .filter(|a| a.kind == AssetKind::FireStation)
        .count() as f64;
    CaseResult {
        checks: vec![
            Check::new(
                case,
                "resident density",
                density,
                0.99 * target,
                1.01 * target,
                "people/km²",
            ),
            Check::new(
                case,
                "land per fire station",
                land_km2 / stations,
                0.0,
                7.0,
                "km²",
            ),
            Check::new(
                case,
                "road share of the grid",
                share(LandUse::Road),
                15.0,
                35.0,
                "%",
            ),
            Check::new(
                case,
                "building share of the grid",
                share(LandUse::Building),
                10.0,
                40.0,
                "%",
            ),
        ],
        figures: Vec::new(),
        notes: "Futian district: 1,553,225 residents (2020 census) on 78.66 km²; fire station \
                districts at most 7 km² (建标152-2017); Chinese urban road area ratio 15–25 % \
                of built land (GB 50220-95) — here of the whole grid, including hills and sea."
            .into(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn futian_calibration() {
        crate::validation::assert_case_passes(&super::futian_calibration());
    }
}
