//! Convex-polygon geometry on plain (longitude, latitude) pairs, used to build and check gridwall's area tilings.
//!
//! Every computation is planar: coordinates are treated as Cartesian numbers and areas come out in
//! square degrees. Callers that need a metric (for example kilometres at Daqing's latitude) express it
//! through the half-planes they build, since a linear change of units maps half-planes to half-planes.

/// A point as `[longitude, latitude]` in degrees.
pub type PlanePoint = [f64; 2];

/// Two consecutive vertices closer than this on both axes are merged into one.
pub const DUPLICATE_EPS: f64 = 1e-12;

/// A ring whose area is below this fraction of its squared bounding-box diagonal is a degenerate sliver.
const DEGENERATE_RELATIVE_AREA: f64 = 1e-13;

/// Returns the cross product of `b - a` and `c - a`, positive when `a`, `b`, `c` turn left.
fn cross(a: PlanePoint, b: PlanePoint, c: PlanePoint) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

/// Returns whether two points coincide within [`DUPLICATE_EPS`] on both axes.
fn near(a: PlanePoint, b: PlanePoint) -> bool {
    (a[0] - b[0]).abs() <= DUPLICATE_EPS && (a[1] - b[1]).abs() <= DUPLICATE_EPS
}

/// Returns the signed area of an open ring, positive when it runs counter-clockwise.
///
/// The shoelace sum is taken relative to the first vertex so that large absolute coordinates
/// (longitudes around 125) do not cost precision.
pub fn signed_area(ring: &[PlanePoint]) -> f64 {
    let Some(&origin) = ring.first() else {
        return 0.0;
    };
    let mut twice = 0.0;
    for pair in ring.windows(2).skip(1) {
        twice += cross(origin, pair[0], pair[1]);
    }
    twice * 0.5
}

/// An axis-aligned bounding box.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlaneBox {
    /// The south-west corner.
    pub min: PlanePoint,
    /// The north-east corner.
    pub max: PlanePoint,
}

impl PlaneBox {
    /// Returns whether the two boxes share at least one point, boundaries included.
    pub fn overlaps(&self, other: &PlaneBox) -> bool {
        self.min[0] <= other.max[0]
            && other.min[0] <= self.max[0]
            && self.min[1] <= other.max[1]
            && other.min[1] <= self.max[1]
    }

    /// Returns whether the point lies in the box, boundary included.
    pub fn contains(&self, p: PlanePoint) -> bool {
        p[0] >= self.min[0] && p[0] <= self.max[0] && p[1] >= self.min[1] && p[1] <= self.max[1]
    }
}

/// The closed half-plane of points `p` with `normal · (p - origin) <= offset`.
///
/// Keeping an origin near the geometry, rather than a single constant term, keeps the evaluation
/// accurate for coordinates far from zero. [`HalfPlane::complement`] negates every term exactly, so a
/// half-plane and its complement evaluate to exact opposites and clip along the very same line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HalfPlane {
    /// The outward normal: the half-plane lies on the side this vector points away from.
    pub normal: PlanePoint,
    /// A reference point near the boundary line.
    pub origin: PlanePoint,
    /// The allowed value of `normal · (p - origin)`.
    pub offset: f64,
}

impl HalfPlane {
    /// Returns the half-plane to the left of the directed line from `a` to `b`, the inside of a
    /// counter-clockwise edge.
    pub fn left_of(a: PlanePoint, b: PlanePoint) -> HalfPlane {
        HalfPlane {
            normal: [b[1] - a[1], -(b[0] - a[0])],
            origin: a,
            offset: 0.0,
        }
    }

    /// Returns a signed value that is positive outside the half-plane and non-positive inside.
    pub fn eval(&self, p: PlanePoint) -> f64 {
        self.normal[0] * (p[0] - self.origin[0]) + self.normal[1] * (p[1] - self.origin[1])
            - self.offset
    }

    /// Returns whether the point lies in the closed half-plane.
    pub fn contains(&self, p: PlanePoint) -> bool {
        self.eval(p) <= 0.0
    }

    /// Returns the opposite closed half-plane, sharing the same boundary line bit for bit.
    pub fn complement(&self) -> HalfPlane {
        HalfPlane {
            normal: [-self.normal[0], -self.normal[1]],
            origin: self.origin,
            offset: -self.offset,
        }
    }
}

