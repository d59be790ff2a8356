//! Deterministic generation of the Daqing demo city's districts, streets, communities and grids from a seed.
//!
//! The nine districts are a fixed, hand-drawn layout of convex polygons that tile a convex outline of
//! the city. Inside each district, streets are Lloyd-relaxed Voronoi cells; in a district with both
//! streets (街道) and townships (乡镇), a straight cut first sets aside a compact wedge facing the city
//! core for the streets. Inside each street, grids are again Lloyd-relaxed Voronoi cells. Every cell is
//! its parent clipped by half-planes, so every level tiles the level above it with convex cells.
//!
//! The hierarchy (names, codes, counts) is fixed and independent of the seed; the seed only moves the
//! street and grid boundaries and regroups grids into communities.
//!
//! Distances are measured in kilometres at Daqing's latitude, where a degree of longitude is about
//! 77 km and a degree of latitude about 111 km, so that cells look compact on a map.

mod specs;
mod voronoi;

use super::polygon::{PlanePoint, Polygon};
use specs::{COMMUNITY_STEMS, DISTRICT_SPECS, DistrictSpec, VILLAGE_STEMS};
use voronoi::{Metric, SplitMix64, best_candidate, lloyd, mix, split_by_area};

/// The south-west corner of the box that holds the whole city.
pub const CITY_MIN: PlanePoint = [123.9, 45.4];
/// The north-east corner of the box that holds the whole city.
pub const CITY_MAX: PlanePoint = [125.5, 47.5];
/// The number of districts and counties.
pub const DISTRICT_COUNT: usize = 9;
/// The number of streets (街道) and townships (乡镇).
pub const STREET_COUNT: usize = 110;
/// The number of urban grids, all inside streets (街道).
pub const URBAN_GRID_COUNT: usize = 2607;
/// The number of rural grids, all inside townships (乡镇).
pub const RURAL_GRID_COUNT: usize = 2273;
/// The total number of grids.
pub const GRID_COUNT: usize = URBAN_GRID_COUNT + RURAL_GRID_COUNT;
/// The number of decimals kept in GeoJSON coordinates, about ten centimetres.
pub const GEOJSON_DECIMALS: u32 = 6;

// The corners of the hand-drawn district layout as [longitude, latitude]. The O corners, W1 and L2
// lie on the city outline; every other corner is where three or four districts meet, and every corner
// is a vertex of each district touching it, so neighbouring districts share their edges exactly.
const O0: PlanePoint = [124.40, 45.55];
const O1: PlanePoint = [124.80, 45.42];
const O2: PlanePoint = [125.25, 45.42];
const O3: PlanePoint = [125.48, 45.70];
const O4: PlanePoint = [125.45, 46.05];
const L2: PlanePoint = [125.37, 46.42];
const O5: PlanePoint = [125.32, 46.62];
const O6: PlanePoint = [125.12, 47.30];
const O7: PlanePoint = [124.95, 47.48];
const O8: PlanePoint = [124.40, 47.40];
const O9: PlanePoint = [123.93, 46.95];
const O10: PlanePoint = [123.93, 46.50];
const W1: PlanePoint = [124.03, 46.22];
const O11: PlanePoint = [124.15, 45.95];
const Z1: PlanePoint = [125.12, 45.77];
const Z2: PlanePoint = [124.62, 46.00];
const K1: PlanePoint = [125.12, 46.37];
const H1: PlanePoint = [124.66, 46.38];
const B1: PlanePoint = [124.66, 46.54];
const C1: PlanePoint = [124.48, 47.22];
const S1: PlanePoint = [124.94, 46.53];
const S2: PlanePoint = [125.09, 46.52];
const S3: PlanePoint = [125.11, 46.66];
const S4: PlanePoint = [124.95, 46.70];

/// The simplified convex outline of Daqing, counter-clockwise: narrow in the south-west, where
/// Daqing meets Qiqihar, and in the east, where it meets Anda.
const CITY_OUTLINE: [PlanePoint; 14] = [O0, O1, O2, O3, O4, L2, O5, O6, O7, O8, O9, O10, W1, O11];

