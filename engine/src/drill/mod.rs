//! Exercise generation: a run's event log turned into a Master Scenario Events List
//! (MSEL) in the sense of HSEEP (FEMA 2020, §3 and §4): numbered injects with scenario
//! and exercise time, the simulated source that delivers each one, the player who
//! receives it, the message, the expected action, the objective and capability it tests
//! and the evaluation criterion — here tied to the scenario's standards.
//!
//! Everything here is a pure function of the events, the run summary, the scenario and
//! the templates, so that the same seed gives the same exercise byte for byte.
//! See docs/drills.md.

pub mod rules;
pub mod templates;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;
use serde_json::Value;

use crate::events::{Event, Severity};
use crate::run::Summary;
use crate::scenario::Scenario;
use rules::{Field, RULES, rule_for};
pub use templates::{Templates, fill};

/// Exercise clock settings.
#[derive(Debug, Clone)]
pub struct ClockOptions {
    /// Exercise start, minutes after midnight (09:00 → 540).
    pub start_min: u32,
    /// Scenario seconds per exercise second (24 h storm in a 4 h drill → 6).
    pub compression: f64,
}

impl ClockOptions {
    /// Fit the whole scenario into `drill_hours` of exercise (never slower than real time).
    pub fn fit(duration_s: f64, start_min: u32, drill_hours: f64) -> Self {
        Self {
            start_min,
            compression: (duration_s / (drill_hours * 3600.0)).max(1.0),
        }
    }

    /// `HH:MM` exercise clock for scenario time `t` (days wrap as `+1d`).
    pub fn exercise_time(&self, t: f64) -> String {
        let min = self.start_min as f64 + t / self.compression / 60.0;
        let m = min.floor() as i64;
        let (d, hm) = (m.div_euclid(1440), m.rem_euclid(1440));
        let s = format!("{:02}:{:02}", hm / 60, hm % 60);
        if d > 0 { format!("{s} (+{d}d)") } else { s }
    }
}

/// Parse `HH:MM` into minutes after midnight.
pub fn parse_clock(s: &str) -> Result<u32, String> {
    let bad = || format!("bad exercise start `{s}`: expected HH:MM, e.g. 09:00");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let h: u32 = h.parse().map_err(|_| bad())?;
    let m: u32 = m.parse().map_err(|_| bad())?;
    if h > 23 || m > 59 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

/// `T+HH:MM` scenario time.
pub fn scenario_time(t: f64) -> String {
    let m = (t / 60.0).floor().max(0.0) as u64;
    format!("T+{:02}:{:02}", m / 60, m % 60)
}

/// One inject of the MSEL.
#[derive(Debug, Clone, Serialize)]
pub struct Inject {
    pub number: u32,
    /// Template key (`road_closed`, …).
    pub rule: String,
    /// Scenario time of the first merged event, s.
    pub t_s: f64,
    pub scenario_time: String,
    pub exercise_time: String,
    pub from: String,
    pub to: String,
    pub message: String,
    pub expected_action: String,
    pub objective: String,
    pub capability: String,
    pub criterion: String,
    /// Standards (ids) the criterion refers to.
    pub standards: Vec<String>,
    pub severity: Severity,
    /// Ids of the simulated events this inject stands for (`events.jsonl` `id`).
    pub event_ids: Vec<u64>,
    pub event_kinds: Vec<String>,
    /// Grid cell of the first event with a place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<[u32; 2]>,
    /// Situation map file (relative), when one is drawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map: Option<String>,
    #[serde(skip)]
    pub field: Field,
}

/// An objective of the exercise: one per capability the injects exercise.
#[derive(Debug, Clone, Serialize)]
pub struct Objective {
    pub capability: String,
    pub objective: String,
    pub injects: Vec<u32>,
    pub standards: Vec<String>,
}

/// The whole exercise (serialised as `exercise.json`).
#[derive(Debug, Clone, Serialize)]
pub struct Exercise {
    pub scenario: String,
    pub description: String,
    pub lang: String,
    pub seed: u64,
    pub exercise_start: String,
    pub compression: f64,
    pub scenario_duration_s: f64,
    pub exercise_duration_min: f64,
    /// Events were merged into injects within windows of this length, s.
    pub merge_window_s: f64,
    pub severity_score: Option<f64>,
    pub selection: Option<Selection>,
    pub objectives: Vec<Objective>,
    pub injects: Vec<Inject>,
    pub standards: Vec<crate::standards::Verdict>,
}

/// How the seed was chosen (for `--difficulty`).
#[derive(Debug, Clone, Serialize)]
pub struct Selection {
    pub difficulty: String,
    pub batch_seed: u64,
    pub candidates: Vec<Candidate>,
    /// Lower and upper tercile bounds of the score.
    pub band: [f64; 2],
    pub chosen_seed: u64,
    pub reason: String,
}

/// One run of the internal batch.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub index: u64,
    pub seed: u64,
    pub score: f64,
    pub deaths: f64,
    pub loss_yuan: f64,
    pub people_exposed: f64,
    pub standards_failed: u32,
}

