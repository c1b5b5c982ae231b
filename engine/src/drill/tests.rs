//! Unit tests of MSEL building on a hand-made event log.

use super::*;
use crate::events::EventLog;
use crate::events::Place;

fn scenario() -> Scenario {
    let text = r#"
format = 1
name = "t"
seed = 1
[time]
duration_s = 7200
tick_s = 60
[city]
source = "generate"
width_m = 200
height_m = 200
cell_m = 10
[[standards]]
id = "roads"
metric = "flood.max_road_depth_m"
op = "<="
threshold = 0.15
source = "GB 51222-2017"
"#;
    toml::from_str(text).unwrap()
}

fn summary() -> Summary {
    Summary {
        scenario: "t".into(),
        plan: "baseline".into(),
        seed: 1,
        crucible_version: String::new(),
        simulated_duration_s: 7200.0,
        ticks: 120,
        plugins: vec!["flood".into()],
        kpis: Default::default(),
        standards: vec![],
        metrics: Default::default(),
        metric_definitions: vec![],
        events_by_kind: Default::default(),
    }
}

fn log() -> Vec<Event> {
    let mut log = EventLog::default();
    for k in 0..100 {
        log.emit(60.0 * k as f64, "flood", "road.closed", Severity::Moderate)
            .at(Place {
                x: 5.0,
                y: 5.0,
                cell: Some([0, 0]),
                name: None,
            })
            .with("max_depth_m", 0.01 * k as f64);
    }
    log.emit(100.0, "fire", "fire.reported", Severity::Major)
        .at(Place {
            x: 5.0,
            y: 5.0,
            cell: Some([1, 1]),
            name: Some("B1".into()),
        });
    log.emit(30.0, "typhoon", "input.warning", Severity::Info);
    log.into_sorted()
}

#[test]
fn floods_of_events_merge_and_every_inject_traces_back() {
    let events = log();
    let tpl = Templates::builtin("en").unwrap();
    let clock = ClockOptions::fit(7200.0, 540, 1.0);
    let ex = build_exercise(&events, &summary(), &scenario(), &tpl, &clock);
    assert!(
        ex.injects.len() < 40 && ex.injects.len() > 2,
        "{}",
        ex.injects.len()
    );
    let all: BTreeSet<u64> = events.iter().map(|e| e.id).collect();
    let mut covered = 0;
    for w in ex.injects.windows(2) {
        assert!(w[0].t_s <= w[1].t_s);
    }
    for i in &ex.injects {
        assert!(!i.event_ids.is_empty());
        assert!(i.event_ids.iter().all(|id| all.contains(id)));
        covered += i.event_ids.len();
    }
    // Every mapped event is in exactly one inject; input.warning makes none.
    assert_eq!(covered, 101);
    let road = ex.injects.iter().find(|i| i.rule == "road_closed").unwrap();
    assert!(road.criterion.contains("roads"), "{}", road.criterion);
    assert_eq!(ex.injects[0].exercise_time, "09:00");
}

#[test]
fn clock_compresses_and_wraps() {
    let c = ClockOptions {
        start_min: 23 * 60,
        compression: 6.0,
    };
    assert_eq!(c.exercise_time(0.0), "23:00");
    assert_eq!(c.exercise_time(6.0 * 3600.0), "00:00 (+1d)");
    assert_eq!(parse_clock("09:30"), Ok(570));
    assert!(parse_clock("25:00").is_err());
    assert_eq!(scenario_time(3660.0), "T+01:01");
}

#[test]
fn scores_rank_and_bands_split_by_tercile() {
    let mut c: Vec<Candidate> = (0..9)
        .map(|k| Candidate {
            index: k,
            seed: k,
            score: 0.0,
            deaths: k as f64,
            loss_yuan: k as f64 * 10.0,
            people_exposed: 0.0,
            standards_failed: 0,
        })
        .collect();
    score(&mut c);
    assert!(c.windows(2).all(|w| w[0].score < w[1].score));
    let (_, easy) = choose(&c, "easy", 1).unwrap();
    let (_, severe) = choose(&c, "severe", 3).unwrap();
    assert_eq!(easy, vec![1]);
    let mut s = severe.clone();
    s.sort();
    assert_eq!(s, vec![6, 7, 8]);
    assert!(choose(&c, "extreme", 1).is_err());
}
