//! Geometry of the governed city: GeoJSON polygons in and out, their validation, and the
//! spatial index that finds the grid a point lies in.

use serde_json::{Value, json};

/// A position: longitude and latitude in degrees (WGS 84).
pub type Position = [f64; 2];

/// A closed ring as GeoJSON writes it: the last position repeats the first.
pub type Ring = Vec<Position>;

/// A Polygon or MultiPolygon: a list of polygons, each an outer ring followed by its holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    pub polygons: Vec<Vec<Ring>>,
}

/// An axis-aligned bounding box: `[min_lon, min_lat, max_lon, max_lat]`.
pub type BBox = [f64; 4];

/// Why a geometry was refused; the message is for people.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct GeoError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, GeoError> {
    Err(GeoError(message.into()))
}

impl Shape {
    /// A shape of one polygon without holes, from an open ring of positions.
    pub fn polygon(open_ring: &[Position]) -> Shape {
        let mut ring = open_ring.to_vec();
        if let Some(first) = ring.first().copied() {
            ring.push(first);
        }
        Shape {
            polygons: vec![vec![ring]],
        }
    }

    /// Reads and validates a GeoJSON `Polygon` or `MultiPolygon` geometry object.
    pub fn from_geojson(geometry: &Value) -> Result<Shape, GeoError> {
        let Some(kind) = geometry.get("type").and_then(Value::as_str) else {
            return err("the geometry has no `type`");
        };
        let Some(coordinates) = geometry.get("coordinates") else {
            return err("the geometry has no `coordinates`");
        };
        let polygons = match kind {
            "Polygon" => vec![parse_polygon(coordinates, "the polygon")?],
            "MultiPolygon" => {
                let Some(list) = coordinates.as_array() else {
                    return err("`coordinates` of a MultiPolygon must be an array of polygons");
                };
                if list.is_empty() {
                    return err("the MultiPolygon has no polygons");
                }
                list.iter()
                    .enumerate()
                    .map(|(i, p)| parse_polygon(p, &format!("polygon {i}")))
                    .collect::<Result<_, _>>()?
            }
            other => {
                return err(format!(
                    "the geometry is a {other}; only Polygon and MultiPolygon are grids"
                ));
            }
        };
        Ok(Shape { polygons })
    }

    /// The shape as a GeoJSON geometry object, with coordinates rounded to 6 decimals
    /// (about 10 cm), which is more than a grid's boundary needs.
    pub fn to_geojson(&self) -> Value {
        // Rounding can make neighbouring vertices equal; each is written once.
        let round = |ring: &Ring| -> Vec<[f64; 2]> {
            let mut out: Vec<[f64; 2]> = Vec::with_capacity(ring.len());
            for p in ring {
                let q = [(p[0] * 1e6).round() / 1e6, (p[1] * 1e6).round() / 1e6];
                if out.last() != Some(&q) {
                    out.push(q);
                }
            }
            out
        };
        let polygons: Vec<Vec<Vec<[f64; 2]>>> = self
            .polygons
            .iter()
            .map(|rings| rings.iter().map(round).collect())
            .collect();
        match polygons.as_slice() {
            [one] => json!({"type": "Polygon", "coordinates": one}),
            _ => json!({"type": "MultiPolygon", "coordinates": polygons}),
        }
    }

    pub fn bbox(&self) -> BBox {
        let mut b = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for ring in self.polygons.iter().flat_map(|p| p.first()) {
            for p in ring {
                b[0] = b[0].min(p[0]);
                b[1] = b[1].min(p[1]);
                b[2] = b[2].max(p[0]);
                b[3] = b[3].max(p[1]);
            }
        }
        b
    }

    /// Whether the point lies inside the shape (inside an outer ring and outside its holes).
    pub fn contains(&self, p: Position) -> bool {
        self.polygons.iter().any(|rings| {
            let mut inside = false;
            for ring in rings {
                if ring_contains(ring, p) {
                    inside = !inside;
                }
            }
            inside
        })
    }

