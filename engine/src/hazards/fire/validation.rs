//! Validation suite `fire`.
use crate::validation::Suite;

pub fn suite() -> Suite {
    Suite {
        name: "fire",
        title: "Urban fire spread and fire service",
        cases: vec![],
    }
}
