//! The georeferenced grid and raster layers on it, with ESRI ASCII grid (.asc) I/O.
//!
//! Cells are stored row-major with row 0 at the **north** edge (as .asc files store
//! them): cell (i, j) is column i from the west, row j from the north, at index
//! `j * nx + i`.

use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::files::{InputError, InputPolicy, excerpt, read_input};

/// Size, resolution and position of the city grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GridSpec {
    /// Columns (west → east).
    pub nx: usize,
    /// Rows (north → south).
    pub ny: usize,
    /// Cell size, m.
    pub cell: f64,
    /// Map x of the grid's west edge, m.
    pub x0: f64,
    /// Map y of the grid's south edge, m.
    pub y0: f64,
    /// EPSG code of the map coordinates, when known.
    pub epsg: Option<u32>,
}

impl GridSpec {
    pub fn new(nx: usize, ny: usize, cell: f64) -> Self {
        Self {
            nx,
            ny,
            cell,
            x0: 0.0,
            y0: 0.0,
            epsg: None,
        }
    }
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn index(&self, i: usize, j: usize) -> usize {
        j * self.nx + i
    }
    pub fn cell_of(&self, index: usize) -> (usize, usize) {
        (index % self.nx, index / self.nx)
    }
    /// Map coordinates of the centre of cell (i, j).
    pub fn center(&self, i: usize, j: usize) -> (f64, f64) {
        (
            self.x0 + (i as f64 + 0.5) * self.cell,
            self.y0 + (self.ny as f64 - j as f64 - 0.5) * self.cell,
        )
    }
    /// The cell containing map point (x, y), if on the grid.
    pub fn locate(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let fi = (x - self.x0) / self.cell;
        let fj = self.ny as f64 - (y - self.y0) / self.cell;
        (fi >= 0.0 && fj >= 0.0 && fi < self.nx as f64 && fj < self.ny as f64)
            .then_some((fi as usize, fj as usize))
    }
    pub fn width_m(&self) -> f64 {
        self.nx as f64 * self.cell
    }
    pub fn height_m(&self) -> f64 {
        self.ny as f64 * self.cell
    }
    pub fn cell_area(&self) -> f64 {
        self.cell * self.cell
    }
}

/// How a raster's values should be read (and drawn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum RasterKind {
    /// A continuous quantity; `palette` names a colour ramp for maps.
    Continuous { palette: Palette },
    /// Integer classes with a label and an RGB colour each (index = class value).
    Categorical { classes: Vec<(String, [u8; 3])> },
}

/// Colour ramps for continuous maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Palette {
    Terrain,
    Water,
    Heat,
    Density,
    Time,
}

/// One layer of values on the grid, with a name and unit, ready to export.
#[derive(Debug, Clone)]
pub struct Raster {
    pub name: String,
    pub title: String,
    pub unit: String,
    pub grid: GridSpec,
    pub data: Vec<f32>,
    pub kind: RasterKind,
}

/// The value written for cells with no data.
pub const NODATA: f32 = -9999.0;

impl Raster {
    /// The layer as an ESRI ASCII grid. NaN cells are written as NODATA.
    pub fn to_asc(&self) -> String {
        let g = &self.grid;
        let mut s = String::with_capacity(g.len() * 6 + 200);
        let _ = writeln!(s, "ncols {}", g.nx);
        let _ = writeln!(s, "nrows {}", g.ny);
        let _ = writeln!(s, "xllcorner {}", g.x0);
        let _ = writeln!(s, "yllcorner {}", g.y0);
        let _ = writeln!(s, "cellsize {}", g.cell);
        let _ = writeln!(s, "NODATA_value {NODATA}");
        for row in self.data.chunks(g.nx) {
            for (k, v) in row.iter().enumerate() {
                if k > 0 {
                    s.push(' ');
                }
                let v = if v.is_finite() { *v } else { NODATA };
                let _ = write!(s, "{v}");
            }
            s.push('\n');
        }
        s
    }
}

/// Why an .asc file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AscError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Input(InputError),
    #[error("{path}, line {line}: {message}")]
    Format {
        path: String,
        line: usize,
        message: String,
    },
}

/// An ESRI ASCII grid read from a file: its grid and values (NODATA as NaN).
#[derive(Debug)]
pub struct AscGrid {
    pub grid: GridSpec,
    pub data: Vec<f32>,
    /// (index of the first value on a line, that line's number), for every data line
    /// with values: lets errors about a value name its line whatever the layout.
    lines: Vec<(usize, usize)>,
}

impl AscGrid {
    /// The 1-based line of the file holding value `k`.
    pub fn line_of(&self, k: usize) -> usize {
        let at = self.lines.partition_point(|&(first, _)| first <= k);
        self.lines[at.saturating_sub(1)].1
    }
}

