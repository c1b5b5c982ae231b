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
    let (line, col) = match e.span() {
        Some(span) => {
            let (l, c) = super::locate::line_col(text, span.start);
            (Some(l), Some(c))
        }
        None => path
            .and_then(|p| super::locate::line_col_of(text, p))
            .unzip(),
    };
    ScenarioError {
        file: file.to_owned(),
        key: path.map(|p| p.to_string()).unwrap_or_default(),
        line,
        col,
        message: e.message().trim().to_owned(),
    }
}
