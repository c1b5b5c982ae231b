//! Occupant egress against fire growth (ASET/RSET, as in ISO/TR 16738 and BS 7974):
//! people still inside a part of the building when it becomes untenable are counted as
//! casualties of the fire.
//!
//! - RSET: warning, then a pre-movement time, then movement. Movement time of a whole
//!   building down its stairs follows Pauls (1980): `T[min] = 0.68 + 0.081 p^0.73`, `p`
//!   the occupants per metre of effective stair width; people leave at a uniform rate
//!   over `T`.
//! - ASET: the floor of fire origin becomes untenable at flashover (end of the growth
//!   stage). In fire-resistive buildings each floor above is protected for the fire
//!   resistance of the floor slab; wooden buildings have no rated separation.
//! - Exposed: the occupant density of the building (occupants over total floor area)
//!   times the burning floor area (one floor in fire-resistive buildings, every floor in
//!   wooden ones).

/// Parameters of the egress model.
#[derive(Debug, Clone, Copy)]
pub struct EgressParams {
    /// From warning to starting to move, s.
    pub premovement_s: f64,
    /// Effective stair width per building, m.
    pub stair_width_m: f64,
    /// Fire resistance of floor slabs in fire-resistive buildings, s.
    pub floor_resistance_s: f64,
}

/// Pauls (1980) total evacuation time, s, for `occupants` on `width_m` of effective stair.
pub fn pauls_movement_s(occupants: f64, width_m: f64) -> f64 {
    if occupants <= 0.0 {
        return 0.0;
    }
    let p = occupants / width_m.max(1e-3);
    60.0 * (0.68 + 0.081 * p.powf(0.73))
}

/// Share of the occupants still inside `t` seconds after the warning.
pub fn remaining_share(t: f64, premovement_s: f64, movement_s: f64) -> f64 {
    if t <= premovement_s {
        1.0
    } else if movement_s <= 0.0 {
        0.0
    } else {
        (1.0 - (t - premovement_s) / movement_s).clamp(0.0, 1.0)
    }
}

/// Expected casualties in one building.
///
/// `occupants` inside, `storeys`, `footprint_m2`, `burning_m2` of footprint burning at
/// untenability, `resistive` construction, `untenable_after_warning_s`: time from the
/// occupants' warning to flashover on the floor of origin.
pub fn casualties(
    p: &EgressParams,
    occupants: f64,
    storeys: u16,
    footprint_m2: f64,
    burning_m2: f64,
    resistive: bool,
    untenable_after_warning_s: f64,
) -> f64 {
    if occupants <= 0.0 || footprint_m2 <= 0.0 {
        return 0.0;
    }
    let storeys = f64::from(storeys.max(1));
    let density = occupants / (footprint_m2 * storeys);
    let movement = pauls_movement_s(occupants, p.stair_width_m);
    let burning = burning_m2.min(footprint_m2);
    if resistive {
        // Floor of origin, then each floor above after one more slab rating.
        let mut sum = 0.0;
        for floor in 0..storeys as u32 {
            let t = untenable_after_warning_s + f64::from(floor) * p.floor_resistance_s;
            let r = remaining_share(t, p.premovement_s, movement);
            if r <= 0.0 {
                break;
            }
            sum += density * burning * r;
        }
        sum
    } else {
        density
            * burning
            * storeys
            * remaining_share(untenable_after_warning_s, p.premovement_s, movement)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauls_formula_and_limits() {
        // p = 100 persons/m: 0.68 + 0.081 · 100^0.73 = 2.95 min.
        let t = pauls_movement_s(160.0, 1.6);
        assert!((t / 60.0 - (0.68 + 0.081 * 100f64.powf(0.73))).abs() < 1e-9);
        assert!(pauls_movement_s(1000.0, 1.6) > t, "more people, longer");
        let p = EgressParams {
            premovement_s: 120.0,
            stair_width_m: 1.6,
            floor_resistance_s: 5400.0,
        };
        // Warned long before flashover: nobody is left.
        assert_eq!(casualties(&p, 100.0, 5, 500.0, 500.0, false, 3600.0), 0.0);
        // Flashover before anyone moves: everyone on the burning area is exposed.
        let all = casualties(&p, 100.0, 5, 500.0, 500.0, false, 60.0);
        assert!((all - 100.0).abs() < 1e-9);
        // Fire-resistive: only the floor of origin.
        let one = casualties(&p, 100.0, 5, 500.0, 500.0, true, 60.0);
        assert!((one - 20.0).abs() < 1e-9, "{one}");
    }
}
