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
//!   times the burning floor area. In fire-resistive buildings the fire is held to its
//!   fire compartment on each floor (one dwelling in a residential building; GB 50016-2014
//!   Table 5.3.1's largest compartment elsewhere); wooden buildings have no rated
//!   separation, so every floor's whole burning area counts.

use super::EgressSpec;

/// Largest fire compartment of a fire-resistive non-residential building, m²: GB 50016-2014
/// Table 5.3.1, 1,500 m² in high-rise civil buildings (taller than 24 m), 2,500 m² in
/// single- and multi-storey ones (without the doubling that sprinklers allow).
pub fn max_compartment_m2(height_m: f64) -> f64 {
    if height_m > 24.0 { 1500.0 } else { 2500.0 }
}

/// One building as the egress model sees it.
#[derive(Debug, Clone, Copy)]
pub struct Occupancy {
    /// People inside now.
    pub occupants: f64,
    pub storeys: u16,
    pub footprint_m2: f64,
    /// Fire-resistive construction (rated floors and compartment walls).
    pub resistive: bool,
    /// Floor area of one fire compartment, m² (ignored for non-resistive buildings).
    pub compartment_m2: f64,
}

impl Occupancy {
    /// The fire compartment of a fire-resistive building: in a residential one the
    /// dwelling (floor area per household at night, from `occupants_night`), elsewhere
    /// [`max_compartment_m2`].
    pub fn compartment_for(
        p: &EgressSpec,
        residential: bool,
        occupants_night: f64,
        storeys: u16,
        footprint_m2: f64,
        height_m: f64,
    ) -> f64 {
        let floor_area = footprint_m2 * f64::from(storeys.max(1));
        if residential && occupants_night > 0.0 {
            (floor_area * p.household_size / occupants_night).min(footprint_m2)
        } else {
            max_compartment_m2(height_m).min(footprint_m2)
        }
    }
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
/// `burning_m2` of footprint burning at untenability; `untenable_after_warning_s`: time
/// from the occupants' warning to flashover on the floor of origin.
pub fn casualties(
    p: &EgressSpec,
    b: &Occupancy,
    burning_m2: f64,
    untenable_after_warning_s: f64,
) -> f64 {
    if b.occupants <= 0.0 || b.footprint_m2 <= 0.0 {
        return 0.0;
    }
    let storeys = f64::from(b.storeys.max(1));
    let density = b.occupants / (b.footprint_m2 * storeys);
    let movement = pauls_movement_s(b.occupants, p.stair_width_m);
    let burning = burning_m2.min(b.footprint_m2);
    if b.resistive {
        // The compartment of origin, then the one above after one more slab rating.
        let exposed = density * burning.min(b.compartment_m2);
        let mut sum = 0.0;
        for floor in 0..storeys as u32 {
            let t = untenable_after_warning_s + f64::from(floor) * p.floor_resistance_s;
            let r = remaining_share(t, p.premovement_s, movement);
            if r <= 0.0 {
                break;
            }
            sum += exposed * r;
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
        let p = EgressSpec {
            premovement_s: 120.0,
            stair_width_m: 1.6,
            floor_resistance_s: 5400.0,
            household_size: 2.5,
        };
        let wooden = Occupancy {
            occupants: 100.0,
            storeys: 5,
            footprint_m2: 500.0,
            resistive: false,
            compartment_m2: 500.0,
        };
        // Warned long before flashover: nobody is left.
        assert_eq!(casualties(&p, &wooden, 500.0, 3600.0), 0.0);
        // Flashover before anyone moves: everyone on the burning area is exposed.
        let all = casualties(&p, &wooden, 500.0, 60.0);
        assert!((all - 100.0).abs() < 1e-9);
        // Fire-resistive, one open floor as the compartment: only the floor of origin.
        let open_floor = Occupancy {
            resistive: true,
            ..wooden
        };
        let one = casualties(&p, &open_floor, 500.0, 60.0);
        assert!((one - 20.0).abs() < 1e-9, "{one}");
        // A residential block: the compartment is the dwelling, so at most a household.
        let c = Occupancy::compartment_for(&p, true, 100.0, 5, 500.0, 15.0);
        assert!(
            (c - 62.5).abs() < 1e-9,
            "2,500 m² of floors / 40 households: {c}"
        );
        let home = Occupancy {
            compartment_m2: c,
            ..open_floor
        };
        let d = casualties(&p, &home, 500.0, 60.0);
        assert!((d - 2.5).abs() < 1e-9, "one household: {d}");
        // Non-residential: GB 50016 compartments, smaller in high-rise buildings.
        assert_eq!(
            Occupancy::compartment_for(&p, false, 0.0, 30, 4000.0, 90.0),
            1500.0
        );
        assert_eq!(
            Occupancy::compartment_for(&p, false, 0.0, 3, 4000.0, 12.0),
            2500.0
        );
        assert_eq!(
            Occupancy::compartment_for(&p, false, 0.0, 3, 800.0, 12.0),
            800.0
        );
    }
}