/// A simple polygon stored as a counter-clockwise ring of `[longitude, latitude]` vertices.
///
/// The ring is open (the first vertex is not repeated), has at least three vertices, no two
/// consecutive vertices within [`DUPLICATE_EPS`], and a positive area. Clipping, containment and
/// intersection assume the polygon is convex, which holds for everything built by clipping.
#[derive(Debug, Clone, PartialEq)]
pub struct Polygon {
    ring: Vec<PlanePoint>,
}

impl Polygon {
    /// Builds a polygon from a ring, merging near-duplicate consecutive vertices and reversing a
    /// clockwise ring; returns `None` when fewer than three vertices remain or the area is degenerate.
    pub fn new(points: Vec<PlanePoint>) -> Option<Polygon> {
        let mut ring: Vec<PlanePoint> = Vec::with_capacity(points.len());
        for p in points {
            if ring.last().is_none_or(|&last| !near(last, p)) {
                ring.push(p);
            }
        }
        while ring.len() > 1 && near(ring[ring.len() - 1], ring[0]) {
            ring.pop();
        }
        if ring.len() < 3 {
            return None;
        }
        let mut area = signed_area(&ring);
        if area < 0.0 {
            ring.reverse();
            area = -area;
        }
        let bbox = bbox_of(&ring);
        let dx = bbox.max[0] - bbox.min[0];
        let dy = bbox.max[1] - bbox.min[1];
        if area.is_nan() || area <= DEGENERATE_RELATIVE_AREA * (dx * dx + dy * dy) {
            return None;
        }
        Some(Polygon { ring })
    }

    /// Returns the axis-aligned rectangle with the given corners.
    pub fn rectangle(min: PlanePoint, max: PlanePoint) -> Option<Polygon> {
        Polygon::new(vec![min, [max[0], min[1]], max, [min[0], max[1]]])
    }

    /// Returns the vertices, counter-clockwise, without repeating the first one.
    pub fn vertices(&self) -> &[PlanePoint] {
        &self.ring
    }

    /// Returns the ring closed for GeoJSON, with the first vertex repeated at the end.
    pub fn closed_ring(&self) -> Vec<PlanePoint> {
        let mut ring = self.ring.clone();
        ring.push(self.ring[0]);
        ring
    }

    /// Returns the signed area in square degrees, which is positive for a valid polygon.
    pub fn signed_area(&self) -> f64 {
        signed_area(&self.ring)
    }

    /// Returns the area in square degrees.
    pub fn area(&self) -> f64 {
        self.signed_area().abs()
    }

    /// Returns the area centroid.
    pub fn centroid(&self) -> PlanePoint {
        let origin = self.ring[0];
        let mut twice_area = 0.0;
        let mut sx = 0.0;
        let mut sy = 0.0;
        for pair in self.ring.windows(2).skip(1) {
            let a = [pair[0][0] - origin[0], pair[0][1] - origin[1]];
            let b = [pair[1][0] - origin[0], pair[1][1] - origin[1]];
            let c = a[0] * b[1] - a[1] * b[0];
            twice_area += c;
            sx += (a[0] + b[0]) * c;
            sy += (a[1] + b[1]) * c;
        }
        [
            origin[0] + sx / (3.0 * twice_area),
            origin[1] + sy / (3.0 * twice_area),
        ]
    }

    /// Returns the bounding box.
    pub fn bbox(&self) -> PlaneBox {
        bbox_of(&self.ring)
    }

    /// Returns whether the point lies in the polygon, boundary included.
    pub fn contains(&self, p: PlanePoint) -> bool {
        self.edges().all(|(a, b)| cross(a, b, p) >= 0.0)
    }

    /// Returns whether the point lies strictly inside the polygon, away from every edge line.
    pub fn strictly_contains(&self, p: PlanePoint) -> bool {
        self.edges().all(|(a, b)| cross(a, b, p) > 0.0)
    }

    /// Returns whether every corner turns left, that is whether the ring is strictly convex.
    pub fn is_convex(&self) -> bool {
        let n = self.ring.len();
        (0..n).all(|i| cross(self.ring[i], self.ring[(i + 1) % n], self.ring[(i + 2) % n]) > 0.0)
    }

