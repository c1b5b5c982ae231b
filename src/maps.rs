//! Engine rasters to map pictures: colours, a muted land-use base map and asset markers.

use std::path::Path;

use anyhow::Result;
use crucible_engine::city::{AssetKind, City, LandUse};
use crucible_engine::grid::{Palette, Raster, RasterKind};
use crucible_viz::{MapStyle, MapView, Marker, Ramp, render_map};

fn ramp(p: Palette) -> Ramp {
    match p {
        Palette::Terrain => Ramp::Terrain,
        Palette::Water => Ramp::Water,
        Palette::Heat => Ramp::Heat,
        Palette::Density => Ramp::Density,
        Palette::Time => Ramp::Time,
    }
}

fn asset_color(kind: AssetKind) -> [u8; 3] {
    match kind {
        AssetKind::FireStation => [220, 30, 30],
        AssetKind::Hospital => [255, 255, 255],
        AssetKind::Shelter => [30, 160, 60],
        AssetKind::Substation => [250, 200, 0],
        AssetKind::PumpStation => [20, 90, 200],
        AssetKind::MetroEntrance => [150, 60, 190],
        AssetKind::WaterPlant => [0, 190, 200],
        AssetKind::Telecom => [120, 120, 120],
    }
}

/// Markers for the city's assets.
fn asset_markers(city: &City) -> Vec<Marker> {
    let g = city.grid;
    city.assets
        .iter()
        .map(|a| Marker {
            col: (a.x - g.x0) / g.cell,
            row: g.ny as f64 - (a.y - g.y0) / g.cell,
            label: a.kind.label().to_owned(),
            color: asset_color(a.kind),
        })
        .collect()
}

/// Land use, lightened, as the base under sparse layers.
fn base_map(city: &City) -> Vec<[u8; 3]> {
    city.landuse
        .iter()
        .map(|l| {
            let c = if *l == LandUse::Building {
                [170, 160, 155]
            } else {
                l.color()
            };
            c.map(|v| ((u16::from(v) + 2 * 240) / 3) as u8)
        })
        .collect()
}

/// What every map of a city is drawn over: the muted land use and the assets. Made once
/// per city and shared by all its maps.
pub struct Backdrop {
    nx: usize,
    ny: usize,
    base: Vec<[u8; 3]>,
    markers: Vec<Marker>,
}

impl Backdrop {
    pub fn of(city: &City) -> Self {
        Self {
            nx: city.grid.nx,
            ny: city.grid.ny,
            base: base_map(city),
            markers: asset_markers(city),
        }
    }
}

/// Draw a raster to PNG over the backdrop (when both are on the same grid).
pub fn render_raster(r: &Raster, backdrop: &Backdrop, path: &Path) -> Result<()> {
    let style = match &r.kind {
        RasterKind::Continuous { palette } => MapStyle::Continuous {
            ramp: ramp(*palette),
            range: None,
        },
        RasterKind::Categorical { classes } => MapStyle::Categorical { classes },
    };
    let same_grid = r.grid.nx == backdrop.nx && r.grid.ny == backdrop.ny;
    let view = MapView {
        title: &r.title,
        unit: &r.unit,
        nx: r.grid.nx,
        ny: r.grid.ny,
        cell_m: r.grid.cell,
        data: &r.data,
        style,
        background: same_grid.then_some(backdrop.base.as_slice()),
        markers: if same_grid { &backdrop.markers } else { &[] },
    };
    render_map(&view, path)?;
    Ok(())
}
