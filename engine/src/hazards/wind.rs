//! A steady uniform surface wind: the simplest forcing, for fire spread studies without
//! a typhoon. It fills the shared [`SurfaceWind`] field the typhoon plugin would write.

use bevy_ecs::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::coupling::SurfaceWind;
use crate::metrics::Metrics;
use crate::sim::{BuildContext, BuildError, Plugin, Simulation};
use crate::spec::{KeyPath, Problem, in_range};

/// `kind = "wind"`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindSpec {
    /// 10-m mean wind speed (10-min average), m/s.
    pub speed_m_s: f64,
    /// Direction the wind blows **from**, degrees clockwise from north (meteorological).
    pub from_deg: f64,
    /// 3-s gust over 10-min mean. Default 1.49: WMO guidelines for converting between
    /// wind averaging periods (Harper, Kepert & Ginger 2010), "roughly open" exposure,
    /// off-sea/over-land conditions at 10 m.
    #[serde(default = "default_gust")]
    pub gust_factor: f64,
}

fn default_gust() -> f64 {
    1.49
}

/// Two f32 components and a gust per cell.
pub const BYTES_PER_CELL: usize = 12;

impl WindSpec {
    pub fn check(&self, at: &KeyPath) -> Result<(), Problem> {
        in_range(
            at.key("speed_m_s"),
            self.speed_m_s,
            0.0,
            120.0,
            "the wind speed",
        )?;
        in_range(
            at.key("from_deg"),
            self.from_deg,
            -360.0,
            360.0,
            "the wind direction",
        )?;
        in_range(
            at.key("gust_factor"),
            self.gust_factor,
            1.0,
            3.0,
            "the gust factor",
        )
    }

    /// (u east, v north) components of the wind, m/s.
    pub fn components(&self) -> (f64, f64) {
        let to = (self.from_deg + 180.0).to_radians();
        (self.speed_m_s * to.sin(), self.speed_m_s * to.cos())
    }
}

pub struct WindPlugin<'a>(pub &'a WindSpec);

impl Plugin for WindPlugin<'_> {
    fn name(&self) -> &'static str {
        "wind"
    }
    fn check(&self, _ctx: &BuildContext) -> Result<(), BuildError> {
        // A uniform wind needs nothing of the city.
        Ok(())
    }

    fn build(&self, sim: &mut Simulation, ctx: &BuildContext) -> Result<(), BuildError> {
        let grid = ctx.city.grid;
        let (u, v) = self.0.components();
        sim.world.insert_resource(SurfaceWind::uniform(
            &grid,
            u as f32,
            v as f32,
            self.0.gust_factor as f32,
        ));
        let id = sim.world.resource_mut::<Metrics>().declare(
            "wind.speed_m_s",
            "m/s",
            "10-m mean wind speed",
        );
        let speed = self.0.speed_m_s;
        sim.add_systems(crate::sim::Phase::Forcing, move |mut m: ResMut<Metrics>| {
            m.set(id, speed)
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direction_is_meteorological() {
        // A northerly wind blows towards the south.
        let (u, v) = WindSpec {
            speed_m_s: 10.0,
            from_deg: 0.0,
            gust_factor: 1.5,
        }
        .components();
        assert!(u.abs() < 1e-9 && (v + 10.0).abs() < 1e-9);
        let (u, _) = WindSpec {
            speed_m_s: 10.0,
            from_deg: 270.0,
            gust_factor: 1.5,
        }
        .components();
        assert!((u - 10.0).abs() < 1e-9, "a westerly blows east");
    }
}