/// The heart of the central urban area, towards which each urban district's streets are placed.
const CITY_CORE: PlanePoint = [125.03, 46.60];
/// The latitude at which degrees are converted to kilometres.
const REFERENCE_LATITUDE: f64 = 46.45;
/// The nominal area of a street (街道) in a district that also has townships, in square kilometres.
const URBAN_STREET_KM2: f64 = 8.0;
/// The largest share of a mixed district given to its streets (街道).
const MAX_URBAN_SHARE: f64 = 0.5;
/// Every street or township gets at least this many grids, enough for five communities.
const MIN_GRIDS_PER_STREET: usize = 6;
/// The fewest communities or villages in a street or township.
const MIN_COMMUNITIES: usize = 5;
/// The most communities or villages in a street or township.
const MAX_COMMUNITIES: usize = 15;
/// The usual number of grids in an urban community (社区).
const GRIDS_PER_URBAN_COMMUNITY: f64 = 6.0;
/// The usual number of grids in a village (村).
const GRIDS_PER_VILLAGE: f64 = 4.0;
/// The number of best-candidate draws per placed street seed.
const STREET_CANDIDATES: usize = 24;
/// The number of Lloyd relaxation rounds for street seeds.
const STREET_LLOYD_ROUNDS: usize = 12;
/// The number of best-candidate draws per placed grid seed.
const GRID_CANDIDATES: usize = 10;
/// The number of Lloyd relaxation rounds for grid seeds.
const GRID_LLOYD_ROUNDS: usize = 4;

/// Whether a county-level unit is an urban district or a county.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DistrictKind {
    /// An urban district (区).
    UrbanDistrict,
    /// A county (县), including the Dorbod Mongol autonomous county.
    County,
}

impl DistrictKind {
    /// Returns the Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            DistrictKind::UrbanDistrict => "区",
            DistrictKind::County => "县",
        }
    }
}

/// Whether a township-level unit is an urban street or a rural township.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreetKind {
    /// A street (街道), made of urban communities.
    Street,
    /// A town or township (镇 or 乡), made of villages.
    Township,
}

impl StreetKind {
    /// Returns the Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            StreetKind::Street => "街道",
            StreetKind::Township => "乡镇",
        }
    }
}

/// Whether a village-level unit is an urban community or a village.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CommunityKind {
    /// An urban community (社区).
    Community,
    /// A village (村).
    Village,
}

impl CommunityKind {
    /// Returns the Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            CommunityKind::Community => "社区",
            CommunityKind::Village => "村",
        }
    }
}

/// Whether a grid is a small urban grid or a large rural one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GridKind {
    /// An urban grid inside a street (街道), a few hundred metres across.
    Urban,
    /// A rural grid inside a township (乡镇), a few kilometres across.
    Rural,
}

impl GridKind {
    /// Returns the Chinese label.
    pub fn label_zh(self) -> &'static str {
        match self {
            GridKind::Urban => "城市网格",
            GridKind::Rural => "农村网格",
        }
    }
}

/// A district (区) or county (县).
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    /// The six-digit administrative code, such as "230602".
    pub code: String,
    /// The Chinese name, such as "萨尔图区".
    pub name_zh: String,
    /// The English name, such as "Sartu District".
    pub name_en: String,
    /// Whether this is an urban district or a county.
    pub kind: DistrictKind,
    /// The approximate seat of the government as `[longitude, latitude]`, inside `polygon`.
    pub centre: PlanePoint,
    /// The area, a convex cell of the city outline.
    pub polygon: Polygon,
}

/// A street (街道) or township (乡镇).
#[derive(Debug, Clone, PartialEq)]
pub struct Street {
    /// The nine-digit code: the district code, then 001.. for streets, 100.. for towns (镇) and
    /// 200.. for townships (乡).
    pub code: String,
    /// The index of the district in [`Geography::districts`].
    pub district: usize,
    /// The Chinese name, such as "会战街道" or "喇嘛甸镇".
    pub name_zh: String,
    /// Whether this is an urban street or a rural township.
    pub kind: StreetKind,
    /// The area, a convex cell of the district.
    pub polygon: Polygon,
}

/// An urban community (社区) or village (村), made of whole grids of one street.
#[derive(Debug, Clone, PartialEq)]
pub struct Community {
    /// The twelve-digit code: the street code, then 001.. for communities or 201.. for villages.
    pub code: String,
    /// The index of the street in [`Geography::streets`].
    pub street: usize,
    /// The Chinese name, unique within its street, such as "会战社区" or "新发村".
    pub name_zh: String,
    /// Whether this is an urban community or a village.
    pub kind: CommunityKind,
}

