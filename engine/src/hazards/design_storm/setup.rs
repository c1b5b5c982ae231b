//! The design storm's pure setup: a uniform storm needs nothing of the city but the
//! grid's size and the point its warnings are given at.

use super::spec::DesignStormSpec;
use crate::events::Place;
use crate::sim::{BuildContext, BuildError};

/// What the forcing needs, fixed at build time.
pub struct DesignStormInputs {
    pub spec: DesignStormSpec,
    /// Cells of the rain field.
    pub cells: usize,
    /// Where rain warnings are placed: the grid's midpoint (no cell: the storm is
    /// uniform).
    pub warning_place: Place,
}

pub fn setup(spec: &DesignStormSpec, ctx: &BuildContext) -> Result<DesignStormInputs, BuildError> {
    let grid = ctx.city.grid;
    Ok(DesignStormInputs {
        spec: spec.clone(),
        cells: grid.len(),
        warning_place: Place {
            x: grid.x0 + grid.width_m() / 2.0,
            y: grid.y0 + grid.height_m() / 2.0,
            cell: None,
            name: None,
        },
    })
}