/// Soft limit on the MSEL length: windows widen until it holds (HSEEP MSELs for a
/// half-day functional exercise typically carry tens of injects).
pub const MAX_INJECTS: usize = 40;
/// Shortest merge window, s: closures or alerts within 10 min are one report to players.
pub const MIN_WINDOW_S: f64 = 600.0;
/// Situation maps per exercise (the most severe injects).
pub const MAX_MAPS: usize = 8;

/// The severity components of one run, read from its KPIs and verdicts.
pub fn components(index: u64, seed: u64, s: &Summary) -> Candidate {
    let sum = |f: &dyn Fn(&str) -> bool| -> f64 {
        s.kpis
            .iter()
            .filter(|(k, v)| f(k) && v.value.is_finite())
            .map(|(_, v)| v.value)
            .sum()
    };
    Candidate {
        index,
        seed,
        score: 0.0,
        deaths: sum(&|k| k.ends_with(".deaths")),
        loss_yuan: sum(&|k| k.ends_with(".direct_loss_yuan")),
        people_exposed: sum(&|k| {
            k.contains(".people_exposed_")
                || k.ends_with(".not_safe_people")
                || k.ends_with(".injured_people")
        }),
        standards_failed: s.standards.iter().filter(|v| !v.pass).count() as u32,
    }
}

/// Severity score in [0, 1]: the mean, over deaths, loss, people exposed and standards
/// failed, of each run's mid-rank within the batch scaled to [0, 1]. Ranks rather than
/// weights, so no component dominates by its unit and no weight needs a source.
pub fn score(cands: &mut [Candidate]) {
    let n = cands.len();
    if n == 0 {
        return;
    }
    let cols: [fn(&Candidate) -> f64; 4] = [
        |c| c.deaths,
        |c| c.loss_yuan,
        |c| c.people_exposed,
        |c| f64::from(c.standards_failed),
    ];
    let mut total = vec![0.0; n];
    for col in cols {
        let v: Vec<f64> = cands.iter().map(col).collect();
        for (k, t) in total.iter_mut().enumerate() {
            let below = v.iter().filter(|x| **x < v[k]).count() as f64;
            let equal = v.iter().filter(|x| **x == v[k]).count() as f64;
            let mid = below + (equal - 1.0) / 2.0;
            *t += if n > 1 { mid / (n - 1) as f64 } else { 0.5 };
        }
    }
    for (c, t) in cands.iter_mut().zip(total) {
        c.score = t / 4.0;
    }
}

/// Difficulty bands.
pub const DIFFICULTIES: &[&str] = &["easy", "standard", "severe"];

/// Choose `k` candidates in the tercile band of `difficulty`, closest to the band's
/// median score (ties by batch index). Returns the band bounds and the chosen indices
/// into `cands`.
pub fn choose(
    cands: &[Candidate],
    difficulty: &str,
    k: usize,
) -> Result<([f64; 2], Vec<usize>), String> {
    let band = DIFFICULTIES
        .iter()
        .position(|d| *d == difficulty)
        .ok_or_else(|| {
            format!(
                "unknown difficulty `{difficulty}`; expected one of: {}",
                DIFFICULTIES.join(", ")
            )
        })?;
    let mut order: Vec<usize> = (0..cands.len()).collect();
    order.sort_by(|&a, &b| cands[a].score.total_cmp(&cands[b].score).then(a.cmp(&b)));
    let n = order.len();
    let lo = band * n / 3;
    let hi = ((band + 1) * n / 3).max(lo + 1).min(n);
    let members = &order[lo..hi];
    let mid = cands[members[members.len() / 2]].score;
    let mut pick: Vec<usize> = members.to_vec();
    pick.sort_by(|&a, &b| {
        (cands[a].score - mid)
            .abs()
            .total_cmp(&(cands[b].score - mid).abs())
            .then(a.cmp(&b))
    });
    pick.truncate(k);
    let bounds = [
        cands[members[0]].score,
        cands[members[members.len() - 1]].score,
    ];
    Ok((bounds, pick))
}

