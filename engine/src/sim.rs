//! The simulation core: the clock, the ordered phases of a tick, plugins and the run loop.

use bevy_ecs::prelude::*;
use bevy_ecs::schedule::{IntoScheduleConfigs, ScheduleLabel, SingleThreadedExecutor};
use bevy_ecs::system::ScheduleSystem;

use std::path::{Path, PathBuf};

use crate::city::{Building, City};
use crate::events::EventLog;
use crate::grid::Raster;
use crate::metrics::Metrics;
use crate::profile::Profile;
use crate::rng::RngStreams;
use crate::spec::KeyPath;

/// The phases of one tick, run in this order. Systems in a phase may read what earlier
/// phases of the same tick wrote. Coupling between hazards goes through resources
/// written in one phase and read in a later one (see `coupling`).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// External drivers: storm track, wind, rain, tide and surge, ignitions, warnings.
    Forcing,
    /// Hazard dynamics: overland flow, fire spread.
    Hazards,
    /// Consequences: road closures, damage, asset failures, casualties.
    Impacts,
    /// Decisions: dispatch, evacuation orders, repairs.
    Response,
    /// Agents move: pedestrians, engines.
    Movement,
    /// Gauges are updated and the time series sampled.
    Metrics,
}

/// A plugin's systems within one phase. Plugins are ordered inside each phase by
/// [`Simulation::order_plugins`], so which hazard reads what another wrote in the same
/// phase is declared, not an accident of the scenario's hazard order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PluginSet {
    pub plugin: &'static str,
    pub phase: Phase,
}

/// The core's sampling of every gauge, last in [`Phase::Metrics`]: plugins that set
/// their gauges in that phase run before it.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SampleSet;

const PHASES: [Phase; 6] = [
    Phase::Forcing,
    Phase::Hazards,
    Phase::Impacts,
    Phase::Response,
    Phase::Movement,
    Phase::Metrics,
];

/// The schedule run once per tick.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tick;

/// The schedule run once after the last tick: plugins write their KPIs and final maps.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct Finish;

/// Simulated time. Time is `tick × dt`, counted in whole ticks so it never drifts.
#[derive(Resource, Debug, Clone)]
pub struct SimClock {
    /// Completed ticks.
    pub tick: u64,
    /// Length of one tick, s.
    pub dt: f64,
    /// Number of ticks in the run.
    pub ticks: u64,
}

impl SimClock {
    pub fn new(dt: f64, duration: f64) -> Self {
        Self {
            tick: 0,
            dt,
            ticks: (duration / dt).round().max(1.0) as u64,
        }
    }
    /// Start of the current tick, s since the scenario start.
    pub fn t(&self) -> f64 {
        self.tick as f64 * self.dt
    }
    /// End of the current tick, s.
    pub fn t_end(&self) -> f64 {
        (self.tick + 1) as f64 * self.dt
    }
    pub fn duration(&self) -> f64 {
        self.ticks as f64 * self.dt
    }
    pub fn finished(&self) -> bool {
        self.tick >= self.ticks
    }
}

/// Set by any system that finds the state unusable (NaN, a broken invariant): the run
/// stops after the current tick and is reported as failed with this message.
#[derive(Resource, Debug, Default)]
pub struct RunHealth {
    pub failure: Option<String>,
}

impl RunHealth {
    /// Record the first failure; later ones are usually consequences of it.
    pub fn fail(&mut self, message: impl Into<String>) {
        if self.failure.is_none() {
            self.failure = Some(message.into());
        }
    }
}

/// A plugin could not be built from its part of the scenario. `key` points at the
/// scenario key at fault, relative to the file's root.
#[derive(Debug, Clone)]
pub struct BuildError {
    pub key: KeyPath,
    pub message: String,
}

impl BuildError {
    pub fn new(key: KeyPath, message: impl Into<String>) -> Self {
        Self {
            key,
            message: message.into(),
        }
    }
}

/// Rasters plugins leave for `maps/` at the end of a run.
#[derive(Resource, Debug, Default)]
pub struct MapOutputs(pub Vec<Raster>);

/// Who is in the district when the event starts: residents at home (night) or workers
/// and visitors in their buildings (day). The one place occupancy is chosen.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Population {
    pub daytime: bool,
}

impl Population {
    /// People in a building when the event starts.
    pub fn occupants(&self, b: &Building) -> f32 {
        if self.daytime {
            b.occupants_day
        } else {
            b.occupants_night
        }
    }
}