/// A governance grid (网格), the smallest area.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The code: the street code, a dash and a four-digit number, such as "230602001-0001".
    pub code: String,
    /// The index of the street in [`Geography::streets`].
    pub street: usize,
    /// The index of the community in [`Geography::communities`], always one of the same street.
    pub community: usize,
    /// The Chinese name, unique within its street, such as "萨尔图街道第3网格".
    pub name_zh: String,
    /// Whether this is an urban or a rural grid.
    pub kind: GridKind,
    /// The area, a convex cell of the street.
    pub polygon: Polygon,
    /// The area centroid of `polygon`.
    pub centroid: PlanePoint,
}

/// The whole generated city, every list ordered by code.
#[derive(Debug, Clone, PartialEq)]
pub struct Geography {
    /// The nine districts and counties.
    pub districts: Vec<District>,
    /// The 110 streets and townships, grouped by district.
    pub streets: Vec<Street>,
    /// The communities and villages, grouped by street.
    pub communities: Vec<Community>,
    /// The 4,880 grids, grouped by street and, within a street, by community.
    pub grids: Vec<Grid>,
}

/// Returns the simplified convex outline of Daqing that the districts tile.
pub fn city_outline() -> Polygon {
    Polygon::new(CITY_OUTLINE.to_vec()).expect("the fixed city outline is a valid convex ring")
}

/// Returns a closed GeoJSON ring rounded to [`GEOJSON_DECIMALS`] places.
///
/// Rounding merges vertices that become equal and keeps the ring convex and counter-clockwise, as
/// RFC 7946 asks for exterior rings. A polygon too small for the rounding grid, which the generator
/// never produces, falls back to its unrounded ring.
pub fn geojson_ring(polygon: &Polygon) -> Vec<PlanePoint> {
    polygon
        .rounded(GEOJSON_DECIMALS)
        .unwrap_or_else(|| polygon.clone())
        .closed_ring()
}

/// Generates the demo city for a seed; equal seeds give identical results.
///
/// The district outlines, the hierarchy, every name and code and the number of grids in each street
/// are the same for every seed. The seed moves street and grid boundaries and the grouping of grids
/// into communities.
pub fn generate(seed: u64) -> Geography {
    let metric = Metric::daqing();
    let outline = city_outline();
    let district_polygons = district_polygons(&outline, &metric);

    // Plan every street: its district, name, kind, code and the part of the district it lives in.
    let mut plans: Vec<StreetPlan> = Vec::with_capacity(STREET_COUNT);
    let mut layouts: Vec<DistrictLayout> = Vec::with_capacity(DISTRICT_COUNT);
    for (d, (spec, polygon)) in DISTRICT_SPECS.iter().zip(&district_polygons).enumerate() {
        let layout = DistrictLayout::new(spec, polygon, &metric);
        let (mut streets, mut towns, mut townships) = (0, 0, 0);
        for &name in spec.streets {
            let kind = street_kind(name);
            let number = if kind == StreetKind::Street {
                streets += 1;
                streets
            } else if name.ends_with('镇') {
                towns += 1;
                99 + towns
            } else {
                townships += 1;
                199 + townships
            };
            let (part_area, part_count) = if kind == StreetKind::Street {
                (layout.urban_km2, layout.urban_count)
            } else {
                (layout.rural_km2, layout.rural_count)
            };
            plans.push(StreetPlan {
                district: d,
                name,
                kind,
                code: format!("{}{:03}", spec.code, number),
                nominal_km2: part_area / part_count as f64,
            });
        }
        layouts.push(layout);
    }
    assert_eq!(
        plans.len(),
        STREET_COUNT,
        "the street table must list 110 units"
    );

    // Share the grids among streets in proportion to their nominal areas, separately per kind.
    let grid_counts = grid_counts(&plans);

    // Cut each district into its streets.
    let mut street_polygons: Vec<Option<Polygon>> = vec![None; STREET_COUNT];
    let mut first_plan = 0;
    for (d, (spec, layout)) in DISTRICT_SPECS.iter().zip(&layouts).enumerate() {
        let mut rng = SplitMix64::new(mix(seed, d as u64));
        let count = spec.streets.len();
        let kinds: Vec<StreetKind> = spec.streets.iter().map(|n| street_kind(n)).collect();
        for (part, kind) in [
            (&layout.urban, StreetKind::Street),
            (&layout.rural, StreetKind::Township),
        ] {
            let Some(part) = part else { continue };
            let slots: Vec<usize> = (0..count).filter(|&k| kinds[k] == kind).collect();
            let mut seeds = best_candidate(part, slots.len(), STREET_CANDIDATES, &mut rng, &metric);
            let mut cells = lloyd(part, &mut seeds, STREET_LLOYD_ROUNDS, &metric);
            // The seat street or town takes the cell holding the government seat when it can.
            if let Some(seat) = cells.iter().position(|c| c.contains(spec.centre)) {
                cells.swap(0, seat);
            }
            for (slot, cell) in slots.into_iter().zip(cells) {
                street_polygons[first_plan + slot] = Some(cell);
            }
        }
        first_plan += count;
    }

    let districts: Vec<District> = DISTRICT_SPECS
        .iter()
        .zip(district_polygons)
        .map(|(spec, polygon)| District {
            code: spec.code.to_string(),
            name_zh: spec.name_zh.to_string(),
            name_en: spec.name_en.to_string(),
            kind: spec.kind,
            centre: spec.centre,
            polygon,
        })
        .collect();

    let mut streets = Vec::with_capacity(STREET_COUNT);
    let mut communities = Vec::new();
    let mut grids = Vec::with_capacity(GRID_COUNT);
    for (s, (plan, polygon)) in plans.iter().zip(street_polygons).enumerate() {
        let polygon = polygon.expect("every planned street receives exactly one cell");
        let street = Street {
            code: plan.code.clone(),
            district: plan.district,
            name_zh: plan.name.to_string(),
            kind: plan.kind,
            polygon,
        };
        fill_street(
            seed,
            s,
            &street,
            grid_counts[s],
            &metric,
            &mut communities,
            &mut grids,
        );
        streets.push(street);
    }

    Geography {
        districts,
        streets,
        communities,
        grids,
    }
}

