//! The engine's module graph has no import cycle, and every hazard has the same rooms.
//!
//! Nodes are the engine's top-level modules, except that each hazard (`hazards::fire`,
//! …) is its own node, and validation cases (`hazards::*::validation`,
//! `city::validation`) are nodes above the run they drive. Edges are the `crate::…`
//! paths in non-test code (`use` lines and inline paths). Test code is left out: a test
//! may reach anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("engine/src is readable") {
        let p = e.expect("a directory entry").path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Module path of a file: `hazards/fire/mod.rs` → [hazards, fire].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut segs: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().trim_end_matches(".rs").to_owned())
        .collect();
    if segs.last().is_some_and(|s| s == "mod" || s == "lib") {
        segs.pop();
    }
    segs
}

fn is_test_file(segs: &[String]) -> bool {
    segs.last()
        .is_some_and(|s| s == "tests" || s == "testing" || s.ends_with("_tests"))
}

/// The graph node a module path belongs to.
fn node_of(segs: &[String], hazards: &BTreeSet<String>) -> Option<String> {
    let first = segs.first()?;
    Some(match (first.as_str(), segs.get(1), segs.get(2)) {
        ("hazards", Some(h), third) if hazards.contains(h) => {
            if third.is_some_and(|t| t == "validation") {
                format!("hazards::{h}::validation")
            } else {
                format!("hazards::{h}")
            }
        }
        ("city", Some(v), _) if v == "validation" => "city::validation".into(),
        _ => first.clone(),
    })
}

