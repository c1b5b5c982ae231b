//! The city: a georeferenced grid of layers (elevation, land use, roads, buildings,
//! roughness, imperviousness) and point assets (stations, hospitals, shelters, lifelines).
//!
//! Dense layers are flat arrays in the [`City`] resource; buildings are a table indexed by
//! the per-cell `building` layer; assets become entities when a run starts.

pub mod assets;
pub mod generate;
pub mod import;
pub mod validation;

use bevy_ecs::prelude::Resource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::grid::{GridSpec, Palette, Raster, RasterKind};

pub use assets::{Asset, AssetKind, AssetSpec};

/// What covers a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum LandUse {
    /// Plazas, yards, bare ground.
    Open = 0,
    Road = 1,
    Building = 2,
    /// Parks, hills, green space.
    Green = 3,
    /// Rivers, channels, ponds.
    Water = 4,
    Sea = 5,
}

impl LandUse {
    pub const ALL: [LandUse; 6] = [
        Self::Open,
        Self::Road,
        Self::Building,
        Self::Green,
        Self::Water,
        Self::Sea,
    ];
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(code as usize).copied()
    }
    pub fn label(self) -> &'static str {
        match self {
            Self::Open => "open space",
            Self::Road => "road",
            Self::Building => "building",
            Self::Green => "park / green",
            Self::Water => "river / water",
            Self::Sea => "sea",
        }
    }
    pub fn color(self) -> [u8; 3] {
        match self {
            Self::Open => [228, 222, 206],
            Self::Road => [120, 120, 120],
            Self::Building => [196, 98, 78],
            Self::Green => [122, 176, 96],
            Self::Water => [86, 156, 214],
            Self::Sea => [36, 84, 150],
        }
    }
    /// Manning's n for overland flow, s/m^(1/3). Values from Chow (1959), Open-Channel
    /// Hydraulics, Table 5-6 (asphalt/concrete 0.013–0.016; short grass 0.030–0.035;
    /// natural streams 0.030–0.040) and the urban-flood practice of treating building
    /// footprints as very rough when they are not solid (Syme 2008: 0.3–1.0).
    pub fn manning(self) -> f32 {
        match self {
            Self::Open => 0.025,
            Self::Road => 0.015,
            Self::Building => 0.5,
            Self::Green => 0.035,
            Self::Water => 0.035,
            Self::Sea => 0.025,
        }
    }
    /// Impervious fraction of the cell: roofs and paving 0.9–1.0, lawns and parks
    /// 0.05–0.15 (ASCE/WEF MOP 23, Table 3.4 runoff coefficients, as ranges).
    pub fn imperviousness(self) -> f32 {
        match self {
            Self::Open => 0.6,
            Self::Road => 0.95,
            Self::Building => 1.0,
            Self::Green => 0.1,
            Self::Water | Self::Sea => 0.0,
        }
    }
    /// Categorical classes for rasters and maps (index = code).
    pub fn classes() -> Vec<(String, [u8; 3])> {
        Self::ALL
            .iter()
            .map(|l| (l.label().to_owned(), l.color()))
            .collect()
    }
}

/// Road hierarchy (Chinese urban road classes, CJJ 37-2012): design speeds 60–100,
/// 50–60 (trunk), 40–50 (secondary) and 20–30 km/h (branch). Ordered by class.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum RoadClass {
    None = 0,
    /// 支路 branch road.
    Local = 1,
    /// 次干路 secondary trunk road.
    Collector = 2,
    /// 主干路 main trunk road.
    Arterial = 3,
    /// 快速路 expressway.
    Expressway = 4,
}

impl RoadClass {
    pub fn from_code(code: u8) -> Option<Self> {
        [
            Self::None,
            Self::Local,
            Self::Collector,
            Self::Arterial,
            Self::Expressway,
        ]
        .get(code as usize)
        .copied()
    }
    /// Design speed, km/h: the lower end of each class's range in CJJ 37-2012 §3.
    pub fn design_speed_kmh(self) -> f64 {
        match self {
            Self::None => 0.0,
            Self::Local => 20.0,
            Self::Collector => 40.0,
            Self::Arterial => 50.0,
            Self::Expressway => 60.0,
        }
    }
}

/// What a building is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum BuildingUse {
    Residential = 0,
    Commercial = 1,
    Industrial = 2,
    /// Schools, hospitals, government, venues.
    Public = 3,
}

