//! One run: scenario → city → simulation with its plugins → outputs.

use std::collections::BTreeMap;
use std::sync::Arc;

use bevy_ecs::prelude::*;
use serde::Serialize;

use crate::city::assets::{check_assets, read_assets_csv, spawn_assets};
use crate::city::generate::generate;
use crate::city::import::city_from_asc;
use crate::city::{AssetSpec, City};
use crate::coupling::Closures;
use crate::events::{Event, EventLog};
use crate::grid::{Palette, Raster, RasterKind};
use crate::metrics::{Kpi, MetricDef, MetricStats, Metrics};
use crate::scenario::{CitySource, LoadedScenario, ScenarioError};
use crate::sim::{BuildContext, MapOutputs, Plugin, Population, RunHealth, Simulation};
use crate::spec::KeyPath;
use crate::standards::{Verdict, evaluate};

/// Why a run did not finish.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The scenario or a file it names is wrong (exit code 2).
    #[error(transparent)]
    Input(#[from] ScenarioError),
    /// The simulation failed (NaN, broken invariant) (exit code 1).
    #[error("run failed at t = {t} s: {message}")]
    Failed { t: f64, message: String },
}

/// Everything a finished run produced. All of it is a pure function of scenario and seed.
pub struct RunOutput {
    pub summary: Summary,
    pub timeseries_csv: String,
    pub events: Vec<Event>,
    pub maps: Vec<Raster>,
}

/// `summary.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub plan: String,
    pub seed: u64,
    pub crucible_version: String,
    pub simulated_duration_s: f64,
    pub ticks: u64,
    pub plugins: Vec<String>,
    pub kpis: BTreeMap<String, Kpi>,
    pub standards: Vec<Verdict>,
    pub metrics: BTreeMap<String, MetricStats>,
    pub metric_definitions: Vec<MetricDef>,
    pub events_by_kind: BTreeMap<String, u64>,
}

/// Build (or import) the scenario's city, with its assets, checked against the grid.
pub fn prepare_city(loaded: &LoadedScenario) -> Result<City, ScenarioError> {
    crate::memory::ensure_fits(loaded)?;
    let s = &loaded.scenario;
    let root = KeyPath::root();
    let mut city = match &s.city {
        CitySource::Generate(g) => generate(g),
        CitySource::Raster(r) => {
            let landuse = r.landuse.as_ref().map(|p| loaded.resolve(p));
            let mut c = city_from_asc(
                &loaded.resolve(&r.elevation),
                landuse.as_deref(),
                &loaded.inputs,
            )
            .map_err(|e| loaded.error_at(&root.key("city"), e.to_string()))?;
            c.grid.epsg = r.epsg;
            c
        }
    };
    let mut extra: Vec<(KeyPath, AssetSpec)> = Vec::new();
    if let Some(csv) = &s.assets_csv {
        let list = read_assets_csv(&loaded.resolve(csv), &loaded.inputs)
            .map_err(|e| loaded.error_at(&root.key("assets_csv"), e.to_string()))?;
        extra.extend(list.into_iter().map(|a| (root.key("assets_csv"), a)));
    }
    for (k, a) in s.assets.iter().enumerate() {
        extra.push((root.key("assets").index(k), a.clone()));
    }
    for (k, a) in s.plan.add_assets.iter().enumerate() {
        extra.push((root.key("plan").key("add_assets").index(k), a.clone()));
    }
    for (k, id) in s.plan.remove_assets.iter().enumerate() {
        let before = city.assets.len();
        city.assets.retain(|a| &a.id != id);
        if city.assets.len() == before {
            return Err(loaded.error_at(
                &root.key("plan").key("remove_assets").index(k),
                format!("the city has no asset `{id}`"),
            ));
        }
    }
    let first_extra = city.assets.len();
    city.assets.extend(extra.iter().map(|(_, a)| a.clone()));
    if let Err((k, message)) = check_assets(&city.assets, &city.grid) {
        let key = if k >= first_extra {
            extra[k - first_extra].0.clone()
        } else {
            root.key("city")
        };
        return Err(loaded.error_at(&key, message));
    }
    Ok(city)
}

/// The core plugin every run has: the city, its assets as entities, shared closures and
/// population figures.
fn build_city(sim: &mut Simulation, city: &City, population: Population) {
    let daytime = population.daytime;
    spawn_assets(&mut sim.world, &city.assets, &city.grid);
    sim.world.insert_resource(Closures::new(&city.grid));
    sim.world.insert_resource(MapOutputs::default());
    sim.world.insert_resource(population);
    let present = city.population(daytime);
    let mut m = sim.world.resource_mut::<Metrics>();
    m.set_kpi(
        "population.present",
        present.round(),
        "people",
        "people in the district when the event starts",
    );
    m.set_kpi(
        "population.residents",
        city.population(false).round(),
        "people",
        "residents of the district",
    );
    m.set_kpi(
        "city.land_area_km2",
        city.land_area_m2() / 1e6,
        "km²",
        "land area of the district",
    );
    let mut per_cell = vec![f32::NAN; city.grid.len()];
    let area = city.grid.cell_area() as f32;
    for (k, &b) in city.building.iter().enumerate() {
        if b != crate::city::NO_BUILDING {
            let b = &city.buildings[b as usize];
            per_cell[k] = population.occupants(b) * area / b.footprint_m2;
        }
    }
    sim.world.resource_mut::<MapOutputs>().0.push(Raster {
        name: "population".into(),
        title: if daytime {
            "People present (day)"
        } else {
            "People present (night)"
        }
        .into(),
        unit: "people per cell".into(),
        grid: city.grid,
        data: per_cell,
        kind: RasterKind::Continuous {
            palette: Palette::Density,
        },
    });
}

