//! Line and point charts with labelled axes and a legend, to PNG and SVG.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::color::SERIES;
use crate::{VizError, ensure_font};

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStyle {
    Line,
    Points,
    /// A reference curve: thin dashed black-ish line.
    Reference,
}

/// One series of a chart.
#[derive(Debug, Clone)]
pub struct LineSeries {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub style: SeriesStyle,
}

/// A shaded band between two curves (e.g. the 5–95 % range across runs).
#[derive(Debug, Clone)]
pub struct Band {
    pub label: String,
    pub x: Vec<f64>,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// A chart: title, axis labels (with units), shaded bands and series.
#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub bands: Vec<Band>,
    pub series: Vec<LineSeries>,
    /// Log-scaled y axis (exceedance curves).
    pub log_y: bool,
}

/// Draw a chart to `stem.png` and `stem.svg`.
pub fn line_chart(chart: &Chart, stem: &Path) -> Result<(), VizError> {
    ensure_font();
    let png = stem.with_extension("png");
    let svg = stem.with_extension("svg");
    draw(
        chart,
        BitMapBackend::new(&png, (960, 600)).into_drawing_area(),
        &png,
    )?;
    draw(
        chart,
        SVGBackend::new(&svg, (960, 600)).into_drawing_area(),
        &svg,
    )
}

fn bounds(chart: &Chart) -> ((f64, f64), (f64, f64)) {
    let band_pts = chart
        .bands
        .iter()
        .flat_map(|b| b.x.iter().zip(&b.lo).chain(b.x.iter().zip(&b.hi)));
    let pts = chart
        .series
        .iter()
        .flat_map(|s| s.x.iter().zip(&s.y))
        .chain(band_pts)
        .filter(|(x, y)| x.is_finite() && y.is_finite() && (!chart.log_y || **y > 0.0));
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (x, y) in pts {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y0 = y0.min(*y);
        y1 = y1.max(*y);
    }
    if !x0.is_finite() {
        return ((0.0, 1.0), (if chart.log_y { 1e-3 } else { 0.0 }, 1.0));
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if chart.log_y {
        (y0, y1) = (y0 * 0.8, y1 * 1.25);
    } else {
        // A flat series gets a visible range around its value.
        let flat = (y1 - y0) <= 1e-9 * y0.abs().max(y1.abs()).max(1.0);
        let pad = if flat {
            (0.05 * y0.abs()).max(1.0)
        } else {
            (y1 - y0) * 0.05
        };
        if y0 >= 0.0 && y0 - pad < 0.0 {
            y0 = 0.0;
        } else {
            y0 -= pad;
        }
        y1 += pad;
    }
    ((x0, x1), (y0, y1))
}

fn draw<DB: DrawingBackend>(
    chart: &Chart,
    root: DrawingArea<DB, Shift>,
    path: &Path,
) -> Result<(), VizError> {
    let e = |x: DrawingAreaErrorKind<DB::ErrorType>| VizError::draw(path, x);
    root.fill(&WHITE).map_err(e)?;
    let ((x0, x1), (y0, y1)) = bounds(chart);
    let mut builder = ChartBuilder::on(&root);
    builder
        .caption(&chart.title, ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(72);
    macro_rules! body {
        ($ctx:expr) => {{
            let mut ctx = $ctx;
            ctx.configure_mesh()
                .x_desc(&chart.x_label)
                .y_desc(&chart.y_label)
                .label_style(("sans-serif", 15))
                .axis_desc_style(("sans-serif", 17))
                .light_line_style(WHITE)
                .draw()
                .map_err(e)?;
            for (k, b) in chart.bands.iter().enumerate() {
                let c = SERIES[k % SERIES.len()];
                let fill = RGBColor(c[0], c[1], c[2]).mix(0.22);
                let mut poly: Vec<(f64, f64)> =
                    b.x.iter().copied().zip(b.hi.iter().copied()).collect();
                poly.extend(b.x.iter().copied().zip(b.lo.iter().copied()).rev());
                poly.retain(|(x, y)| x.is_finite() && y.is_finite() && (!chart.log_y || *y > 0.0));
                ctx.draw_series(std::iter::once(Polygon::new(poly, fill.filled())))
                    .map_err(e)?
                    .label(&b.label)
                    .legend(move |(x, y)| {
                        Rectangle::new([(x, y - 5), (x + 20, y + 5)], fill.filled())
                    });
            }
            for (k, s) in chart.series.iter().enumerate() {
                let c = SERIES[k % SERIES.len()];
                let color = RGBColor(c[0], c[1], c[2]);
                let pts: Vec<(f64, f64)> = s
                    .x
                    .iter()
                    .zip(&s.y)
                    .filter(|(x, y)| x.is_finite() && y.is_finite() && (!chart.log_y || **y > 0.0))
                    .map(|(x, y)| (*x, *y))
                    .collect();
                match s.style {
                    SeriesStyle::Line => {
                        ctx.draw_series(plotters::series::LineSeries::new(
                            pts,
                            color.stroke_width(2),
                        ))
                        .map_err(e)?
                        .label(&s.label)
                        .legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                        });
                    }
                    SeriesStyle::Points => {
                        ctx.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
                            .map_err(e)?
                            .label(&s.label)
                            .legend(move |(x, y)| Circle::new((x + 10, y), 3, color.filled()));
                    }
                    SeriesStyle::Reference => {
                        let grey = RGBColor(60, 60, 60);
                        ctx.draw_series(DashedLineSeries::new(pts, 6, 4, grey.stroke_width(2)))
                            .map_err(e)?
                            .label(&s.label)
                            .legend(move |(x, y)| {
                                PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(2))
                            });
                    }
                }
            }
            if chart.series.iter().any(|s| !s.label.is_empty()) || !chart.bands.is_empty() {
                ctx.configure_series_labels()
                    .background_style(WHITE.mix(0.85))
                    .border_style(RGBColor(180, 180, 180))
                    .label_font(("sans-serif", 15))
                    .position(SeriesLabelPosition::UpperRight)
                    .draw()
                    .map_err(e)?;
            }
        }};
    }
    if chart.log_y {
        body!(
            builder
                .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
                .map_err(e)?
        );
    } else {
        body!(builder.build_cartesian_2d(x0..x1, y0..y1).map_err(e)?);
    }
    root.present().map_err(e)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_png_and_svg_with_labels() {
        let dir = tempfile::tempdir().unwrap();
        let stem = dir.path().join("c");
        let chart = Chart {
            title: "Depth at point 1".into(),
            x_label: "time (h)".into(),
            y_label: "depth (m)".into(),
            series: vec![
                LineSeries {
                    label: "crucible".into(),
                    x: vec![0.0, 1.0, 2.0],
                    y: vec![0.0, 0.5, 0.4],
                    style: SeriesStyle::Line,
                },
                LineSeries {
                    label: "reference".into(),
                    x: vec![0.0, 1.0, 2.0],
                    y: vec![0.0, 0.45, 0.42],
                    style: SeriesStyle::Reference,
                },
            ],
            log_y: false,
            ..Default::default()
        };
        line_chart(&chart, &stem).unwrap();
        let svg = std::fs::read_to_string(stem.with_extension("svg")).unwrap();
        assert!(svg.contains("depth (m)") && svg.contains("reference"));
        assert!(std::fs::metadata(stem.with_extension("png")).unwrap().len() > 1000);
    }
}
