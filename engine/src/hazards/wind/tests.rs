//! The uniform wind's tests.

use super::WindSpec;

#[test]
fn direction_is_meteorological() {
    // A northerly wind blows towards the south.
    let (u, v) = WindSpec {
        speed_m_s: 10.0,
        from_deg: 0.0,
        gust_factor: 1.5,
    }
    .components();
    assert!(u.abs() < 1e-9 && (v + 10.0).abs() < 1e-9);
    let (u, _) = WindSpec {
        speed_m_s: 10.0,
        from_deg: 270.0,
        gust_factor: 1.5,
    }
    .components();
    assert!((u - 10.0).abs() < 1e-9, "a westerly blows east");
}