    /// The area in square degrees (planar; enough to compare shapes with each other).
    pub fn area(&self) -> f64 {
        self.polygons
            .iter()
            .map(|rings| {
                let outer = rings.first().map_or(0.0, |r| ring_area(r).abs());
                let holes: f64 = rings.iter().skip(1).map(|r| ring_area(r).abs()).sum();
                outer - holes
            })
            .sum()
    }

    /// A point inside the shape, for a label or a marker: the centre of the bounding box when
    /// that is inside, otherwise the midpoint of the widest stretch inside the shape along the
    /// bounding box's middle latitude.
    pub fn label_point(&self) -> Position {
        let b = self.bbox();
        let centre = [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
        if self.contains(centre) {
            return centre;
        }
        let y = centre[1];
        let mut xs: Vec<f64> = Vec::new();
        for ring in self.polygons.iter().flatten() {
            for w in ring.windows(2) {
                let (a, c) = (w[0], w[1]);
                if (a[1] > y) != (c[1] > y) {
                    xs.push(a[0] + (y - a[1]) / (c[1] - a[1]) * (c[0] - a[0]));
                }
            }
        }
        xs.sort_by(f64::total_cmp);
        xs.chunks(2)
            .filter(|c| c.len() == 2)
            .max_by(|a, b| (a[1] - a[0]).total_cmp(&(b[1] - b[0])))
            .map_or(centre, |c| [(c[0] + c[1]) / 2.0, y])
    }
}

fn parse_position(v: &Value, at: &str) -> Result<Position, GeoError> {
    let Some(pair) = v.as_array().filter(|a| a.len() >= 2) else {
        return err(format!("{at} is not a [longitude, latitude] position"));
    };
    let lon = pair[0].as_f64().filter(|x| x.is_finite());
    let lat = pair[1].as_f64().filter(|x| x.is_finite());
    match (lon, lat) {
        (Some(lon), Some(lat))
            if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) =>
        {
            Ok([lon, lat])
        }
        (Some(_), Some(_)) => err(format!(
            "{at} lies outside longitude -180..180 or latitude -90..90"
        )),
        _ => err(format!("{at} has a coordinate that is not a finite number")),
    }
}

fn parse_polygon(v: &Value, at: &str) -> Result<Vec<Ring>, GeoError> {
    let Some(rings) = v.as_array() else {
        return err(format!("{at} must be an array of rings"));
    };
    if rings.is_empty() {
        return err(format!("{at} has no rings"));
    }
    rings
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let name = if i == 0 {
                format!("the outer ring of {at}")
            } else {
                format!("hole {i} of {at}")
            };
            parse_ring(r, &name)
        })
        .collect()
}

fn parse_ring(v: &Value, at: &str) -> Result<Ring, GeoError> {
    let Some(list) = v.as_array() else {
        return err(format!("{at} must be an array of positions"));
    };
    let ring: Ring = list
        .iter()
        .enumerate()
        .map(|(i, p)| parse_position(p, &format!("position {i} of {at}")))
        .collect::<Result<_, _>>()?;
    if ring.len() < 4 {
        return err(format!(
            "{at} has {} positions; a ring needs at least 4",
            ring.len()
        ));
    }
    if ring.first() != ring.last() {
        return err(format!(
            "{at} is not closed: its last position must repeat its first"
        ));
    }
    if let Some((i, j)) = self_intersection(&ring) {
        return err(format!("{at} crosses itself (edges {i} and {j})"));
    }
    if ring_area(&ring).abs() < 1e-14 {
        return err(format!("{at} encloses no area"));
    }
    Ok(ring)
}

/// Twice-signed shoelace area of a closed ring, halved: positive when counter-clockwise.
fn ring_area(ring: &[Position]) -> f64 {
    ring.windows(2)
        .map(|w| w[0][0] * w[1][1] - w[1][0] * w[0][1])
        .sum::<f64>()
        / 2.0
}

fn ring_contains(ring: &[Position], p: Position) -> bool {
    let mut inside = false;
    for w in ring.windows(2) {
        let (a, b) = (w[0], w[1]);
        if (a[1] > p[1]) != (b[1] > p[1]) {
            let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
            if p[0] < x {
                inside = !inside;
            }
        }
    }
    inside
}

