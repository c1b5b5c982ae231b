//! Which simulated events become which injects: the event kinds the plugins emit
//! (typhoon, design storm, flood, fire, crowd) mapped to an inject template, the simulated
//! source that delivers it (`from`), the player role that receives it (`to`), the
//! capability it exercises and the standards it is judged against (by metric prefix).

/// One mapping from event kinds to an inject template.
#[derive(Debug)]
pub struct Rule {
    /// Template key under `[injects.<key>]`.
    pub key: &'static str,
    /// Event kinds (exact, or a prefix ending in `*`).
    pub kinds: &'static [&'static str],
    /// Simulated source role key.
    pub from: &'static str,
    /// Player role key.
    pub to: &'static str,
    /// Capability key (`[capabilities.<key>]`).
    pub capability: &'static str,
    /// Standards whose metric starts with one of these are this inject's criteria.
    pub metrics: &'static [&'static str],
    /// Keep events at different named places (assets, shelters) in separate injects.
    pub per_place: bool,
    /// Which field to draw on the situation map of this inject.
    pub field: Field,
}

/// The field drawn on an inject's situation map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Water,
    Fire,
    None,
}

/// The mapping, in template order. Kinds not listed (e.g. `input.warning`, or
/// `density.cleared`, the end of a crowding episode) make no inject.
pub const RULES: &[Rule] = &[
    Rule {
        key: "storm_approach",
        kinds: &["storm.within_*", "storm.nearest_approach", "storm.landfall"],
        from: "weather_bureau",
        to: "command_centre",
        capability: "situational_assessment",
        metrics: &["typhoon."],
        per_place: false,
        field: Field::Water,
    },
    Rule {
        key: "rain_warning",
        kinds: &["rain.warning"],
        from: "weather_bureau",
        to: "district_government",
        capability: "public_warning",
        metrics: &["typhoon.rain", "design_storm."],
        per_place: false,
        field: Field::Water,
    },
    Rule {
        key: "wind_warning",
        kinds: &["wind.pedestrian_unsafe"],
        from: "weather_bureau",
        to: "district_government",
        capability: "public_warning",
        metrics: &["typhoon.peak_gust", "typhoon.peak_wind"],
        per_place: false,
        field: Field::None,
    },
    Rule {
        key: "peak_gust",
        kinds: &["wind.peak_gust"],
        from: "weather_bureau",
        to: "command_centre",
        capability: "situational_assessment",
        metrics: &["typhoon.peak_gust", "typhoon.peak_wind"],
        per_place: false,
        field: Field::None,
    },
    Rule {
        key: "sea_level_warning",
        kinds: &["sea_level.warning"],
        from: "ocean_bureau",
        to: "district_government",
        capability: "public_warning",
        metrics: &["typhoon.peak_sea_level"],
        per_place: false,
        field: Field::Water,
    },
    Rule {
        key: "asset_failed",
        kinds: &["asset.failed"],
        from: "utility_sim",
        to: "utility",
        capability: "infrastructure_systems",
        metrics: &["flood.assets_failed", "typhoon.assets_failed"],
        per_place: true,
        field: Field::Water,
    },
    Rule {
        key: "road_closed",
        kinds: &["road.closed"],
        from: "sensor_network",
        to: "command_centre",
        capability: "critical_transportation",
        metrics: &["flood.max_road", "flood.peak_road", "flood.road"],
        per_place: false,
        field: Field::Water,
    },
    Rule {
        key: "road_reopened",
        kinds: &["road.reopened"],
        from: "sensor_network",
        to: "command_centre",
        capability: "critical_transportation",
        metrics: &[],
        per_place: false,
        field: Field::None,
    },
    Rule {
        key: "ground_floor_flooded",
        kinds: &["buildings.ground_floor_flooded"],
        from: "call_110",
        to: "district_government",
        capability: "mass_care",
        metrics: &["flood.buildings", "flood.direct_loss", "flood.waterlogging"],
        per_place: false,
        field: Field::Water,
    },
    Rule {
        key: "people_danger",
        kinds: &["people.danger"],
        from: "call_120",
        to: "command_centre",
        capability: "search_and_rescue",
        metrics: &["flood.people_exposed"],
        per_place: false,
        field: Field::Water,
    },
    Rule {
        key: "fire_reported",
        kinds: &["fire.reported", "fire.ignited"],
        from: "call_119",
        to: "fire_brigade",
        capability: "fire_management",
        metrics: &["fire.coverage", "fire.response", "fire.travel", "fire.nfpa"],
        per_place: true,
        field: Field::Fire,
    },
    Rule {
        key: "engine_arrived",
        kinds: &["engine.dispatched", "engine.arrived"],
        from: "field_unit",
        to: "fire_brigade",
        capability: "fire_management",
        metrics: &["fire.response", "fire.coverage_5min", "fire.nfpa"],
        per_place: false,
        field: Field::None,
    },
    Rule {
        key: "fire_access_blocked",
        kinds: &[
            "engine.rerouted",
            "engine.stranded",
            "fire.unreachable",
            "fire.no_route",
            "coverage.disconnected",
        ],
        from: "field_unit",
        to: "command_centre",
        capability: "critical_transportation",
        metrics: &["fire.coverage_unreachable", "fire.response"],
        per_place: false,
        field: Field::Fire,
    },
    Rule {
        key: "fire_outcome",
        kinds: &[
            "fire.contained",
            "fire.out",
            "building.burnt",
            "fire.casualties",
        ],
        from: "field_unit",
        to: "command_centre",
        capability: "fire_management",
        metrics: &["fire.deaths", "fire.buildings_burnt", "fire.direct_loss"],
        per_place: false,
        field: Field::Fire,
    },
    Rule {
        key: "evacuation_ordered",
        kinds: &["evacuation.ordered"],
        from: "district_sim",
        to: "shelter_manager",
        capability: "evacuation",
        metrics: &["crowd.evacuat", "crowd.not_safe"],
        per_place: false,
        field: Field::None,
    },
    Rule {
        key: "crowd_density",
        kinds: &["density.high", "density.critical"],
        from: "venue_cctv",
        to: "venue_security",
        capability: "crowd_safety",
        metrics: &["crowd.max_time_above", "crowd.peak_density", "crowd.places"],
        per_place: false,
        field: Field::None,
    },
    Rule {
        key: "crowd_injured",
        kinds: &["injured"],
        from: "call_120",
        to: "command_centre",
        capability: "crowd_safety",
        metrics: &["crowd.injured"],
        per_place: false,
        field: Field::None,
    },
    Rule {
        key: "shelter_full",
        kinds: &["shelter.full"],
        from: "shelter_sim",
        to: "shelter_manager",
        capability: "mass_care",
        metrics: &["crowd.not_safe"],
        per_place: true,
        field: Field::None,
    },
    Rule {
        key: "evacuation_complete",
        kinds: &["evacuation.complete"],
        from: "shelter_sim",
        to: "command_centre",
        capability: "evacuation",
        metrics: &["crowd.evacuation_time", "crowd.evacuated"],
        per_place: false,
        field: Field::None,
    },
];

/// The rule an event kind falls under, if any.
pub fn rule_for(kind: &str) -> Option<usize> {
    RULES.iter().position(|r| {
        r.kinds.iter().any(|k| match k.strip_suffix('*') {
            Some(prefix) => kind.starts_with(prefix),
            None => *k == kind,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_rules() {
        assert_eq!(
            RULES[rule_for("storm.within_200km").unwrap()].key,
            "storm_approach"
        );
        assert_eq!(RULES[rule_for("road.closed").unwrap()].key, "road_closed");
        assert_eq!(RULES[rule_for("asset.failed").unwrap()].key, "asset_failed");
        assert!(rule_for("input.warning").is_none());
        assert!(rule_for("density.cleared").is_none());
    }

    #[test]
    fn rule_keys_are_unique() {
        let mut k: Vec<&str> = RULES.iter().map(|r| r.key).collect();
        k.sort();
        k.dedup();
        assert_eq!(k.len(), RULES.len());
    }
}
