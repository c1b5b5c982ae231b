//! The registry of validation suites run by `crucible validate <suite>`.

use crate::validation::Suite;

/// Every validation suite. Each hazard module adds its own here.
pub fn suites() -> Vec<Suite> {
    vec![
        crate::city::validation::suite(),
        crate::hazards::typhoon::validation::suite(),
        crate::hazards::crowd::validation::suite(),
        crate::hazards::fire::validation::suite(),
        crate::hazards::flood::validation::suite(),
    ]
}
