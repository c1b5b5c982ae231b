//! Plots and maps for crucible from plain data: no ECS, no engine types, so anything
//! that has numbers (a run, a batch, a validation case) can be drawn.
//!
//! Text uses an embedded DejaVu Sans (see `fonts/LICENSE-DejaVu.txt`), so a fresh
//! machine needs no system font libraries.

pub mod bars;
pub mod chart;
pub mod color;
pub mod map;

pub use bars::{Bar, bar_chart, histogram};
pub use chart::{Band, Chart, LineSeries, SeriesStyle, line_chart};
pub use color::Ramp;
pub use map::{MapStyle, MapView, Marker, render_map};

use std::sync::Once;

/// A plot could not be drawn or saved.
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    #[error("{path}: {message}")]
    Draw { path: String, message: String },
}

impl VizError {
    pub(crate) fn draw(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        Self::Draw {
            path: path.display().to_string(),
            message: e.to_string(),
        }
    }
}

static FONT: Once = Once::new();

/// Register the embedded font as "sans-serif" (once per process).
pub(crate) fn ensure_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../fonts/DejaVuSans.ttf");
        plotters::style::register_font("sans-serif", plotters::style::FontStyle::Normal, bytes)
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font is valid"));
    });
}
