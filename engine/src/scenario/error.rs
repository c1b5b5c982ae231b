//! Scenario errors: file, key path, line and column, and what was expected.

use crate::spec::KeyPath;

/// Something wrong with a scenario file. Displayed as
/// `FILE:LINE:COL: KEY: MESSAGE`, the form editors and terminals link to.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ScenarioError {
    pub file: String,
    /// Dotted key path, e.g. `hazards[0].speed_m_s` (empty for the whole file).
    pub key: String,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.col {
                write!(f, ":{col}")?;
            }
        }
        if !self.key.is_empty() {
            write!(f, ": `{}`", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Turn a toml error (with its span, if any) into a scenario error. When toml gives no
/// span, the key path is looked up in the document instead.
pub(super) fn from_toml(
    file: &str,
    text: &str,
    e: &toml::de::Error,
    path: Option<&KeyPath>,
) -> ScenarioError {
    let message = e.message().trim();
    let (line, col) = match e.span() {
        Some(span) => {
            let (l, c) = super::locate::line_col(text, span.start);
            (Some(l), Some(c))
        }
        None if message == "recursion limit" => {
            let (l, c) = super::locate::line_col(text, longest_dotted_key(text));
            (Some(l), Some(c))
        }
        None => path
            .and_then(|p| super::locate::line_col_of(text, p))
            .unzip(),
    };
    let mut key = path.map(|p| p.to_string()).unwrap_or_default();
    let mut message = with_suggestion(message);
    if message == "recursion limit" {
        message = "keys nested more than 80 levels deep (a dotted key or nested tables): \
                   TOML readers stop there"
            .into();
    }
    if message.starts_with("duplicate key")
        && let Some(span) = e.span()
    {
        key = duplicated_key(text, span);
        message = "this key is given twice (a table or key may appear only once)".into();
    }
    ScenarioError {
        file: file.to_owned(),
        key,
        line,
        col,
        message,
    }
}

/// Byte offset of the line whose key has the most dots (where a "recursion limit" error
/// without a span comes from).
fn longest_dotted_key(text: &str) -> usize {
    let mut best = (0, 0);
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let key = line.split('=').next().unwrap_or("");
        let dots = key.matches('.').count();
        if dots > best.0 {
            best = (dots, offset);
        }
        offset += line.len();
    }
    best.1
}

/// The dotted path of a key toml reports as duplicated: the key at `span`, inside the
/// table whose header precedes it (the whole header, if the duplicate is a header).
fn duplicated_key(text: &str, span: std::ops::Range<usize>) -> String {
    let clean = |k: &str| {
        k.split('.')
            .map(|p| p.trim().trim_matches(['"', '\'']))
            .collect::<Vec<_>>()
            .join(".")
    };
    let start = span.start.min(text.len());
    let end = span.end.clamp(start, text.len());
    let named = text.get(start..end).map(clean).unwrap_or_default();
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let header = |l: &str| {
        l.trim()
            .strip_prefix('[')
            .map(|h| clean(h.trim_start_matches('[').split(']').next().unwrap_or("")))
    };
    if let Some(h) = header(line) {
        return h;
    }
    let table = text[..line_start]
        .lines()
        .rev()
        .find_map(|l| header(l).filter(|_| l.trim_start().starts_with('[')));
    match table {
        Some(t) if !t.is_empty() => format!("{t}.{named}"),
        _ => named,
    }
}

/// Serde's "unknown field `x`, expected one of `a`, `b`" (or variant) with the closest
/// expected name added: "…; did you mean `a`?".
pub(super) fn with_suggestion(message: &str) -> String {
    let unknown = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.strip_prefix(p));
    let Some(rest) = unknown else {
        return message.to_owned();
    };
    let Some((name, expected)) = rest.split_once('`') else {
        return message.to_owned();
    };
    let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    match crate::spec::did_you_mean(name, names) {
        Some(near) => format!("{message}; did you mean `{near}`?"),
        None => message.to_owned(),
    }
}