/// Construction class, as used by fire-spread models (Hamada: wooden, fire-protected
/// wooden, fire-resistive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Construction {
    Wooden = 0,
    /// Mortar-clad wooden (防火木造).
    ProtectedWooden = 1,
    /// Reinforced concrete or steel.
    FireResistive = 2,
}

/// One building: a footprint of cells and its attributes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Building {
    pub storeys: u16,
    /// Height above ground, m.
    pub height_m: f32,
    pub use_: BuildingUse,
    pub construction: Construction,
    /// People inside during a working day.
    pub occupants_day: f32,
    /// People inside at night (residents).
    pub occupants_night: f32,
    /// Replacement value, yuan.
    pub value_yuan: f64,
    /// Footprint, m².
    pub footprint_m2: f32,
    /// A cell of the footprint (for labels and routing).
    pub anchor: u32,
}

/// Sentinel in the `building` layer for cells with no building.
pub const NO_BUILDING: u32 = u32::MAX;

/// The city grid and everything on it. Immutable during a run: hazard state lives in the
/// plugins' resources and in `coupling`.
#[derive(Resource, Debug, Clone)]
pub struct City {
    pub grid: GridSpec,
    /// Ground elevation above mean sea level, m.
    pub elevation: Vec<f32>,
    pub landuse: Vec<LandUse>,
    pub road: Vec<RoadClass>,
    /// Index into `buildings`, or [`NO_BUILDING`].
    pub building: Vec<u32>,
    /// Manning's n, s/m^(1/3).
    pub manning: Vec<f32>,
    /// Impervious fraction, 0–1.
    pub imperviousness: Vec<f32>,
    pub buildings: Vec<Building>,
    /// Point assets, spawned as entities when a run starts.
    pub assets: Vec<AssetSpec>,
}

