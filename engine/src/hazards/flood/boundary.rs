//! Boundary conditions of the flood domain, as written in a scenario, and their
//! resolution into solver cells and faces (with errors naming the key at fault).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::solver::{Inflow, LevelCells, Signal, Solver};
use crate::city::{City, LandUse};
use crate::sim::BuildError;
use crate::spec::{KeyPath, Problem, in_range, positive};

/// A domain edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Edge {
    West,
    East,
    North,
    South,
}

/// `[[hazards.boundaries]]`: edges not listed are closed walls.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum BoundarySpec {
    /// Edge cells held at a water level: `level_m`, or `series` of [t_s, level_m].
    Level {
        edge: Edge,
        /// Stretch along the edge, map metres (x for north/south, y for west/east);
        /// the whole edge when absent.
        #[serde(default)]
        from_m: Option<f64>,
        #[serde(default)]
        to_m: Option<f64>,
        #[serde(default)]
        level_m: Option<f64>,
        #[serde(default)]
        series: Option<Vec<[f64; 2]>>,
    },
    /// Free outflow at normal depth for a given slope (LISFLOOD-FP `FREE`).
    Free {
        edge: Edge,
        #[serde(default)]
        from_m: Option<f64>,
        #[serde(default)]
        to_m: Option<f64>,
        /// Energy slope used for the normal-depth discharge, m/m.
        slope: f64,
    },
    /// A discharge into the cells at a point (`at`) or along a line (`line`):
    /// `q_m3_s`, or `series` of [t_s, q_m3_s].
    Inflow {
        #[serde(default)]
        at: Option<[f64; 2]>,
        #[serde(default)]
        line: Option<[[f64; 2]; 2]>,
        #[serde(default)]
        q_m3_s: Option<f64>,
        #[serde(default)]
        series: Option<Vec<[f64; 2]>>,
    },
}

fn signal(
    at: &KeyPath,
    value: Option<f64>,
    value_key: &str,
    series: &Option<Vec<[f64; 2]>>,
    min: f64,
) -> Result<Signal, Problem> {
    match (value, series) {
        (Some(v), None) => {
            in_range(at.key(value_key), v, min, 1e6, value_key)?;
            Ok(Signal::Const(v))
        }
        (None, Some(s)) => {
            if s.is_empty() {
                return Err((at.key("series"), "the series is empty".into()));
            }
            for (k, p) in s.iter().enumerate() {
                in_range(
                    at.key("series").index(k),
                    p[0],
                    0.0,
                    f64::INFINITY,
                    "the time",
                )?;
                in_range(at.key("series").index(k), p[1], min, 1e6, value_key)?;
                if k > 0 && p[0] < s[k - 1][0] {
                    return Err((
                        at.key("series").index(k),
                        "series times must not decrease".into(),
                    ));
                }
            }
            Ok(Signal::Series(s.iter().map(|p| (p[0], p[1])).collect()))
        }
        _ => Err((
            at.clone(),
            format!("give exactly one of `{value_key}` and `series`"),
        )),
    }
}

impl BoundarySpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        match self {
            Self::Level {
                level_m, series, ..
            } => signal(at, *level_m, "level_m", series, -1e4).map(|_| ()),
            Self::Free { slope, .. } => positive(at.key("slope"), *slope, "the slope"),
            Self::Inflow {
                at: p,
                line,
                q_m3_s,
                series,
            } => {
                if p.is_some() == line.is_some() {
                    return Err((at.clone(), "give exactly one of `at` and `line`".into()));
                }
                signal(at, *q_m3_s, "q_m3_s", series, 0.0).map(|_| ())
            }
        }
    }

    /// Add this boundary to the solver.
    pub fn apply(&self, at: &KeyPath, city: &City, s: &mut Solver) -> Result<(), BuildError> {
        let problem = |(k, m): Problem| BuildError::new(k, m);
        match self {
            Self::Level {
                edge,
                from_m,
                to_m,
                level_m,
                series,
            } => {
                let level = signal(at, *level_m, "level_m", series, -1e4).map_err(problem)?;
                let cells = edge_cells(at, city, *edge, *from_m, *to_m)?
                    .into_iter()
                    .map(|(_, k)| k as u32)
                    .collect();
                s.levels.push(LevelCells { cells, level });
            }
            Self::Free {
                edge,
                from_m,
                to_m,
                slope,
            } => {
                for (along, _) in edge_cells(at, city, *edge, *from_m, *to_m)? {
                    let e = match edge {
                        Edge::West => &mut s.edges.west,
                        Edge::East => &mut s.edges.east,
                        Edge::North => &mut s.edges.north,
                        Edge::South => &mut s.edges.south,
                    };
                    e[along] = *slope as f32;
                }
            }
            Self::Inflow {
                at: p,
                line,
                q_m3_s,
                series,
            } => {
                let q = signal(at, *q_m3_s, "q_m3_s", series, 0.0).map_err(problem)?;
                let (key, cells) = match (p, line) {
                    (Some(p), _) => {
                        let (i, j) = city.grid.locate(p[0], p[1]).ok_or_else(|| {
                            BuildError::new(
                                at.key("at"),
                                format!(
                                    "the inflow point ({}, {}) is off the grid ({} × {} m from ({}, {}))",
                                    p[0],
                                    p[1],
                                    city.grid.width_m(),
                                    city.grid.height_m(),
                                    city.grid.x0,
                                    city.grid.y0
                                ),
                            )
                        })?;
                        (at.key("at"), vec![city.grid.index(i, j)])
                    }
                    (None, Some(l)) => (at.key("line"), line_cells(&at.key("line"), city, l)?),
                    (None, None) => unreachable!("checked: one of at and line"),
                };
                for &k in &cells {
                    if matches!(city.landuse[k], LandUse::Building | LandUse::Sea)
                        || s.z[k] >= super::solver::SOLID_Z
                    {
                        let (i, j) = city.grid.cell_of(k);
                        return Err(BuildError::new(
                            key,
                            format!(
                                "the inflow reaches cell ({i},{j}), which is {}: move it onto open ground",
                                city.landuse[k].label()
                            ),
                        ));
                    }
                }
                s.inflows.push(Inflow {
                    cells: cells.into_iter().map(|k| k as u32).collect(),
                    q,
                });
            }
        }
        Ok(())
    }
}

