//! The places layers: grid stations, mediation centres and key places, each drawn as one SVG
//! path of small markers, so that a few thousand places cost three DOM nodes. The stylesheet
//! colours them by their `layer-{kind}` class and hides a layer switched off.

use super::documents::{Collection, Geometry, PlaceProps};
use super::geometry::{Projection, VIEW_W};
use std::fmt::Write;

/// A marker's shape, one per layer, so that the layers tell apart without their colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Marker {
    Square,
    Diamond,
    Circle,
}

/// The layers in the order they are drawn, by the place kind of the places document.
const LAYERS: [(&str, Marker); 3] = [
    ("grid_station", Marker::Square),
    ("mediation_centre", Marker::Diamond),
    ("key_place", Marker::Circle),
];

/// Appends the path data of one marker centred at `x`, `y`.
fn marker(out: &mut String, shape: Marker, x: f64, y: f64) {
    let _ = match shape {
        Marker::Square => write!(out, "M{:.1} {:.1}h2v2h-2Z", x - 1.0, y - 1.0),
        Marker::Diamond => write!(out, "M{x:.1} {:.1}l3 3l-3 3l-3 -3Z", y - 3.0),
        Marker::Circle => write!(
            out,
            "M{:.1} {y:.1}a1.2 1.2 0 1 0 2.4 0a1.2 1.2 0 1 0 -2.4 0Z",
            x - 1.2
        ),
    };
}

/// Appends one path per layer with the markers of its places; places outside the area drawn
/// are left out, as the map shows nothing around them.
pub(super) fn write_places(out: &mut String, proj: &Projection, places: &Collection<PlaceProps>) {
    for (kind, shape) in LAYERS {
        let _ = write!(out, r#"<path class="layer layer-{kind}" d=""#);
        for f in &places.features {
            if f.properties.kind != kind {
                continue;
            }
            if let Geometry::Point(p) = f.geometry {
                let (x, y) = proj.xy(p);
                if !(0.0..=VIEW_W).contains(&x) || !(0.0..=proj.height).contains(&y) {
                    continue;
                }
                marker(out, shape, x, y);
            }
        }
        out.push_str(r#""/>"#);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_layer_has_its_own_marker() {
        let mut square = String::new();
        marker(&mut square, Marker::Square, 10.0, 20.0);
        assert_eq!(square, "M9.0 19.0h2v2h-2Z");
        let mut diamond = String::new();
        marker(&mut diamond, Marker::Diamond, 10.0, 20.0);
        assert_eq!(diamond, "M10.0 17.0l3 3l-3 3l-3 -3Z");
        let mut circle = String::new();
        marker(&mut circle, Marker::Circle, 10.0, 20.0);
        assert_eq!(
            circle,
            "M8.8 20.0a1.2 1.2 0 1 0 2.4 0a1.2 1.2 0 1 0 -2.4 0Z"
        );
    }

    #[test]
    fn places_go_to_their_layer_and_only_inside_the_map() {
        let places: Collection<PlaceProps> = serde_json::from_str(
            r#"{"features":[
                {"properties":{"kind":"key_place"},"geometry":{"type":"Point","coordinates":[0.5,0.0]}},
                {"properties":{"kind":"key_place"},"geometry":{"type":"Point","coordinates":[2.0,0.0]}},
                {"properties":{"kind":"grid_station"},"geometry":{"type":"Point","coordinates":[0.25,0.25]}},
                {"properties":{"kind":"school"},"geometry":{"type":"Point","coordinates":[0.5,0.0]}}]}"#,
        )
        .expect("places");
        // One degree on the equator across the map's 1,000 units.
        let proj = Projection::fit([[0.0, -0.5], [1.0, 0.5]].into_iter());
        let mut out = String::new();
        write_places(&mut out, &proj, &places);
        assert_eq!(
            out,
            concat!(
                r#"<path class="layer layer-grid_station" d="M249.0 249.0h2v2h-2Z"/>"#,
                r#"<path class="layer layer-mediation_centre" d=""/>"#,
                r#"<path class="layer layer-key_place" d="M498.8 500.0a1.2 1.2 0 1 0 2.4 0a1.2 1.2 0 1 0 -2.4 0Z"/>"#,
            )
        );
    }
}