/// The planned identity of one street before its geometry exists.
struct StreetPlan {
    district: usize,
    name: &'static str,
    kind: StreetKind,
    code: String,
    nominal_km2: f64,
}

/// A district split into the convex part holding its streets (街道) and the part holding its
/// townships (乡镇).
struct DistrictLayout {
    urban: Option<Polygon>,
    rural: Option<Polygon>,
    urban_km2: f64,
    rural_km2: f64,
    urban_count: usize,
    rural_count: usize,
}

impl DistrictLayout {
    /// Splits a district, putting its streets in the corner facing the city core.
    fn new(spec: &DistrictSpec, polygon: &Polygon, metric: &Metric) -> DistrictLayout {
        let urban_count = spec
            .streets
            .iter()
            .filter(|n| street_kind(n) == StreetKind::Street)
            .count();
        let rural_count = spec.streets.len() - urban_count;
        let area = metric.area_km2(polygon);
        let (urban, rural) = match (urban_count, rural_count) {
            (_, 0) => (Some(polygon.clone()), None),
            (0, _) => (None, Some(polygon.clone())),
            (u, _) => {
                let target = (u as f64 * URBAN_STREET_KM2).min(MAX_URBAN_SHARE * area);
                // The streets fill a wedge at the district corner nearest the city core, cut
                // square to the bisector of that corner's angle.
                let v = polygon.vertices();
                let n = v.len();
                let k = (0..n)
                    .min_by(|&a, &b| {
                        metric
                            .dist2(v[a], CITY_CORE)
                            .total_cmp(&metric.dist2(v[b], CITY_CORE))
                    })
                    .expect("a polygon has at least three vertices");
                let unit = |p: PlanePoint| {
                    let e = [metric.kx * (p[0] - v[k][0]), metric.ky * (p[1] - v[k][1])];
                    let len = e[0].hypot(e[1]);
                    [e[0] / len, e[1] / len]
                };
                let (a, b) = (unit(v[(k + n - 1) % n]), unit(v[(k + 1) % n]));
                let normal = [metric.kx * (a[0] + b[0]), metric.ky * (a[1] + b[1])];
                let (near, far) = split_by_area(polygon, normal, target, metric);
                (Some(near), Some(far))
            }
        };
        let km2 = |p: &Option<Polygon>| p.as_ref().map_or(0.0, |p| metric.area_km2(p));
        DistrictLayout {
            urban_km2: km2(&urban),
            rural_km2: km2(&rural),
            urban,
            rural,
            urban_count,
            rural_count,
        }
    }
}

