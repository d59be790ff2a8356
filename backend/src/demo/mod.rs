//! The demo city: Daqing's districts, streets and grids, its grid team, people and housing,
//! nine months of case history written through the transition log, and the live simulator.
//!
//! Everything here is generated deterministically from a seed, so two builds of the demo
//! city are the same city (up to the moment "now" that the history runs up to).

pub mod geography;
pub mod history;
pub mod polygon;
pub mod population;
pub mod simulator;

pub use simulator::run_simulator;

use crate::store::city::{self, Areas};
use crate::store::{self, Db};
use gridwall_core::geo::Shape;
use indicatif::{ProgressBar, ProgressStyle};
use std::time::{Duration, Instant};

/// How much of the demo city to build into an empty database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DemoCity {
    /// Areas, taxonomy, team, places, house visits and nine months of case history.
    Full,
    /// The same without the case history.
    Bare,
    /// Nothing: a real city imports its own grids.
    Off,
}

/// The demo city's areas as the database stores them.
pub fn areas(seed: u64) -> Areas {
    let g = geography::generate(seed);
    let shape = |p: &polygon::Polygon| Shape::polygon(p.vertices());
    let street_code = |i: usize| g.streets[i].code.clone();
    Areas {
        districts: g
            .districts
            .iter()
            .map(|d| city::DistrictRow {
                code: d.code.clone(),
                name_zh: d.name_zh.clone(),
                name_en: d.name_en.clone(),
                kind: match d.kind {
                    geography::DistrictKind::UrbanDistrict => "district",
                    geography::DistrictKind::County => "county",
                }
                .to_owned(),
                shape: shape(&d.polygon),
            })
            .collect(),
        streets: g
            .streets
            .iter()
            .map(|s| city::StreetRow {
                code: s.code.clone(),
                district_code: g.districts[s.district].code.clone(),
                name_zh: s.name_zh.clone(),
                kind: match s.kind {
                    geography::StreetKind::Street => "street",
                    geography::StreetKind::Township => "township",
                }
                .to_owned(),
                shape: shape(&s.polygon),
            })
            .collect(),
        communities: g
            .communities
            .iter()
            .map(|c| city::CommunityRow {
                code: c.code.clone(),
                street_code: street_code(c.street),
                name_zh: c.name_zh.clone(),
                kind: match c.kind {
                    geography::CommunityKind::Community => "community",
                    geography::CommunityKind::Village => "village",
                }
                .to_owned(),
            })
            .collect(),
        grids: g
            .grids
            .iter()
            .map(|gr| city::GridRow {
                id: gr.code.clone(),
                name: gr.name_zh.clone(),
                street_code: street_code(gr.street),
                community_code: Some(g.communities[gr.community].code.clone()),
                kind: match gr.kind {
                    geography::GridKind::Urban => "urban",
                    geography::GridKind::Rural => "rural",
                }
                .to_owned(),
                shape: shape(&gr.polygon),
                housing: city::Housing::default(),
            })
            .collect(),
    }
}

/// How much history the demo city gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    /// Cases over the nine months of history.
    pub cases: usize,
    /// Days of house visits up to today (enough to cover "this month").
    pub visit_days: i64,
}

impl Scale {
    /// The seed's city: 75,000 cases, house visits since the start of last month.
    pub const FULL: Scale = Scale {
        cases: history::CASES,
        visit_days: 35,
    };
}

/// What building the demo city wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Built {
    pub grids: usize,
    pub cases: u64,
    pub transitions: u64,
    pub closed: u64,
    pub house_visits: u64,
    pub elapsed: Duration,
}

/// Builds the demo city into `db` in one transaction: all of it, or nothing.
/// Shows a progress bar when standard error is a terminal.
pub async fn build(
    db: &Db,
    what: DemoCity,
    seed: u64,
    now_ms: i64,
    utc_offset_minutes: i32,
) -> anyhow::Result<Built> {
    build_scaled(db, what, Scale::FULL, seed, now_ms, utc_offset_minutes).await
}