/// An .asc header: grid size, cell size, corner, NODATA value.
#[derive(Debug, Clone, Copy)]
pub struct AscHeader {
    pub grid: GridSpec,
    pub nodata: f64,
}

/// Bytes of an .asc header read at most: a header is six short lines.
const MAX_HEADER_BYTES: u64 = 64 << 10;
/// Bytes per value an .asc file may use (a long number, its separator, line ends): with
/// the header's cell count this bounds how much of a file is read.
const MAX_BYTES_PER_VALUE: u64 = 64;

/// Read an ESRI ASCII grid that the scenario's input policy allows. Never reads more
/// than the header implies (see [`crate::files`]). Errors name the file and line.
pub fn read_asc(path: &Path, inputs: &InputPolicy) -> Result<AscGrid, AscError> {
    let header = read_asc_header(path, inputs)?;
    let bound = (header.grid.nx as u64)
        .saturating_mul(header.grid.ny as u64)
        .saturating_mul(MAX_BYTES_PER_VALUE)
        .saturating_add(MAX_HEADER_BYTES);
    let text = read_input(path, inputs, bound).map_err(AscError::Input)?;
    parse_asc(&text, &path.display().to_string())
}

/// Read only the header of an .asc file (for estimates before reading the values).
pub fn read_asc_header(path: &Path, inputs: &InputPolicy) -> Result<AscHeader, AscError> {
    use std::io::{BufRead, BufReader, Read};
    let name = path.display().to_string();
    let canon = inputs.check(path).map_err(AscError::Input)?;
    let io = |source| AscError::Io {
        path: name.clone(),
        source,
    };
    let file = std::fs::File::open(canon).map_err(io)?;
    let mut lines = Vec::new();
    for line in BufReader::new(file.take(MAX_HEADER_BYTES)).lines() {
        let line = match line {
            Ok(l) => l,
            // Not text: the header parser reports the missing keys.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => break,
            Err(e) => return Err(io(e)),
        };
        let data = line
            .split_whitespace()
            .next()
            .is_some_and(|t| t.parse::<f64>().is_ok() || t.starts_with('-'));
        if data {
            break;
        }
        lines.push(line);
    }
    parse_header(lines.iter().map(String::as_str).enumerate(), &name).map(|(h, _)| h)
}

/// Parse the header lines (stops at the first line starting with a number); returns the
/// header and how many lines it took.
fn parse_header<'a>(
    lines: impl Iterator<Item = (usize, &'a str)>,
    name: &str,
) -> Result<(AscHeader, usize), AscError> {
    let err = |line: usize, message: String| AscError::Format {
        path: name.to_owned(),
        line,
        message,
    };
    let mut header = std::collections::BTreeMap::new();
    let mut used = 0;
    for (n, line) in lines {
        let mut parts = line.split_whitespace();
        let Some(key) = parts.next() else {
            used = n + 1;
            continue;
        };
        if key.parse::<f64>().is_ok() || key.starts_with('-') {
            break;
        }
        // The file may be no grid at all: quote little of it, escaped.
        let value = parts.next().ok_or_else(|| {
            err(
                n + 1,
                format!("header key {} has no value", excerpt(key, 40)),
            )
        })?;
        let v: f64 = value.parse().map_err(|_| {
            err(
                n + 1,
                format!(
                    "header {}: {} is not a number",
                    excerpt(key, 40),
                    excerpt(value, 40)
                ),
            )
        })?;
        header.insert(key.to_ascii_lowercase(), (v, n + 1));
        used = n + 1;
    }
    let get = |k: &str| header.get(k).map(|(v, _)| *v);
    let need = |k: &str| get(k).ok_or_else(|| err(1, format!("header lacks `{k}`")));
    let (ncols, nrows, cell) = (need("ncols")?, need("nrows")?, need("cellsize")?);
    let line_of = |k: &str| header.get(k).map_or(1, |(_, n)| *n);
    if ncols < 1.0 || nrows < 1.0 || ncols.fract() != 0.0 || nrows.fract() != 0.0 {
        return Err(err(
            line_of("ncols"),
            "ncols and nrows must be positive integers".into(),
        ));
    }
    // Checked here so that every later `nx * ny` is safe: more cells than an address
    // space holds cannot be a grid this machine reads.
    if ncols * nrows > (usize::MAX / 16) as f64 {
        return Err(err(
            line_of("ncols"),
            format!("ncols × nrows = {:.3e} cells is too large", ncols * nrows),
        ));
    }
    if !(cell.is_finite() && cell > 0.0) {
        return Err(err(
            line_of("cellsize"),
            format!("cellsize must be positive, got {cell}"),
        ));
    }
    let x0 = get("xllcorner").or_else(|| get("xllcenter").map(|c| c - cell / 2.0));
    let y0 = get("yllcorner").or_else(|| get("yllcenter").map(|c| c - cell / 2.0));
    for k in ["xllcorner", "xllcenter", "yllcorner", "yllcenter"] {
        if get(k).is_some_and(|v| !v.is_finite()) {
            return Err(err(line_of(k), format!("{k} must be a finite number")));
        }
    }
    let nodata = get("nodata_value").unwrap_or(f64::from(NODATA));
    let mut grid = GridSpec::new(ncols as usize, nrows as usize, cell);
    grid.x0 = x0.unwrap_or(0.0);
    grid.y0 = y0.unwrap_or(0.0);
    Ok((AscHeader { grid, nodata }, used))
}

