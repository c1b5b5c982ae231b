//! Consequences of flooding: depth-damage, flood hazard rating for people, road and
//! footpath passability limits, and the grouping of road cells into segments.

use crate::city::{BuildingUse, City, LandUse, NO_BUILDING};

/// JRC global depth-damage functions for Asia (Huizinga, de Moel & Szewczyk 2017,
/// EUR 28552 EN, doi:10.2760/16510), fraction of maximum damage at 0, 0.5, 1, 1.5, 2, 3,
/// 4, 5 and 6 m (values as coded in CLIMADA's `river_flood.py`).
const DEPTHS: [f64; 9] = [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0];
const RESIDENTIAL: [f64; 9] = [0.0, 0.327, 0.494, 0.617, 0.721, 0.870, 0.931, 0.984, 1.0];
const COMMERCIAL: [f64; 9] = [0.0, 0.377, 0.538, 0.659, 0.763, 0.883, 0.942, 0.981, 1.0];
const INDUSTRIAL: [f64; 9] = [0.0, 0.283, 0.482, 0.629, 0.717, 0.857, 0.909, 0.955, 1.0];

/// Damage fraction of a building of this use at a flood depth, m (linear between the
/// tabulated depths, 1 beyond 6 m). Public buildings use the commercial curve (JRC has
/// no separate class for them).
pub fn damage_fraction(use_: BuildingUse, depth_m: f64) -> f64 {
    let curve = match use_ {
        BuildingUse::Residential => &RESIDENTIAL,
        BuildingUse::Commercial | BuildingUse::Public => &COMMERCIAL,
        BuildingUse::Industrial => &INDUSTRIAL,
    };
    if depth_m <= 0.0 || depth_m.is_nan() {
        return 0.0;
    }
    for k in 1..DEPTHS.len() {
        if depth_m <= DEPTHS[k] {
            let f = (depth_m - DEPTHS[k - 1]) / (DEPTHS[k] - DEPTHS[k - 1]);
            return curve[k - 1] + f * (curve[k] - curve[k - 1]);
        }
    }
    1.0
}

/// Flood hazard rating HR = d (v + 0.5) + DF (Defra/EA 2006, FD2321/TR2, "Flood Risks to
/// People Phase 2"), with the debris factor DF of the urban column of its table: 0 below
/// 0.25 m, 1 above (and 1 when v > 2 m/s).
pub fn hazard_rating(d: f64, v: f64) -> f64 {
    if d <= 0.0 {
        return 0.0;
    }
    let df = if d > 0.25 || v > 2.0 { 1.0 } else { 0.0 };
    d * (v + 0.5) + df
}

/// FD2321/TR2 hazard classes: 0 none (dry), 1 low (HR < 0.75, "caution"), 2 moderate
/// (0.75–1.25, "danger for some"), 3 significant (1.25–2.0, "danger for most"),
/// 4 extreme (> 2.0, "danger for all").
pub fn hazard_class(d: f64, hr: f64) -> usize {
    if d <= 0.0 {
        0
    } else if hr < 0.75 {
        1
    } else if hr < 1.25 {
        2
    } else if hr <= 2.0 {
        3
    } else {
        4
    }
}

pub const CLASS_NAMES: [&str; 5] = ["none", "low", "moderate", "significant", "extreme"];

/// Road cells grouped into segments: 4-connected road cells within square tiles of a
/// given size (a city block's length of street), so closures are reported per stretch
/// of road rather than per cell.
#[derive(Debug, Clone)]
pub struct Segments {
    /// Segment of each road cell (u32::MAX elsewhere).
    pub of_cell: Vec<u32>,
    /// Cells of each segment.
    pub cells: Vec<Vec<u32>>,
    /// A representative cell (closest to the centroid) of each segment.
    pub anchor: Vec<u32>,
}

