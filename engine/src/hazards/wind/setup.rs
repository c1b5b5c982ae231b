//! The uniform wind's pure setup: the spec's speed and direction as a field over the
//! grid (it needs nothing else of the city).

use super::spec::WindSpec;
use crate::coupling::SurfaceWind;
use crate::sim::{BuildContext, BuildError};

impl WindSpec {
    /// (u east, v north) components of the wind, m/s.
    pub fn components(&self) -> (f64, f64) {
        let to = (self.from_deg + 180.0).to_radians();
        (self.speed_m_s * to.sin(), self.speed_m_s * to.cos())
    }
}

/// The surface wind field of the spec over the city's grid.
pub fn setup(spec: &WindSpec, ctx: &BuildContext) -> Result<SurfaceWind, BuildError> {
    let (u, v) = spec.components();
    Ok(SurfaceWind::uniform(
        &ctx.city.grid,
        u as f32,
        v as f32,
        spec.gust_factor as f32,
    ))
}
