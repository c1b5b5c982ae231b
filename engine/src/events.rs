//! The event log: what happened, when, where and how bad. It feeds `events.jsonl`,
//! reports and drill timelines (every drill inject carries the id of its event).

use bevy_ecs::prelude::Resource;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::grid::GridSpec;

/// How serious an event is, from routine to life-threatening.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Minor,
    Moderate,
    Major,
    Critical,
}

/// Where an event happened: map coordinates (m, in the city's reference system), the grid
/// cell, and the name of the asset or place when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub x: f64,
    pub y: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<[u32; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Place {
    /// The centre of grid cell (i, j), unnamed.
    pub fn of_cell(grid: &GridSpec, i: usize, j: usize) -> Self {
        let (x, y) = grid.center(i, j);
        Self {
            x,
            y,
            cell: Some([i as u32, j as u32]),
            name: None,
        }
    }
}

/// One thing that happened in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Sequence number in emission order: stable for a given scenario and seed.
    pub id: u64,
    /// Simulated time, s since the scenario start.
    pub t: f64,
    /// The plugin that emitted it (`flood`, `fire`, `crowd`, `lifelines`, …).
    pub source: String,
    /// Dotted kind, e.g. `road.closed`, `building.ignited`, `asset.failed`.
    pub kind: String,
    pub severity: Severity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<Place>,
    /// One-line English description; drills render their own text from `data`.
    pub message: String,
    /// Structured details (numbers with units in the key, e.g. `depth_m`).
    #[serde(skip_serializing_if = "Map::is_empty", default)]
    pub data: Map<String, Value>,
}

impl Event {
    pub fn at(&mut self, place: Place) -> &mut Self {
        self.place = Some(place);
        self
    }
    pub fn message(&mut self, text: impl Into<String>) -> &mut Self {
        self.message = text.into();
        self
    }
    pub fn with(&mut self, key: &str, value: impl Into<Value>) -> &mut Self {
        self.data.insert(key.to_owned(), value.into());
        self
    }
}

/// All events of a run, in emission order.
#[derive(Resource, Debug, Default, Clone)]
pub struct EventLog {
    events: Vec<Event>,
}

impl EventLog {
    /// Record an event; chain `.at(..)`, `.message(..)` and `.with(..)` to fill it in.
    pub fn emit(&mut self, t: f64, source: &str, kind: &str, severity: Severity) -> &mut Event {
        let id = self.events.len() as u64;
        self.events.push(Event {
            id,
            t,
            source: source.to_owned(),
            kind: kind.to_owned(),
            severity,
            place: None,
            message: String::new(),
            data: Map::new(),
        });
        self.events.last_mut().expect("just pushed")
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The events in time order (ties keep emission order).
    pub fn into_sorted(mut self) -> Vec<Event> {
        self.events
            .sort_by(|a, b| a.t.total_cmp(&b.t).then(a.id.cmp(&b.id)));
        self.events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_sort_by_time_then_emission() {
        let mut log = EventLog::default();
        log.emit(10.0, "flood", "road.closed", Severity::Minor);
        log.emit(5.0, "fire", "building.ignited", Severity::Major)
            .with("building", 3)
            .message("fire");
        log.emit(5.0, "crowd", "density.high", Severity::Major);
        let sorted = log.into_sorted();
        let ids: Vec<u64> = sorted.iter().map(|e| e.id).collect();
        assert_eq!(ids, vec![1, 2, 0]);
        assert_eq!(sorted[0].data["building"], 3);
    }
}
