//! `crucible city`.

use std::path::PathBuf;
use std::time::Instant;

use crucible_engine::city::City;
use serde_json::json;

use super::{failed, load_with_city};
use crate::Outcome;
use crate::output::Staged;

#[derive(clap::Args)]
pub struct Args {
    /// Scenario file (TOML) whose `[city]` to build.
    pub scenario: PathBuf,
    /// Output folder for the layers (.asc and PNG) and assets.csv: new, empty or a
    /// crucible output folder; only files crucible wrote are replaced.
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(args: Args) -> Outcome {
    let t = Instant::now();
    if let Err(e) = crate::output::check(&args.out) {
        return failed(e);
    }
    let (_, city) = match load_with_city(&args.scenario) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let build_s = t.elapsed().as_secs_f64();
    match write_city(&city, &args.out, build_s) {
        Ok(()) => {
            crate::say!(
                "{} × {} cells of {} m, {} buildings, {:.0} residents, {} assets; built in {:.2} s; layers in {}",
                city.grid.nx,
                city.grid.ny,
                city.grid.cell,
                city.buildings.len(),
                city.population(false),
                city.assets.len(),
                build_s,
                args.out.display()
            );
            Outcome::Ok
        }
        Err(e) => failed(e),
    }
}

fn write_city(city: &City, dir: &std::path::Path, build_s: f64) -> anyhow::Result<()> {
    let staged = Staged::new(dir)?;
    let backdrop = crate::maps::Backdrop::of(city);
    for r in city.layers() {
        staged.write(&format!("{}.asc", r.name), r.to_asc())?;
        crate::maps::render_raster(&r, &backdrop, &staged.path(&format!("{}.png", r.name))?)?;
    }
    let mut csv = String::from("id,kind,x,y,capacity,depends_on\n");
    for a in &city.assets {
        let kind = serde_json::to_value(a.kind)?;
        csv.push_str(&format!(
            "{},{},{},{},{},{}\n",
            a.id,
            kind.as_str().unwrap_or_default(),
            a.x,
            a.y,
            a.capacity,
            a.depends_on.join(";")
        ));
    }
    staged.write("assets.csv", csv)?;
    let info = json!({
        "nx": city.grid.nx, "ny": city.grid.ny, "cell_m": city.grid.cell,
        "buildings": city.buildings.len(),
        "residents": city.population(false).round(),
        "daytime_population": city.population(true).round(),
        "land_area_km2": city.land_area_m2() / 1e6,
        "build_seconds": build_s,
    });
    staged.write("city.json", serde_json::to_string_pretty(&info)? + "\n")?;
    staged.commit()
}
