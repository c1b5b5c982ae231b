//! `report.html`: one self-contained page (images inlined as data URIs, no network) with
//! the batch summary, the tables and every plot. The page checks itself on load: script
//! errors and images that fail to display are listed in `#self-check`, which the browser
//! test reads.

use std::fmt::Write as _;

use anyhow::{Context, Result};
use base64::Engine as _;
use crucible_engine::batch::LoadedBatch;

use crate::output::Staged;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A report section: a title, a table (first row is the header) and plots (paths
/// relative to the batch folder).
pub struct Section {
    pub title: String,
    pub table: Vec<Vec<String>>,
    pub plots: Vec<String>,
}

impl Section {
    pub fn table(title: &str, table: Vec<Vec<String>>) -> Self {
        Self {
            title: title.into(),
            table,
            plots: Vec::new(),
        }
    }

    pub fn plots(title: &str, plots: Vec<String>) -> Self {
        Self {
            title: title.into(),
            table: Vec::new(),
            plots,
        }
    }
}

/// Write `report.html` from its sections into the staged batch folder (the plots are
/// read from there).
pub fn write_html(
    out: &Staged,
    b: &LoadedBatch,
    runs: usize,
    failed: usize,
    sections: &[Section],
) -> Result<()> {
    let mut h = String::new();
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} — crucible batch report</title>
<style>
body {{ font-family: "DejaVu Sans", Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
h1 {{ font-size: 1.6em; }} h2 {{ border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 2em; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: .9em; }}
td, th {{ border: 1px solid #ccc; padding: .3em .6em; text-align: left; }}
th {{ background: #f2f2f2; }}
figure {{ margin: 1em 0; }} img {{ max-width: 100%; border: 1px solid #eee; }}
#self-check {{ color: #999; font-size: .8em; }}
</style>
<script>
window.__errors = [];
window.addEventListener("error", function (e) {{ window.__errors.push(String(e.message || e.type)); }}, true);
window.addEventListener("load", function () {{
  var bad = [];
  for (var i = 0; i < document.images.length; i++) {{
    var im = document.images[i];
    if (!im.complete || im.naturalWidth === 0) bad.push(im.alt);
  }}
  var el = document.getElementById("self-check");
  el.setAttribute("data-images", String(document.images.length));
  el.setAttribute("data-broken", String(bad.length));
  el.setAttribute("data-errors", String(window.__errors.length));
  el.textContent = "self-check: " + document.images.length + " images, " + bad.length + " broken, " + window.__errors.length + " script errors";
}});
</script>
</head><body>
<h1>{title}</h1>
<p>Batch of <b>{runs}</b> runs of <i>{scenario}</i> ({failed} failed), seed {seed}, written by crucible {version}.
Tables as CSV beside this page: <code>runs.csv</code>, <code>standards.csv</code>, <code>stats.csv</code>.</p>
"#,
        title = esc(&b.spec.name),
        scenario = esc(&b.base.scenario.name),
        seed = b.spec.seed,
        version = crucible_engine::VERSION,
    );
    if !b.spec.description.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", esc(&b.spec.description));
    }
    for Section {
        title,
        table,
        plots,
    } in sections
    {
        if table.is_empty() && plots.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<h2>{}</h2>", esc(title));
        if let Some((head, rows)) = table.split_first() {
            h.push_str("<table><tr>");
            for c in head {
                let _ = write!(h, "<th>{}</th>", esc(c));
            }
            h.push_str("</tr>\n");
            for r in rows {
                h.push_str("<tr>");
                for c in r {
                    let _ = write!(h, "<td>{}</td>", esc(c));
                }
                h.push_str("</tr>\n");
            }
            h.push_str("</table>\n");
        }
        for p in plots.iter() {
            let bytes = std::fs::read(out.path(p)?).with_context(|| format!("cannot read {p}"))?;
            let data = base64::engine::general_purpose::STANDARD.encode(bytes);
            let _ = writeln!(
                h,
                "<figure><img alt=\"{}\" src=\"data:image/png;base64,{data}\"></figure>",
                esc(p)
            );
        }
    }
    h.push_str("<p id=\"self-check\">self-check: not run</p>\n</body></html>\n");
    out.write("report.html", h)
        .context("cannot write report.html")
}