/// Format a number for a message: integers plain, others with 2 significant decimals.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// Template variables of a group of events: `count`, `place`, `places`, `first`, `last`,
/// and for each data key the largest number (or the first string).
fn vars(group: &[&Event], clock: &ClockOptions) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    v.insert("count".into(), group.len().to_string());
    let first = group[0];
    let last = group[group.len() - 1];
    v.insert("first".into(), scenario_time(first.t));
    v.insert("last".into(), scenario_time(last.t));
    v.insert("first_clock".into(), clock.exercise_time(first.t));
    let mut places: Vec<String> = Vec::new();
    for e in group {
        if let Some(p) = &e.place {
            let s = match (&p.name, p.cell) {
                (Some(n), _) => n.clone(),
                (None, Some([i, j])) => format!("({i},{j})"),
                (None, None) => format!("({:.0} m, {:.0} m)", p.x, p.y),
            };
            if !places.contains(&s) {
                places.push(s);
            }
        }
    }
    v.insert(
        "place".into(),
        places.first().cloned().unwrap_or_else(|| "—".into()),
    );
    let shown: Vec<&str> = places.iter().take(5).map(String::as_str).collect();
    let more = places.len().saturating_sub(5);
    let mut list = shown.join(", ");
    if more > 0 {
        let _ = write!(list, " +{more}");
    }
    v.insert("places".into(), list);
    v.insert("n_places".into(), places.len().to_string());
    let mut maxes: BTreeMap<String, f64> = BTreeMap::new();
    let mut sums: BTreeMap<String, f64> = BTreeMap::new();
    for e in group {
        for (k, val) in &e.data {
            match val {
                Value::Number(n) => {
                    if let Some(x) = n.as_f64() {
                        let m = maxes.entry(k.clone()).or_insert(f64::NEG_INFINITY);
                        *m = m.max(x);
                        *sums.entry(k.clone()).or_insert(0.0) += x;
                    }
                }
                Value::String(s) => {
                    v.entry(k.clone()).or_insert_with(|| s.clone());
                }
                _ => {}
            }
        }
    }
    for (k, m) in maxes {
        v.insert(k.clone(), num(m));
        v.insert(format!("{k}_sum"), num(sums[&k]));
    }
    v
}

/// Build the exercise from a finished run. `events` are in time order (as `run::run`
/// returns them).
pub fn build_exercise(
    events: &[Event],
    summary: &Summary,
    scenario: &Scenario,
    tpl: &Templates,
    clock: &ClockOptions,
) -> Exercise {
    let duration = scenario.time.duration_s;
    let mapped: Vec<(usize, &Event)> = events
        .iter()
        .filter_map(|e| rule_for(&e.kind).map(|r| (r, e)))
        .collect();
    // Widen the merge window until the MSEL is readable; named places (assets,
    // shelters) stay separate unless even the widest window is too long.
    let mut window = (duration / 24.0).max(MIN_WINDOW_S).min(duration.max(1.0));
    let mut per_place = true;
    let groups = loop {
        let g = group(&mapped, window, per_place);
        if g.len() <= MAX_INJECTS {
            break g;
        }
        if window >= duration {
            if per_place {
                per_place = false;
                continue;
            }
            break g;
        }
        window *= 2.0;
    };
    let mut injects: Vec<Inject> = groups
        .into_iter()
        .map(|(rule, evs)| inject_of(rule, &evs, scenario, tpl, clock))
        .collect();
    injects.sort_by(|a, b| {
        a.t_s
            .total_cmp(&b.t_s)
            .then(a.event_ids[0].cmp(&b.event_ids[0]))
    });
    for (k, i) in injects.iter_mut().enumerate() {
        i.number = k as u32 + 1;
    }
    assign_maps(&mut injects);
    let objectives = objectives_of(&injects);
    Exercise {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        lang: tpl.lang.clone(),
        seed: summary.seed,
        exercise_start: clock.exercise_time(0.0),
        compression: clock.compression,
        scenario_duration_s: duration,
        exercise_duration_min: duration / clock.compression / 60.0,
        merge_window_s: window,
        severity_score: None,
        selection: None,
        objectives,
        injects,
        standards: summary.standards.clone(),
    }
}