/// Parse ESRI ASCII grid text; `name` is used in error messages.
pub fn parse_asc(text: &str, name: &str) -> Result<AscGrid, AscError> {
    let err = |line: usize, message: String| AscError::Format {
        path: name.to_owned(),
        line,
        message,
    };
    let (AscHeader { grid, nodata }, used) = parse_header(text.lines().enumerate(), name)?;
    // Each value takes at least two bytes: a header claiming more cells than the text can
    // hold must not reserve memory for them (the count check below reports it).
    let mut data = Vec::with_capacity(grid.len().min(text.len() / 2 + 1));
    let mut lines = Vec::new();
    let mut last_line = 0;
    for (n, line) in text.lines().enumerate().skip(used) {
        last_line = n + 1;
        let first = data.len();
        for tok in line.split_whitespace() {
            let v: f64 = tok
                .parse()
                .map_err(|_| err(n + 1, format!("{} is not a number", excerpt(tok, 40))))?;
            if data.len() == grid.len() {
                return Err(err(n + 1, format!("more than {} values", grid.len())));
            }
            data.push(if v == nodata { f32::NAN } else { v as f32 });
        }
        if data.len() > first {
            lines.push((first, n + 1));
        }
    }
    if data.len() != grid.len() {
        return Err(err(
            last_line,
            format!(
                "expected {} values ({} × {}), found {}",
                grid.len(),
                grid.nx,
                grid.ny,
                data.len()
            ),
        ));
    }
    Ok(AscGrid { grid, data, lines })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asc_round_trip_and_orientation() {
        let mut grid = GridSpec::new(3, 2, 5.0);
        grid.x0 = 100.0;
        grid.y0 = 200.0;
        let r = Raster {
            name: "z".into(),
            title: "z".into(),
            unit: "m".into(),
            grid,
            data: vec![1.0, 2.0, 3.0, 4.0, f32::NAN, 6.5],
            kind: RasterKind::Continuous {
                palette: Palette::Terrain,
            },
        };
        let back = parse_asc(&r.to_asc(), "t.asc").unwrap();
        assert_eq!(back.grid, grid);
        assert_eq!(back.data[5], 6.5);
        assert!(back.data[4].is_nan());
        // Row 0 is north: its centre is near the top edge.
        assert_eq!(grid.center(0, 0), (102.5, 207.5));
        assert_eq!(grid.locate(102.5, 207.5), Some((0, 0)));
        assert_eq!(grid.locate(99.0, 207.5), None);
    }

    #[test]
    fn asc_errors_name_the_line() {
        let bad = "ncols 2\nnrows 2\ncellsize 1\n1 2\n3 x\n";
        let e = parse_asc(bad, "f.asc").unwrap_err().to_string();
        assert!(e.contains("f.asc, line 5") && e.contains("`x`"), "{e}");
        let short = "ncols 2\nnrows 2\ncellsize 1\n1 2\n3\n";
        assert!(parse_asc(short, "f.asc").is_err());
    }

    #[test]
    fn asc_header_sizes_are_checked_before_anything_is_reserved() {
        // 2^64 cells overflowed `nx * ny`; 10^10 cells reserved 40 GB for three values.
        let huge = "ncols 4294967296\nnrows 4294967296\ncellsize 1\n1 2 3\n";
        let e = parse_asc(huge, "f.asc").unwrap_err().to_string();
        assert!(
            e.contains("f.asc, line 1") && e.contains("too large"),
            "{e}"
        );
        let big = "ncols 100000\nnrows 100000\ncellsize 1\n1 2 3\n";
        let e = parse_asc(big, "f.asc").unwrap_err().to_string();
        assert!(e.contains("expected 10000000000 values"), "{e}");
        let corner = "ncols 1\nnrows 1\nxllcorner inf\ncellsize 1\n1\n";
        let e = parse_asc(corner, "f.asc").unwrap_err().to_string();
        assert!(e.contains("line 3") && e.contains("xllcorner"), "{e}");
    }

    #[test]
    fn asc_values_know_their_line() {
        let text = "ncols 2\nnrows 2\ncellsize 1\n\n1\n2 3\n\n4\n";
        let a = parse_asc(text, "f.asc").unwrap();
        let lines: Vec<usize> = (0..4).map(|k| a.line_of(k)).collect();
        assert_eq!(lines, [5, 6, 6, 8]);
    }
}