impl City {
    /// Road cells at river-bed level: bridge decks over a river whose bed the grid keeps
    /// under them (the generated city does this). Water there is the river, not a flooded
    /// road, so impacts treat them as river. A road cell counts as a bridge when a river cell
    /// within 60 m lies no more than 0.5 m below it.
    pub fn bridge_decks(&self) -> Vec<bool> {
        let g = &self.grid;
        let r = (60.0 / g.cell).ceil() as i64;
        let mut out = vec![false; g.len()];
        for (k, deck) in out.iter_mut().enumerate() {
            if self.landuse[k] != LandUse::Road {
                continue;
            }
            let (i, j) = g.cell_of(k);
            let z = self.elevation[k];
            'search: for dj in -r..=r {
                for di in -r..=r {
                    let (a, b) = (i as i64 + di, j as i64 + dj);
                    if a < 0 || b < 0 || a >= g.nx as i64 || b >= g.ny as i64 {
                        continue;
                    }
                    let m = g.index(a as usize, b as usize);
                    if self.landuse[m] == LandUse::Water && z <= self.elevation[m] + 0.5 {
                        *deck = true;
                        break 'search;
                    }
                }
            }
        }
        out
    }

    /// The cells whose water stands at the door of an asset at `cell`: its 3 × 3
    /// neighbourhood without the sea, rivers and bridge decks over them (a coastal pump
    /// station beside the sea is not flooded by it); the asset's own cell always counts.
    /// `bridges` is [`City::bridge_decks`], computed once by the caller. The one rule for
    /// flood depth at an asset, used by lifelines and by the flood's own asset failures.
    pub fn door_cells(&self, bridges: &[bool], cell: usize) -> Vec<usize> {
        let g = self.grid;
        let (i, j) = g.cell_of(cell);
        let mut out = vec![cell];
        for b in j.saturating_sub(1)..=(j + 1).min(g.ny - 1) {
            for a in i.saturating_sub(1)..=(i + 1).min(g.nx - 1) {
                let k = g.index(a, b);
                if k != cell
                    && !bridges[k]
                    && !matches!(self.landuse[k], LandUse::Sea | LandUse::Water)
                {
                    out.push(k);
                }
            }
        }
        out
    }

    /// An all-open flat city at elevation 0 (a starting point for tests and imports).
    pub fn flat(grid: GridSpec) -> Self {
        let n = grid.len();
        Self {
            grid,
            elevation: vec![0.0; n],
            landuse: vec![LandUse::Open; n],
            road: vec![RoadClass::None; n],
            building: vec![NO_BUILDING; n],
            manning: vec![LandUse::Open.manning(); n],
            imperviousness: vec![LandUse::Open.imperviousness(); n],
            buildings: Vec::new(),
            assets: Vec::new(),
        }
    }

    /// Bytes held per cell by the city layers (for the memory estimate).
    pub const BYTES_PER_CELL: usize = 4 + 1 + 1 + 4 + 4 + 4;

    /// Recompute roughness and imperviousness from land use.
    pub fn derive_surface(&mut self) {
        for (k, lu) in self.landuse.iter().enumerate() {
            self.manning[k] = lu.manning();
            self.imperviousness[k] = lu.imperviousness();
        }
    }

    /// Residents (night) or occupants (day) in all buildings.
    pub fn population(&self, daytime: bool) -> f64 {
        self.buildings
            .iter()
            .map(|b| {
                f64::from(if daytime {
                    b.occupants_day
                } else {
                    b.occupants_night
                })
            })
            .sum()
    }

    /// Land area (not water or sea), m².
    pub fn land_area_m2(&self) -> f64 {
        self.landuse
            .iter()
            .filter(|l| !matches!(l, LandUse::Water | LandUse::Sea))
            .count() as f64
            * self.grid.cell_area()
    }

    fn raster(
        &self,
        name: &str,
        title: &str,
        unit: &str,
        data: Vec<f32>,
        kind: RasterKind,
    ) -> Raster {
        Raster {
            name: name.into(),
            title: title.into(),
            unit: unit.into(),
            grid: self.grid,
            data,
            kind,
        }
    }

    /// Every layer as a raster, for export (`crucible city`) and maps.
    pub fn layers(&self) -> Vec<Raster> {
        let cont = |palette| RasterKind::Continuous { palette };
        let per_building = |f: &dyn Fn(&Building) -> f32| -> Vec<f32> {
            self.building
                .iter()
                .map(|&b| {
                    if b == NO_BUILDING {
                        f32::NAN
                    } else {
                        f(&self.buildings[b as usize])
                    }
                })
                .collect()
        };
        let road_classes = ["none", "local", "collector", "arterial", "expressway"];
        let road_colors = [
            [240, 240, 240],
            [170, 170, 170],
            [240, 200, 80],
            [230, 120, 40],
            [200, 40, 40],
        ];
        let use_classes = ["residential", "commercial", "industrial", "public"];
        let use_colors = [
            [230, 180, 90],
            [200, 80, 80],
            [140, 110, 160],
            [80, 130, 200],
        ];
        let cell_area = self.grid.cell_area() as f32;
        vec![
            self.raster(
                "elevation",
                "Ground elevation",
                "m",
                self.elevation.clone(),
                cont(Palette::Terrain),
            ),
            self.raster(
                "landuse",
                "Land use",
                "class",
                self.landuse.iter().map(|&l| l as u8 as f32).collect(),
                RasterKind::Categorical {
                    classes: LandUse::classes(),
                },
            ),
            self.raster(
                "roads",
                "Road class",
                "class",
                self.road.iter().map(|&r| r as u8 as f32).collect(),
                RasterKind::Categorical {
                    classes: road_classes
                        .iter()
                        .zip(road_colors)
                        .map(|(l, c)| (l.to_string(), c))
                        .collect(),
                },
            ),
            self.raster(
                "building_use",
                "Building use",
                "class",
                per_building(&|b| b.use_ as u8 as f32),
                RasterKind::Categorical {
                    classes: use_classes
                        .iter()
                        .zip(use_colors)
                        .map(|(l, c)| (l.to_string(), c))
                        .collect(),
                },
            ),
            self.raster(
                "storeys",
                "Building storeys",
                "storeys",
                per_building(&|b| f32::from(b.storeys)),
                cont(Palette::Heat),
            ),
            self.raster(
                "population_night",
                "Residents at night",
                "people per cell",
                per_building(&|b| b.occupants_night * cell_area / b.footprint_m2),
                cont(Palette::Density),
            ),
            self.raster(
                "manning",
                "Manning roughness",
                "s/m^(1/3)",
                self.manning.clone(),
                cont(Palette::Heat),
            ),
            self.raster(
                "imperviousness",
                "Impervious fraction",
                "-",
                self.imperviousness.clone(),
                cont(Palette::Heat),
            ),
        ]
    }
}
