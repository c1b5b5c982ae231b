//! What the fire model needs to know of each building: its fire stages (fire load of its
//! use, EN 1991-1-2 Annex E), its cell kind (construction) and Hamada's geometry measured
//! from the grid; and the building nearest a point (where a secondary fire starts).

use crate::city::{BuildingUse, City, Construction, NO_BUILDING};

use super::spread::{self, Geometry};

/// Tile size for the local fire-resistive share, m: about a city block (a modelling
/// choice; the share is taken over 3 × 3 tiles).
pub const FR_TILE_M: f64 = 100.0;

/// Growth to flashover, s: modern furnished rooms reached flashover in under 5 min
/// (3 min 40 s in the side-by-side living-room test of Kerber 2012, Fire Technology
/// 48:865–891).
pub const GROWTH_S: f64 = 220.0;

/// (fire load density MJ/m², heat release rate per m² MW/m²) by use, from EN 1991-1-2
/// Annex E (Tables E.4, E.5; mean fire loads): dwelling 780 / 0.25; office 420 / 0.25;
/// industrial has no row: shopping centre 600 / 0.25 as the nearest high-load row;
/// public: school classroom 285 / 0.25.
pub fn fire_load(u: BuildingUse) -> (f64, f64) {
    match u {
        BuildingUse::Residential => (780.0, 0.25),
        BuildingUse::Commercial => (420.0, 0.25),
        BuildingUse::Industrial => (600.0, 0.25),
        BuildingUse::Public => (285.0, 0.25),
    }
}

/// Stage durations [growth, fully developed, decay], s. In EN 1991-1-2 Annex E the
/// steady phase lasts until 70 % of the fire load is burnt; the rest burns in a linear
/// decay (twice the time the same energy takes at the steady rate).
pub fn stage_durations(u: BuildingUse) -> spread::Stages {
    let (q, rhr) = fire_load(u);
    [
        GROWTH_S as f32,
        (0.7 * q / rhr) as f32,
        (2.0 * 0.3 * q / rhr) as f32,
    ]
}

/// A building's cell kind in the spread grid.
pub fn building_kind(c: Construction) -> u8 {
    match c {
        Construction::FireResistive => spread::RESISTIVE,
        Construction::Wooden | Construction::ProtectedWooden => spread::WOOD,
    }
}