/// The code of a file without its inline test modules (`#[cfg(test)]` then `mod`).
fn non_test_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    let mut skip_depth: Option<i64> = None;
    while let Some(line) = lines.next() {
        if let Some(depth) = skip_depth.as_mut() {
            *depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
            if *depth <= 0 {
                skip_depth = None;
            }
            continue;
        }
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|n| n.trim_start().starts_with("mod ") && n.contains('{'))
        {
            let head = lines.next().expect("peeked");
            let depth = head.matches('{').count() as i64 - head.matches('}').count() as i64;
            skip_depth = (depth > 0).then_some(depth);
            continue;
        }
        if line.trim() == "#[cfg(test)]" {
            // A test-only item on the next line (`mod tests;`, a helper): skip that line.
            lines.next();
            continue;
        }
        let code = line.split("//").next().unwrap_or("");
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// `crate::a::b::…` paths in the code, with `crate::{a, b::c}` groups expanded one level.
fn crate_paths(code: &str) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().last();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `my_crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let segs: Vec<String> = part
                    .trim()
                    .split("::")
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
                if !segs.is_empty() {
                    paths.push(segs);
                }
            }
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        let segs: Vec<String> = rest[..end]
            .split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if !segs.is_empty() {
            paths.push(segs);
        }
    }
    paths
}

struct Graph {
    edges: BTreeMap<String, BTreeMap<String, String>>,
}

fn engine_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let hazards: BTreeSet<String> = files
        .iter()
        .map(|f| module_of(&src, f))
        .filter(|m| m.len() >= 2 && m[0] == "hazards")
        .map(|m| m[1].clone())
        .collect();
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for f in &files {
        let module = module_of(&src, f);
        if is_test_file(&module) {
            continue;
        }
        let Some(from) = node_of(&module, &hazards) else {
            continue; // lib.rs
        };
        let text = std::fs::read_to_string(f).expect("source is readable");
        for path in crate_paths(&non_test_code(&text)) {
            if let Some(to) = node_of(&path, &hazards)
                && to != from
            {
                let rel = f.strip_prefix(&src).expect("under src").display();
                edges
                    .entry(from.clone())
                    .or_default()
                    .entry(to)
                    .or_insert_with(|| format!("{rel}: crate::{}", path.join("::")));
            }
        }
    }
    Graph { edges }
}

/// Strongly connected components with more than one node (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        if let Some(targets) = s.g.edges.get(v) {
            for w in targets.keys() {
                let w = w.as_str();
                if !s.index.contains_key(w) {
                    visit(s, w);
                    let lw = s.low[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(lw);
                } else if s.on_stack.contains(w) {
                    let iw = s.index[w];
                    let lv = s.low.get_mut(v).expect("visited");
                    *lv = (*lv).min(iw);
                }
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: Vec<&str> = g.edges.keys().map(String::as_str).collect();
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.out
}

#[test]
fn the_engine_has_no_import_cycle() {
    let g = engine_graph();
    let found = cycles(&g);
    let mut report = String::new();
    for comp in &found {
        report.push_str(&format!("cycle among {}:\n", comp.join(", ")));
        for from in comp {
            for (to, at) in &g.edges[from] {
                if comp.contains(to) {
                    report.push_str(&format!("  {from} -> {to}   ({at})\n"));
                }
            }
        }
    }
    assert!(found.is_empty(), "{report}");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let mut edges: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    edges
        .entry("a".into())
        .or_default()
        .insert("b".into(), String::new());
    edges
        .entry("b".into())
        .or_default()
        .insert("c".into(), String::new());
    edges
        .entry("c".into())
        .or_default()
        .insert("a".into(), String::new());
    assert_eq!(cycles(&Graph { edges }), vec![vec!["a", "b", "c"]]);
    let code = "use crate::{run::BuildError, sim};\nlet x = crate::hazards::fire::spread::f();";
    assert_eq!(
        crate_paths(code),
        vec![
            vec!["run", "BuildError"],
            vec!["sim"],
            vec!["hazards", "fire", "spread", "f"]
        ]
    );
    let with_tests = "use crate::a;\n#[cfg(test)]\nmod tests {\n    use crate::b;\n}\n";
    assert_eq!(crate_paths(&non_test_code(with_tests)), vec![vec!["a"]]);
}

/// The rooms every hazard folder has (docs/architecture.md, "One shape for every hazard").
const ROOMS: [&str; 7] = [
    "mod.rs",
    "spec.rs",
    "setup.rs",
    "state.rs",
    "systems.rs",
    "outputs.rs",
    "tests.rs",
];

#[test]
fn every_hazard_has_the_same_rooms_and_a_short_mod_rs() {
    let hazards = Path::new(env!("CARGO_MANIFEST_DIR")).join("engine/src/hazards");
    let mut problems = Vec::new();
    for e in std::fs::read_dir(&hazards).expect("hazards folder") {
        let p = e.expect("entry").path();
        let name = p
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        if !p.is_dir() {
            if name != "mod.rs" {
                problems.push(format!(
                    "{name}: a hazard is a folder with the rooms {ROOMS:?}"
                ));
            }
            continue;
        }
        for room in ROOMS {
            if !p.join(room).is_file() {
                problems.push(format!("{name}/ has no {room}"));
            }
        }
        let lines = std::fs::read_to_string(p.join("mod.rs"))
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines > 150 {
            problems.push(format!(
                "{name}/mod.rs has {lines} lines (wiring only: ≤ 150)"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Lines of each function (signature to closing brace) in a Rust file.
fn function_lengths(text: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        let t = t.strip_prefix("pub(crate) ").unwrap_or(t);
        let t = t.strip_prefix("pub ").unwrap_or(t);
        let t = t.strip_prefix("const ").unwrap_or(t);
        let Some(rest) = t.strip_prefix("fn ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let mut depth = 0i64;
        let mut opened = false;
        for (j, l) in lines.iter().enumerate().skip(i) {
            let code = l.split("//").next().unwrap_or("");
            if !opened && code.trim_end().ends_with(';') {
                break; // a declaration without a body
            }
            depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
            opened |= code.contains('{');
            if opened && depth <= 0 {
                out.push((name.clone(), i + 1, j - i + 1));
                break;
            }
        }
    }
    out
}

/// Files whose long functions are numerical kernels or validation cases, where one
/// function per published algorithm or case reads best.
fn is_kernel_or_case(rel: &str) -> bool {
    let file = rel.rsplit('/').next().unwrap_or(rel);
    let in_hazard = rel.starts_with("engine/src/hazards/");
    (in_hazard && !ROOMS.contains(&file))
        || file == "validation.rs"
        || rel.starts_with("engine/src/city/generate")
}

#[test]
fn no_long_functions_outside_kernels_and_tests() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["engine/src", "src", "viz/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut long = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(root)
            .expect("under root")
            .display()
            .to_string();
        let module: Vec<String> = vec![
            f.file_stem()
                .expect("a file name")
                .to_string_lossy()
                .into_owned(),
        ];
        if is_test_file(&module) || is_kernel_or_case(&rel) {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("readable");
        for (name, line, n) in function_lengths(&non_test_code_keeping_lines(&text)) {
            if n > 120 {
                long.push(format!("{rel}:{line}: fn {name} is {n} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these into named steps:\n{}",
        long.join("\n")
    );
}

/// The file with its inline test modules blanked (line numbers kept).
fn non_test_code_keeping_lines(text: &str) -> String {
    let mut out = Vec::new();
    let mut skip: Option<i64> = None;
    let mut pending = false;
    for line in text.lines() {
        if let Some(depth) = skip.as_mut() {
            *depth += line.matches('{').count() as i64 - line.matches('}').count() as i64;
            if *depth <= 0 {
                skip = None;
            }
            out.push("");
            continue;
        }
        if pending && line.trim_start().starts_with("mod ") && line.contains('{') {
            let depth = line.matches('{').count() as i64 - line.matches('}').count() as i64;
            skip = (depth > 0).then_some(depth);
            pending = false;
            out.push("");
            continue;
        }
        pending = line.trim() == "#[cfg(test)]";
        out.push(line);
    }
    out.join("\n")
}

#[test]
fn function_lengths_are_measured() {
    let text = "fn a() {\n    1;\n}\npub fn b(x: u8) -> u8 {\n    if x > 0 { 1 } else { 0 }\n}\n";
    assert_eq!(
        function_lengths(text),
        vec![("a".to_owned(), 1, 3), ("b".to_owned(), 4, 3)]
    );
}
