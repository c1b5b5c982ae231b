//! What the fire systems share: the `FireSim` resource (spread, road graph, incidents,
//! per-building bookkeeping, running totals) and the shared fields it writes.

use bevy_ecs::prelude::*;

use super::outputs::{self, Gauges};
use super::roads::RoadNet;
use super::setup::{FireSetup, Ignition};
use super::spec::{EgressSpec, FireSpec, ServiceSpec};
use super::spread::{self, Spread};
use crate::city::assets::Operational;
use crate::city::{Asset, AssetKind};
use crate::coupling::{Closures, FireState, blocked};
use crate::events::{EventLog, Place, Severity};
use crate::grid::GridSpec;
use crate::sim::{MapOutputs, Population};

/// One fire incident: an ignition and everything that spread from it.
#[derive(Debug, Clone)]
pub struct Incident {
    pub id: u32,
    pub cell: u32,
    pub cause: String,
    pub t_ignition: f64,
    /// Road cell the engines drive to.
    pub access: u32,
    pub started: bool,
    pub reported: bool,
    pub t_report: f64,
    pub first_alarm: bool,
    /// An engine is (or was) on scene.
    pub working: bool,
    pub first_arrival: Option<f64>,
    pub contained: Option<f64>,
    pub out: Option<f64>,
    pub engines: Vec<Entity>,
    pub needed_l_min: f64,
    pub cells_reached: u32,
    pub buildings: u32,
    /// (idle engines, closures version) of the last dispatch attempt.
    pub last_try: Option<(u64, u64)>,
    pub no_route_reported: bool,
}

/// Fire bookkeeping of one building.
#[derive(Debug, Clone, Default)]
pub struct BuildingFire {
    pub t_ignition: Option<f64>,
    pub incident: u32,
    pub cells: u32,
    pub burning: u32,
    pub burnt: u32,
    pub extinguished: u32,
    pub casualties_done: bool,
    pub burnt_reported: bool,
}

/// A substation watched for secondary ignitions: (asset id, entity, last operational
/// state).
pub type Watched = (String, Entity, bool);

/// The fire plugin's state.
#[derive(Resource)]
pub struct FireSim {
    pub grid: GridSpec,
    pub spread: Spread,
    pub net: RoadNet,
    pub service: ServiceSpec,
    pub egress: EgressSpec,
    /// Who is in the buildings (day or night occupancy).
    pub population: Population,
    pub incidents: Vec<Incident>,
    pub buildings: Vec<BuildingFire>,
    /// Pending (time, cell, cause) ignitions, latest first.
    pub schedule: Vec<Ignition>,
    /// Substations by id.
    pub substations: Vec<Watched>,
    pub secondary_p: f64,
    pub wind: (f32, f32),
    pub gauges: Gauges,
    /// Flow given to each cell this tick, L/min (scratch).
    pub given: Vec<f32>,
    /// Time each cell has been held at the needed flow, s.
    pub knockdown: Vec<f32>,
    /// First-engine response times (dispatch order to arrival), s.
    pub response_times: Vec<f64>,
    pub deaths: f64,
    pub loss_yuan: f64,
    pub burning_cells: u64,
    pub affected_cells: u64,
    pub buildings_burning: u64,
    pub buildings_burnt: u64,
    /// Buildings whose cells went out this tick (scratch).
    pub touched: Vec<u32>,
    /// Buildings on fire whose occupants have not yet met flashover.
    pub aset_queue: Vec<u32>,
    /// Cells ignited this tick (scratch).
    pub ignited: Vec<u32>,
    /// Cells burnt out this tick (scratch).
    pub burnt: Vec<u32>,
}

