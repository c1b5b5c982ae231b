//! The Chicago hyetograph (Keifer & Chu 1957): every duration around the peak holds the
//! intensity of the IDF curve.

use super::spec::DesignStormSpec;

impl DesignStormSpec {
    /// Depth of a storm of duration T (min) at the IDF intensity: H(T) = a T/(T + b)^n, mm.
    fn h(&self, t_min: f64) -> f64 {
        self.idf.a(self.return_period_years) * t_min / (t_min + self.idf.b_min).powf(self.idf.n)
    }

    /// Cumulative depth (mm) from the storm's start to `t_min` minutes into it. Before
    /// the peak t_p = rD: r·H(D) − r·H((t_p − t)/r); after: r·H(D) + (1 − r)·H((t − t_p)/
    /// (1 − r)). Its derivative is the Keifer–Chu intensity on each side of the peak.
    pub fn cumulative_mm(&self, t_min: f64) -> f64 {
        let d = self.duration_min;
        let r = self.peak_position;
        let t = t_min.clamp(0.0, d);
        let tp = r * d;
        if t <= tp {
            r * self.h(d) - r * self.h((tp - t) / r)
        } else {
            r * self.h(d) + (1.0 - r) * self.h((t - tp) / (1.0 - r))
        }
    }

    /// Instantaneous intensity (mm/min) at `t_min` into the storm (Keifer & Chu 1957).
    pub fn intensity_mm_min(&self, t_min: f64) -> f64 {
        let d = self.duration_min;
        if !(0.0..=d).contains(&t_min) {
            return 0.0;
        }
        let r = self.peak_position;
        let tp = r * d;
        // Time from the peak, stretched to the equivalent duration on its side.
        let tb = if t_min <= tp {
            (tp - t_min) / r
        } else {
            (t_min - tp) / (1.0 - r)
        };
        let a = self.idf.a(self.return_period_years);
        let (b, n) = (self.idf.b_min, self.idf.n);
        a * ((1.0 - n) * tb + b) / (tb + b).powf(1.0 + n)
    }

    /// Total depth over the storm, mm: the IDF's i(D)·D.
    pub fn total_mm(&self) -> f64 {
        self.h(self.duration_min)
    }
}
