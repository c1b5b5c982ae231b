//! The `kind = "crowd"` entry of a scenario: the operational model and its parameters,
//! and either a venue (outline, gates, inner walls, groups) or a district evacuation,
//! with their range checks. Checks against the city are in `setup`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::demographics::{PremovementSpec, SpeedSpec};
use super::model::{CsmParams, ModelKind};
use crate::spec::{KeyPath, Problem, in_range, positive};

/// `kind = "crowd"`: a venue egress or a district evacuation.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrowdSpec {
    /// Operational model: `csm` (collision-free speed model, default) or `sfm`.
    #[serde(default)]
    pub model: ModelKind,
    /// CSM parameter set: `egress` (default; door flows as measured) or `corridor`
    /// (Weidmann's fundamental diagram). See docs/models/crowd.md §2.3.
    #[serde(default)]
    pub parameters: ParamSet,
    /// Model time step, s (default 0.05 for the CSM, 0.01 for the SFM).
    #[serde(default)]
    pub dt_s: Option<f64>,
    /// Desired speeds.
    #[serde(default)]
    pub speeds: SpeedSpec,
    /// Size of the places density and crush risk are reported for, m.
    #[serde(default = "default_place")]
    pub place_m: f64,
    /// How often routes are re-chosen on density-slowed travel-time fields, s.
    #[serde(default = "default_reroute")]
    pub reroute_interval_s: f64,
    /// A venue with gates (scenario a).
    #[serde(default)]
    pub venue: Option<VenueSpec>,
    /// The city's population walking to shelters (scenario b).
    #[serde(default)]
    pub district: Option<DistrictSpec>,
}

fn default_place() -> f64 {
    10.0
}
fn default_reroute() -> f64 {
    10.0
}

/// Named CSM parameter sets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamSet {
    #[default]
    Egress,
    Corridor,
}

impl ParamSet {
    pub fn params(self) -> CsmParams {
        match self {
            Self::Egress => CsmParams::egress(),
            Self::Corridor => CsmParams::corridor(),
        }
    }
}

/// Outline of a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    Rectangle,
    Ellipse,
}

/// A stadium or plaza: an outline with gates, inner walls and groups of people.
/// Coordinates inside the venue are metres from its centre (x east, y north).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VenueSpec {
    pub shape: Shape,
    pub width_m: f64,
    pub height_m: f64,
    /// Map position of the centre, m (default: the centre of the city grid).
    #[serde(default)]
    pub center_x_m: Option<f64>,
    #[serde(default)]
    pub center_y_m: Option<f64>,
    /// Walking-grid cell, m (navigation and walls; gate widths are resolved to it).
    #[serde(default = "default_venue_cell")]
    pub cell_m: f64,
    pub gates: Vec<GateSpec>,
    /// Inner walls, each `[x1, y1, x2, y2]` in venue coordinates.
    #[serde(default)]
    pub walls: Vec<[f64; 4]>,
    pub groups: Vec<GroupSpec>,
}

fn default_venue_cell() -> f64 {
    0.5
}

/// An opening in the venue outline.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GateSpec {
    pub name: String,
    /// Direction of the gate from the venue centre, degrees clockwise from north.
    pub bearing_deg: f64,
    pub width_m: f64,
    /// The gate shuts at this time, s (a surge towards the others follows).
    #[serde(default)]
    pub closes_at_s: Option<f64>,
    /// The gate is shut until this time, s.
    #[serde(default)]
    pub opens_at_s: Option<f64>,
}

/// People who start in an area of the venue and leave together.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub name: String,
    pub people: u32,
    /// `[x0, y0, x1, y1]` in venue coordinates (default: the whole venue).
    #[serde(default)]
    pub area: Option<[f64; 4]>,
    /// When the group starts to leave (the end of the event, an alarm), s.
    #[serde(default)]
    pub start_s: f64,
    /// Delay of each person after `start_s`.
    #[serde(default)]
    pub premovement: Option<PremovementSpec>,
}

/// A district evacuation to the city's shelters.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistrictSpec {
    /// People each simulated pedestrian stands for (1 = everyone). Densities and shelter
    /// occupancy count people, not agents.
    #[serde(default = "default_ppa")]
    pub people_per_agent: f64,
    /// Time of the evacuation order, s; with `warning`, the delay from that warning to
    /// the order.
    #[serde(default)]
    pub warning_s: f64,
    /// Start the evacuation when a hazard issues this warning (the shared `Warnings`:
    /// `typhoon_blue` … `typhoon_red`, `rainstorm_blue` … `rainstorm_red`,
    /// `sea_level_<name>`), `warning_s` later. Nobody leaves if it is never issued.
    #[serde(default)]
    pub warning: Option<String>,
    /// Delay between the order and leaving home.
    pub premovement: PremovementSpec,
    /// Water deeper than this stops walkers, m (read from the flood's depth field when a
    /// flood runs). Without it only the shared FLOOD_WALK closures count.
    #[serde(default)]
    pub walk_depth_limit_m: Option<f64>,
    /// People in the station behind each metro entrance who are put on the street when
    /// the entrance goes out of service (power lost under `power_metro`, or flooded) and
    /// walk to the shelters from there. Set it from the operator's station counts;
    /// 0 (default) leaves the metro out of the evacuation.
    #[serde(default)]
    pub metro_people_per_entrance: f64,
}

fn default_ppa() -> f64 {
    10.0
}

