//! What the typhoon's systems share between ticks: the fixed inputs from setup, the
//! gauge handles, the run's peaks and totals, and which alerts were already given.

use bevy_ecs::prelude::*;

use super::outputs::Gauges;
use super::setup::TyphoonInputs;
use crate::weather::RainWarnings;

/// Wind, rain-rate, gust max, rain total per cell and the per-cell population.
pub const BYTES_PER_CELL: usize = 12 + 4 + 4 + 8 + 4 + 8 + 1;

/// Everything the plugin keeps between ticks.
#[derive(Resource)]
pub struct TyphoonState {
    pub inputs: TyphoonInputs,
    pub gauges: Gauges,
    /// Start of the next field evaluation, s.
    pub next_forcing: f64,
    pub peaks: Peaks,
    pub alerts: Alerts,
}

/// Peaks and totals over the run, for the KPIs and maps at the end.
pub struct Peaks {
    pub max_gust: Vec<f32>,
    pub max_wind: Vec<f32>,
    pub total_rain_mm: Vec<f64>,
    /// Closest approach, km, and its time, s.
    pub min_distance: (f64, f64),
    /// Highest gust over the grid, m/s, its time, s, and its cell.
    pub peak_gust: (f32, f64, usize),
    /// Highest sea level, m, and its time, s.
    pub peak_sea: (f64, f64),
    /// Assets failed by wind.
    pub failed: usize,
}

/// Alerts already given (each is given once), and the storm cell's last land or sea.
pub struct Alerts {
    pub rain_warn: RainWarnings,
    pub sea_level_reached: Vec<bool>,
    /// Gusts over open ground reached the vulnerable limit, the limit for everyone.
    pub ped_reached: [bool; 2],
    /// The storm came within 200 km, within 100 km.
    pub within: [bool; 2],
    pub landfall_emitted: bool,
    pub prev_storm_cell_sea: Option<bool>,
}

impl TyphoonState {
    /// The state at t = 0.
    pub fn new(inputs: TyphoonInputs, gauges: Gauges) -> Self {
        let n = inputs.grid.len();
        let center = inputs.center;
        let nwarn = inputs.sea_warnings.len();
        Self {
            inputs,
            gauges,
            next_forcing: 0.0,
            peaks: Peaks {
                max_gust: vec![0.0; n],
                max_wind: vec![0.0; n],
                total_rain_mm: vec![0.0; n],
                min_distance: (f64::INFINITY, 0.0),
                peak_gust: (0.0, 0.0, center),
                peak_sea: (f64::NEG_INFINITY, 0.0),
                failed: 0,
            },
            alerts: Alerts {
                rain_warn: RainWarnings::default(),
                sea_level_reached: vec![false; nwarn],
                ped_reached: [false; 2],
                within: [false; 2],
                landfall_emitted: false,
                prev_storm_cell_sea: None,
            },
        }
    }

    /// Whether the fields are due at `t`; if so, schedule the next evaluation.
    pub fn forcing_due(&mut self, t: f64) -> bool {
        if t + 1e-9 < self.next_forcing {
            return false;
        }
        while self.next_forcing <= t + 1e-9 {
            self.next_forcing += self.inputs.forcing_step;
        }
        true
    }
}