/// Returns the kind of a street from its name.
fn street_kind(name: &str) -> StreetKind {
    if name.ends_with("街道") {
        StreetKind::Street
    } else {
        StreetKind::Township
    }
}

/// Returns a name without its final administrative suffix, such as "会战" for "会战街道".
fn name_stem(name: &str) -> &str {
    for suffix in ["街道", "镇", "乡"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return stem;
        }
    }
    name
}

/// Returns the number of grids in every street: urban grids shared among streets (街道) and rural
/// grids among townships (乡镇), both in proportion to nominal area.
fn grid_counts(plans: &[StreetPlan]) -> Vec<usize> {
    let mut counts = vec![0; plans.len()];
    for (kind, total) in [
        (StreetKind::Street, URBAN_GRID_COUNT),
        (StreetKind::Township, RURAL_GRID_COUNT),
    ] {
        let members: Vec<usize> = (0..plans.len())
            .filter(|&s| plans[s].kind == kind)
            .collect();
        let weights: Vec<f64> = members.iter().map(|&s| plans[s].nominal_km2).collect();
        for (s, n) in members
            .into_iter()
            .zip(apportion(&weights, total, MIN_GRIDS_PER_STREET))
        {
            counts[s] = n;
        }
    }
    counts
}

/// Splits `total` into whole shares proportional to `weights`, each at least `minimum`, by the
/// largest-remainder method with ties going to the lower index.
fn apportion(weights: &[f64], total: usize, minimum: usize) -> Vec<usize> {
    assert!(
        total >= minimum * weights.len(),
        "the total must cover the minimum shares"
    );
    let rest = total - minimum * weights.len();
    let sum: f64 = weights.iter().sum();
    let quotas: Vec<f64> = weights.iter().map(|w| w / sum * rest as f64).collect();
    let mut shares: Vec<usize> = quotas.iter().map(|q| q.floor() as usize).collect();
    let given: usize = shares.iter().sum();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let fa = quotas[a] - quotas[a].floor();
        let fb = quotas[b] - quotas[b].floor();
        fb.total_cmp(&fa).then(a.cmp(&b))
    });
    for &i in order.iter().take(rest - given) {
        shares[i] += 1;
    }
    shares.iter().map(|s| s + minimum).collect()
}

/// Builds the grids and communities of one street and appends them to the lists.
fn fill_street(
    seed: u64,
    s: usize,
    street: &Street,
    grid_count: usize,
    metric: &Metric,
    communities: &mut Vec<Community>,
    grids: &mut Vec<Grid>,
) {
    let mut rng = SplitMix64::new(mix(seed, 1_000 + s as u64));
    let mut seeds = best_candidate(
        &street.polygon,
        grid_count,
        GRID_CANDIDATES,
        &mut rng,
        metric,
    );
    let cells = lloyd(&street.polygon, &mut seeds, GRID_LLOYD_ROUNDS, metric);
    let centroids: Vec<PlanePoint> = cells.iter().map(Polygon::centroid).collect();

    // The first seeds of a best-candidate sequence are well spread, so their cells anchor the
    // communities; every other grid joins the nearest anchor.
    let per_community = match street.kind {
        StreetKind::Street => GRIDS_PER_URBAN_COMMUNITY,
        StreetKind::Township => GRIDS_PER_VILLAGE,
    };
    let community_count = ((grid_count as f64 / per_community).round() as usize)
        .clamp(MIN_COMMUNITIES, MAX_COMMUNITIES)
        .min(grid_count);
    let membership: Vec<usize> = centroids
        .iter()
        .map(|&c| {
            let mut best = 0;
            let mut best_d = f64::INFINITY;
            for (k, &anchor) in centroids.iter().take(community_count).enumerate() {
                let d = metric.dist2(c, anchor);
                if d < best_d {
                    best = k;
                    best_d = d;
                }
            }
            best
        })
        .collect();

    let (kind, stems, suffix, first_number): (CommunityKind, &[&str], &str, usize) =
        match street.kind {
            StreetKind::Street => (CommunityKind::Community, &COMMUNITY_STEMS, "社区", 1),
            StreetKind::Township => (CommunityKind::Village, &VILLAGE_STEMS, "村", 201),
        };
    let names = community_names(s, name_stem(&street.name_zh), stems, community_count);
    let first_community = communities.len();
    for (k, stem) in names.into_iter().enumerate() {
        communities.push(Community {
            code: format!("{}{:03}", street.code, first_number + k),
            street: s,
            name_zh: format!("{stem}{suffix}"),
            kind,
        });
    }

    let grid_kind = match street.kind {
        StreetKind::Street => GridKind::Urban,
        StreetKind::Township => GridKind::Rural,
    };
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by_key(|&g| (membership[g], g));
    let mut cells: Vec<Option<Polygon>> = cells.into_iter().map(Some).collect();
    for (number, g) in order.into_iter().enumerate() {
        let polygon = cells[g]
            .take()
            .expect("each grid cell is used exactly once");
        grids.push(Grid {
            code: format!("{}-{:04}", street.code, number + 1),
            street: s,
            community: first_community + membership[g],
            name_zh: format!("{}第{}网格", street.name_zh, number + 1),
            kind: grid_kind,
            polygon,
            centroid: centroids[g],
        });
    }
}