impl CrowdSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        if let Some(dt) = self.dt_s {
            in_range(at.key("dt_s"), dt, 1e-4, 0.5, "the model time step")?;
        }
        positive(at.key("place_m"), self.place_m, "the place size")?;
        positive(
            at.key("reroute_interval_s"),
            self.reroute_interval_s,
            "the reroute interval",
        )?;
        match &self.speeds {
            SpeedSpec::AgeGroups { shares } => {
                for (k, s) in shares.iter().enumerate() {
                    in_range(
                        at.key("speeds").key("shares").index(k),
                        *s,
                        0.0,
                        1.0,
                        "an age-group share",
                    )?;
                }
                if shares.iter().sum::<f64>() <= 0.0 {
                    return Err((
                        at.key("speeds").key("shares"),
                        "the age-group shares add up to zero".into(),
                    ));
                }
            }
            SpeedSpec::Fixed { speed_m_s } => in_range(
                at.key("speeds").key("speed_m_s"),
                *speed_m_s,
                0.1,
                3.0,
                "the walking speed",
            )?,
            SpeedSpec::Weidmann => {}
        }
        match (&self.venue, &self.district) {
            (Some(v), None) => v.check(&at.key("venue"), self.parameters.params().radius),
            (None, Some(d)) => d.check(&at.key("district")),
            _ => Err((
                at.clone(),
                "give exactly one of `venue` (egress from a venue) or `district` \
                 (evacuation to shelters)"
                    .into(),
            )),
        }
    }
}

fn check_premovement(at: &KeyPath, p: &PremovementSpec) -> Result<(), Problem> {
    positive(
        at.key("median_s"),
        p.median_s,
        "the median pre-movement time",
    )?;
    in_range(
        at.key("log_sd"),
        p.log_sd,
        0.0,
        3.0,
        "the log standard deviation",
    )
}

impl VenueSpec {
    fn check(&self, at: &KeyPath, radius: f32) -> Result<(), Problem> {
        positive(at.key("width_m"), self.width_m, "the venue width")?;
        positive(at.key("height_m"), self.height_m, "the venue height")?;
        in_range(at.key("cell_m"), self.cell_m, 0.05, 2.0, "the walking cell")?;
        if self.width_m * self.height_m / (self.cell_m * self.cell_m) > 2e7 {
            return Err((
                at.key("cell_m"),
                "more than 2·10⁷ walking cells: use a coarser cell".into(),
            ));
        }
        if self.gates.is_empty() {
            return Err((at.key("gates"), "a venue needs at least one gate".into()));
        }
        let person = 2.0 * f64::from(radius);
        for (k, g) in self.gates.iter().enumerate() {
            let a = at.key("gates").index(k);
            in_range(
                a.key("bearing_deg"),
                g.bearing_deg,
                -360.0,
                360.0,
                "the bearing",
            )?;
            if !(g.width_m.is_finite() && g.width_m > person.max(self.cell_m)) {
                return Err((
                    a.key("width_m"),
                    format!(
                        "gate `{}`: a width of {} m is narrower than one person ({person:.2} m) \
                         or one walking cell ({} m)",
                        g.name, g.width_m, self.cell_m
                    ),
                ));
            }
        }
        // Venue coordinates are centred on the venue.
        let (hw, hh) = (
            0.5 * self.width_m + self.cell_m,
            0.5 * self.height_m + self.cell_m,
        );
        let inside =
            |x: f64, y: f64| x.is_finite() && y.is_finite() && x.abs() <= hw && y.abs() <= hh;
        for (k, &[x0, y0, x1, y1]) in self.walls.iter().enumerate() {
            if !(inside(x0, y0) && inside(x1, y1)) {
                return Err((
                    at.key("walls").index(k),
                    format!(
                        "the wall [{x0}, {y0}, {x1}, {y1}] leaves the venue (±{} m × ±{} m \
                         around its centre)",
                        0.5 * self.width_m,
                        0.5 * self.height_m
                    ),
                ));
            }
        }
        if self.groups.is_empty() {
            return Err((at.key("groups"), "a venue needs at least one group".into()));
        }
        for (k, g) in self.groups.iter().enumerate() {
            let a = at.key("groups").index(k);
            in_range(a.key("start_s"), g.start_s, 0.0, 1e7, "the start time")?;
            if let Some(p) = &g.premovement {
                check_premovement(&a.key("premovement"), p)?;
            }
            if let Some([x0, y0, x1, y1]) = g.area
                && !(x1 > x0 && y1 > y0 && inside(x0, y0) && inside(x1, y1))
            {
                return Err((
                    a.key("area"),
                    format!(
                        "group `{}`: the area must be [x0, y0, x1, y1] inside the venue with \
                         x1 > x0 and y1 > y0",
                        g.name
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl DistrictSpec {
    fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("people_per_agent"),
            self.people_per_agent,
            1.0,
            1e4,
            "people per agent",
        )?;
        in_range(
            at.key("warning_s"),
            self.warning_s,
            0.0,
            1e7,
            "the warning time",
        )?;
        check_premovement(&at.key("premovement"), &self.premovement)?;
        in_range(
            at.key("metro_people_per_entrance"),
            self.metro_people_per_entrance,
            0.0,
            1e6,
            "the people per metro entrance",
        )?;
        if let Some(d) = self.walk_depth_limit_m {
            in_range(
                at.key("walk_depth_limit_m"),
                d,
                0.01,
                5.0,
                "the walking depth limit",
            )?;
        }
        Ok(())
    }
}