    /// Returns the part of the polygon inside the half-plane, or `None` when nothing of positive area
    /// remains.
    ///
    /// This is one Sutherland–Hodgman pass. When the half-plane holds the whole polygon the polygon is
    /// returned unchanged, so untouched vertices stay bit-identical and stay shared with neighbours.
    pub fn clip(&self, half_plane: &HalfPlane) -> Option<Polygon> {
        let values: Vec<f64> = self.ring.iter().map(|&p| half_plane.eval(p)).collect();
        if values.iter().all(|&v| v <= 0.0) {
            return Some(self.clone());
        }
        if values.iter().all(|&v| v >= 0.0) {
            return None;
        }
        let n = self.ring.len();
        let mut out = Vec::with_capacity(n + 2);
        for i in 0..n {
            let j = (i + 1) % n;
            let (p, q) = (self.ring[i], self.ring[j]);
            let (fp, fq) = (values[i], values[j]);
            if fp <= 0.0 {
                out.push(p);
            }
            if (fp < 0.0 && fq > 0.0) || (fp > 0.0 && fq < 0.0) {
                let t = fp / (fp - fq);
                out.push([p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]);
            }
        }
        Polygon::new(out)
    }

    /// Returns the intersection with another convex polygon, or `None` when it has no area.
    pub fn intersection(&self, other: &Polygon) -> Option<Polygon> {
        if !self.bbox().overlaps(&other.bbox()) {
            return None;
        }
        let mut result = self.clone();
        for (a, b) in other.edges() {
            result = result.clip(&HalfPlane::left_of(a, b))?;
        }
        Some(result)
    }

    /// Returns the area of the intersection with another convex polygon in square degrees.
    pub fn intersection_area(&self, other: &Polygon) -> f64 {
        self.intersection(other).map_or(0.0, |p| p.area())
    }

    /// Returns the polygon with every coordinate rounded to `decimals` places, for GeoJSON output.
    ///
    /// Vertices that rounding makes equal are merged, and any vertex that no longer turns strictly left
    /// is dropped, so the result is again a convex counter-clockwise ring of at least three vertices.
    /// Returns `None` only when the polygon is too small to survive the rounding grid.
    pub fn rounded(&self, decimals: u32) -> Option<Polygon> {
        let scale = 10f64.powi(i32::try_from(decimals).ok()?);
        // Work on the integer lattice so that the turn tests below are exact.
        let mut ring: Vec<PlanePoint> = Vec::with_capacity(self.ring.len());
        for p in &self.ring {
            let q = [(p[0] * scale).round(), (p[1] * scale).round()];
            if ring.last() != Some(&q) {
                ring.push(q);
            }
        }
        while ring.len() > 1 && ring.first() == ring.last() {
            ring.pop();
        }
        let mut changed = true;
        while changed && ring.len() >= 3 {
            changed = false;
            let n = ring.len();
            for i in 0..n {
                let prev = ring[(i + n - 1) % n];
                let next = ring[(i + 1) % n];
                if cross(prev, ring[i], next) <= 0.0 {
                    ring.remove(i);
                    changed = true;
                    break;
                }
            }
        }
        if ring.len() < 3 {
            return None;
        }
        let ring = ring
            .into_iter()
            .map(|q| [q[0] / scale, q[1] / scale])
            .collect::<Vec<_>>();
        if signed_area(&ring) > 0.0 {
            Some(Polygon { ring })
        } else {
            None
        }
    }

    /// Iterates over the directed edges, closing the ring.
    fn edges(&self) -> impl Iterator<Item = (PlanePoint, PlanePoint)> + '_ {
        let n = self.ring.len();
        (0..n).map(move |i| (self.ring[i], self.ring[(i + 1) % n]))
    }
}

