//! Horizontal bar charts (tornado charts, paired differences with intervals) and
//! histograms.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::color::SERIES;
use crate::{VizError, ensure_font};

/// One bar: a label, a value and an optional interval drawn as a whisker.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub interval: Option<(f64, f64)>,
}

/// Horizontal bars around zero, in the given order (top first), to `stem.png`/`.svg`.
pub fn bar_chart(title: &str, x_label: &str, bars: &[Bar], stem: &Path) -> Result<(), VizError> {
    ensure_font();
    let h = (120 + 36 * bars.len() as u32).max(300);
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    draw_bars(
        title,
        x_label,
        bars,
        BitMapBackend::new(&png, (960, h)).into_drawing_area(),
        &png,
    )?;
    draw_bars(
        title,
        x_label,
        bars,
        SVGBackend::new(&svg, (960, h)).into_drawing_area(),
        &svg,
    )
}

fn draw_bars<DB: DrawingBackend>(
    title: &str,
    x_label: &str,
    bars: &[Bar],
    root: DrawingArea<DB, Shift>,
    path: &Path,
) -> Result<(), VizError> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| VizError::draw(path, x);
    root.fill(&WHITE).map_err(e)?;
    let mut lo: f64 = 0.0;
    let mut hi: f64 = 0.0;
    for b in bars {
        for v in [
            Some(b.value),
            b.interval.map(|i| i.0),
            b.interval.map(|i| i.1),
        ]
        .into_iter()
        .flatten()
        {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.08;
    let n = bars.len().max(1) as i32;
    let mut ctx = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(260)
        .build_cartesian_2d((lo - pad)..(hi + pad), (0..n).into_segmented())
        .map_err(e)?;
    // Row k from the top is segment n − 1 − k.
    let label_of = |seg: &SegmentValue<i32>| match seg {
        SegmentValue::CenterOf(v) => bars
            .get((n - 1 - v) as usize)
            .map(|b| b.label.clone())
            .unwrap_or_default(),
        _ => String::new(),
    };
    ctx.configure_mesh()
        .x_desc(x_label)
        .y_labels(bars.len().max(1))
        .y_label_formatter(&label_of)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .disable_y_mesh()
        .draw()
        .map_err(e)?;
    let plot = ctx.plotting_area();
    for (k, b) in bars.iter().enumerate() {
        let row = n - 1 - k as i32;
        let c = if b.value >= 0.0 { SERIES[1] } else { SERIES[0] };
        let color = RGBColor(c[0], c[1], c[2]);
        if b.value.is_finite() {
            plot.draw(&Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(row)),
                    (b.value, SegmentValue::Exact(row + 1)),
                ],
                color.mix(0.85).filled(),
            ))
            .map_err(e)?;
        }
        if let Some((a, z)) = b.interval
            && a.is_finite()
            && z.is_finite()
        {
            let mid = SegmentValue::CenterOf(row);
            plot.draw(&PathElement::new(
                vec![(a, mid.clone()), (z, mid)],
                BLACK.stroke_width(2),
            ))
            .map_err(e)?;
        }
    }
    plot.draw(&PathElement::new(
        vec![(0.0, SegmentValue::Exact(0)), (0.0, SegmentValue::Exact(n))],
        BLACK.stroke_width(1),
    ))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

/// A histogram of `values` with `bins` equal bins, to `stem.png`/`.svg`.
pub fn histogram(
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
    stem: &Path,
) -> Result<(), VizError> {
    ensure_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    draw_hist(
        title,
        x_label,
        values,
        bins,
        BitMapBackend::new(&png, (960, 560)).into_drawing_area(),
        &png,
    )?;
    draw_hist(
        title,
        x_label,
        values,
        bins,
        SVGBackend::new(&svg, (960, 560)).into_drawing_area(),
        &svg,
    )
}

fn draw_hist<DB: DrawingBackend>(
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
    root: DrawingArea<DB, Shift>,
    path: &Path,
) -> Result<(), VizError> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| VizError::draw(path, x);
    root.fill(&WHITE).map_err(e)?;
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let (mut lo, mut hi) = v
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-12 {
        (lo, hi) = (lo - 0.5, hi + 0.5);
    }
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u32; bins];
    for x in &v {
        counts[(((x - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let top = f64::from(*counts.iter().max().unwrap_or(&1)).max(1.0) * 1.1;
    let mut ctx = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(64)
        .build_cartesian_2d(lo..hi, 0.0..top)
        .map_err(e)?;
    ctx.configure_mesh()
        .x_desc(x_label)
        .y_desc("runs")
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .light_line_style(RGBColor(235, 235, 235))
        .draw()
        .map_err(e)?;
    let c = SERIES[0];
    ctx.draw_series(counts.iter().enumerate().map(|(k, n)| {
        let x0 = lo + k as f64 * width;
        Rectangle::new(
            [(x0, 0.0), (x0 + width * 0.95, f64::from(*n))],
            RGBColor(c[0], c[1], c[2]).filled(),
        )
    }))
    .map_err(e)?;
    root.present().map_err(e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_and_histograms_render() {
        let dir = tempfile::tempdir().unwrap();
        let bars = [
            Bar {
                label: "wind speed".into(),
                value: 0.8,
                interval: None,
            },
            Bar {
                label: "rain".into(),
                value: -0.3,
                interval: Some((-0.5, -0.1)),
            },
        ];
        bar_chart("Sensitivity", "Spearman ρ", &bars, &dir.path().join("t")).unwrap();
        histogram(
            "Loss",
            "loss (yuan)",
            &[1.0, 2.0, 2.5, 9.0],
            5,
            &dir.path().join("h"),
        )
        .unwrap();
        let svg = std::fs::read_to_string(dir.path().join("t.svg")).unwrap();
        assert!(svg.contains("wind speed") && svg.contains("Spearman"));
        assert!(std::fs::metadata(dir.path().join("h.png")).unwrap().len() > 1000);
    }
}