/// Cells of an edge whose centre lies within [from, to] along it: (position along the
/// edge, cell index).
fn edge_cells(
    at: &KeyPath,
    city: &City,
    edge: Edge,
    from: Option<f64>,
    to: Option<f64>,
) -> Result<Vec<(usize, usize)>, BuildError> {
    let g = &city.grid;
    let (lo, hi) = match edge {
        Edge::West | Edge::East => (g.y0, g.y0 + g.height_m()),
        Edge::North | Edge::South => (g.x0, g.x0 + g.width_m()),
    };
    let from = from.unwrap_or(lo);
    let to = to.unwrap_or(hi);
    for (key, v) in [("from_m", from), ("to_m", to)] {
        if !(v.is_finite() && v >= lo && v <= hi) {
            return Err(BuildError::new(
                at.key(key),
                format!("{v} m is off the {edge:?} edge, which runs from {lo} to {hi} m"),
            ));
        }
    }
    if to <= from {
        return Err(BuildError::new(at.key("to_m"), "to_m must exceed from_m"));
    }
    let mut out = Vec::new();
    match edge {
        Edge::West | Edge::East => {
            let i = if edge == Edge::West { 0 } else { g.nx - 1 };
            for j in 0..g.ny {
                let (_, y) = g.center(i, j);
                if y >= from && y <= to {
                    out.push((j, g.index(i, j)));
                }
            }
        }
        Edge::North | Edge::South => {
            let j = if edge == Edge::North { 0 } else { g.ny - 1 };
            for i in 0..g.nx {
                let (x, _) = g.center(i, j);
                if x >= from && x <= to {
                    out.push((i, g.index(i, j)));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(BuildError::new(
            at.key("from_m"),
            format!("no cell centre of the {edge:?} edge lies between {from} and {to} m"),
        ));
    }
    Ok(out)
}

/// Cells whose centre is within half a cell of the segment.
fn line_cells(at: &KeyPath, city: &City, l: &[[f64; 2]; 2]) -> Result<Vec<usize>, BuildError> {
    let g = &city.grid;
    for p in l {
        let inside = p[0] >= g.x0
            && p[0] <= g.x0 + g.width_m()
            && p[1] >= g.y0
            && p[1] <= g.y0 + g.height_m();
        if !inside || !p[0].is_finite() || !p[1].is_finite() {
            return Err(BuildError::new(
                at.clone(),
                format!("the line end ({}, {}) is off the grid", p[0], p[1]),
            ));
        }
    }
    let ([ax, ay], [bx, by]) = (l[0], l[1]);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let mut out = Vec::new();
    for j in 0..g.ny {
        for i in 0..g.nx {
            let (x, y) = g.center(i, j);
            let t = if len2 > 0.0 {
                (((x - ax) * dx + (y - ay) * dy) / len2).clamp(0.0, 1.0)
            } else {
                0.0
            };
            let d = (x - ax - t * dx).hypot(y - ay - t * dy);
            if d <= 0.5 * g.cell + 1e-9 {
                out.push(g.index(i, j));
            }
        }
    }
    if out.is_empty() {
        return Err(BuildError::new(at.clone(), "the line touches no cell"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::GridSpec;
    use crate::hazards::flood::solver::Params;

    #[test]
    fn west_line_of_20_m_takes_four_5_m_cells() {
        let city = City::flat(GridSpec::new(200, 400, 5.0));
        let cells = line_cells(&KeyPath::root(), &city, &[[0.0, 990.0], [0.0, 1010.0]]).unwrap();
        assert_eq!(cells.len(), 4);
        assert!(cells.iter().all(|&k| k % 200 == 0));
    }

    #[test]
    fn off_grid_and_building_inflows_are_errors() {
        let mut city = City::flat(GridSpec::new(10, 10, 10.0));
        city.landuse[city.grid.index(2, 2)] = LandUse::Building;
        let mut s = Solver::new(
            10,
            10,
            10.0,
            vec![0.0; 100],
            vec![0.03; 100],
            Params::default(),
        );
        let at = KeyPath::root().key("hazards").index(0);
        let b = BoundarySpec::Inflow {
            at: Some([500.0, 5.0]),
            line: None,
            q_m3_s: Some(1.0),
            series: None,
        };
        let e = b.apply(&at, &city, &mut s).unwrap_err();
        assert!(e.message.contains("off the grid"), "{}", e.message);
        let (x, y) = city.grid.center(2, 2);
        let b = BoundarySpec::Inflow {
            at: Some([x, y]),
            line: None,
            q_m3_s: Some(1.0),
            series: None,
        };
        let e = b.apply(&at, &city, &mut s).unwrap_err();
        assert!(e.message.contains("building"), "{}", e.message);
        assert_eq!(e.key.to_string(), "hazards[0].at");
        let b = BoundarySpec::Level {
            edge: Edge::West,
            from_m: Some(-5.0),
            to_m: None,
            level_m: Some(1.0),
            series: None,
        };
        let e = b.apply(&at, &city, &mut s).unwrap_err();
        assert_eq!(e.key.to_string(), "hazards[0].from_m");
    }
}
