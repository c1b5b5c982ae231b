//! The vocabulary of scenario checks: key paths into a document, problems at a key,
//! and range checks. Every spec (`scenario`, each hazard's `spec.rs`, batches) uses it;
//! it depends on nothing else in the engine.

use std::fmt;

/// A path to a value: `hazards[2].ignitions[0].x`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Seg>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

impl KeyPath {
    /// The segments, for locating the path in a document.
    pub(crate) fn segments(&self) -> &[Seg] {
        &self.0
    }
    pub fn root() -> Self {
        Self(Vec::new())
    }
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    /// Parse `a.b[2].c`; None if malformed (empty key, unclosed bracket, bad index).
    pub fn parse(text: &str) -> Option<Self> {
        let mut segs = Vec::new();
        for part in text.split('.') {
            let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            {
                return None;
            }
            segs.push(Seg::Key(name.to_owned()));
            while !rest.is_empty() {
                let (idx, after) = rest.split_once(']')?;
                segs.push(Seg::Index(idx.parse().ok()?));
                rest = match after.strip_prefix('[') {
                    Some(r) => r,
                    None if after.is_empty() => "",
                    None => return None,
                };
            }
        }
        Some(Self(segs))
    }

    /// Set the value at this path in a TOML document. Tables along the path must exist;
    /// the last key may be new (a key left at its default in the file).
    pub fn set_in(&self, doc: &mut toml::Table, value: toml::Value) -> Result<(), String> {
        let mut root = toml::Value::Table(std::mem::take(doc));
        let result = self.set_in_value(&mut root, value);
        if let toml::Value::Table(t) = root {
            *doc = t;
        }
        result
    }

    fn set_in_value(&self, root: &mut toml::Value, value: toml::Value) -> Result<(), String> {
        let (last, parents) = self.0.split_last().ok_or("empty path")?;
        let mut cur = root;
        for (n, seg) in parents.iter().enumerate() {
            let here = KeyPath(self.0[..=n].to_vec());
            cur = match (seg, cur) {
                (Seg::Key(k), toml::Value::Table(t)) => {
                    let hint = did_you_mean(k, t.keys().map(String::as_str))
                        .map(|near| format!("; did you mean `{near}`?"))
                        .unwrap_or_default();
                    match t.get_mut(k) {
                        Some(v) => v,
                        None => return Err(format!("`{here}` is not in the scenario{hint}")),
                    }
                }
                (Seg::Index(i), toml::Value::Array(a)) => {
                    let len = a.len();
                    a.get_mut(*i)
                        .ok_or(format!("`{here}`: the list has {len} entries"))?
                }
                _ => return Err(format!("`{here}` does not match the scenario's structure")),
            };
        }
        match (last, cur) {
            (Seg::Key(k), toml::Value::Table(t)) => {
                t.insert(k.clone(), value);
                Ok(())
            }
            (Seg::Index(i), toml::Value::Array(a)) if *i < a.len() => {
                a[*i] = value;
                Ok(())
            }
            _ => Err(format!("`{self}` does not match the scenario's structure")),
        }
    }

    /// The value at this path, if present.
    pub fn get_in<'a>(&self, doc: &'a toml::Table) -> Option<&'a toml::Value> {
        let mut cur: Option<&toml::Value> = None;
        for (n, seg) in self.0.iter().enumerate() {
            cur = match (seg, cur) {
                (Seg::Key(k), None) if n == 0 => doc.get(k),
                (Seg::Key(k), Some(toml::Value::Table(t))) => t.get(k),
                (Seg::Index(i), Some(toml::Value::Array(a))) => a.get(*i),
                _ => None,
            };
            cur?;
        }
        cur
    }

    pub(crate) fn from_serde(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment;
        Self(
            path.iter()
                .filter_map(|s| match s {
                    Segment::Seq { index } => Some(Seg::Index(*index)),
                    Segment::Map { key } => Some(Seg::Key(key.clone())),
                    Segment::Enum { .. } | Segment::Unknown => None,
                })
                .collect(),
        )
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, s) in self.0.iter().enumerate() {
            match s {
                Seg::Key(k) if n == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

/// A problem at a key path.
pub type Problem = (KeyPath, String);

/// Require a finite number within [lo, hi] (use ±∞ for open ends).
pub fn in_range(path: KeyPath, v: f64, lo: f64, hi: f64, what: &str) -> Result<(), Problem> {
    if v.is_finite() && v >= lo && v <= hi {
        Ok(())
    } else {
        let range = match (lo.is_finite(), hi.is_finite()) {
            (true, true) => format!("between {lo} and {hi}"),
            (true, false) => format!("at least {lo}"),
            (false, true) => format!("at most {hi}"),
            _ => "a finite number".into(),
        };
        Err((path, format!("{what} must be {range}, got {v}")))
    }
}

/// Require a finite number > 0.
pub fn positive(path: KeyPath, v: f64, what: &str) -> Result<(), Problem> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err((path, format!("{what} must be a positive number, got {v}")))
    }
}

/// The known name closest to a misspelt `name`, if one is close enough to be what was
/// meant (Jaro–Winkler similarity ≥ 0.8, the usual cut-off for typos).
pub fn did_you_mean<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (strsim::jaro_winkler(name, k), k))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// "no {what} `{name}` …; did you mean `…`? known: …" for a name that is not among
/// `known` (listed in full: the user needs the exact spelling).
pub fn unknown_name(what: &str, name: &str, known: &[&str]) -> String {
    let hint = did_you_mean(name, known.iter().copied())
        .map(|k| format!("; did you mean `{k}`?"))
        .unwrap_or_default();
    let sep = if hint.is_empty() { ";" } else { "" };
    format!(
        "no {what} `{name}` in this scenario{hint}{sep} known: {}",
        known.join(", ")
    )
}
