//! Pedestrians: venue egress and district evacuation (issue #4).

pub mod cells;
pub mod demographics;
pub mod geometry;
pub mod layout;
pub mod model;
pub mod navigation;
pub mod validation;
