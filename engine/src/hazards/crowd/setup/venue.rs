//! Setting up a venue: the outline on a fine walking grid with a margin outside it, a
//! straight lane through the outline at each gate (its outer metre is the goal) with the
//! bar that shuts it, the inner walls, and each group scattered over its area. Venue
//! coordinates are metres from the venue's centre; the map frame is offset by it.

use nalgebra::Vector2;

use super::{Kernel, MAX_DENSITY, ModelParams, Scene};
use crate::hazards::crowd::geometry::{Segment, Walls};
use crate::hazards::crowd::layout::{Layout, scatter};
use crate::hazards::crowd::model::{self, Agents};
use crate::hazards::crowd::spec::{CrowdSpec, GateSpec, Shape, VenueSpec};
use crate::hazards::crowd::state::{GoalInfo, Mode};
use crate::sim::{BuildContext, BuildError};
use crate::spec::KeyPath;

/// Margin of walkable space outside the outline for the gates' exit lanes, m.
const VENUE_MARGIN: f64 = 3.0;

type V2 = Vector2<f64>;

pub(super) fn setup(
    v: &VenueSpec,
    spec: &CrowdSpec,
    ctx: &BuildContext,
    params: ModelParams,
    at: &KeyPath,
) -> Result<(Kernel, Scene), BuildError> {
    let g = &ctx.city.grid;
    // The venue's centre on the map (default: the centre of the city grid).
    let centre = V2::new(
        v.center_x_m.unwrap_or(g.x0 + g.width_m() / 2.0),
        v.center_y_m.unwrap_or(g.y0 + g.height_m() / 2.0),
    );
    let m = VENUE_MARGIN;
    let (w, h) = (v.width_m + 2.0 * m, v.height_m + 2.0 * m);
    let mut l = Layout::new(w as f32, h as f32, v.cell_m as f32);
    l.grid.x0 = (-v.width_m / 2.0 - m) as f32;
    l.grid.y0 = (-v.height_m / 2.0 - m) as f32;
    for k in 0..l.grid.len() {
        let (x, y) = l.grid.center(k);
        if inside(v, f64::from(x), f64::from(y)) {
            l.grid.speed[k] = 1.0;
        }
    }
    let mut goals = Vec::new();
    for (k, gate) in v.gates.iter().enumerate() {
        goals.push(add_gate(
            &mut l,
            v,
            gate,
            centre,
            &at.key("gates").index(k),
        )?);
    }
    add_inner_walls(&mut l, v);
    let base_walls = l.walls();
    let csm = params.csm;
    let probe_range = model::interaction_range(1.61, &csm, csm.radius);
    let bounds = [
        l.grid.x0,
        l.grid.y0,
        l.grid.x0 + w as f32,
        l.grid.y0 + h as f32,
    ];
    let walls = Walls::new(base_walls.clone(), bounds, probe_range, probe_range);
    let agents = place_groups(&l, &walls, v, spec, ctx, params, at)?;
    let people = agents.len() as f64;
    // Closed gates get their bars now.
    let mut start_walls = base_walls.clone();
    for gi in &goals {
        if gi.open_at > 0.0 {
            start_walls.extend(gi.bar);
        }
    }
    let map_grid = crate::grid::GridSpec {
        nx: (w.ceil()) as usize,
        ny: (h.ceil()) as usize,
        cell: 1.0,
        x0: centre.x + f64::from(l.grid.x0),
        y0: centre.y + f64::from(l.grid.y0),
        epsg: g.epsg,
    };
    let kernel = Kernel {
        layout: l,
        agents,
        params,
        start_walls,
        bounds,
        joiner_range: None,
    };
    let scene = Scene {
        mode: Mode::Venue,
        goals,
        offset: (centre.x, centre.y),
        ppa: 1.0,
        pending: Agents::default(),
        base_walls,
        map_grid,
        warnings: Vec::new(),
        order_on: None,
        metro: Agents::default(),
        metro_groups: Vec::new(),
        people,
    };
    Ok((kernel, scene))
}

/// Whether a point (venue coordinates) is inside the outline.
fn inside(v: &VenueSpec, x: f64, y: f64) -> bool {
    let (a, b) = (v.width_m / 2.0, v.height_m / 2.0);
    match v.shape {
        Shape::Rectangle => x.abs() < a && y.abs() < b,
        Shape::Ellipse => (x / a).powi(2) + (y / b).powi(2) < 1.0,
    }
}

/// Point on the outline at a bearing, with the outward normal.
fn outline_point(v: &VenueSpec, bearing_deg: f64) -> (V2, V2) {
    let th = bearing_deg.to_radians();
    let d = V2::new(th.sin(), th.cos());
    let (a, b) = (v.width_m / 2.0, v.height_m / 2.0);
    match v.shape {
        Shape::Rectangle => {
            // Distance along the bearing to the east-west and north-south sides.
            let tx = if d.x.abs() > 1e-12 {
                a / d.x.abs()
            } else {
                f64::INFINITY
            };
            let ty = if d.y.abs() > 1e-12 {
                b / d.y.abs()
            } else {
                f64::INFINITY
            };
            if tx < ty {
                (d * tx, V2::new(d.x.signum(), 0.0))
            } else {
                (d * ty, V2::new(0.0, d.y.signum()))
            }
        }
        Shape::Ellipse => {
            let t = 1.0 / ((d.x / a).powi(2) + (d.y / b).powi(2)).sqrt();
            let p = d * t;
            // The gradient of (x/a)² + (y/b)², halved.
            let n = p.component_div(&V2::new(a * a, b * b));
            (p, n.normalize())
        }
    }
}

