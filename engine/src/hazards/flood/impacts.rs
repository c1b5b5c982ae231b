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
                    .expect("segments are built from at least one cell")
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

/// Road cross-sections for the GB 51222-2017 criterion "at least one traffic lane at most
/// 0.15 m deep". The city stores a road class per cell, not road geometry, so a
/// cross-section is found from the grid: through each road cell run the row-wise and the
/// column-wise stretches of contiguous road cells; the shorter one is across the road
/// (its width), the longer along it. Where both are wider than any road (`max_width_m`,
/// i.e. at junctions and road areas) the cell is its own cross-section.
#[derive(Debug, Clone, Default)]
pub struct RoadSections {
    /// Each section as (first cell, stride between its cells, length in cells).
    pub sections: Vec<(u32, u32, u32)>,
    /// Road cells judged by each section (a section may also be looked across by cells
    /// assigned elsewhere, e.g. at junction edges).
    pub members: Vec<u32>,
    /// Contiguous passable cells one lane needs: ⌈lane width / cell size⌉ (1 when a cell
    /// is wider than a lane: the cell's mean depth stands for the lane inside it).
    pub lane_cells: u32,
}

impl RoadSections {
    pub fn build(
        nx: usize,
        ny: usize,
        cell_m: f64,
        road: &[bool],
        lane_width_m: f64,
        max_width_m: f64,
    ) -> Self {
        let len = nx * ny;
        // Start and length of the row-wise and column-wise road runs through each cell.
        let mut h_run = vec![(0u32, 0u32); len];
        let mut v_run = vec![(0u32, 0u32); len];
        for j in 0..ny {
            let mut i = 0;
            while i < nx {
                if !road[j * nx + i] {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < nx && road[j * nx + i] {
                    i += 1;
                }
                for c in s..i {
                    h_run[j * nx + c] = ((j * nx + s) as u32, (i - s) as u32);
                }
            }
        }
        for i in 0..nx {
            let mut j = 0;
            while j < ny {
                if !road[j * nx + i] {
                    j += 1;
                    continue;
                }
                let s = j;
                while j < ny && road[j * nx + i] {
                    j += 1;
                }
                for r in s..j {
                    v_run[r * nx + i] = ((s * nx + i) as u32, (j - s) as u32);
                }
            }
        }
        let max_cells = (max_width_m / cell_m).floor().max(1.0) as u32;
        let mut ids = std::collections::HashMap::new();
        let mut out = Self {
            lane_cells: (lane_width_m / cell_m).ceil().max(1.0) as u32,
            ..Self::default()
        };
        for k in 0..len {
            if !road[k] {
                continue;
            }
            let (h, v) = (h_run[k], v_run[k]);
            let sec = if h.1 <= v.1 && h.1 <= max_cells {
                (h.0, 1, h.1)
            } else if v.1 <= max_cells {
                (v.0, nx as u32, v.1)
            } else {
                (k as u32, 1, 1)
            };
            let id = *ids.entry(sec).or_insert_with(|| {
                out.sections.push(sec);
                out.members.push(0);
                out.sections.len() - 1
            });
            out.members[id] += 1;
        }
        out
    }

    /// Whether section `s` has a lane at most `limit` deep: a stretch of at least
    /// `lane_cells` contiguous cells at or below it (the whole width when the road is
    /// narrower than a lane).
    pub fn passes(&self, s: usize, h: &[f32], limit: f32) -> bool {
        let (first, stride, len) = self.sections[s];
        let need = self.lane_cells.min(len);
        let mut run = 0u32;
        for c in 0..len {
            // A NaN depth counts as not passable.
            if h[(first + c * stride) as usize] <= limit {
                run += 1;
                if run >= need {
                    return true;
                }
            } else {
                run = 0;
            }
        }
        false
    }

    /// Sections without a passable lane, and the road cells they judge.
    pub fn failing(&self, h: &[f32], limit: f32) -> (usize, usize) {
        let mut n = (0, 0);
        for s in 0..self.sections.len() {
            if !self.passes(s, h, limit) {
                n.0 += 1;
                n.1 += self.members[s] as usize;
            }
        }
        n
    }
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

    /// A north-south road 4 cells wide (cells 2..6 of each row) with one junction row.
    fn road_grid() -> (usize, usize, Vec<bool>) {
        let (nx, ny) = (10, 8);
        let road = (0..nx * ny)
            .map(|k| (2..6).contains(&(k % nx)) || k / nx == 4)
            .collect();
        (nx, ny, road)
    }

    #[test]
    fn a_road_with_one_dry_edge_lane_passes_a_flooded_one_fails() {
        let (nx, ny, road) = road_grid();
        let s = RoadSections::build(nx, ny, 10.0, &road, 3.5, 60.0);
        assert_eq!(s.lane_cells, 1);
        // Every plain road cell is judged across the road (4 cells); the junction row's
        // cells off the N-S road are judged down their column (1 cell).
        let across = s.sections.iter().filter(|x| x.2 == 4).count();
        assert_eq!(across, ny - 1, "{:?}", s.sections);
        let mut h = vec![0.0f32; nx * ny];
        // Flood the whole road 0.3 m deep except the easternmost lane (column 5).
        for k in 0..nx * ny {
            if road[k] && k % nx != 5 {
                h[k] = 0.3;
            }
        }
        let (fail, _) = s.failing(&h, 0.15);
        // The N-S road passes everywhere (its edge lane is dry); the junction arms (one
        // cell wide, flooded) fail, and so do the junction's flooded cells, each judged
        // alone.
        let arms = (0..nx).filter(|&i| !(2..6).contains(&i)).count();
        assert_eq!(fail, arms + 3);
        for k in 0..nx * ny {
            if k % nx == 5 {
                h[k] = 0.2;
            }
        }
        let (fail, cells) = s.failing(&h, 0.15);
        assert_eq!(
            fail,
            s.sections.len(),
            "a fully flooded road fails everywhere"
        );
        assert_eq!(cells, road.iter().filter(|&&r| r).count());
    }

    #[test]
    fn a_lane_spans_several_fine_cells() {
        // 1 m cells: a lane needs 4 contiguous cells ≤ 0.15 m.
        let (nx, ny) = (12, 3);
        let road = vec![true; nx * ny];
        let s = RoadSections::build(nx, ny, 1.0, &road, 3.5, 60.0);
        assert_eq!(s.lane_cells, 4);
        // Rows are 12 cells, columns 3: each cell is judged down its column (3 cells,
        // narrower than a lane: the whole width must be passable).
        assert!(s.sections.iter().all(|x| x.2 == 3));
        let mut h = vec![0.0f32; nx * ny];
        h[nx] = 0.2;
        let (fail, _) = s.failing(&h, 0.15);
        assert_eq!(fail, 1);
        // A wide road: 12 × 30 cells, judged across its 12 cells.
        let (nx, ny) = (12, 30);
        let road = vec![true; nx * ny];
        let s = RoadSections::build(nx, ny, 1.0, &road, 3.5, 60.0);
        let mut h = vec![0.3f32; nx * ny];
        for j in 0..ny {
            for i in 5..8 {
                h[j * nx + i] = 0.1; // 3 dry cells: narrower than a lane
            }
        }
        assert_eq!(s.failing(&h, 0.15).0, ny);
        for j in 0..ny {
            h[j * nx + 8] = 0.1; // now 4
        }
        assert_eq!(s.failing(&h, 0.15).0, 0);
    }
}