/// Everything a plugin is built from besides its own spec: where its entry sits in the
/// scenario, where relative paths lead, the run's clock, who is present, the city and
/// the run's random streams. The same for every plugin, and enough to check a spec
/// against the city without building a simulation (`crucible check`).
#[derive(Clone, Copy)]
pub struct BuildContext<'a> {
    /// This plugin's key path in the scenario (`hazards[k]`), for errors.
    pub at: &'a KeyPath,
    /// Folder that relative paths in the scenario are resolved against.
    pub base_dir: &'a Path,
    /// Wall-clock time of t = 0, s since 1970-01-01T00:00Z, when the scenario gives it.
    pub start_utc: Option<f64>,
    /// Length of the run, s.
    pub duration_s: f64,
    /// Length of one tick, s.
    pub tick_s: f64,
    pub population: Population,
    pub city: &'a City,
    pub streams: RngStreams,
}

impl BuildContext<'_> {
    /// A path from the scenario, resolved against its folder.
    pub fn resolve(&self, p: &Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.base_dir.join(p)
        }
    }

    /// The key path of a key of this plugin's entry.
    pub fn key(&self, k: &str) -> KeyPath {
        self.at.key(k)
    }
}

/// A hazard or service: owns its components, resources and systems and adds them in
/// [`Plugin::build`]. A scenario without a hazard never builds its plugin.
pub trait Plugin {
    /// Short name, used in logs and `summary.json`.
    fn name(&self) -> &'static str;
    /// Check the spec against the city without building anything (the plugin's pure
    /// setup): what `crucible check` reports before any simulation exists.
    fn check(&self, ctx: &BuildContext) -> Result<(), BuildError>;
    /// Insert resources, spawn entities, declare metrics and add systems.
    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError>;
}

/// Phase::Metrics: close the tick in the recorder.
pub fn sample_metrics(clock: Res<SimClock>, mut metrics: ResMut<Metrics>) {
    metrics.record(clock.t_end());
}

/// One run: a world, the tick and finish schedules, and the plugins that built them.
pub struct Simulation {
    pub world: World,
    tick: Schedule,
    finish: Schedule,
    plugins: Vec<&'static str>,
    /// The plugin being built: its systems go into its [`PluginSet`]s.
    building: Option<&'static str>,
}

impl Simulation {
    /// An empty simulation with the core resources: clock, random streams, event log,
    /// metrics recorder and run health.
    pub fn new(seed: u64, dt: f64, duration: f64, metrics_interval: f64) -> Self {
        let mut world = World::new();
        world.insert_resource(SimClock::new(dt, duration));
        world.insert_resource(RngStreams::new(seed));
        world.insert_resource(EventLog::default());
        world.insert_resource(Metrics::new(metrics_interval));
        world.insert_resource(RunHealth::default());
        let mut tick = Schedule::new(Tick);
        // One run, one thread: batches put one run on each core. Grid kernels may still
        // use rayon inside a system; they are written so the result does not depend on it.
        tick.set_executor(SingleThreadedExecutor::new());
        tick.configure_sets(
            (
                Phase::Forcing,
                Phase::Hazards,
                Phase::Impacts,
                Phase::Response,
                Phase::Movement,
                Phase::Metrics,
            )
                .chain(),
        );
        tick.add_systems(sample_metrics.in_set(Phase::Metrics).in_set(SampleSet));
        let mut finish = Schedule::new(Finish);
        finish.set_executor(SingleThreadedExecutor::new());
        Self {
            world,
            tick,
            finish,
            plugins: Vec::new(),
            building: None,
        }
    }

