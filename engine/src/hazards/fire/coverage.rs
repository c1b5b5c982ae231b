//! Fire-station coverage: travel time from the nearest station to every cell, and the
//! shares the standards ask for.
//!
//! - 建标152-2017 (城市消防站建设标准): a station's crew must reach the edge of its
//!   district within 5 min of the dispatch order. The 5 min include turning out (≈ 1 min
//!   in the standard's derivation: ≈ 1 min turnout + ≈ 4 min driving), so a cell counts
//!   as covered when the road travel time is at most 300 s − turnout. Reported as the
//!   share of the district's land area.
//! - NFPA 1710: the first engine's travel time is at most 240 s for 90 % of incidents.
//!   Reported as the call-weighted share within 240 s and the call-weighted 90th
//!   percentile of travel time (calls weighted by each cell's expected ignitions).

use super::roads::{NONE, RoadNet};

/// Coverage of a district by its stations.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// Travel time from the nearest station, s, per cell (NaN for water, sea and cells
    /// without road access or route).
    pub time: Vec<f32>,
    /// Index of the nearest station by travel time (`NONE` if none).
    pub station: Vec<u32>,
    /// Share of land area within the 建标152-2017 limit.
    pub share_cn: f64,
    /// Call-weighted share within the NFPA 1710 travel limit.
    pub share_nfpa: f64,
    /// Call-weighted 90th percentile travel time, s (infinite if more than 10 % of the
    /// calls cannot be reached).
    pub p90_s: f64,
    /// Land area of the largest station district (cells nearest to one station), km².
    pub max_district_km2: f64,
    /// Share of land area no station can reach.
    pub unreachable_share: f64,
}

/// Limits of the coverage standards, s.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Travel limit of 建标152-2017 (5 min minus turnout).
    pub cn_travel_s: f64,
    /// NFPA 1710 first-engine travel limit.
    pub nfpa_travel_s: f64,
}

/// Coverage from station road cells over `land` cells; `calls` weights each cell by its
/// expected ignitions (any non-negative weights).
pub fn coverage(
    net: &RoadNet,
    stations: &[u32],
    land: &[bool],
    calls: &[f32],
    limits: Limits,
) -> Coverage {
    let sources: Vec<(u32, f64)> = stations.iter().map(|&c| (c, 0.0)).collect();
    let tree = net.search(&sources, &|_| false, &[]);
    let n = net.nx * net.ny;
    let cell_area = net.cell * net.cell;
    let mut time = vec![f32::NAN; n];
    let mut station = vec![NONE; n];
    let (mut land_n, mut cn_n, mut unreach) = (0u64, 0u64, 0u64);
    let mut per_station = vec![0u64; stations.len()];
    // Calls are binned by whole seconds of travel time for an exact, order-free
    // percentile; weights are summed in f64 in cell order.
    let mut bins: Vec<f64> = Vec::new();
    let (mut w_total, mut w_nfpa) = (0.0f64, 0.0f64);
    for c in 0..n {
        if !land[c] {
            continue;
        }
        land_n += 1;
        let w = f64::from(calls[c]);
        w_total += w;
        let a = net.access[c];
        let t = if a == NONE {
            f64::INFINITY
        } else {
            tree.time[a as usize]
        };
        if !t.is_finite() {
            unreach += 1;
            continue;
        }
        time[c] = t as f32;
        let s = tree.origin[a as usize];
        station[c] = s;
        per_station[s as usize] += 1;
        if t <= limits.cn_travel_s {
            cn_n += 1;
        }
        if t <= limits.nfpa_travel_s {
            w_nfpa += w;
        }
        let b = t.floor() as usize;
        if bins.len() <= b {
            bins.resize(b + 1, 0.0);
        }
        bins[b] += w;
    }
    let mut p90_s = f64::INFINITY;
    if w_total > 0.0 {
        let mut acc = 0.0;
        for (b, w) in bins.iter().enumerate() {
            acc += w;
            if acc >= 0.9 * w_total {
                p90_s = (b + 1) as f64;
                break;
            }
        }
    }
    let frac = |x: u64| {
        if land_n == 0 {
            0.0
        } else {
            x as f64 / land_n as f64
        }
    };
    Coverage {
        time,
        station,
        share_cn: frac(cn_n),
        share_nfpa: if w_total > 0.0 { w_nfpa / w_total } else { 0.0 },
        p90_s,
        max_district_km2: per_station.iter().copied().max().unwrap_or(0) as f64 * cell_area / 1e6,
        unreachable_share: frac(unreach),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_straight_road_is_covered_up_to_the_limit() {
        // One row of road, 10 m cells at 10 m/s: 1 s per cell.
        let nx = 100;
        let mut speed = vec![0.0; nx * 3];
        for i in 0..nx {
            speed[nx + i] = 10.0;
        }
        let net = RoadNet::from_speeds(nx, 3, 10.0, speed, 15.0);
        let land = vec![true; nx * 3];
        let calls = vec![1.0; nx * 3];
        let cov = coverage(
            &net,
            &[nx as u32],
            &land,
            &calls,
            Limits {
                cn_travel_s: 49.5,
                nfpa_travel_s: 89.5,
            },
        );
        // Cells 0..=49 (by column) are within 49.5 s of column 0: half the district.
        assert!((cov.share_cn - 0.5).abs() < 1e-9, "{}", cov.share_cn);
        assert!((cov.share_nfpa - 0.9).abs() < 1e-9, "{}", cov.share_nfpa);
        assert_eq!(cov.p90_s, 90.0);
        assert_eq!(cov.unreachable_share, 0.0);
        assert!((cov.max_district_km2 - 300.0 * 100.0 / 1e6).abs() < 1e-12);
    }
}