impl Segments {
    pub fn build(city: &City, tile_m: f64) -> Self {
        let g = &city.grid;
        let tile = ((tile_m / g.cell).round() as usize).max(1);
        let mut of_cell = vec![u32::MAX; g.len()];
        let mut cells: Vec<Vec<u32>> = Vec::new();
        let mut stack = Vec::new();
        for start in 0..g.len() {
            if city.landuse[start] != LandUse::Road || of_cell[start] != u32::MAX {
                continue;
            }
            let id = cells.len() as u32;
            let (si, sj) = g.cell_of(start);
            let (ti, tj) = (si / tile, sj / tile);
            let mut members = Vec::new();
            of_cell[start] = id;
            stack.push(start);
            while let Some(k) = stack.pop() {
                members.push(k as u32);
                let (i, j) = g.cell_of(k);
                let mut nb = Vec::with_capacity(4);
                if i > 0 {
                    nb.push((i - 1, j));
                }
                if i + 1 < g.nx {
                    nb.push((i + 1, j));
                }
                if j > 0 {
                    nb.push((i, j - 1));
                }
                if j + 1 < g.ny {
                    nb.push((i, j + 1));
                }
                for (a, b) in nb {
                    let m = g.index(a, b);
                    if city.landuse[m] == LandUse::Road
                        && of_cell[m] == u32::MAX
                        && a / tile == ti
                        && b / tile == tj
                    {
                        of_cell[m] = id;
                        stack.push(m);
                    }
                }
            }
            members.sort_unstable();
            cells.push(members);
        }
        let anchor = cells
            .iter()
            .map(|m| {
                let n = m.len() as f64;
                let (mx, my) = m.iter().fold((0.0, 0.0), |(x, y), &k| {
                    let (i, j) = g.cell_of(k as usize);
                    (x + i as f64 / n, y + j as f64 / n)
                });
                *m.iter()
                    .min_by(|&&a, &&b| {
                        let d = |k: u32| {
                            let (i, j) = g.cell_of(k as usize);
                            (i as f64 - mx).powi(2) + (j as f64 - my).powi(2)
                        };
                        d(a).total_cmp(&d(b)).then(a.cmp(&b))
                    })
                    .expect("a segment has a cell")
            })
            .collect();
        Self {
            of_cell,
            cells,
            anchor,
        }
    }
}

/// For each building, the ground cells around its footprint (where its doors are and
/// where the water against its walls is measured).
pub fn building_perimeters(city: &City) -> Vec<Vec<u32>> {
    let g = &city.grid;
    let mut out: Vec<Vec<u32>> = vec![Vec::new(); city.buildings.len()];
    for k in 0..g.len() {
        let b = city.building[k];
        if b == NO_BUILDING {
            continue;
        }
        let (i, j) = g.cell_of(k);
        let nb = [
            (i.wrapping_sub(1), j),
            (i + 1, j),
            (i, j.wrapping_sub(1)),
            (i, j + 1),
        ];
        for (a, c) in nb {
            if a < g.nx && c < g.ny {
                let m = g.index(a, c);
                if city.building[m] == NO_BUILDING
                    && !matches!(city.landuse[m], LandUse::Sea | LandUse::Water)
                {
                    out[b as usize].push(m as u32);
                }
            }
        }
    }
    for (b, p) in out.iter_mut().enumerate() {
        p.sort_unstable();
        p.dedup();
        if p.is_empty() {
            // Enclosed (courtyard-less block): use its anchor cell.
            p.push(city.buildings[b].anchor);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::GridSpec;

    #[test]
    fn jrc_curve_points() {
        let r = |d| damage_fraction(BuildingUse::Residential, d);
        assert!((r(0.5) - 0.327).abs() < 1e-12);
        assert!((r(1.0) - 0.494).abs() < 1e-12);
        assert!((r(2.0) - 0.721).abs() < 1e-12);
        assert!((r(3.0) - 0.87).abs() < 1e-12);
        assert!((r(6.0) - 1.0).abs() < 1e-12);
        assert!((r(0.25) - 0.1635).abs() < 1e-12);
        assert_eq!(r(9.0), 1.0);
        assert_eq!(r(0.0), 0.0);
        assert!((damage_fraction(BuildingUse::Industrial, 1.0) - 0.482).abs() < 1e-12);
    }

    #[test]
    fn hazard_rating_classes() {
        // 0.2 m still water: 0.2 × 0.5 = 0.1 → low.
        assert_eq!(hazard_class(0.2, hazard_rating(0.2, 0.0)), 1);
        // 0.5 m at 1 m/s: 0.75 + 1 = 1.75 → significant.
        assert!((hazard_rating(0.5, 1.0) - 1.75).abs() < 1e-12);
        assert_eq!(hazard_class(0.5, 1.75), 3);
        assert_eq!(hazard_class(1.0, hazard_rating(1.0, 1.5)), 4);
        assert_eq!(hazard_class(0.0, 0.0), 0);
    }

    #[test]
    fn segments_split_roads_by_tile() {
        let mut city = City::flat(GridSpec::new(20, 3, 10.0));
        for i in 0..20 {
            city.landuse[city.grid.index(i, 1)] = LandUse::Road;
        }
        let s = Segments::build(&city, 100.0);
        assert_eq!(s.cells.len(), 2, "a 200 m road in 100 m tiles");
        assert_eq!(s.cells[0].len(), 10);
        assert_eq!(s.of_cell[city.grid.index(15, 1)], 1);
    }
}
