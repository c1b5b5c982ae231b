//! Drill text templates: every word a player reads comes from a TOML file
//! (`templates/drill/<lang>.toml`), embedded in the binary and overridable from a folder,
//! so that drill designers edit wording without touching code.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::MSEL_COLUMNS;
use super::rules::RULES;

const EN: &str = include_str!("../../../templates/drill/en.toml");
const ZH: &str = include_str!("../../../templates/drill/zh.toml");

/// Labels every template file must define (headings, column names, fixed sentences)
/// besides the MSEL's columns ([`MSEL_COLUMNS`]).
pub const LABELS: &[&str] = &[
    "title",
    "msel_title",
    "situation_title",
    "situation_intro",
    "situation_clock",
    "situation_hazards",
    "situation_city",
    "situation_forecast",
    "situation_roles",
    "selection",
    "selection_fixed",
    "evaluation_title",
    "evaluation_intro",
    "objectives_title",
    "col_rating",
    "rating_scale",
    "standards_title",
    "standard_ref",
    "standard_outcome",
    "pass",
    "fail",
    "evaluator_notes",
    "difficulty_easy",
    "difficulty_standard",
    "difficulty_severe",
];

/// Player and simulated roles (`from` and `to` of an inject).
pub const ROLES: &[&str] = &[
    "weather_bureau",
    "ocean_bureau",
    "sensor_network",
    "call_110",
    "call_119",
    "call_120",
    "field_unit",
    "utility_sim",
    "district_sim",
    "shelter_sim",
    "venue_cctv",
    "command_centre",
    "fire_brigade",
    "district_government",
    "utility",
    "shelter_manager",
    "venue_security",
];

/// Fields each inject template defines.
pub const INJECT_FIELDS: &[&str] = &["message", "action", "criterion"];

/// One language's text.
#[derive(Debug, Clone)]
pub struct Templates {
    pub lang: String,
    pub labels: BTreeMap<String, String>,
    pub roles: BTreeMap<String, String>,
    /// capability key → (capability name, objective text).
    pub capabilities: BTreeMap<String, Capability>,
    pub injects: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    pub name: String,
    pub objective: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    lang: String,
    labels: BTreeMap<String, String>,
    roles: BTreeMap<String, String>,
    capabilities: BTreeMap<String, Capability>,
    injects: BTreeMap<String, BTreeMap<String, String>>,
}

/// Languages with built-in templates.
pub const LANGS: &[&str] = &["en", "zh"];

impl Templates {
    /// The built-in templates of `lang` (`en` or `zh`).
    pub fn builtin(lang: &str) -> Result<Self, String> {
        let text = match lang {
            "en" => EN,
            "zh" => ZH,
            _ => {
                return Err(format!(
                    "unknown language `{lang}`; expected one of: {}",
                    LANGS.join(", ")
                ));
            }
        };
        Self::parse(text, &format!("built-in templates/drill/{lang}.toml"))
    }

    /// `DIR/<lang>.toml`, checked to define every key the drill needs.
    pub fn from_dir(dir: &Path, lang: &str) -> Result<Self, String> {
        let path = dir.join(format!("{lang}.toml"));
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read templates {}: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parse and check a template file; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Self, String> {
        let f: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| format!(" line {}", text[..s.start].lines().count().max(1)))
                .unwrap_or_default();
            format!("templates {origin}{line}: {}", e.message())
        })?;
        let t = Templates {
            lang: f.lang,
            labels: f.labels,
            roles: f.roles,
            capabilities: f.capabilities,
            injects: f.injects,
        };
        let mut missing = Vec::new();
        for k in LABELS.iter().chain(&MSEL_COLUMNS) {
            if !t.labels.contains_key(*k) {
                missing.push(format!("labels.{k}"));
            }
        }
        for k in ROLES {
            if !t.roles.contains_key(*k) {
                missing.push(format!("roles.{k}"));
            }
        }
        for r in RULES {
            if !t.capabilities.contains_key(r.capability) {
                missing.push(format!("capabilities.{}", r.capability));
            }
            match t.injects.get(r.key) {
                None => missing.push(format!("injects.{}", r.key)),
                Some(m) => {
                    for f in INJECT_FIELDS {
                        if !m.contains_key(*f) {
                            missing.push(format!("injects.{}.{f}", r.key));
                        }
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            return Err(format!(
                "templates {origin}: missing key(s): {}",
                missing.join(", ")
            ));
        }
        Ok(t)
    }

    /// A label (checked present at load).
    pub fn label<'a>(&'a self, key: &'a str) -> &'a str {
        self.labels.get(key).map(String::as_str).unwrap_or(key)
    }

    pub fn role<'a>(&'a self, key: &'a str) -> &'a str {
        self.roles.get(key).map(String::as_str).unwrap_or(key)
    }

    pub fn inject(&self, rule: &str, field: &str) -> &str {
        self.injects
            .get(rule)
            .and_then(|m| m.get(field))
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// Replace `{name}` placeholders with values; unknown names become `?` so a typo in a
/// template shows in the output instead of silently vanishing.
pub fn fill(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if after[..close]
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '_') =>
            {
                let name = &after[..close];
                out.push_str(vars.get(name).map(String::as_str).unwrap_or("?"));
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_templates_are_complete() {
        for l in LANGS {
            let t = Templates::builtin(l).unwrap();
            assert_eq!(t.lang, *l);
        }
    }

    #[test]
    fn missing_keys_are_named() {
        let cut: String = EN
            .lines()
            .filter(|l| !l.starts_with("col_map"))
            .collect::<Vec<_>>()
            .join("\n");
        let e = Templates::parse(&cut, "x.toml").unwrap_err();
        assert!(e.contains("labels.col_map"), "{e}");
    }

    #[test]
    fn fill_replaces_known_and_marks_unknown() {
        let mut v = BTreeMap::new();
        v.insert("count".to_owned(), "3".to_owned());
        assert_eq!(fill("{count} roads {nope} {", &v), "3 roads ? {");
    }
}