/// [`build`] with a chosen amount of history, for tests.
pub async fn build_scaled(
    db: &Db,
    what: DemoCity,
    scale: Scale,
    seed: u64,
    now_ms: i64,
    utc_offset_minutes: i32,
) -> anyhow::Result<Built> {
    let started = Instant::now();
    let mut built = Built::default();
    if what == DemoCity::Off {
        return Ok(built);
    }
    let bar = ProgressBar::new(100);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner:.green} {msg:<34} [{bar:32.cyan/blue}] {percent:>3}% {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let step = |pos: u64, msg: &'static str| {
        bar.set_position(pos);
        bar.set_message(msg);
    };

    step(0, "drawing 4,880 grids");
    let mut areas = areas(seed);
    population::assign_housing(&mut areas, seed);
    built.grids = areas.grids.len();

    let mut tx = db.begin().await?;
    step(8, "writing the taxonomy and the map");
    city::insert_taxonomy(&mut tx).await?;
    city::insert_areas(&mut tx, &areas).await?;
    step(18, "writing the grid team");
    let team = population::insert_team(&mut tx, &areas, seed, now_ms).await?;
    step(24, "writing places on the map");
    population::insert_places(&mut tx, &areas, seed).await?;
    step(28, "writing house visits");
    built.house_visits = population::insert_house_visits(
        &mut tx,
        &areas,
        &team,
        scale.visit_days,
        seed,
        now_ms,
        utc_offset_minutes,
    )
    .await?;
    if what == DemoCity::Full {
        step(40, "writing nine months of cases");
        let expected = (scale.cases as u64 * 6).max(1);
        let written = history::insert_history(
            &mut tx,
            &areas,
            &team,
            scale.cases,
            seed,
            now_ms,
            utc_offset_minutes,
            |n| {
                bar.set_position(40 + (n * 58 / expected).min(58));
            },
        )
        .await?;
        built.cases = written.cases;
        built.transitions = written.transitions;
        built.closed = written.closed;
    }
    step(99, "committing");
    // The city is marked as a demo with its rows, so that the server never takes a demo city
    // for a real one, nor the other way round.
    let what = if what == DemoCity::Full {
        "full"
    } else {
        "bare"
    };
    store::meta::mark_demo(&mut tx, what).await?;
    store::reset_sequences(&mut tx).await?;
    tx.commit().await?;
    bar.finish_and_clear();
    built.elapsed = started.elapsed();
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_area_is_valid_geojson_after_rounding() {
        let areas = areas(2023);
        let shapes = areas
            .districts
            .iter()
            .map(|d| &d.shape)
            .chain(areas.streets.iter().map(|s| &s.shape))
            .chain(areas.grids.iter().map(|g| &g.shape));
        for shape in shapes {
            let geojson = shape.to_geojson();
            let back = Shape::from_geojson(&geojson).unwrap_or_else(|e| panic!("{e}: {geojson}"));
            // Rounding to 6 decimals moves each vertex by at most half a micro-degree.
            assert!((back.area() - shape.area()).abs() < 1e-3 * shape.area());
        }
        assert_eq!(areas.grids.len(), 4_880);
        assert_eq!(
            areas.grids.iter().filter(|g| g.kind == "urban").count(),
            2_607
        );
        assert_eq!(
            areas.grids.iter().filter(|g| g.kind == "rural").count(),
            2_273
        );
        assert_eq!(areas.streets.len(), 110);
        assert_eq!(areas.districts.len(), 9);
    }

    #[test]
    fn housing_covers_the_seed_population() {
        let mut areas = areas(2023);
        population::assign_housing(&mut areas, 2023);
        let residents: i64 = areas.grids.iter().map(|g| g.housing.residents).sum();
        assert_eq!(residents, population::RESIDENTS);
        let mean = |kind: &str| {
            let v: Vec<i64> = areas
                .grids
                .iter()
                .filter(|g| g.kind == kind)
                .map(|g| g.housing.residents)
                .collect();
            v.iter().sum::<i64>() as f64 / v.len() as f64
        };
        assert!(mean("urban") > 2.0 * mean("rural"));
        assert!(
            areas
                .grids
                .iter()
                .all(|g| g.housing.households > 0 && g.housing.houses > 0)
        );
    }
}
