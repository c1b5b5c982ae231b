//! Colour ramps for continuous maps.

/// A colour ramp, chosen by what the values mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ramp {
    /// Sea blue through lowland green to hill brown (elevation).
    Terrain,
    /// Pale to deep blue (water depth).
    Water,
    /// Yellow through red to dark red (intensity, loss).
    Heat,
    /// Pale yellow through orange to purple (people per area).
    Density,
    /// Perceptually even dark-blue to yellow (times, durations; viridis-like).
    Time,
}

impl Ramp {
    fn stops(self) -> &'static [(f32, [u8; 3])] {
        match self {
            Self::Terrain => &[
                (0.0, [30, 70, 140]),
                (0.18, [120, 180, 220]),
                (0.2, [90, 150, 80]),
                (0.45, [190, 200, 110]),
                (0.7, [170, 130, 80]),
                (1.0, [245, 240, 235]),
            ],
            Self::Water => &[
                (0.0, [210, 235, 250]),
                (0.4, [90, 160, 220]),
                (1.0, [10, 40, 120]),
            ],
            Self::Heat => &[
                (0.0, [255, 240, 160]),
                (0.4, [250, 150, 50]),
                (0.75, [210, 40, 30]),
                (1.0, [100, 0, 20]),
            ],
            Self::Density => &[
                (0.0, [255, 250, 210]),
                (0.35, [250, 180, 80]),
                (0.7, [220, 60, 60]),
                (1.0, [90, 20, 110]),
            ],
            Self::Time => &[
                (0.0, [68, 1, 84]),
                (0.25, [59, 82, 139]),
                (0.5, [33, 145, 140]),
                (0.75, [94, 201, 98]),
                (1.0, [253, 231, 37]),
            ],
        }
    }

    /// Colour at t in [0, 1] (clamped).
    pub fn at(self, t: f32) -> [u8; 3] {
        let t = if t.is_finite() {
            t.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let s = self.stops();
        let k = s
            .iter()
            .position(|(p, _)| *p >= t)
            .unwrap_or(s.len() - 1)
            .max(1);
        let (p0, c0) = s[k - 1];
        let (p1, c1) = s[k];
        let f = if p1 > p0 { (t - p0) / (p1 - p0) } else { 0.0 };
        let mix = |a: u8, b: u8| (f32::from(a) + (f32::from(b) - f32::from(a)) * f).round() as u8;
        [mix(c0[0], c1[0]), mix(c0[1], c1[1]), mix(c0[2], c1[2])]
    }
}

/// Distinct colours for chart series (Okabe–Ito, colour-blind safe).
pub const SERIES: [[u8; 3]; 8] = [
    [0, 114, 178],
    [213, 94, 0],
    [0, 158, 115],
    [204, 121, 167],
    [230, 159, 0],
    [86, 180, 233],
    [0, 0, 0],
    [240, 228, 66],
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_hit_their_end_stops() {
        assert_eq!(Ramp::Water.at(0.0), [210, 235, 250]);
        assert_eq!(Ramp::Water.at(1.0), [10, 40, 120]);
        assert_eq!(Ramp::Water.at(f32::NAN), Ramp::Water.at(0.0));
        let mid = Ramp::Water.at(0.2);
        assert!(mid[0] < 210 && mid[0] > 90);
    }
}
