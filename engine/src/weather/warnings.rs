//! The China Meteorological Administration's warning signals the forcing hazards issue:
//! rainstorm levels from trailing rain accumulations and typhoon signals from the wind
//! over land, blue to red.

use std::collections::VecDeque;

use crate::events::Severity;

/// Severity of a CMA warning level, blue to red (typhoon signals and rainstorm warnings).
pub const LEVEL_SEVERITY: [Severity; 4] = [
    Severity::Minor,
    Severity::Moderate,
    Severity::Major,
    Severity::Critical,
];

/// CMA rainstorm warning signal levels (中国气象局令第16号, 2007, 《气象灾害预警信号发布与
/// 传播办法》): blue ≥ 50 mm in 12 h, yellow ≥ 50 mm in 6 h, orange ≥ 50 mm in 3 h,
/// red ≥ 100 mm in 3 h. Names, window (h) and depth (mm), lowest first.
pub const CMA_RAINSTORM: [(&str, f64, f64); 4] = [
    ("blue", 12.0, 50.0),
    ("yellow", 6.0, 50.0),
    ("orange", 3.0, 50.0),
    ("red", 3.0, 100.0),
];

/// CMA typhoon warning signals (中国气象局令第16号, 2007, 《气象灾害预警信号发布与传播办法》)
/// by the wind they announce: blue — mean wind Beaufort 6 or gusts 8; yellow — mean 8 or
/// gusts 10; orange — mean 10 or gusts 12; red — mean 12 or gusts 14. Lower bounds of the
/// Beaufort classes in m/s (GB/T 28591-2012 风力等级). Names, mean wind, gust; lowest
/// first. The signals are forecasts (issued 24, 24, 12, 6 h ahead); here they are issued
/// when the simulated wind over land reaches them, i.e. late by the lead time.
pub const CMA_TYPHOON: [(&str, f64, f64); 4] = [
    ("blue", 10.8, 17.2),
    ("yellow", 17.2, 24.5),
    ("orange", 24.5, 32.7),
    ("red", 32.7, 41.5),
];

/// Trailing rain accumulations at one point and the CMA level they reach. The signals
/// are forecasts; here they are applied to the simulated accumulation, i.e. the level
/// a perfect forecast would have issued by the end of the window.
#[derive(Debug, Clone, Default)]
pub struct RainWarnings {
    /// (end time s, depth mm) per tick within the longest window.
    history: VecDeque<(f64, f64)>,
    /// Highest level reached so far (index into [`CMA_RAINSTORM`] + 1; 0 = none).
    pub level: usize,
}

impl RainWarnings {
    /// Add a tick's depth ending at `t_end`; returns the levels newly reached, with the
    /// accumulation (mm) that reached each.
    pub fn update(&mut self, t_end: f64, depth_mm: f64) -> Vec<(usize, f64)> {
        self.history.push_back((t_end, depth_mm));
        while let Some(&(t, _)) = self.history.front() {
            if t <= t_end - 12.0 * 3600.0 {
                self.history.pop_front();
            } else {
                break;
            }
        }
        let sum = |hours: f64| -> f64 {
            self.history
                .iter()
                .filter(|(t, _)| *t > t_end - hours * 3600.0)
                .map(|x| x.1)
                .sum()
        };
        let mut out = Vec::new();
        for (k, &(_, hours, mm)) in CMA_RAINSTORM.iter().enumerate() {
            let acc = sum(hours);
            if k + 1 > self.level && acc >= mm {
                out.push((k, acc));
            }
        }
        if let Some(&(k, _)) = out.last() {
            self.level = k + 1;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cma_levels_rise_in_order() {
        let mut w = RainWarnings::default();
        // 24 mm/h in 10-min ticks: 52 mm after 13 ticks → orange (and the lower ones).
        let mut reached = Vec::new();
        for k in 1..=18 {
            for (lvl, _) in w.update(k as f64 * 600.0, 4.0) {
                reached.push((k, lvl));
            }
        }
        assert_eq!(reached, vec![(13, 0), (13, 1), (13, 2)]);
        // 48 mm/h more → red within 3 h.
        let mut red = false;
        for k in 19..=30 {
            red |= w.update(k as f64 * 600.0, 8.0).iter().any(|x| x.0 == 3);
        }
        assert!(red && w.level == 4);
    }
}