/// Returns `count` distinct community name stems for street `s`: the street's own stem first, then
/// stems from the pool in an order fixed by the street index.
fn community_names<'a>(s: usize, own: &'a str, pool: &[&'a str], count: usize) -> Vec<&'a str> {
    let mut shuffled: Vec<&str> = pool.to_vec();
    let mut rng = SplitMix64::new(mix(0x6e61_6d65, s as u64));
    for i in (1..shuffled.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        shuffled.swap(i, j);
    }
    let mut names = vec![own];
    for stem in shuffled {
        if names.len() == count {
            break;
        }
        if !names.contains(&stem) {
            names.push(stem);
        }
    }
    assert_eq!(
        names.len(),
        count,
        "the name pool covers the largest street"
    );
    names
}

/// Returns the district polygons of the fixed layout.
///
/// The layout does not depend on the seed. The assertions document that every district is a strictly
/// convex ring holding its own seat, with an area within a quarter of its real share of the outline.
fn district_polygons(outline: &Polygon, metric: &Metric) -> Vec<Polygon> {
    let real_total: f64 = DISTRICT_SPECS.iter().map(|d| d.area_km2).sum();
    let outline_km2 = metric.area_km2(outline);
    DISTRICT_SPECS
        .iter()
        .map(|spec| {
            let polygon =
                Polygon::new(spec.ring.to_vec()).expect("every fixed district ring is valid");
            assert!(
                polygon.is_convex() && polygon.strictly_contains(spec.centre),
                "every district is convex and holds its own seat"
            );
            let share = metric.area_km2(&polygon) / outline_km2;
            let real_share = spec.area_km2 / real_total;
            assert!(
                (share / real_share - 1.0).abs() < 0.25,
                "every district is within a quarter of its real size"
            );
            polygon
        })
        .collect()
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::polygon::PlaneBox;
    use std::collections::BTreeSet;
    use std::sync::OnceLock;

    /// Returns the city for seed 7, generated once and shared by the tests.
    fn city() -> &'static Geography {
        static CITY: OnceLock<Geography> = OnceLock::new();
        CITY.get_or_init(|| generate(7))
    }

    /// Asserts that the children tile the parent: equal total area, no overlaps, all inside.
    fn assert_tiles(parent: &Polygon, children: &[&Polygon], what: &str) {
        let parent_area = parent.area();
        let sum: f64 = children.iter().map(|c| c.area()).sum();
        assert!(
            ((sum - parent_area) / parent_area).abs() < 1e-9,
            "{what}: children cover {sum} of {parent_area}"
        );
        let boxes: Vec<PlaneBox> = children.iter().map(|c| c.bbox()).collect();
        for i in 0..children.len() {
            for j in i + 1..children.len() {
                if boxes[i].overlaps(&boxes[j]) {
                    let overlap = children[i].intersection_area(children[j]);
                    assert!(
                        overlap < 1e-12 * parent_area,
                        "{what}: children {i} and {j} overlap by {overlap}"
                    );
                }
            }
        }
        for (i, child) in children.iter().enumerate() {
            assert!(
                parent.contains(child.centroid()),
                "{what}: child {i} lies outside"
            );
            let inside = child.intersection_area(parent);
            assert!(
                ((inside - child.area()) / child.area()).abs() < 1e-9,
                "{what}: child {i} sticks out of its parent"
            );
        }
    }

    #[test]
    fn counts_are_exact() {
        let g = city();
        assert_eq!(g.districts.len(), 9);
        assert_eq!(g.streets.len(), 110);
        assert_eq!(g.grids.len(), 4_880);
        let urban = g.grids.iter().filter(|x| x.kind == GridKind::Urban).count();
        let rural = g.grids.iter().filter(|x| x.kind == GridKind::Rural).count();
        assert_eq!(urban, 2_607);
        assert_eq!(rural, 2_273);
    }

    #[test]
    fn codes_are_unique_and_readable() {
        let g = city();
        let codes: Vec<&str> = g
            .districts
            .iter()
            .map(|d| d.code.as_str())
            .chain(g.streets.iter().map(|s| s.code.as_str()))
            .chain(g.communities.iter().map(|c| c.code.as_str()))
            .chain(g.grids.iter().map(|x| x.code.as_str()))
            .collect();
        let unique: BTreeSet<&str> = codes.iter().copied().collect();
        assert_eq!(unique.len(), codes.len(), "codes are unique");
        for code in codes {
            assert!(!code.is_empty() && code.len() <= 32, "{code} is too long");
            assert!(
                code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "{code} has a stray character"
            );
        }
        assert_eq!(g.grids[0].code, "230602001-0001");
        assert_eq!(g.grids[0].name_zh, "萨尔图街道第1网格");
    }

    #[test]
    fn hierarchy_is_consistent() {
        let g = city();
        for (s, street) in g.streets.iter().enumerate() {
            let district = &g.districts[street.district];
            assert!(street.code.starts_with(&district.code));
            if street.kind == StreetKind::Street {
                assert_eq!(district.kind, DistrictKind::UrbanDistrict);
            }
            let communities: Vec<&Community> =
                g.communities.iter().filter(|c| c.street == s).collect();
            assert!(
                (MIN_COMMUNITIES..=MAX_COMMUNITIES).contains(&communities.len()),
                "{} has {} communities",
                street.name_zh,
                communities.len()
            );
            let names: BTreeSet<&str> = communities.iter().map(|c| c.name_zh.as_str()).collect();
            assert_eq!(names.len(), communities.len(), "community names are unique");
            let grids: Vec<&Grid> = g.grids.iter().filter(|x| x.street == s).collect();
            let names: BTreeSet<&str> = grids.iter().map(|x| x.name_zh.as_str()).collect();
            assert_eq!(names.len(), grids.len(), "grid names are unique");
        }
        let mut used = vec![0usize; g.communities.len()];
        for grid in &g.grids {
            let community = &g.communities[grid.community];
            assert_eq!(community.street, grid.street, "{} strays", grid.code);
            assert!(grid.code.starts_with(&g.streets[grid.street].code));
            let (grid_kind, community_kind) = match g.streets[grid.street].kind {
                StreetKind::Street => (GridKind::Urban, CommunityKind::Community),
                StreetKind::Township => (GridKind::Rural, CommunityKind::Village),
            };
            assert_eq!(grid.kind, grid_kind);
            assert_eq!(community.kind, community_kind);
            assert!(community.name_zh.ends_with(community_kind.label_zh()));
            used[grid.community] += 1;
        }
        assert!(used.iter().all(|&n| n > 0), "every community has grids");
    }

    #[test]
    fn districts_tile_the_outline_and_hold_their_seats() {
        let g = city();
        let districts: Vec<&Polygon> = g.districts.iter().map(|d| &d.polygon).collect();
        assert_tiles(&city_outline(), &districts, "city");
        for d in &g.districts {
            assert!(d.polygon.strictly_contains(d.centre), "{}", d.name_zh);
        }
        let area = |k: DistrictKind| {
            g.districts
                .iter()
                .filter(|d| d.kind == k)
                .map(|d| d.polygon.area())
                .fold(f64::INFINITY, f64::min)
        };
        // Every county is larger than Sartu, Longfeng and Honggang together.
        let core: f64 = g.districts[..2]
            .iter()
            .chain(&g.districts[3..4])
            .map(|d| d.polygon.area())
            .sum();
        assert!(area(DistrictKind::County) > core);
    }

    #[test]
    fn streets_tile_their_districts() {
        let g = city();
        for (d, district) in g.districts.iter().enumerate() {
            let streets: Vec<&Polygon> = g
                .streets
                .iter()
                .filter(|s| s.district == d)
                .map(|s| &s.polygon)
                .collect();
            assert_tiles(&district.polygon, &streets, &district.name_zh);
        }
    }

    #[test]
    fn grids_tile_their_streets() {
        let g = city();
        for (s, street) in g.streets.iter().enumerate() {
            let grids: Vec<&Polygon> = g
                .grids
                .iter()
                .filter(|x| x.street == s)
                .map(|x| &x.polygon)
                .collect();
            assert_tiles(&street.polygon, &grids, &street.name_zh);
        }
    }

    #[test]
    fn rings_are_valid_and_inside_the_city() {
        let g = city();
        let extent = PlaneBox {
            min: CITY_MIN,
            max: CITY_MAX,
        };
        let polygons = g
            .districts
            .iter()
            .map(|d| &d.polygon)
            .chain(g.streets.iter().map(|s| &s.polygon))
            .chain(g.grids.iter().map(|x| &x.polygon));
        for p in polygons {
            assert!(p.vertices().len() >= 3);
            assert!(p.signed_area() > 0.0, "rings run counter-clockwise");
            assert!(p.vertices().iter().all(|&v| extent.contains(v)));
        }
        for grid in &g.grids {
            assert_eq!(grid.centroid, grid.polygon.centroid());
        }
    }

    #[test]
    fn geojson_rings_round_cleanly() {
        for grid in &city().grids {
            let rounded = grid
                .polygon
                .rounded(GEOJSON_DECIMALS)
                .expect("grids are far larger than the rounding grid");
            assert!(rounded.vertices().len() >= 3 && rounded.signed_area() > 0.0);
            let ring = geojson_ring(&grid.polygon);
            assert_eq!(ring.first(), ring.last());
            assert_eq!(ring.len(), rounded.vertices().len() + 1);
        }
    }

    #[test]
    fn urban_grids_are_small_and_rural_grids_large() {
        let g = city();
        let metric = Metric::daqing();
        let mean_km2 = |kind: GridKind| {
            let areas: Vec<f64> = g
                .grids
                .iter()
                .filter(|x| x.kind == kind)
                .map(|x| metric.area_km2(&x.polygon))
                .collect();
            areas.iter().sum::<f64>() / areas.len() as f64
        };
        let (urban, rural) = (mean_km2(GridKind::Urban), mean_km2(GridKind::Rural));
        assert!(rural > 10.0 * urban, "urban {urban} km², rural {rural} km²");
        // An urban grid is a few hundred metres across.
        assert!((0.2..0.8).contains(&urban.sqrt()), "urban {urban} km²");
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(generate(7), *city());
        let other = generate(8);
        assert_ne!(other, *city());
        // The hierarchy does not depend on the seed.
        let codes = |g: &Geography| g.grids.iter().map(|x| x.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&other), codes(city()));
    }

    #[test]
    fn other_seeds_generate_valid_cities() {
        for seed in [0, 1, u64::MAX] {
            let g = generate(seed);
            assert_eq!(g.grids.len(), GRID_COUNT);
            for (s, street) in g.streets.iter().enumerate() {
                let sum: f64 = g
                    .grids
                    .iter()
                    .filter(|x| x.street == s)
                    .map(|x| x.polygon.area())
                    .sum();
                assert!((sum / street.polygon.area() - 1.0).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn apportion_is_exact_and_fair() {
        let shares = apportion(&[1.0, 1.0, 1.0], 10, 2);
        assert_eq!(shares, vec![4, 3, 3]);
        let shares = apportion(&[5.0, 1.0, 0.5], 100, 6);
        assert_eq!(shares.iter().sum::<usize>(), 100);
        assert!(shares.iter().all(|&n| n >= 6));
        assert!(shares[0] > shares[1] && shares[1] > shares[2]);
    }

    #[test]
    fn name_stems_drop_the_suffix() {
        assert_eq!(name_stem("会战街道"), "会战");
        assert_eq!(name_stem("喇嘛甸镇"), "喇嘛甸");
        assert_eq!(name_stem("祝三乡"), "祝三");
    }
}
