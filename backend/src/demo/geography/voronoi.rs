//! The geometry that draws the demo city's cells: Lloyd-relaxed Voronoi cells clipped to their
//! parent, splitting a polygon by area, the kilometre metric at Daqing's latitude, and the
//! seeded sampler and random numbers that make a seed draw the same city every time.

use super::REFERENCE_LATITUDE;
use crate::demo::polygon::{HalfPlane, PlanePoint, Polygon};

/// Cuts a convex polygon by a straight line into the part where `normal · x` is low, of the given
/// area, and the rest.
pub(super) fn split_by_area(
    polygon: &Polygon,
    normal: PlanePoint,
    target_km2: f64,
    metric: &Metric,
) -> (Polygon, Polygon) {
    let probe = HalfPlane {
        normal,
        origin: polygon.centroid(),
        offset: 0.0,
    };
    let values = polygon.vertices().iter().map(|&v| probe.eval(v));
    let mut lo = values.clone().fold(f64::INFINITY, f64::min);
    let mut hi = values.fold(f64::NEG_INFINITY, f64::max);
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        let cut = HalfPlane {
            offset: mid,
            ..probe
        };
        let area = polygon.clip(&cut).map_or(0.0, |p| metric.area_km2(&p));
        if area < target_km2 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let cut = HalfPlane {
        offset: 0.5 * (lo + hi),
        ..probe
    };
    let low = polygon
        .clip(&cut)
        .expect("a cut of positive target area keeps a non-empty low side");
    let high = polygon
        .clip(&cut.complement())
        .expect("a cut smaller than the whole keeps a non-empty high side");
    (low, high)
}

/// Places `count` well-spread seeds strictly inside a convex polygon by best-candidate sampling.
pub(super) fn best_candidate(
    polygon: &Polygon,
    count: usize,
    candidates: usize,
    rng: &mut SplitMix64,
    metric: &Metric,
) -> Vec<PlanePoint> {
    let sampler = Sampler::new(polygon);
    let mut seeds: Vec<PlanePoint> = Vec::with_capacity(count);
    for _ in 0..count {
        let mut best = polygon.centroid();
        let mut best_d = f64::NEG_INFINITY;
        for _ in 0..candidates {
            let candidate = sampler.sample(polygon, rng);
            let d = seeds
                .iter()
                .map(|&s| metric.dist2(s, candidate))
                .fold(f64::INFINITY, f64::min);
            if d > best_d {
                best = candidate;
                best_d = d;
            }
        }
        seeds.push(best);
    }
    seeds
}

/// Moves seeds to the centroids of their Voronoi cells for a number of rounds and returns the final
/// cells, in seed order.
pub(super) fn lloyd(
    parent: &Polygon,
    seeds: &mut [PlanePoint],
    rounds: usize,
    metric: &Metric,
) -> Vec<Polygon> {
    let mut cells = voronoi_cells(parent, seeds, metric);
    for _ in 0..rounds {
        for (seed, cell) in seeds.iter_mut().zip(&cells) {
            *seed = cell.centroid();
        }
        cells = voronoi_cells(parent, seeds, metric);
    }
    cells
}

/// Returns the Voronoi cells of seeds inside a convex parent, in seed order.
///
/// Each cell is the parent clipped by the bisectors against the other seeds, nearest first; once the
/// cell lies within half the distance to the next seed no farther seed can cut it, so the loop stops.
pub(super) fn voronoi_cells(
    parent: &Polygon,
    seeds: &[PlanePoint],
    metric: &Metric,
) -> Vec<Polygon> {
    let mut cells = Vec::with_capacity(seeds.len());
    let mut order: Vec<(f64, usize)> = Vec::with_capacity(seeds.len());
    for (i, &si) in seeds.iter().enumerate() {
        assert!(
            parent.strictly_contains(si),
            "every seed lies strictly inside its parent"
        );
        order.clear();
        order.extend(
            seeds
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(j, &sj)| (metric.dist2(si, sj), j)),
        );
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        if let Some(&(nearest, _)) = order.first() {
            assert!(nearest > 0.0, "seeds are pairwise distinct");
        }
        let mut cell = parent.clone();
        let mut reach = max_dist2(&cell, si, metric);
        for &(d2, j) in &order {
            if 4.0 * reach < d2 {
                break;
            }
            let half_plane = metric.bisector(si, seeds[j]);
            if holds(&half_plane, &cell) {
                continue;
            }
            cell = cell
                .clip(&half_plane)
                .expect("a seed strictly inside its parent keeps a non-empty Voronoi cell");
            reach = max_dist2(&cell, si, metric);
        }
        cells.push(cell);
    }
    cells
}