impl FireSim {
    /// The state at t = 0 from the setup.
    pub fn new(
        spec: &FireSpec,
        grid: GridSpec,
        setup: FireSetup,
        population: Population,
        substations: Vec<Watched>,
        gauges: Gauges,
    ) -> Self {
        let (wu, wv) = spec.wind();
        Self {
            grid,
            given: vec![0.0; grid.len()],
            knockdown: vec![0.0; grid.len()],
            spread: Spread::new(setup.spread),
            net: setup.net,
            service: spec.service,
            egress: spec.egress,
            population,
            incidents: Vec::new(),
            buildings: setup
                .building_cells
                .into_iter()
                .map(|cells| BuildingFire {
                    cells,
                    ..BuildingFire::default()
                })
                .collect(),
            schedule: setup.schedule,
            substations,
            secondary_p: spec.secondary.substation_failure_probability,
            wind: (wu as f32, wv as f32),
            gauges,
            response_times: Vec::new(),
            deaths: 0.0,
            loss_yuan: 0.0,
            burning_cells: 0,
            affected_cells: 0,
            buildings_burning: 0,
            buildings_burnt: 0,
            touched: Vec::new(),
            aset_queue: Vec::new(),
            ignited: Vec::new(),
            burnt: Vec::new(),
        }
    }

    /// Start an incident at a building cell.
    pub fn ignite(&mut self, t: f64, cell: u32, cause: &str, log: &mut EventLog) {
        if self.spread.status[cell as usize] != spread::UNBURNT {
            return;
        }
        let id = self.incidents.len() as u32;
        if !self.spread.ignite(cell as usize, t, id) {
            return;
        }
        self.incidents.push(Incident {
            id,
            cell,
            cause: cause.to_owned(),
            t_ignition: t,
            access: self.net.access[cell as usize],
            started: false,
            reported: false,
            t_report: f64::INFINITY,
            first_alarm: false,
            working: false,
            first_arrival: None,
            contained: None,
            out: None,
            engines: Vec::new(),
            needed_l_min: 0.0,
            cells_reached: 0,
            buildings: 0,
            last_try: None,
            no_route_reported: false,
        });
        log.emit(t, "fire", outputs::FIRE_IGNITED.name, Severity::Major)
            .at(self.place(cell))
            .message(format!("fire {id} starts ({cause})"))
            .with("incident", id)
            .with("cause", cause);
    }

    /// The centre of a cell, for events.
    pub fn place(&self, cell: u32) -> Place {
        let (i, j) = self.grid.cell_of(cell as usize);
        Place::of_cell(&self.grid, i, j)
    }

    /// A burning cell stops burning (burnt out or put out): update the shared fields and
    /// the building's counts.
    pub fn on_cell_out(
        &mut self,
        c: usize,
        state: &mut FireState,
        closures: Option<&mut Closures>,
        burnt_out: bool,
    ) {
        state.0[c] = 2;
        if let Some(cl) = closures {
            cl.set(c, blocked::FIRE, false);
        }
        self.burning_cells = self.burning_cells.saturating_sub(1);
        let b = self.spread.setup().building[c];
        if b != spread::NONE {
            let bf = &mut self.buildings[b as usize];
            bf.burning = bf.burning.saturating_sub(1);
            if burnt_out {
                bf.burnt += 1;
            } else {
                bf.extinguished += 1;
            }
            if bf.burning == 0 {
                self.buildings_burning = self.buildings_burning.saturating_sub(1);
            }
            self.touched.push(b);
        }
    }
}

/// The shared fields the fire writes and the map list, unless another plugin (or the
/// core) inserted them already.
pub fn insert_shared_fields(world: &mut World, grid: &GridSpec) {
    if world.get_resource::<FireState>().is_none() {
        world.insert_resource(FireState(vec![0; grid.len()]));
    }
    if world.get_resource::<Closures>().is_none() {
        world.insert_resource(Closures::new(grid));
    }
    if world.get_resource::<MapOutputs>().is_none() {
        world.insert_resource(MapOutputs::default());
    }
}

/// The substations of the world, by id (watched for secondary ignitions).
pub fn substations(world: &mut World) -> Vec<Watched> {
    let mut q = world.query::<(Entity, &Asset, &Operational)>();
    let mut v: Vec<Watched> = q
        .iter(world)
        .filter(|(_, a, _)| a.kind == AssetKind::Substation)
        .map(|(e, a, o)| (a.id.clone(), e, o.0))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}