/// Build a run's simulation: core resources, the city, and one plugin per hazard.
pub fn build(loaded: &LoadedScenario, city: &City, seed: u64) -> Result<Simulation, ScenarioError> {
    let s = &loaded.scenario;
    let mut sim = Simulation::new(
        seed,
        s.time.tick_s,
        s.time.duration_s,
        s.outputs.metrics_interval_s,
    );
    sim.world.insert_resource(city.clone());
    sim.world.insert_resource(s.couplings);
    let population = Population {
        daytime: s.population.daytime,
    };
    build_city(&mut sim, city, population);
    for_each_plugin(loaded, city, seed, |plugin, ctx| {
        sim.add_plugin(plugin, ctx)
    })?;
    let metrics = sim.world.resource::<Metrics>();
    for (k, st) in s.standards.iter().enumerate() {
        // Indicators are computed after the finish schedule (engine/src/indicators.rs).
        if !metrics.knows(&st.metric) && !st.metric.starts_with("indicator.") {
            let mut names: Vec<&str> = metrics.defs().iter().map(|d| d.name.as_str()).collect();
            names.extend(metrics.kpis().keys().map(String::as_str));
            return Err(loaded.error_at(
                &KeyPath::root().key("standards").index(k).key("metric"),
                crate::spec::unknown_name("metric", &st.metric, &names),
            ));
        }
    }
    Ok(sim)
}

/// Check every hazard of the scenario against the city without building a simulation
/// (each plugin's pure setup): errors name the file, line and key.
pub fn check(loaded: &LoadedScenario, city: &City, seed: u64) -> Result<(), ScenarioError> {
    for_each_plugin(loaded, city, seed, |plugin, ctx| plugin.check(ctx))
}

/// Call `f` with each hazard's plugin and its build context, in scenario order.
fn for_each_plugin(
    loaded: &LoadedScenario,
    city: &City,
    seed: u64,
    mut f: impl FnMut(&dyn Plugin, &BuildContext) -> Result<(), crate::sim::BuildError>,
) -> Result<(), ScenarioError> {
    let s = &loaded.scenario;
    let start_utc = match &s.time.start {
        Some(t) => Some(
            crate::time::parse_utc(t)
                .map_err(|m| loaded.error_at(&KeyPath::root().key("time").key("start"), m))?,
        ),
        None => None,
    };
    let population = Population {
        daytime: s.population.daytime,
    };
    let streams = crate::rng::RngStreams::new(seed);
    for (k, h) in s.hazards.iter().enumerate() {
        let at = KeyPath::root().key("hazards").index(k);
        let ctx = BuildContext {
            at: &at,
            base_dir: &loaded.base_dir,
            start_utc,
            duration_s: s.time.duration_s,
            tick_s: s.time.tick_s,
            population,
            city,
            streams,
        };
        f(h.plugin().as_ref(), &ctx).map_err(|e| loaded.error_at(&e.key, e.message))?;
    }
    Ok(())
}

/// Run a scenario with a seed on a prepared city, reporting progress in [0, 1].
pub fn run(
    loaded: &LoadedScenario,
    city: &Arc<City>,
    seed: u64,
    progress: impl FnMut(f64),
) -> Result<RunOutput, RunError> {
    let mut sim = build(loaded, city, seed)?;
    if let Err(message) = sim.run_to_end(progress) {
        return Err(RunError::Failed {
            t: sim.clock().t(),
            message,
        });
    }
    debug_assert!(sim.world.resource::<RunHealth>().failure.is_none());
    Ok(finish(loaded, sim, seed))
}

fn finish(loaded: &LoadedScenario, mut sim: Simulation, seed: u64) -> RunOutput {
    let s = &loaded.scenario;
    let plugins = sim.plugins().iter().map(|p| p.to_string()).collect();
    let clock = sim.clock().clone();
    let events = sim
        .world
        .remove_resource::<EventLog>()
        .unwrap_or_default()
        .into_sorted();
    let maps = sim
        .world
        .remove_resource::<MapOutputs>()
        .unwrap_or_default()
        .0;
    // After every plugin's finish systems: the plan's indicators read their KPIs.
    sim.world.resource_scope::<Metrics, _>(|world, mut m| {
        crate::indicators::compute(&s.indicators, world.resource::<City>(), &mut m)
    });
    let metrics = sim.world.resource::<Metrics>();
    let mut events_by_kind = BTreeMap::new();
    for e in &events {
        *events_by_kind
            .entry(format!("{}.{}", e.source, e.kind))
            .or_insert(0) += 1;
    }
    let summary = Summary {
        scenario: s.name.clone(),
        plan: s.plan.name.clone(),
        seed,
        crucible_version: crate::VERSION.to_owned(),
        simulated_duration_s: clock.duration(),
        ticks: clock.ticks,
        plugins,
        kpis: metrics.kpis().clone(),
        standards: evaluate(&s.standards, metrics),
        metrics: metrics.all_stats(),
        metric_definitions: metrics.defs().to_vec(),
        events_by_kind,
    };
    RunOutput {
        summary,
        timeseries_csv: metrics.to_csv(),
        events,
        maps: if s.outputs.maps { maps } else { Vec::new() },
    }
}
