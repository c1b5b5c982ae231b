//! Crowd density at 1 m cells and crush-risk bookkeeping per place.
//!
//! Density of a 1 m cell = people in the 3 × 3 m block around it / 9 m² (a measurement
//! area of the size RiMEA test 4 and field studies use, 4–10 m²). It is computed sparsely
//! (only occupied cells), so a district of many km² costs O(N log N), not O(area).
//!
//! Thresholds: 4 P/m² — moving crowds at high risk (Still 2014, Introduction to Crowd
//! Science); 5.5 P/m² — Fruin's (1993) "potentially dangerous crowd forces" (5.55).
//! A place leaves the high state below 3.57 P/m², Fruin's onset of involuntary contact,
//! and only after staying below it for [`CLEAR_DWELL_S`], so that a density flickering
//! round 4 does not raise an event every tick.

use std::collections::BTreeMap;

/// High-risk density for moving crowds, P/m² (Still).
pub const HIGH: f64 = 4.0;
/// Potentially dangerous crowd forces, P/m² (Fruin).
pub const CRITICAL: f64 = 5.5;
/// Below this a high place is clear again, P/m² (Fruin: involuntary contact).
pub const CLEAR: f64 = 3.57;
/// A place must stay below [`CLEAR`] this long to count as clear, s. A reporting choice,
/// not physics: it keeps one surge one episode in the event log.
pub const CLEAR_DWELL_S: f64 = 10.0;

/// Sparse 1 m density: occupied cells and their smoothed densities.
#[derive(Debug, Default, Clone)]
pub struct Density {
    /// (row, col) of each occupied cell, sorted, with its smoothed density (P/m²).
    pub cells: Vec<((i32, i32), f64)>,
    keys: Vec<(i32, i32)>,
}

impl Density {
    /// Recompute from positions (m) weighted by `people_per_agent`, on `cell` m cells
    /// (the window is 3 × 3 cells).
    pub fn compute(&mut self, xs: &[f32], ys: &[f32], cell: f64, people_per_agent: f64) {
        self.keys.clear();
        self.keys.extend(xs.iter().zip(ys).map(|(&x, &y)| {
            (
                (f64::from(y) / cell).floor() as i32,
                (f64::from(x) / cell).floor() as i32,
            )
        }));
        self.keys.sort_unstable();
        let mut counts: Vec<((i32, i32), u32)> = Vec::new();
        for &k in &self.keys {
            match counts.last_mut() {
                Some((c, n)) if *c == k => *n += 1,
                _ => counts.push((k, 1)),
            }
        }
        let area = 9.0 * cell * cell;
        self.cells.clear();
        for &((r, c), _) in &counts {
            let mut n = 0u32;
            for dr in -1..=1 {
                // The three cells of a row are contiguous in the sorted list.
                let lo = counts.partition_point(|&(k, _)| k < (r + dr, c - 1));
                for &(k, m) in &counts[lo..] {
                    if k > (r + dr, c + 1) {
                        break;
                    }
                    n += m;
                }
            }
            self.cells
                .push(((r, c), f64::from(n) * people_per_agent / area));
        }
    }

    pub fn max(&self) -> f64 {
        self.cells.iter().map(|c| c.1).fold(0.0, f64::max)
    }
}

/// Crush-risk state of one place.
#[derive(Debug, Clone, Default)]
pub struct PlaceRisk {
    pub peak: f64,
    pub t_peak: f64,
    pub above_high_s: f64,
    pub above_critical_s: f64,
    pub high: bool,
    pub critical: bool,
    /// When the current high episode began, s.
    pub since: f64,
    /// Since when a high place has been below the clearing level, s.
    pub below_since: Option<f64>,
}

/// What changed at a place this tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    High,
    Critical,
    /// Back below [`CLEAR`] after `duration` s.
    Cleared {
        duration: f64,
    },
}

/// Places keyed by tile (row, col) of `tile_m` m.
#[derive(Debug, Default, Clone)]
pub struct Places {
    pub tile_m: f64,
    pub risk: BTreeMap<(i32, i32), PlaceRisk>,
}

impl Places {
    pub fn new(tile_m: f64) -> Self {
        Self {
            tile_m,
            risk: BTreeMap::new(),
        }
    }

