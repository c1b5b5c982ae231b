//! Where a run's wall time goes: each plugin's systems, the core's sampling and the
//! finish schedule, measured by laps of one stopwatch between the plugins' system sets
//! (see `Simulation::order_plugins`). Written to `timing.json`, never to the pure
//! outputs: a run's results do not depend on it.

use std::collections::BTreeMap;
use std::time::Instant;

use bevy_ecs::prelude::Resource;

/// Laps of the stopwatch, s, by what ran since the previous lap.
#[derive(Resource, Debug, Default)]
pub struct Profile {
    last: Option<Instant>,
    seconds: BTreeMap<&'static str, f64>,
}

impl Profile {
    /// Attribute the time since the previous lap to `what`.
    pub fn lap(&mut self, what: &'static str) {
        let now = Instant::now();
        if let Some(last) = self.last {
            *self.seconds.entry(what).or_insert(0.0) += (now - last).as_secs_f64();
        }
        self.last = Some(now);
    }

    /// Forget where the stopwatch was (between ticks, time belongs to the caller).
    pub fn pause(&mut self) {
        self.last = None;
    }

    /// Seconds by plugin (and `core` for the sampling and schedule overhead, `finish`
    /// for the finish schedule).
    pub fn seconds(&self) -> &BTreeMap<&'static str, f64> {
        &self.seconds
    }

    /// Add time measured outside the schedule.
    pub fn add(&mut self, what: &'static str, seconds: f64) {
        *self.seconds.entry(what).or_insert(0.0) += seconds;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_add_up_by_name() {
        let mut p = Profile::default();
        p.lap("core");
        std::thread::sleep(std::time::Duration::from_millis(5));
        p.lap("flood");
        p.pause();
        p.lap("flood"); // restarts without counting the pause
        p.add("finish", 0.5);
        assert!(p.seconds()["flood"] >= 0.005);
        assert!(p.seconds()["flood"] < 0.5);
        assert_eq!(p.seconds()["finish"], 0.5);
        assert!(!p.seconds().contains_key("core"));
    }
}
