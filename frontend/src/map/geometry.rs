//! The map's geometry: longitude and latitude projected to viewBox units, polygons written as
//! SVG path data, their centres and bounding boxes, which grids an area holds, and the
//! `viewBox` that frames an area.

use shared::wall::Scope;
use std::fmt::Write;

/// The map's drawing width in viewBox units; the height follows the scope's shape.
pub(super) const VIEW_W: f64 = 1000.0;

/// Longitude and latitude to viewBox units: an equirectangular projection scaled by the
/// cosine of the middle latitude, which is exact enough for one city.
#[derive(Debug, Clone, Copy)]
pub(super) struct Projection {
    lon0: f64,
    lat1: f64,
    k: f64,
    kx: f64,
    /// The height of the projected points in viewBox units.
    pub(super) height: f64,
}

impl Projection {
    /// The projection that puts `points` across the map's width, north up; a unit square
    /// stands in when there are no points.
    pub(super) fn fit(points: impl Iterator<Item = [f64; 2]>) -> Projection {
        let (mut lo0, mut lo1, mut la0, mut la1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for [lon, lat] in points {
            lo0 = lo0.min(lon);
            lo1 = lo1.max(lon);
            la0 = la0.min(lat);
            la1 = la1.max(lat);
        }
        if lo0 > lo1 {
            (lo0, lo1, la0, la1) = (0.0, 1.0, 0.0, 1.0);
        }
        let kx = ((la0 + la1) / 2.0).to_radians().cos();
        let k = VIEW_W / ((lo1 - lo0) * kx).max(1e-9);
        Projection {
            lon0: lo0,
            lat1: la1,
            k,
            kx,
            height: (la1 - la0) * k,
        }
    }

    /// A point's place on the map: x from the west edge, y from the north edge.
    pub(super) fn xy(&self, [lon, lat]: [f64; 2]) -> (f64, f64) {
        (
            (lon - self.lon0) * self.kx * self.k,
            (self.lat1 - lat) * self.k,
        )
    }
}

/// Appends an SVG path for `rings` to `out`, one decimal place per coordinate.
pub(super) fn path_data(out: &mut String, proj: &Projection, rings: &[&Vec<[f64; 2]>]) {
    for ring in rings {
        for (i, &p) in ring.iter().enumerate() {
            let (x, y) = proj.xy(p);
            let _ = write!(out, "{}{x:.1} {y:.1}", if i == 0 { 'M' } else { 'L' });
        }
        out.push('Z');
    }
}

/// The average of a polygon's outer vertices: inside it, as the demo city's cells are convex.
pub(super) fn centre(proj: &Projection, rings: &[&Vec<[f64; 2]>]) -> (f64, f64) {
    let Some(ring) = rings.first() else {
        return (0.0, 0.0);
    };
    let n = ring.len().max(1) as f64;
    let (sx, sy) = ring.iter().fold((0.0, 0.0), |(sx, sy), &p| {
        let (x, y) = proj.xy(p);
        (sx + x, sy + y)
    });
    (sx / n, sy / n)
}

/// Whether a grid of `district` and `street` belongs to `scope`.
pub(super) fn in_scope(scope: &Scope, district: &str, street: &str) -> bool {
    match scope {
        Scope::City => true,
        Scope::District(code) => district == code,
        Scope::Street(code) => street == code,
    }
}

/// The bounding box (left, top, right, bottom) of a polygon's outer rings.
pub(super) fn bounds(proj: &Projection, rings: &[&Vec<[f64; 2]>]) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for &p in rings.iter().flat_map(|r| r.iter()) {
        let (x, y) = proj.xy(p);
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    b
}

/// The `viewBox` (x, y, width, height) framing `boxes` with a margin of a tenth of its
/// longer side on every edge, so that the area does not touch the panel's border; `None`
/// when there is nothing to frame.
pub(super) fn focus_view(boxes: &[[f64; 4]]) -> Option<[f64; 4]> {
    let b = boxes
        .iter()
        .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, g| {
            [
                b[0].min(g[0]),
                b[1].min(g[1]),
                b[2].max(g[2]),
                b[3].max(g[3]),
            ]
        });
    if b[0] > b[2] || b[1] > b[3] {
        return None;
    }
    let margin = ((b[2] - b[0]).max(b[3] - b[1]) * 0.1).max(2.0);
    Some([
        b[0] - margin,
        b[1] - margin,
        b[2] - b[0] + 2.0 * margin,
        b[3] - b[1] + 2.0 * margin,
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A square of one degree on the equator, where a degree of longitude is one of latitude.
    fn square() -> Vec<[f64; 2]> {
        vec![[0.0, -0.5], [1.0, -0.5], [1.0, 0.5], [0.0, 0.5]]
    }

    #[test]
    fn the_projection_spans_the_width_with_north_up() {
        let proj = Projection::fit(square().into_iter());
        assert_eq!(proj.xy([0.0, 0.5]), (0.0, 0.0), "the north-west corner");
        let (x, y) = proj.xy([1.0, -0.5]);
        assert!((x - VIEW_W).abs() < 1e-6, "{x}");
        assert!((y - proj.height).abs() < 1e-6, "{y}");
        // At 60° a degree of longitude is half a degree of latitude: the map is twice as tall
        // for the same degrees.
        let north = Projection::fit([[0.0, 59.5], [1.0, 60.5]].into_iter());
        assert!(
            (north.height - 2.0 * VIEW_W).abs() < 1.0,
            "{}",
            north.height
        );
    }

    #[test]
    fn no_points_project_as_a_unit_square() {
        let proj = Projection::fit(std::iter::empty());
        assert_eq!(proj.xy([0.0, 1.0]), (0.0, 0.0));
        assert!((proj.height - VIEW_W).abs() < 0.1, "{}", proj.height);
    }

    #[test]
    fn polygons_become_paths_with_centres_and_bounds() {
        let proj = Projection::fit(square().into_iter());
        let ring = square();
        let mut d = String::new();
        path_data(&mut d, &proj, &[&ring]);
        assert_eq!(d, "M0.0 1000.0L1000.0 1000.0L1000.0 0.0L0.0 0.0Z");
        assert_eq!(centre(&proj, &[&ring]), (500.0, 500.0));
        assert_eq!(centre(&proj, &[]), (0.0, 0.0));
        assert_eq!(bounds(&proj, &[&ring]), [0.0, 0.0, 1000.0, 1000.0]);
    }

    #[test]
    fn an_area_holds_its_own_grids() {
        assert!(in_scope(&Scope::City, "230602", "230602001"));
        assert!(in_scope(&Scope::District("230602".into()), "230602", "x"));
        assert!(!in_scope(&Scope::District("230603".into()), "230602", "x"));
        assert!(in_scope(
            &Scope::Street("230602001".into()),
            "x",
            "230602001"
        ));
        assert!(!in_scope(
            &Scope::Street("230602002".into()),
            "230602",
            "230602001"
        ));
    }

    #[test]
    fn a_focus_frames_its_grids_with_a_margin() {
        assert_eq!(focus_view(&[]), None);
        // Two grids spanning 100 × 50: a margin of 10 on every side.
        let view = focus_view(&[[100.0, 200.0, 150.0, 230.0], [140.0, 210.0, 200.0, 250.0]]);
        assert_eq!(view, Some([90.0, 190.0, 120.0, 70.0]));
        // A tiny area still gets a margin that can be seen.
        assert_eq!(
            focus_view(&[[5.0, 5.0, 6.0, 6.0]]),
            Some([3.0, 3.0, 5.0, 5.0])
        );
    }
}