/// One inject from a rule's group of events: texts from the templates, the standards
/// the rule's metrics are judged by, severity, and where it happened.
fn inject_of(
    rule: usize,
    evs: &[&Event],
    scenario: &Scenario,
    tpl: &Templates,
    clock: &ClockOptions,
) -> Inject {
    {
        let r = &RULES[rule];
        let v = vars(evs, clock);
        let cap = &tpl.capabilities[r.capability];
        let stds: Vec<&crate::standards::Standard> = scenario
            .standards
            .iter()
            .filter(|s| r.metrics.iter().any(|p| s.metric.starts_with(p)))
            .collect();
        let mut criterion = fill(tpl.inject(r.key, "criterion"), &v);
        for s in &stds {
            let mut sv = BTreeMap::new();
            sv.insert("id".to_owned(), s.id.clone());
            sv.insert("metric".to_owned(), s.metric.clone());
            sv.insert("op".to_owned(), op_text(s.op));
            sv.insert("threshold".to_owned(), num(s.threshold));
            sv.insert("source".to_owned(), s.source.clone());
            criterion.push(' ');
            criterion.push_str(&fill(tpl.label("standard_ref"), &sv));
        }
        let t = evs[0].t;
        Inject {
            number: 0,
            rule: r.key.to_owned(),
            t_s: t,
            scenario_time: scenario_time(t),
            exercise_time: clock.exercise_time(t),
            from: tpl.role(r.from).to_owned(),
            to: tpl.role(r.to).to_owned(),
            message: fill(tpl.inject(r.key, "message"), &v),
            expected_action: fill(tpl.inject(r.key, "action"), &v),
            objective: cap.objective.clone(),
            capability: cap.name.clone(),
            criterion,
            standards: stds.iter().map(|s| s.id.clone()).collect(),
            severity: evs
                .iter()
                .map(|e| e.severity)
                .max()
                .unwrap_or(Severity::Info),
            event_ids: evs.iter().map(|e| e.id).collect(),
            event_kinds: evs
                .iter()
                .map(|e| e.kind.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            cell: evs
                .iter()
                .find_map(|e| e.place.as_ref().and_then(|p| p.cell)),
            map: None,
            field: r.field,
        }
    }
}

/// Maps for the most severe injects that have a field to show.
fn assign_maps(injects: &mut [Inject]) {
    let mut by_sev: Vec<usize> = (0..injects.len())
        .filter(|&k| injects[k].field != Field::None && injects[k].severity >= Severity::Major)
        .collect();
    by_sev.sort_by(|&a, &b| {
        injects[b]
            .severity
            .cmp(&injects[a].severity)
            .then(a.cmp(&b))
    });
    by_sev.truncate(MAX_MAPS);
    for k in by_sev {
        injects[k].map = Some(format!("maps/inject-{:02}.png", injects[k].number));
    }
}

/// One objective per core capability, with its injects and standards, in inject order.
fn objectives_of(injects: &[Inject]) -> Vec<Objective> {
    let mut objectives: Vec<Objective> = Vec::new();
    for i in injects {
        let o = match objectives.iter_mut().find(|o| o.capability == i.capability) {
            Some(o) => o,
            None => {
                objectives.push(Objective {
                    capability: i.capability.clone(),
                    objective: i.objective.clone(),
                    injects: Vec::new(),
                    standards: Vec::new(),
                });
                objectives.last_mut().expect("an objective was just pushed")
            }
        };
        o.injects.push(i.number);
        for s in &i.standards {
            if !o.standards.contains(s) {
                o.standards.push(s.clone());
            }
        }
    }
    objectives
}

/// Events of a rule grouped by merge window (and by named place when `per_place`), in
/// order of their first event.
fn group<'a>(
    mapped: &[(usize, &'a Event)],
    window: f64,
    per_place: bool,
) -> Vec<(usize, Vec<&'a Event>)> {
    let mut groups: BTreeMap<(usize, i64, String), Vec<&Event>> = BTreeMap::new();
    for &(r, e) in mapped {
        let place = if per_place && RULES[r].per_place {
            e.place
                .as_ref()
                .and_then(|p| p.name.clone())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let bucket = (e.t / window).floor() as i64;
        groups.entry((r, bucket, place)).or_default().push(e);
    }
    groups.into_iter().map(|((r, _, _), v)| (r, v)).collect()
}

fn op_text(op: crate::standards::Comparison) -> String {
    serde_json::to_value(op)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// CSV field quoting (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// Markdown table cell: no pipes or newlines.
fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn ids(i: &Inject) -> String {
    i.event_ids
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The MSEL's columns in order, as template label keys; [`msel_row`] gives an inject's
/// values in the same order.
pub const MSEL_COLUMNS: [&str; 12] = [
    "col_number",
    "col_scenario_time",
    "col_exercise_time",
    "col_from",
    "col_to",
    "col_message",
    "col_action",
    "col_objective",
    "col_capability",
    "col_criterion",
    "col_events",
    "col_map",
];

/// Columns the Markdown MSEL leaves out: objectives are in the evaluation guide, and the
/// map is linked from the message.
const MSEL_MD_OMITS: [&str; 2] = ["col_objective", "col_map"];

/// An inject's values in the order of [`MSEL_COLUMNS`].
fn msel_row(i: &Inject) -> [String; 12] {
    [
        i.number.to_string(),
        i.scenario_time.clone(),
        i.exercise_time.clone(),
        i.from.clone(),
        i.to.clone(),
        i.message.clone(),
        i.expected_action.clone(),
        i.objective.clone(),
        i.capability.clone(),
        i.criterion.clone(),
        ids(i),
        i.map.clone().unwrap_or_default(),
    ]
}

/// `msel.csv`.
pub fn msel_csv(ex: &Exercise, tpl: &Templates) -> String {
    let mut out = MSEL_COLUMNS
        .iter()
        .map(|c| csv_field(tpl.label(c)))
        .collect::<Vec<_>>()
        .join(",");
    out.push('\n');
    for i in &ex.injects {
        out.push_str(
            &msel_row(i)
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// Header variables shared by the Markdown documents.
fn doc_vars(ex: &Exercise) -> BTreeMap<String, String> {
    let mut v = BTreeMap::new();
    v.insert("scenario".into(), ex.scenario.clone());
    v.insert("description".into(), ex.description.clone());
    v.insert("seed".into(), ex.seed.to_string());
    v.insert("start".into(), ex.exercise_start.clone());
    v.insert("compression".into(), num(ex.compression));
    v.insert("duration_h".into(), num(ex.scenario_duration_s / 3600.0));
    v.insert("exercise_min".into(), num(ex.exercise_duration_min));
    v.insert("injects".into(), ex.injects.len().to_string());
    v
}

/// `msel.md`.
pub fn msel_md(ex: &Exercise, tpl: &Templates) -> String {
    let v = doc_vars(ex);
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", fill(tpl.label("title"), &v));
    let _ = writeln!(o, "## {}\n", tpl.label("msel_title"));
    let _ = writeln!(o, "{}\n", fill(tpl.label("situation_clock"), &v));
    let shown = |c: &str| !MSEL_MD_OMITS.contains(&c);
    let cols: Vec<&str> = MSEL_COLUMNS.into_iter().filter(|c| shown(c)).collect();
    let _ = writeln!(
        o,
        "| {} |",
        cols.iter()
            .map(|c| tpl.label(c))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let _ = writeln!(o, "|{}", "---|".repeat(cols.len()));
    for i in &ex.injects {
        let cells: Vec<String> = MSEL_COLUMNS
            .iter()
            .zip(msel_row(i))
            .filter(|(c, _)| shown(c))
            .map(|(&c, v)| {
                let mut cell = md(&v);
                if c == "col_message"
                    && let Some(m) = &i.map
                {
                    let _ = write!(cell, " ([{}]({m}))", tpl.label("col_map"));
                }
                cell
            })
            .collect();
        let _ = writeln!(o, "| {} |", cells.join(" | "));
    }
    o
}

/// `situation.md`: the start-of-exercise briefing.
pub fn situation_md(
    ex: &Exercise,
    tpl: &Templates,
    scenario: &Scenario,
    summary: &Summary,
) -> String {
    let mut v = doc_vars(ex);
    let kpi = |k: &str| {
        summary
            .kpis
            .get(k)
            .map(|x| num(x.value))
            .unwrap_or_else(|| "—".into())
    };
    v.insert("population".into(), kpi("population.present"));
    v.insert("area_km2".into(), kpi("city.land_area_km2"));
    v.insert("hazards".into(), summary.plugins.join(", "));
    v.insert(
        "scenario_start".into(),
        scenario.time.start.clone().unwrap_or_else(|| "—".into()),
    );
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", fill(tpl.label("situation_title"), &v));
    let _ = writeln!(o, "{}\n", fill(tpl.label("situation_intro"), &v));
    let _ = writeln!(o, "- {}", fill(tpl.label("situation_clock"), &v));
    let _ = writeln!(o, "- {}", fill(tpl.label("situation_city"), &v));
    let _ = writeln!(o, "- {}\n", fill(tpl.label("situation_hazards"), &v));
    let _ = writeln!(o, "{}\n", tpl.label("situation_forecast"));
    // What is known at the start: the injects of the first window.
    let first_t = ex.injects.first().map(|i| i.t_s).unwrap_or(0.0);
    for i in ex
        .injects
        .iter()
        .filter(|i| i.t_s <= first_t.max(0.0) + ex.merge_window_s * 0.5)
    {
        let _ = writeln!(o, "- {} {}: {}", i.scenario_time, i.from, i.message);
    }
    let _ = writeln!(o, "\n{}\n", tpl.label("situation_roles"));
    let mut roles: Vec<&str> = ex.injects.iter().map(|i| i.to.as_str()).collect();
    roles.sort_unstable();
    roles.dedup();
    for r in roles {
        let _ = writeln!(o, "- {r}");
    }
    if let Some(s) = &ex.selection {
        let mut sv = v.clone();
        sv.insert(
            "difficulty".into(),
            tpl.label(&format!("difficulty_{}", s.difficulty))
                .to_owned(),
        );
        sv.insert("reason".into(), s.reason.clone());
        sv.insert("batch_seed".into(), s.batch_seed.to_string());
        sv.insert("n".into(), s.candidates.len().to_string());
        let _ = writeln!(o, "\n{}", fill(tpl.label("selection"), &sv));
    } else {
        let _ = writeln!(o, "\n{}", fill(tpl.label("selection_fixed"), &v));
    }
    o
}

/// `evaluation.md`: objectives and the evaluation sheet.
pub fn evaluation_md(ex: &Exercise, tpl: &Templates) -> String {
    let v = doc_vars(ex);
    let mut o = String::new();
    let _ = writeln!(o, "# {}\n", fill(tpl.label("evaluation_title"), &v));
    let _ = writeln!(o, "{}\n", fill(tpl.label("evaluation_intro"), &v));
    let _ = writeln!(o, "## {}\n", tpl.label("objectives_title"));
    for (k, ob) in ex.objectives.iter().enumerate() {
        let _ = writeln!(o, "{}. **{}**: {}", k + 1, ob.capability, ob.objective);
    }
    let _ = writeln!(o, "\n{}\n", tpl.label("rating_scale"));
    let _ = writeln!(
        o,
        "| {} | {} | {} | {} | {} |",
        tpl.label("col_number"),
        tpl.label("col_capability"),
        tpl.label("col_criterion"),
        tpl.label("col_rating"),
        tpl.label("evaluator_notes")
    );
    let _ = writeln!(o, "|---|---|---|---|---|");
    for i in &ex.injects {
        let _ = writeln!(
            o,
            "| {} ({}) | {} | {} | ☐ M ☐ S ☐ U ☐ N/A | |",
            i.number,
            i.exercise_time,
            md(&i.capability),
            md(&i.criterion)
        );
    }
    let _ = writeln!(o, "\n## {}\n", tpl.label("standards_title"));
    for s in &ex.standards {
        let mut sv = BTreeMap::new();
        sv.insert("id".to_owned(), s.id.clone());
        sv.insert("metric".to_owned(), s.metric.clone());
        // Full precision: a verdict must not read "1.00 → FAIL".
        let value = if s.value.fract() == 0.0 {
            num(s.value)
        } else {
            format!("{:.4}", s.value)
        };
        sv.insert("value".to_owned(), value);
        sv.insert("op".to_owned(), op_text(s.op));
        sv.insert("threshold".to_owned(), num(s.threshold));
        sv.insert("source".to_owned(), s.source.clone());
        sv.insert(
            "verdict".to_owned(),
            tpl.label(if s.pass { "pass" } else { "fail" }).to_owned(),
        );
        let _ = writeln!(o, "- {}", fill(tpl.label("standard_outcome"), &sv));
    }
    o
}

#[cfg(test)]
mod tests;