/// Returns the bounding box of a non-empty list of points.
fn bbox_of(points: &[PlanePoint]) -> PlaneBox {
    let mut bbox = PlaneBox {
        min: [f64::INFINITY, f64::INFINITY],
        max: [f64::NEG_INFINITY, f64::NEG_INFINITY],
    };
    for p in points {
        bbox.min[0] = bbox.min[0].min(p[0]);
        bbox.min[1] = bbox.min[1].min(p[1]);
        bbox.max[0] = bbox.max[0].max(p[0]);
        bbox.max[1] = bbox.max[1].max(p[1]);
    }
    bbox
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, side: f64) -> Polygon {
        Polygon::rectangle([x, y], [x + side, y + side]).unwrap()
    }

    #[test]
    fn area_and_centroid_of_a_square() {
        let p = square(125.0, 46.0, 0.5);
        assert!((p.area() - 0.25).abs() < 1e-12);
        let c = p.centroid();
        assert!((c[0] - 125.25).abs() < 1e-12 && (c[1] - 46.25).abs() < 1e-12);
        assert!(p.signed_area() > 0.0);
        assert!(p.is_convex());
    }

    #[test]
    fn clockwise_input_is_reoriented() {
        let p = Polygon::new(vec![[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.0]]).unwrap();
        assert!(p.signed_area() > 0.0);
    }

    #[test]
    fn duplicates_and_degenerate_rings_are_handled() {
        let p = Polygon::new(vec![
            [0.0, 0.0],
            [1.0, 0.0],
            [1.0 + 1e-13, 0.0],
            [1.0, 1.0],
            [0.0, 1.0],
            [0.0, 1e-13],
        ])
        .unwrap();
        assert_eq!(p.vertices().len(), 4);
        assert!(Polygon::new(vec![[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]).is_none());
        assert!(Polygon::new(vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1e-15]]).is_none());
        assert!(Polygon::new(vec![[0.0, 0.0], [1e-13, 0.0], [0.0, 1e-13]]).is_none());
    }

    #[test]
    fn clipping_by_a_half_plane() {
        let p = square(0.0, 0.0, 1.0);
        let h = HalfPlane {
            normal: [1.0, 0.0],
            origin: [0.25, 0.0],
            offset: 0.0,
        };
        let left = p.clip(&h).unwrap();
        let right = p.clip(&h.complement()).unwrap();
        assert!((left.area() - 0.25).abs() < 1e-15);
        assert!((right.area() - 0.75).abs() < 1e-15);
        assert!(left.intersection_area(&right) < 1e-15);
        // A half-plane holding everything returns the polygon unchanged.
        let all = HalfPlane {
            normal: [1.0, 0.0],
            origin: [2.0, 0.0],
            offset: 0.0,
        };
        assert_eq!(p.clip(&all).unwrap(), p);
        assert!(p.clip(&all.complement()).is_none());
        // A line touching one edge leaves nothing of positive area.
        let touch = HalfPlane {
            normal: [1.0, 0.0],
            origin: [0.0, 0.0],
            offset: 0.0,
        };
        assert!(p.clip(&touch).is_none());
    }

    #[test]
    fn complement_is_an_exact_negation() {
        let h = HalfPlane {
            normal: [0.3, -1.7],
            origin: [125.1, 46.3],
            offset: 1e-3,
        };
        for p in [[125.0, 46.0], [124.3, 47.1], [125.123456789, 46.987654321]] {
            assert_eq!(h.eval(p), -h.complement().eval(p));
        }
    }

    #[test]
    fn tiny_slivers_are_dropped() {
        let p = square(125.0, 46.0, 0.01);
        let h = HalfPlane {
            normal: [1.0, 0.0],
            origin: [125.0 + 1e-14, 46.0],
            offset: 0.0,
        };
        assert!(p.clip(&h).is_none());
        assert!((p.clip(&h.complement()).unwrap().area() - p.area()).abs() < 1e-15);
    }

    #[test]
    fn containment_and_bbox() {
        let p = square(0.0, 0.0, 1.0);
        assert!(p.contains([0.5, 0.5]));
        assert!(p.contains([0.0, 0.5]));
        assert!(!p.strictly_contains([0.0, 0.5]));
        assert!(!p.contains([1.5, 0.5]));
        let b = p.bbox();
        assert_eq!(b.min, [0.0, 0.0]);
        assert_eq!(b.max, [1.0, 1.0]);
        assert!(b.overlaps(&square(1.0, 1.0, 1.0).bbox()));
        assert!(!b.overlaps(&square(1.5, 0.0, 1.0).bbox()));
    }

    #[test]
    fn intersection_of_overlapping_squares() {
        let a = square(0.0, 0.0, 1.0);
        let b = square(0.5, 0.5, 1.0);
        assert!((a.intersection_area(&b) - 0.25).abs() < 1e-15);
        assert_eq!(a.intersection_area(&square(2.0, 2.0, 1.0)), 0.0);
        assert!(a.intersection_area(&square(1.0, 0.0, 1.0)) < 1e-15);
    }

    #[test]
    fn rounding_keeps_a_valid_ring() {
        let p = Polygon::new(vec![
            [125.0000001, 46.0],
            [125.0100004, 46.0000002],
            [125.0100001, 46.0000004],
            [125.01, 46.01],
            [125.0, 46.01],
        ])
        .unwrap();
        let r = p.rounded(6).unwrap();
        assert!(r.vertices().len() >= 3);
        assert!(r.signed_area() > 0.0);
        assert!(r.is_convex());
        for v in r.vertices() {
            assert_eq!(v[0], (v[0] * 1e6).round() / 1e6);
        }
        let ring = r.closed_ring();
        assert_eq!(ring.first(), ring.last());
        assert!(square(125.0, 46.0, 1e-7).rounded(6).is_none());
    }
}