/// Returns the largest squared distance from a point to the polygon's vertices.
pub(super) fn max_dist2(polygon: &Polygon, p: PlanePoint, metric: &Metric) -> f64 {
    polygon
        .vertices()
        .iter()
        .map(|&v| metric.dist2(p, v))
        .fold(0.0, f64::max)
}

/// Returns whether the whole polygon lies in the half-plane, so that clipping would change nothing.
pub(super) fn holds(half_plane: &HalfPlane, polygon: &Polygon) -> bool {
    polygon.vertices().iter().all(|&v| half_plane.contains(v))
}

/// Kilometres per degree at Daqing's latitude, used to measure distances and areas.
#[derive(Debug, Clone, Copy)]
pub(super) struct Metric {
    pub(super) kx: f64,
    pub(super) ky: f64,
}

impl Metric {
    /// Returns the metric at the reference latitude.
    pub(super) fn daqing() -> Metric {
        Metric {
            kx: 111.32 * REFERENCE_LATITUDE.to_radians().cos(),
            ky: 111.13,
        }
    }

    /// Returns the squared distance in square kilometres.
    pub(super) fn dist2(&self, a: PlanePoint, b: PlanePoint) -> f64 {
        let dx = self.kx * (a[0] - b[0]);
        let dy = self.ky * (a[1] - b[1]);
        dx * dx + dy * dy
    }

    /// Returns the area in square kilometres.
    pub(super) fn area_km2(&self, polygon: &Polygon) -> f64 {
        polygon.area() * self.kx * self.ky
    }

    /// Returns the half-plane of points at least as close to `si` as to `sj` in kilometres.
    ///
    /// Swapping the two seeds yields the exact complement, so neighbouring cells share their edge.
    pub(super) fn bisector(&self, si: PlanePoint, sj: PlanePoint) -> HalfPlane {
        let d = [sj[0] - si[0], sj[1] - si[1]];
        HalfPlane {
            normal: [
                2.0 * self.kx * self.kx * d[0],
                2.0 * self.ky * self.ky * d[1],
            ],
            origin: [0.5 * (si[0] + sj[0]), 0.5 * (si[1] + sj[1])],
            offset: 0.0,
        }
    }
}

/// Draws uniform points strictly inside a convex polygon through its fan triangulation.
pub(super) struct Sampler {
    apex: PlanePoint,
    triangles: Vec<(PlanePoint, PlanePoint)>,
    cumulative: Vec<f64>,
}

impl Sampler {
    /// Prepares the triangle fan from the first vertex.
    pub(super) fn new(polygon: &Polygon) -> Sampler {
        let v = polygon.vertices();
        let apex = v[0];
        let mut triangles = Vec::with_capacity(v.len() - 2);
        let mut cumulative = Vec::with_capacity(v.len() - 2);
        let mut total = 0.0;
        for pair in v.windows(2).skip(1) {
            let area = crate::demo::polygon::signed_area(&[apex, pair[0], pair[1]]).max(0.0);
            total += area;
            triangles.push((pair[0], pair[1]));
            cumulative.push(total);
        }
        Sampler {
            apex,
            triangles,
            cumulative,
        }
    }

    /// Returns a uniform point strictly inside the polygon.
    pub(super) fn sample(&self, polygon: &Polygon, rng: &mut SplitMix64) -> PlanePoint {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        for _ in 0..64 {
            let pick = rng.next_open01() * total;
            let t = self
                .cumulative
                .iter()
                .position(|&c| pick < c)
                .unwrap_or(self.triangles.len() - 1);
            let (b, c) = self.triangles[t];
            let (mut u, mut v) = (rng.next_open01(), rng.next_open01());
            if u + v > 1.0 {
                u = 1.0 - u;
                v = 1.0 - v;
            }
            let a = self.apex;
            let p = [
                a[0] + u * (b[0] - a[0]) + v * (c[0] - a[0]),
                a[1] + u * (b[1] - a[1]) + v * (c[1] - a[1]),
            ];
            if polygon.strictly_contains(p) {
                return p;
            }
        }
        polygon.centroid()
    }
}

/// Mixes two numbers into a well-scrambled seed for an independent random stream.
pub(super) fn mix(a: u64, b: u64) -> u64 {
    let mut rng = SplitMix64::new(a ^ b.wrapping_mul(0xD1B5_4A32_D192_ED03));
    rng.next_u64();
    rng.next_u64()
}

/// The SplitMix64 generator: tiny, fast and fully determined by its seed.
pub(super) struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Starts a stream from a seed.
    pub(super) fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// Returns the next 64 random bits.
    pub(super) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Returns a uniform number strictly between 0 and 1.
    pub(super) fn next_open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}
