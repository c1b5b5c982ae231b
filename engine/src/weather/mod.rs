//! Weather shared by the forcing hazards: the storm-intensity (IDF) curve that the
//! design storm's hyetograph and the flood plugin's pipe capacity both use, and the
//! China Meteorological Administration's warning levels (rainstorm and typhoon signals)
//! that the typhoon and the design storm issue.

pub mod idf;
pub mod warnings;

pub use idf::{Idf, LSHA_PER_MM_MIN};
pub use warnings::{CMA_RAINSTORM, CMA_TYPHOON, LEVEL_SEVERITY, RainWarnings};