    /// Order the named plugins' systems inside every phase: earlier names run first.
    /// A stopwatch lap after each plugin's set attributes the time to it ([`Profile`]).
    pub fn order_plugins(&mut self, names: &[&'static str]) {
        self.world.insert_resource(Profile::default());
        for phase in PHASES {
            if let Some(&first) = names.first() {
                self.tick.add_systems(
                    (|mut p: ResMut<Profile>| p.lap("core"))
                        .in_set(phase)
                        .before(PluginSet {
                            plugin: first,
                            phase,
                        }),
                );
            }
            for (k, &plugin) in names.iter().enumerate() {
                let lap = (move |mut p: ResMut<Profile>| p.lap(plugin))
                    .in_set(phase)
                    .after(PluginSet { plugin, phase });
                match names.get(k + 1) {
                    Some(&next) => self.tick.add_systems(lap.before(PluginSet {
                        plugin: next,
                        phase,
                    })),
                    None if phase == Phase::Metrics => self.tick.add_systems(lap.before(SampleSet)),
                    None => self.tick.add_systems(lap),
                };
            }
            let sets: Vec<PluginSet> = names
                .iter()
                .map(|&plugin| PluginSet { plugin, phase })
                .collect();
            for pair in sets.windows(2) {
                self.tick
                    .configure_sets(pair[0].in_set(phase).before(pair[1]));
            }
            if let Some(&last) = sets.last() {
                self.tick.configure_sets(last.in_set(phase));
                if phase == Phase::Metrics {
                    self.tick.configure_sets(last.before(SampleSet));
                }
            }
        }
    }

    /// Build a plugin into this simulation.
    pub fn add_plugin(
        &mut self,
        plugin: &dyn Plugin,
        ctx: &BuildContext,
    ) -> Result<(), BuildError> {
        self.building = Some(plugin.name());
        let built = plugin.build(self, ctx);
        self.building = None;
        built?;
        self.plugins.push(plugin.name());
        Ok(())
    }

    /// Build a plugin into a simulation assembled in code (validation cases, tests),
    /// with a context made from the world's own city and clock: hazard entry `index`,
    /// paths relative to the working folder, no start time, the world's `Population`
    /// (night if none).
    pub fn add_plugin_standalone(
        &mut self,
        plugin: &dyn Plugin,
        index: usize,
    ) -> Result<(), BuildError> {
        let city = self.world.resource::<City>().clone();
        let at = KeyPath::root().key("hazards").index(index);
        let clock = self.clock().clone();
        let ctx = BuildContext {
            at: &at,
            base_dir: Path::new("."),
            start_utc: None,
            duration_s: clock.duration(),
            tick_s: clock.dt,
            population: self
                .world
                .get_resource::<Population>()
                .copied()
                .unwrap_or(Population { daytime: false }),
            city: &city,
            streams: *self.world.resource::<RngStreams>(),
        };
        self.add_plugin(plugin, &ctx)
    }

    /// Names of the plugins built, in build order.
    pub fn plugins(&self) -> &[&'static str] {
        &self.plugins
    }

    /// Add systems to a phase of the tick, inside the building plugin's [`PluginSet`].
    /// A plugin's systems within a phase run in the order added unless they declare
    /// otherwise; add them `.chain()`ed when order matters.
    pub fn add_systems<M>(
        &mut self,
        phase: Phase,
        systems: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> &mut Self {
        match self.building {
            Some(plugin) => self
                .tick
                .add_systems(systems.in_set(phase).in_set(PluginSet { plugin, phase })),
            None => self.tick.add_systems(systems.in_set(phase)),
        };
        self
    }

    /// Add systems run once after the last tick (KPIs, final maps).
    pub fn add_finish_systems<M>(
        &mut self,
        systems: impl IntoScheduleConfigs<ScheduleSystem, M>,
    ) -> &mut Self {
        self.finish.add_systems(systems);
        self
    }

    pub fn clock(&self) -> &SimClock {
        self.world.resource::<SimClock>()
    }

    /// Advance one tick. Fails if a system reported a failure during it.
    pub fn step(&mut self) -> Result<(), String> {
        self.tick.run(&mut self.world);
        if let Some(failure) = self.world.resource_mut::<RunHealth>().failure.take() {
            return Err(failure);
        }
        self.world.resource_mut::<SimClock>().tick += 1;
        Ok(())
    }

    /// Run every remaining tick, calling `progress` with the finished fraction after each,
    /// then the finish schedule.
    pub fn run_to_end(&mut self, mut progress: impl FnMut(f64)) -> Result<(), String> {
        while !self.clock().finished() {
            self.step()?;
            if let Some(mut p) = self.world.get_resource_mut::<Profile>() {
                p.lap("core");
                p.pause();
            }
            let c = self.clock();
            progress(c.tick as f64 / c.ticks as f64);
        }
        let finish_start = std::time::Instant::now();
        self.finish.run(&mut self.world);
        if let Some(mut p) = self.world.get_resource_mut::<Profile>() {
            p.add("finish", finish_start.elapsed().as_secs_f64());
        }
        match self.world.resource_mut::<RunHealth>().failure.take() {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }
}