fn orientation(a: Position, b: Position, c: Position) -> f64 {
    (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
}

fn segments_cross(a: Position, b: Position, c: Position, d: Position) -> bool {
    let d1 = orientation(c, d, a);
    let d2 = orientation(c, d, b);
    let d3 = orientation(a, b, c);
    let d4 = orientation(a, b, d);
    (d1 > 0.0) != (d2 > 0.0)
        && (d3 > 0.0) != (d4 > 0.0)
        && d1 != 0.0
        && d2 != 0.0
        && d3 != 0.0
        && d4 != 0.0
}

/// The first pair of non-adjacent edges that cross, if any.
fn self_intersection(ring: &[Position]) -> Option<(usize, usize)> {
    let n = ring.len() - 1;
    for i in 0..n {
        for j in i + 2..n {
            // The first and last edges share the closing vertex.
            if i == 0 && j == n - 1 {
                continue;
            }
            if segments_cross(ring[i], ring[i + 1], ring[j], ring[j + 1]) {
                return Some((i, j));
            }
        }
    }
    None
}

/// Finds the grid a point lies in: a uniform bucket grid over the city's bounding box, each
/// bucket listing the grids whose bounding boxes touch it.
#[derive(Debug, Clone, Default)]
pub struct GridIndex {
    bbox: BBox,
    nx: usize,
    ny: usize,
    buckets: Vec<Vec<u32>>,
    grids: Vec<(String, Shape, BBox)>,
    ids: std::collections::HashMap<String, u32>,
}

impl GridIndex {
    pub fn new(grids: Vec<(String, Shape)>) -> GridIndex {
        let grids: Vec<(String, Shape, BBox)> = grids
            .into_iter()
            .map(|(id, shape)| {
                let b = shape.bbox();
                (id, shape, b)
            })
            .collect();
        let mut bbox = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for (_, _, b) in &grids {
            bbox = [
                bbox[0].min(b[0]),
                bbox[1].min(b[1]),
                bbox[2].max(b[2]),
                bbox[3].max(b[3]),
            ];
        }
        // About one grid per bucket keeps each lookup to a handful of polygon tests.
        let side = (grids.len() as f64).sqrt().ceil().max(1.0) as usize;
        let (nx, ny) = (side, side);
        let mut index = GridIndex {
            bbox,
            nx,
            ny,
            buckets: vec![Vec::new(); nx * ny],
            grids: Vec::new(),
            ids: grids
                .iter()
                .enumerate()
                .map(|(i, (id, _, _))| (id.clone(), i as u32))
                .collect(),
        };
        for (i, (_, _, b)) in grids.iter().enumerate() {
            let (x0, y0) = index.cell([b[0], b[1]]);
            let (x1, y1) = index.cell([b[2], b[3]]);
            for y in y0..=y1 {
                for x in x0..=x1 {
                    index.buckets[y * nx + x].push(i as u32);
                }
            }
        }
        index.grids = grids;
        index
    }

    fn cell(&self, p: Position) -> (usize, usize) {
        let fx = (p[0] - self.bbox[0]) / (self.bbox[2] - self.bbox[0]).max(1e-12);
        let fy = (p[1] - self.bbox[1]) / (self.bbox[3] - self.bbox[1]).max(1e-12);
        let x = ((fx * self.nx as f64) as usize).min(self.nx - 1);
        let y = ((fy * self.ny as f64) as usize).min(self.ny - 1);
        (x, y)
    }

    pub fn len(&self) -> usize {
        self.grids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.grids.is_empty()
    }

    /// The `i`th grid (in the order given to [`GridIndex::new`]) with its shape.
    pub fn grid_at(&self, i: usize) -> Option<(&str, &Shape)> {
        self.grids.get(i).map(|(id, shape, _)| (id.as_str(), shape))
    }

    pub fn contains_grid(&self, id: &str) -> bool {
        self.ids.contains_key(id)
    }

    /// The id of the grid that contains the point, if any.
    pub fn locate(&self, p: Position) -> Option<&str> {
        if self.grids.is_empty()
            || p[0] < self.bbox[0]
            || p[0] > self.bbox[2]
            || p[1] < self.bbox[1]
            || p[1] > self.bbox[3]
        {
            return None;
        }
        let (x, y) = self.cell(p);
        self.buckets[y * self.nx + x]
            .iter()
            .map(|&i| &self.grids[i as usize])
            .find(|(_, shape, b)| {
                p[0] >= b[0] && p[0] <= b[2] && p[1] >= b[1] && p[1] <= b[3] && shape.contains(p)
            })
            .map(|(id, _, _)| id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x: f64, y: f64, side: f64) -> Vec<Position> {
        vec![[x, y], [x + side, y], [x + side, y + side], [x, y + side]]
    }

    #[test]
    fn polygons_round_trip_through_geojson() {
        let shape = Shape::polygon(&square(125.0, 46.0, 0.01));
        let back = Shape::from_geojson(&shape.to_geojson()).expect("valid");
        assert_eq!(back, shape);
        assert!((shape.area() - 1e-4).abs() < 1e-12);
    }

    #[test]
    fn holes_are_outside() {
        let geometry = json!({"type": "Polygon", "coordinates": [
            [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]],
            [[1.0, 1.0], [1.0, 3.0], [3.0, 3.0], [3.0, 1.0], [1.0, 1.0]],
        ]});
        let shape = Shape::from_geojson(&geometry).expect("valid");
        assert!(shape.contains([0.5, 0.5]));
        assert!(!shape.contains([2.0, 2.0]));
        assert!(!shape.contains([5.0, 2.0]));
        assert!((shape.area() - 12.0).abs() < 1e-12);
        assert!(shape.contains(shape.label_point()));
    }

    #[test]
    fn multipolygons_contain_each_part() {
        let geometry = json!({"type": "MultiPolygon", "coordinates": [
            [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]],
            [[[5.0, 5.0], [6.0, 5.0], [6.0, 6.0], [5.0, 6.0], [5.0, 5.0]]],
        ]});
        let shape = Shape::from_geojson(&geometry).expect("valid");
        assert!(shape.contains([0.5, 0.5]) && shape.contains([5.5, 5.5]));
        assert!(!shape.contains([3.0, 3.0]));
        assert_eq!(shape.to_geojson()["type"], "MultiPolygon");
    }

    #[test]
    fn bad_geometry_says_what_is_wrong() {
        let cases = [
            (
                json!({"type": "Point", "coordinates": [1.0, 2.0]}),
                "only Polygon",
            ),
            (json!({"type": "Polygon"}), "no `coordinates`"),
            (
                json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]]]}),
                "at least 4",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]]}),
                "not closed",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 1.0], [1.0, 0.0], [0.0, 1.0], [0.0, 0.0]]]}),
                "crosses itself",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 0.0]]]}),
                "no area",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, "x"], [1.0, 1.0], [0.0, 0.0]]]}),
                "not a finite number",
            ),
            (
                json!({"type": "Polygon", "coordinates": [[[0.0, 0.0], [200.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]}),
                "outside longitude",
            ),
        ];
        for (geometry, expected) in cases {
            let e = Shape::from_geojson(&geometry).expect_err("invalid");
            assert!(e.0.contains(expected), "{geometry}: {e}");
        }
    }

    #[test]
    fn the_index_finds_the_grid_of_a_point() {
        let mut grids = Vec::new();
        for i in 0..10 {
            for j in 0..10 {
                grids.push((
                    format!("g{i}-{j}"),
                    Shape::polygon(&square(f64::from(i), f64::from(j), 1.0)),
                ));
            }
        }
        let index = GridIndex::new(grids);
        assert_eq!(index.len(), 100);
        assert_eq!(index.locate([3.5, 7.5]), Some("g3-7"));
        assert_eq!(index.locate([0.1, 9.9]), Some("g0-9"));
        assert_eq!(index.locate([10.5, 5.0]), None);
        assert!(index.contains_grid("g9-9"));
        assert!(!index.contains_grid("g10-0"));
        assert_eq!(GridIndex::default().locate([0.0, 0.0]), None);
    }
}