    /// Fold this tick's density (lasting `dt` s, starting at `t`) into the places;
    /// returns the changes in place order.
    pub fn update(
        &mut self,
        d: &Density,
        cell: f64,
        t: f64,
        dt: f64,
    ) -> Vec<((i32, i32), Change, f64)> {
        let ratio = self.tile_m / cell;
        let mut tile_max: BTreeMap<(i32, i32), f64> = BTreeMap::new();
        for &((r, c), rho) in &d.cells {
            let k = (
                (f64::from(r) / ratio).floor() as i32,
                (f64::from(c) / ratio).floor() as i32,
            );
            let e = tile_max.entry(k).or_insert(0.0);
            *e = e.max(rho);
        }
        let mut changes = Vec::new();
        // Places seen before but empty now have density 0.
        let keys: Vec<(i32, i32)> = self
            .risk
            .keys()
            .copied()
            .chain(tile_max.keys().copied())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for k in keys {
            let rho = tile_max.get(&k).copied().unwrap_or(0.0);
            if rho < CLEAR && !self.risk.contains_key(&k) {
                continue;
            }
            let p = self.risk.entry(k).or_default();
            if rho > p.peak {
                p.peak = rho;
                p.t_peak = t;
            }
            if rho >= HIGH {
                p.above_high_s += dt;
                if !p.high {
                    p.high = true;
                    p.since = t;
                    changes.push((k, Change::High, rho));
                }
            }
            if rho >= CRITICAL {
                p.above_critical_s += dt;
                if !p.critical {
                    p.critical = true;
                    changes.push((k, Change::Critical, rho));
                }
            }
            if p.high && rho < CLEAR {
                let below = *p.below_since.get_or_insert(t);
                if t - below >= CLEAR_DWELL_S {
                    p.high = false;
                    p.critical = false;
                    p.below_since = None;
                    changes.push((
                        k,
                        Change::Cleared {
                            duration: below - p.since,
                        },
                        rho,
                    ));
                }
            } else {
                p.below_since = None;
            }
        }
        changes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn density_counts_the_3x3_block() {
        // 9 people in one 1 m cell: 1 P/m² over the 9 m² block around each neighbour.
        let xs = vec![0.5f32; 9];
        let ys = vec![0.5f32; 9];
        let mut d = Density::default();
        d.compute(&xs, &ys, 1.0, 1.0);
        assert_eq!(d.cells.len(), 1);
        assert!((d.max() - 1.0).abs() < 1e-12);
        // Spread over a 3 × 3 m square at 5 per m²: the centre cell sees 5 P/m².
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for i in 0..3 {
            for j in 0..3 {
                for _ in 0..5 {
                    xs.push(i as f32 + 0.5);
                    ys.push(j as f32 + 0.5);
                }
            }
        }
        d.compute(&xs, &ys, 1.0, 1.0);
        assert!((d.max() - 5.0).abs() < 1e-12);
    }

    #[test]
    fn places_raise_and_clear_with_hysteresis() {
        let mut p = Places::new(10.0);
        let mut d = Density::default();
        let dense = |n: usize| (vec![5.5f32; n], vec![5.5f32; n]);
        let (x, y) = dense(45); // 5 P/m²
        d.compute(&x, &y, 1.0, 1.0);
        let c = p.update(&d, 1.0, 0.0, 1.0);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].1, Change::High);
        // 3.8 P/m²: still high (above the clearing level), no new event.
        let (x, y) = dense(34);
        d.compute(&x, &y, 1.0, 1.0);
        assert!(p.update(&d, 1.0, 1.0, 1.0).is_empty());
        // Empty from t = 2 s: cleared once it has stayed clear for the dwell time; the
        // episode lasted 2 s.
        d.compute(&[], &[], 1.0, 1.0);
        assert!(p.update(&d, 1.0, 2.0, 1.0).is_empty());
        let c = p.update(&d, 1.0, 2.0 + CLEAR_DWELL_S, 1.0);
        assert_eq!(c[0].1, Change::Cleared { duration: 2.0 });
        let r = &p.risk[&(0, 0)];
        assert_eq!(r.above_high_s, 1.0);
        assert_eq!(r.above_critical_s, 0.0);
    }
}