/// A gate: a straight lane through the outline, the last metre of which is the goal,
/// and the bar that shuts it, 0.5 m outside the outline.
fn add_gate(
    l: &mut Layout,
    v: &VenueSpec,
    gate: &GateSpec,
    centre: V2,
    at: &KeyPath,
) -> Result<GoalInfo, BuildError> {
    let m = VENUE_MARGIN;
    let (p, n) = outline_point(v, gate.bearing_deg);
    let t = V2::new(-n.y, n.x);
    let half = gate.width_m / 2.0;
    let mut goal_cells = Vec::new();
    for k in 0..l.grid.len() {
        let (x, y) = l.grid.center(k);
        let q = V2::new(f64::from(x), f64::from(y)) - p;
        let across = q.dot(&t).abs();
        let out = q.dot(&n);
        if across <= half && (-1.0..=m).contains(&out) {
            l.grid.speed[k] = 1.0;
            if out >= m - 1.0 {
                goal_cells.push(k);
            }
        }
    }
    if goal_cells.is_empty() {
        return Err(BuildError::new(
            at.key("width_m"),
            format!(
                "gate `{}` has no walkable cells: widen it or refine cell_m",
                gate.name
            ),
        ));
    }
    l.goals.push(goal_cells);
    let e = half + v.cell_m;
    let bar_centre = p + n * 0.5;
    let (b0, b1) = (bar_centre - t * e, bar_centre + t * e);
    let at_map = centre + p;
    Ok(GoalInfo {
        name: gate.name.clone(),
        x: at_map.x,
        y: at_map.y,
        capacity: f64::INFINITY,
        open_at: gate.opens_at_s.unwrap_or(0.0),
        close_at: gate.closes_at_s.unwrap_or(f64::INFINITY),
        is_gate: true,
        bar: Some(Segment::new(
            b0.x as f32,
            b0.y as f32,
            b1.x as f32,
            b1.y as f32,
        )),
    })
}

/// Inner walls: physical segments, and the cells they cross blocked for navigation.
fn add_inner_walls(l: &mut Layout, v: &VenueSpec) {
    for s in &v.walls {
        let seg = Segment::new(s[0] as f32, s[1] as f32, s[2] as f32, s[3] as f32);
        let (a, b) = (V2::new(s[0], s[1]), V2::new(s[2], s[3]));
        let steps = ((b - a).norm() / (v.cell_m * 0.25)).ceil().max(1.0) as usize;
        for q in 0..=steps {
            let f = q as f64 / steps as f64;
            let p = a + (b - a) * f;
            if let Some(k) = l.grid.locate(p.x as f32, p.y as f32) {
                l.grid.speed[k] = 0.0;
            }
        }
        l.extra_walls.push(seg);
    }
}

/// Each group scattered over the walkable ground of its area (inside the outline, not
/// in gate lanes), with its speeds and start times; fails when the area has no ground,
/// would be denser than a crowd can be, or cannot hold the group without overlaps.
fn place_groups(
    l: &Layout,
    walls: &Walls,
    v: &VenueSpec,
    spec: &CrowdSpec,
    ctx: &BuildContext,
    params: ModelParams,
    at: &KeyPath,
) -> Result<Agents, BuildError> {
    let csm = params.csm;
    let (a, b) = (v.width_m / 2.0, v.height_m / 2.0);
    let mut rng = ctx.streams.stream("crowd.population");
    let mut agents = Agents::default();
    let mut placed: Vec<(f32, f32)> = Vec::new();
    let mut id = 0u32;
    let cell_area = v.cell_m * v.cell_m;
    for (gi, g) in v.groups.iter().enumerate() {
        let ga = at.key("groups").index(gi);
        let [x0, y0, x1, y1] = g.area.unwrap_or([-a, -b, a, b]);
        let cells = (0..l.grid.len())
            .filter(|&k| {
                let (x, y) = l.grid.center(k);
                let (x, y) = (f64::from(x), f64::from(y));
                l.grid.walkable(k) && inside(v, x, y) && x > x0 && x < x1 && y > y0 && y < y1
            })
            .count();
        if cells == 0 {
            return Err(BuildError::new(
                ga.key("area"),
                format!(
                    "group `{}`: the area [{x0}, {y0}, {x1}, {y1}] has no walkable ground \
                     (it lies in walls or outside the venue)",
                    g.name
                ),
            ));
        }
        let area = cells as f64 * cell_area;
        let rho = f64::from(g.people) / area;
        if rho > MAX_DENSITY {
            return Err(BuildError::new(
                ga.key("people"),
                format!(
                    "group `{}`: {} people on {area:.0} m² of walkable ground is {rho:.1} P/m², \
                     more than a crowd can physically hold ({MAX_DENSITY} P/m², Weidmann 1993)",
                    g.name, g.people
                ),
            ));
        }
        let pos = scatter(
            l,
            walls,
            [
                x0.max(-a) as f32,
                y0.max(-b) as f32,
                x1.min(a) as f32,
                y1.min(b) as f32,
            ],
            g.people as usize,
            csm.radius,
            &placed,
            &|x, y| inside(v, f64::from(x), f64::from(y)),
            &mut rng,
        )
        .map_err(|fit| {
            BuildError::new(
                ga.key("people"),
                format!(
                    "group `{}`: only {fit} of {} people fit in the area without overlapping \
                     (random packing of {} m bodies); enlarge the area or lower the number",
                    g.name,
                    g.people,
                    2.0 * csm.radius
                ),
            )
        })?;
        for (x, y) in pos {
            let (v0, _) = spec.speeds.draw(&mut rng);
            let delay = g.premovement.as_ref().map_or(0.0, |p| p.draw(&mut rng));
            agents.push(id, x, y, v0, csm.radius, 0, (g.start_s + delay) as f32);
            placed.push((x, y));
            id += 1;
        }
    }
    Ok(agents)
}
