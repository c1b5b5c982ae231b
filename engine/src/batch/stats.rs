//! Statistics of a batch: pass probabilities, percentiles, exceedance curves, CLIMADA's
//! frequency curves and average annual loss, paired plan differences, rank correlation.

/// Wilson score interval for a binomial proportion (Wilson 1927), z = 1.96 for 95 %.
/// Returns (estimate, low, high); (NaN, 0, 1) when n = 0.
pub fn wilson(successes: u64, n: u64) -> (f64, f64, f64) {
    if n == 0 {
        return (f64::NAN, 0.0, 1.0);
    }
    let z = 1.959_963_984_540_054_f64;
    let (n, p) = (n as f64, successes as f64 / n as f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (p, (centre - half).max(0.0), (centre + half).min(1.0))
}

/// Percentile `q` in [0, 100] of sorted data, linear interpolation between order
/// statistics (Hyndman & Fan type 7, the default of R and NumPy).
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q / 100.0;
            let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Sort finite values ascending (NaN dropped).
pub fn sorted_finite(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

/// Empirical exceedance probability: for each value x (descending), the share of runs
/// with a value ≥ x.
pub fn exceedance(values: &[f64]) -> Vec<(f64, f64)> {
    let mut v = sorted_finite(values.iter().copied());
    v.reverse();
    let n = v.len() as f64;
    v.iter()
        .enumerate()
        .map(|(i, x)| (*x, (i + 1) as f64 / n))
        .collect()
}

/// Exceedance-frequency curve as CLIMADA's `Impact.calc_freq_curve` defines it: impacts
/// sorted in descending order, frequencies accumulated in that order, return period the
/// inverse of the accumulated frequency. Returns (return period in years, impact) pairs
/// in ascending return period.
pub fn frequency_curve(impacts: &[f64], frequencies: &[f64]) -> Vec<(f64, f64)> {
    let mut pairs: Vec<(f64, f64)> = impacts
        .iter()
        .copied()
        .zip(frequencies.iter().copied())
        .filter(|(i, f)| i.is_finite() && f.is_finite())
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut cum = 0.0;
    let mut curve: Vec<(f64, f64)> = pairs
        .iter()
        .map(|(imp, f)| {
            cum += f;
            (1.0 / cum, *imp)
        })
        .collect();
    curve.reverse();
    curve
}

/// Average annual impact: Σ frequency × impact (CLIMADA's `aai_agg`).
pub fn average_annual(impacts: &[f64], frequencies: &[f64]) -> f64 {
    impacts
        .iter()
        .zip(frequencies)
        .filter(|(i, _)| i.is_finite())
        .map(|(i, f)| i * f)
        .sum()
}

/// Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom.
pub fn t_975(df: u64) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df as usize - 1],
        // Cornish–Fisher expansion around the normal quantile.
        _ => {
            let (z, d) = (1.959_963_984_540_054_f64, df as f64);
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// Mean of paired differences b − a with a 95 % t-interval: (mean, low, high, n).
pub fn paired_difference(a: &[f64], b: &[f64]) -> (f64, f64, f64, usize) {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| y - x)
        .filter(|v| v.is_finite())
        .collect();
    let n = d.len();
    if n == 0 {
        return (f64::NAN, f64::NAN, f64::NAN, 0);
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return (mean, f64::NAN, f64::NAN, 1);
    }
    let var = d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let half = t_975(n as u64 - 1) * (var / n as f64).sqrt();
    (mean, mean - half, mean + half, n)
}

fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for k in i..=j {
            r[idx[k]] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (ties get average ranks); NaN if either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    let (xs, ys): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
    let (rx, ry) = (ranks(&xs), ranks(&ys));
    let n = rx.len() as f64;
    if n < 2.0 {
        return f64::NAN;
    }
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = rx.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = ry.iter().map(|b| (b - my).powi(2)).sum();
    if vx == 0.0 || vy == 0.0 {
        f64::NAN
    } else {
        cov / (vx * vy).sqrt()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wilson_matches_published_values() {
        // Newcombe (1998), Table I: 81/263 → 0.2553–0.3662.
        let (p, lo, hi) = wilson(81, 263);
        assert!((p - 0.30798).abs() < 1e-4);
        assert!(
            (lo - 0.2553).abs() < 5e-4 && (hi - 0.3662).abs() < 5e-4,
            "{lo} {hi}"
        );
        let (_, lo, hi) = wilson(0, 10);
        assert_eq!(lo, 0.0);
        assert!((hi - 0.2775).abs() < 1e-3);
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&v, 50.0), 2.5);
        assert!((percentile(&v, 90.0) - 3.7).abs() < 1e-12);
        assert_eq!(percentile(&v, 0.0), 1.0);
        assert_eq!(percentile(&v, 100.0), 4.0);
    }

    #[test]
    fn frequency_curve_and_aal_follow_climada() {
        // Three events at 0.1/yr each: the largest loss has a 10-year return period, the
        // two largest together 5 years, all three 3.33 years.
        let curve = frequency_curve(&[5.0, 1.0, 3.0], &[0.1, 0.1, 0.1]);
        let rp: Vec<f64> = curve.iter().map(|c| c.0).collect();
        assert!(
            (rp[2] - 10.0).abs() < 1e-9
                && (rp[1] - 5.0).abs() < 1e-9
                && (rp[0] - 10.0 / 3.0).abs() < 1e-9
        );
        assert_eq!(curve[2].1, 5.0);
        assert!((average_annual(&[5.0, 1.0, 3.0], &[0.1, 0.1, 0.1]) - 0.9).abs() < 1e-12);
    }

    #[test]
    fn exceedance_is_monotone() {
        let e = exceedance(&[3.0, 1.0, 2.0, f64::NAN]);
        assert_eq!(e, vec![(3.0, 1.0 / 3.0), (2.0, 2.0 / 3.0), (1.0, 1.0)]);
    }

    #[test]
    fn paired_difference_and_spearman() {
        let (m, lo, hi, n) = paired_difference(&[1.0, 2.0, 3.0, 4.0], &[2.0, 2.5, 4.5, 5.0]);
        assert_eq!(n, 4);
        assert!((m - 1.0).abs() < 1e-12 && lo < m && hi > m);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert!(spearman(&[1.0, 1.0], &[1.0, 2.0]).is_nan());
        assert!((t_975(10) - 2.228).abs() < 1e-9 && (t_975(1000) - 1.9623).abs() < 1e-3);
    }
}
