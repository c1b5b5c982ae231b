//! The key inside a tagged table that a type error is about.
//!
//! Serde reads an internally tagged enum (`[city]` picked by `source`, a `[[hazards]]`
//! entry by `kind`, a `[[batch.vary]]` entry by `dist`) and a flattened table through a
//! buffer that has neither key names nor spans, so an error inside one names only the
//! table, at its header line: `width_m = [500.0]` was reported at `[city]`. The error is
//! narrowed here by trial: the table is cut down to its tag and one key at a time, and the
//! key that alone still fails is the one at fault (descending into tables and lists it
//! holds). Only failing documents pay for this, and only the trials' outcomes are used.

use serde::de::DeserializeOwned;

use crate::spec::KeyPath;

/// Keys that pick a variant: kept in every trial so the variant stays the same.
/// (`path` is not a tag but a `[[batch.vary]]` entry needs it beside its flattened
/// distribution for any other key to be read.)
const TAGS: [&str; 5] = ["kind", "source", "dist", "type", "path"];

/// Most keys and entries tried, all levels together: bounds the work on a huge table.
const MAX_TRIALS: usize = 2000;

/// The deepest key path under `at` that alone reproduces a failure to read `text` as `T`,
/// or `at` itself if the failure cannot be narrowed.
/// `message` is the failure's; it picks the tag at fault when the tags alone fail.
pub(super) fn narrow<T: DeserializeOwned>(text: &str, at: &KeyPath, message: &str) -> KeyPath {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return at.clone();
    };
    let mut trials = 0;
    let mut here = at.clone();
    loop {
        let mut stop = false;
        let Some(value) = here.get_in(&doc) else {
            return here;
        };
        let fails = |reduced: toml::Value, trials: &mut usize| -> bool {
            *trials += 1;
            let mut trial = doc.clone();
            if here.set_in(&mut trial, reduced).is_err() {
                return false;
            }
            let Ok(trial_text) = toml::to_string(&trial) else {
                return false;
            };
            match toml::from_str::<T>(&trial_text) {
                Ok(_) => false,
                Err(e) => !e.message().starts_with("missing field"),
            }
        };
        let next = match value {
            toml::Value::Table(t) => {
                let tags: toml::Table = t
                    .iter()
                    .filter(|(k, _)| TAGS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                // A bad tag (an unknown kind) fails with the tags alone.
                if !tags.is_empty() && fails(toml::Value::Table(tags.clone()), &mut trials) {
                    let named = tags.iter().find(|(_, v)| {
                        v.as_str()
                            .is_some_and(|v| message.contains(&format!("`{v}`")))
                    });
                    let tag = named.or_else(|| tags.iter().next()).map_or("", |(k, _)| k);
                    return here.key(tag);
                }
                t.iter()
                    .filter(|(k, _)| !TAGS.contains(&k.as_str()))
                    .take(MAX_TRIALS.saturating_sub(trials))
                    .find(|(k, v)| {
                        let mut one = tags.clone();
                        one.insert((*k).clone(), (*v).clone());
                        fails(toml::Value::Table(one), &mut trials)
                    })
                    .map(|(k, _)| here.key(k))
                    // A key that is itself unknown is the answer, whatever it holds.
                    .inspect(|deeper| {
                        if let Some(crate::spec::Seg::Key(k)) = deeper.segments().last()
                            && message.starts_with(&format!("unknown field `{k}`"))
                        {
                            stop = true;
                        }
                    })
            }
            // Lists of tables (`[[hazards]]`) hold keys to narrow to; a list of numbers
            // is the value at fault as a whole.
            toml::Value::Array(a) if a.iter().any(toml::Value::is_table) => {
                (0..a.len().min(MAX_TRIALS.saturating_sub(trials)))
                    .find(|&i| fails(toml::Value::Array(vec![a[i].clone()]), &mut trials))
                    .map(|i| here.index(i))
            }
            _ => None,
        };
        match next {
            Some(deeper) if stop => return deeper,
            Some(deeper) => here = deeper,
            None => return here,
        }
    }
}