/// Hamada's geometry of each building, measured from the grid: side `a` = √footprint;
/// separation `d` = edge-to-edge distance to the nearest other building (labels of a
/// multi-source 8-neighbour distance transform from all building cells meet half-way
/// across each gap); `f` = fire-resistive share of the buildings whose anchor lies in
/// the 3 × 3 tiles of `FR_TILE_M` around the building's own (Hamada's f is a district
/// share: a per-building 0/1 would make the medium patchy and the shortest path faster
/// than the formula).
pub fn building_geometry(city: &City, limit_m: f64) -> Vec<Geometry> {
    use std::collections::{BTreeMap, BinaryHeap};
    #[derive(PartialEq)]
    struct L(f64, u32);
    impl Eq for L {}
    impl PartialOrd for L {
        fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for L {
        fn cmp(&self, o: &Self) -> std::cmp::Ordering {
            o.0.total_cmp(&self.0).then(o.1.cmp(&self.1))
        }
    }
    let g = city.grid;
    let (nx, ny) = (g.nx as i64, g.ny as i64);
    let n = g.len();
    let mut dist = vec![f64::INFINITY; n];
    let mut label = vec![spread::NONE; n];
    let mut heap = BinaryHeap::new();
    for c in 0..n {
        if city.building[c] != NO_BUILDING {
            dist[c] = 0.0;
            label[c] = city.building[c];
            heap.push(L(0.0, c as u32));
        }
    }
    let reach = limit_m / 2.0 + g.cell;
    let steps = [
        (1i64, 0i64, 1.0f64),
        (-1, 0, 1.0),
        (0, 1, 1.0),
        (0, -1, 1.0),
        (1, 1, std::f64::consts::SQRT_2),
        (1, -1, std::f64::consts::SQRT_2),
        (-1, 1, std::f64::consts::SQRT_2),
        (-1, -1, std::f64::consts::SQRT_2),
    ];
    while let Some(L(t, c)) = heap.pop() {
        let c = c as usize;
        if t > dist[c] {
            continue;
        }
        let (i, j) = ((c % g.nx) as i64, (c / g.nx) as i64);
        for &(di, dj, len) in &steps {
            let (a, b) = (i + di, j + dj);
            if a < 0 || b < 0 || a >= nx || b >= ny {
                continue;
            }
            let q = (b * nx + a) as usize;
            let nt = t + len * g.cell;
            if nt <= reach && nt < dist[q] {
                dist[q] = nt;
                label[q] = label[c];
                heap.push(L(nt, q as u32));
            }
        }
    }
    // Where labels meet: gap = centre-to-centre path − one cell.
    let mut pairs: BTreeMap<(u32, u32), f64> = BTreeMap::new();
    for c in 0..n {
        let lp = label[c];
        if lp == spread::NONE {
            continue;
        }
        let (i, j) = ((c % g.nx) as i64, (c / g.nx) as i64);
        for &(di, dj, len) in &steps {
            let (a, b) = (i + di, j + dj);
            if a < 0 || b < 0 || a >= nx || b >= ny {
                continue;
            }
            let q = (b * nx + a) as usize;
            let lq = label[q];
            if lq == spread::NONE || lq == lp {
                continue;
            }
            let gap = (dist[c] + dist[q] + len * g.cell - g.cell).max(0.0);
            let e = pairs
                .entry((lp.min(lq), lp.max(lq)))
                .or_insert(f64::INFINITY);
            *e = e.min(gap);
        }
    }
    let nb = city.buildings.len();
    let mut nearest = vec![f64::INFINITY; nb];
    for (&(p, q), &gap) in &pairs {
        nearest[p as usize] = nearest[p as usize].min(gap);
        nearest[q as usize] = nearest[q as usize].min(gap);
    }
    let tile = |b: &crate::city::Building| {
        let (i, j) = g.cell_of(b.anchor as usize);
        (
            (i as f64 * g.cell / FR_TILE_M) as i64,
            (j as f64 * g.cell / FR_TILE_M) as i64,
        )
    };
    let mut tiles: BTreeMap<(i64, i64), (u32, u32)> = BTreeMap::new();
    for b in &city.buildings {
        let e = tiles.entry(tile(b)).or_insert((0, 0));
        e.0 += u32::from(b.construction == Construction::FireResistive);
        e.1 += 1;
    }
    (0..nb)
        .map(|b| {
            let bd = &city.buildings[b];
            let (ti, tj) = tile(bd);
            let (mut fr, mut all) = (0u32, 0u32);
            for dj in -1..=1 {
                for di in -1..=1 {
                    if let Some(&(f, n)) = tiles.get(&(ti + di, tj + dj)) {
                        fr += f;
                        all += n;
                    }
                }
            }
            [
                f64::from(bd.footprint_m2).sqrt().max(g.cell) as f32,
                nearest[b].min(limit_m) as f32,
                (f64::from(fr) / f64::from(all.max(1))) as f32,
            ]
        })
        .collect()
}

/// The building cell nearest to (x, y), by square rings of cells (up to 500 m).
pub fn nearest_building(city: &City, x: f64, y: f64) -> Option<u32> {
    let g = city.grid;
    let (ci, cj) = g.locate(x, y)?;
    let max_r = ((500.0 / g.cell).ceil() as usize).max(1);
    for r in 0..=max_r {
        let (i0, i1) = (ci.saturating_sub(r), (ci + r).min(g.nx - 1));
        let (j0, j1) = (cj.saturating_sub(r), (cj + r).min(g.ny - 1));
        for j in j0..=j1 {
            for i in i0..=i1 {
                if (i == i0 || i == i1 || j == j0 || j == j1)
                    && city.building[g.index(i, j)] != NO_BUILDING
                {
                    return Some(g.index(i, j) as u32);
                }
            }
        }
    }
    None
}
