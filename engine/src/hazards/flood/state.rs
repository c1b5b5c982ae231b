//! The flood's state shared by its systems: the solver, the per-cell masks and forcing
//! buffers made at setup, and what the run has seen so far (maxima, closures, damage).

use std::collections::BTreeMap;

use bevy_ecs::prelude::*;

use super::impacts::{RoadSections, Segments, damage_fraction};
use super::setup::FloodSetup;
use super::solver::{LevelCells, SOLID_Z, Signal, Solver};
use super::spec::{FloodSpec, SeaMode};
use crate::city::Building;
use crate::grid::GridSpec;
use crate::sim::Population;

/// Solver state (≈ 41 B), forcing and bookkeeping per cell (≈ 40 B).
pub const BYTES_PER_CELL: usize = Solver::BYTES_PER_CELL + 40;

/// The flood plugin's state.
#[derive(Resource)]
pub struct FloodState {
    pub solver: Solver,
    pub(super) spec: FloodSpec,
    pub(super) grid: GridSpec,
    /// Who is in the buildings (occupants exposed, counted once per building).
    pub(super) population: Population,
    pub(super) initialised: bool,
    /// Sea cells (applied at the first tick, once forcing plugins have spoken).
    pub(super) sea_cells: Vec<u32>,
    pub(super) sea_level_index: Option<usize>,
    /// Cells that are walls (solid buildings, closed sea).
    pub(super) solid: Vec<bool>,
    /// Land cells counted in flood metrics (not sea, river or solid).
    pub(super) land: Vec<bool>,
    /// Door cells of each asset, by the asset's cell ([`crate::city::City::door_cells`]).
    pub(super) doors: BTreeMap<usize, Vec<usize>>,
    pub(super) road: Vec<bool>,
    pub(super) drain: Vec<f32>,
    pub(super) pervious: Vec<f32>,
    pub(super) wet_time: Vec<f32>,
    pub(super) rain: Vec<f32>,
    pub(super) pumps: Vec<(String, Vec<u32>)>,
    pub speed: Vec<f32>,
    pub max_depth: Vec<f32>,
    pub max_speed: Vec<f32>,
    pub(super) volume0: f64,
    pub roof_rain: f64,
    pub(super) segments: Segments,
    pub(super) segment_closed: Vec<bool>,
    pub(super) perimeters: Vec<Vec<u32>>,
    pub(super) building_max: Vec<f32>,
    pub(super) building_worst: Vec<u8>,
    pub(super) floor_wet: Vec<bool>,
    pub(super) failed: Vec<String>,
    pub(super) max_segments_closed: usize,
    pub(super) max_road_depth: f32,
    /// Road cross-sections for the lane criterion, and the most that lacked a passable
    /// lane at once.
    pub(super) sections: RoadSections,
    pub(super) max_sections_failing: usize,
}

impl FloodState {
    /// The state at t = 0 from the plugin's setup.
    pub fn new(spec: &FloodSpec, population: Population, setup: FloodSetup) -> Self {
        let FloodSetup {
            solver,
            grid,
            sea_cells,
            solid,
            land,
            doors,
            road,
            drain,
            pervious,
            pumps,
            segments,
            sections,
            perimeters,
            volume0,
        } = setup;
        let len = grid.len();
        let buildings = perimeters.len();
        let nseg = segments.cells.len();
        Self {
            solver,
            spec: spec.clone(),
            grid,
            population,
            initialised: false,
            sea_cells,
            sea_level_index: None,
            solid,
            land,
            doors,
            road,
            drain,
            pervious,
            wet_time: vec![0.0; len],
            rain: vec![0.0; len],
            pumps,
            speed: vec![0.0; len],
            max_depth: vec![0.0; len],
            max_speed: vec![0.0; len],
            volume0,
            roof_rain: 0.0,
            segments,
            segment_closed: vec![false; nseg],
            perimeters,
            building_max: vec![0.0; buildings],
            building_worst: vec![0; buildings],
            floor_wet: vec![false; buildings],
            failed: Vec::new(),
            max_segments_closed: 0,
            max_road_depth: 0.0,
            sections,
            max_sections_failing: 0,
        }
    }

    /// Sea handling, decided at the first tick when forcing plugins have had their say.
    pub(super) fn initialise(&mut self, sea: Option<f64>) {
        self.initialised = true;
        if !self.sea_cells.is_empty() {
            match (sea, self.spec.sea) {
                (None, SeaMode::Closed) => {
                    for &c in &self.sea_cells {
                        self.solver.z[c as usize] = SOLID_Z;
                        self.solver.h[c as usize] = 0.0;
                        self.solid[c as usize] = true;
                    }
                }
                (level, _) => {
                    let level = level.unwrap_or(self.spec.mean_sea_level_m);
                    self.sea_level_index = Some(self.solver.levels.len());
                    self.solver.levels.push(LevelCells {
                        cells: self.sea_cells.clone(),
                        level: Signal::Const(level),
                    });
                }
            }
        }
        self.solver.finish_setup();
    }

    /// Relative volume balance error: |V − V0 − net inflow| over the water handled.
    pub fn volume_error(&self, volume: f64) -> f64 {
        let b = &self.solver.balance;
        let err = volume - self.volume0 - b.net_in();
        let scale = volume
            .max(self.volume0 + b.rain_in + b.inflow_in + b.level_net.abs())
            .max(1.0);
        err.abs() / scale
    }

    /// Deepest water at the door of the asset at `cell` (see
    /// [`crate::city::City::door_cells`]), m.
    pub(super) fn depth_at_door(&self, cell: usize) -> f32 {
        self.doors.get(&cell).map_or(0.0, |door| {
            door.iter()
                .map(|&k| self.solver.h[k])
                .fold(0.0f32, f32::max)
        })
    }

    /// Damage to a building from the deepest water at its walls: the JRC curve applied to
    /// the depth above its ground floor (water below the floor does not enter).
    pub(super) fn building_loss(&self, b: &Building, depth: f32) -> f64 {
        damage_fraction(b.use_, f64::from(depth) - self.spec.limits.ground_floor_m) * b.value_yuan
    }
}
