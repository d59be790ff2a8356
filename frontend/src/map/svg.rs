//! The map of a scope as SVG text, written in one pass from the map documents: the grids (one
//! path each, classed by their colour step), the street and district outlines, the places
//! layers, the area labels and the empty group the pulses go into. Writing text and setting
//! it once is far cheaper than thousands of DOM calls, and it keeps all of this testable.

use super::documents::{AreaProps, Documents, Feature, GridProps};
use super::geometry::{Projection, VIEW_W, bounds, centre, in_scope, path_data};
use super::layers::write_places;
use shared::wall::Scope;
use std::collections::HashMap;
use std::fmt::Write;

/// One grid as written, with what the map keeps of it once drawn.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shape {
    pub(super) id: String,
    pub(super) district: String,
    pub(super) street: String,
    pub(super) residents: f64,
    pub(super) centre: (f64, f64),
    /// Its bounding box in viewBox units: left, top, right, bottom.
    pub(super) bounds: [f64; 4],
}

/// The map written: its SVG text, its whole-map `viewBox`, and its grids in the order of
/// their paths with the index of each by grid id.
#[derive(Debug)]
pub(super) struct Picture {
    pub(super) svg: String,
    pub(super) full_view: String,
    pub(super) shapes: Vec<Shape>,
    pub(super) index: HashMap<String, usize>,
}

/// Whether an area's outline or label belongs to the map of `scope`: all of them on the
/// city's, a district and its streets on a district's, the street alone on a street's.
fn area_shown(scope: &Scope, code: &str, district: Option<&str>, is_district: bool) -> bool {
    match scope {
        Scope::City => true,
        Scope::District(d) => {
            if is_district {
                code == d
            } else {
                district == Some(d.as_str())
            }
        }
        Scope::Street(s) => !is_district && code == s,
    }
}

/// A long name of several words as two lines, split at the space nearest its middle: English
/// names ("Dorbod Mongol Autonomous County") are three times as long as Chinese ones and would
/// run over their neighbours on one line.
fn label_lines(name: &str) -> Option<(&str, &str)> {
    if name.chars().count() <= 10 {
        return None;
    }
    let middle = name.len() / 2;
    let (at, _) = name
        .match_indices(' ')
        .min_by_key(|(i, _)| i.abs_diff(middle))?;
    Some((&name[..at], &name[at + 1..]))
}

/// Text for the SVG's element content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

/// Writes the map of `scope`: only its grids, projected to fill the map's width.
pub(super) fn picture(scope: &Scope, docs: &Documents) -> Picture {
    let grids: Vec<&Feature<GridProps>> = docs
        .grids
        .features
        .iter()
        .filter(|f| {
            in_scope(
                scope,
                &f.properties.district_code,
                &f.properties.street_code,
            )
        })
        .collect();
    let proj = Projection::fit(
        grids
            .iter()
            .flat_map(|f| f.geometry.rings().into_iter().flatten().copied()),
    );

    let mut svg = String::with_capacity(grids.len() * 120);
    let full_view = format!("-8 -8 {:.0} {:.0}", VIEW_W + 16.0, proj.height + 16.0);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map-svg" viewBox="{full_view}" preserveAspectRatio="xMidYMid meet"><g class="grids">"#,
    );
    let mut shapes = Vec::with_capacity(grids.len());
    let mut index = HashMap::with_capacity(grids.len());
    for (i, f) in grids.iter().enumerate() {
        let rings = f.geometry.rings();
        let _ = write!(
            svg,
            r#"<path class="s0" data-grid-id="{}" d=""#,
            escape(&f.properties.id)
        );
        path_data(&mut svg, &proj, &rings);
        svg.push_str(r#""/>"#);
        shapes.push(Shape {
            id: f.properties.id.clone(),
            district: f.properties.district_code.clone(),
            street: f.properties.street_code.clone(),
            residents: f.properties.residents as f64,
            centre: centre(&proj, &rings),
            bounds: bounds(&proj, &rings),
        });
        index.insert(f.properties.id.clone(), i);
    }
    svg.push_str(r#"</g><g class="streets"><path d=""#);
    for f in &docs.streets.features {
        let p = &f.properties;
        if area_shown(scope, &p.code, p.district_code.as_deref(), false) {
            path_data(&mut svg, &proj, &f.geometry.rings());
        }
    }
    svg.push_str(r#""/></g><g class="districts"><path d=""#);
    for f in &docs.districts.features {
        if area_shown(scope, &f.properties.code, None, true) {
            path_data(&mut svg, &proj, &f.geometry.rings());
        }
    }
    svg.push_str(r#""/></g>"#);
    write_places(&mut svg, &proj, &docs.places);
    svg.push_str(r#"<g class="labels">"#);
    // A street's map names its street; any other names its districts.
    let label_areas: Vec<&Feature<AreaProps>> = match scope {
        Scope::Street(_) => docs
            .streets
            .features
            .iter()
            .filter(|f| area_shown(scope, &f.properties.code, None, false))
            .collect(),
        _ => docs
            .districts
            .features
            .iter()
            .filter(|f| area_shown(scope, &f.properties.code, None, true))
            .collect(),
    };
    for f in label_areas {
        let (x, y) = centre(&proj, &f.geometry.rings());
        let _ = write!(svg, r#"<text x="{x:.1}" y="{y:.1}">"#);
        match label_lines(f.properties.label()) {
            // The first line keeps its trailing space, so that the text reads as one name.
            Some((first, second)) => {
                let _ = write!(
                    svg,
                    r#"<tspan x="{x:.1}" dy="-0.55em">{} </tspan><tspan x="{x:.1}" dy="1.1em">{}</tspan>"#,
                    escape(first),
                    escape(second)
                );
            }
            None => svg.push_str(&escape(f.properties.label())),
        }
        svg.push_str("</text>");
    }
    svg.push_str(r#"</g><g class="pulses"></g></svg>"#);
    Picture {
        svg,
        full_view,
        shapes,
        index,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::documents::Collection;

    #[test]
    fn long_names_break_into_two_lines_near_their_middle() {
        assert_eq!(label_lines("萨尔图区"), None);
        assert_eq!(label_lines("Sartu"), None);
        assert_eq!(label_lines("Sartu District"), Some(("Sartu", "District")));
        assert_eq!(
            label_lines("Dorbod Mongol Autonomous County"),
            Some(("Dorbod Mongol", "Autonomous County"))
        );
        assert_eq!(label_lines("杜尔伯特蒙古族自治县"), None);
    }

    #[test]
    fn a_scope_shows_its_own_outlines() {
        let district = Scope::District("D1".into());
        assert!(area_shown(&district, "D1", None, true));
        assert!(!area_shown(&district, "D2", None, true));
        assert!(area_shown(&district, "S1", Some("D1"), false));
        assert!(!area_shown(&district, "S2", Some("D2"), false));
        let street = Scope::Street("S1".into());
        assert!(area_shown(&street, "S1", Some("D1"), false));
        assert!(
            !area_shown(&street, "D1", None, true),
            "a street shows no district"
        );
        assert!(area_shown(&Scope::City, "D2", None, true));
    }

    fn read<P: serde::de::DeserializeOwned>(json: String) -> Collection<P> {
        serde_json::from_str(&json).expect("map document")
    }

    /// Two districts of one grid each, side by side on the equator, with a street in each and a
    /// grid station in the first.
    fn documents() -> Documents {
        let square = |x0: f64| {
            format!(
                r#"{{"type":"Polygon","coordinates":[[[{x0},-0.5],[{x1},-0.5],[{x1},0.5],[{x0},0.5]]]}}"#,
                x1 = x0 + 1.0
            )
        };
        Documents {
            grids: read(format!(
                r#"{{"features":[
                    {{"properties":{{"id":"G<1>","street_code":"S1","district_code":"D1","residents":500}},"geometry":{}}},
                    {{"properties":{{"id":"G2","street_code":"S2","district_code":"D2"}},"geometry":{}}}]}}"#,
                square(0.0),
                square(1.0)
            )),
            districts: read(format!(
                r#"{{"features":[
                    {{"properties":{{"code":"D1","name":"A & B"}},"geometry":{}}},
                    {{"properties":{{"code":"D2","name":"Dorbod Mongol Autonomous County"}},"geometry":{}}}]}}"#,
                square(0.0),
                square(1.0)
            )),
            streets: read(format!(
                r#"{{"features":[
                    {{"properties":{{"code":"S1","name":"S1","district_code":"D1"}},"geometry":{}}},
                    {{"properties":{{"code":"S2","name":"S2","district_code":"D2"}},"geometry":{}}}]}}"#,
                square(0.0),
                square(1.0)
            )),
            places: read(
                r#"{"features":[{"properties":{"kind":"grid_station"},"geometry":{"type":"Point","coordinates":[0.5,0.0]}}]}"#
                    .to_owned(),
            ),
        }
    }

    #[test]
    fn the_city_map_holds_every_grid_outline_and_label() {
        let p = picture(&Scope::City, &documents());
        // Two degrees across the map's 1,000 units: 500 units a degree.
        assert_eq!(p.full_view, "-8 -8 1016 516");
        assert!(p.svg.starts_with(
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="map-svg" viewBox="-8 -8 1016 516""#
        ));
        assert!(p.svg.ends_with(r#"<g class="pulses"></g></svg>"#));
        assert!(p.svg.contains(
            r#"<path class="s0" data-grid-id="G&lt;1>" d="M0.0 500.0L500.0 500.0L500.0 0.0L0.0 0.0Z"/>"#
        ));
        assert_eq!(p.svg.matches("data-grid-id=").count(), 2);
        assert_eq!(p.index.get("G2"), Some(&1));
        assert_eq!(p.shapes[0].residents, 500.0);
        assert_eq!(p.shapes[1].residents, 0.0);
        assert_eq!(p.shapes[1].centre, (750.0, 250.0));
        assert_eq!(p.shapes[1].bounds, [500.0, 0.0, 1000.0, 500.0]);
        assert_eq!(
            (p.shapes[1].district.as_str(), p.shapes[1].street.as_str()),
            ("D2", "S2")
        );
        assert!(
            p.svg
                .contains(r#"<text x="250.0" y="250.0">A &amp; B</text>"#)
        );
        assert!(p.svg.contains(
            r#"<text x="750.0" y="250.0"><tspan x="750.0" dy="-0.55em">Dorbod Mongol </tspan><tspan x="750.0" dy="1.1em">Autonomous County</tspan></text>"#
        ));
        assert!(
            p.svg
                .contains(r#"<path class="layer layer-grid_station" d="M249.0 249.0h2v2h-2Z"/>"#)
        );
    }

    #[test]
    fn a_street_map_holds_its_own_grids_outline_and_label() {
        let p = picture(&Scope::Street("S2".into()), &documents());
        assert_eq!(p.shapes.len(), 1);
        assert_eq!(p.shapes[0].id, "G2");
        // The street's grid alone fills the width now.
        assert_eq!(p.shapes[0].bounds, [0.0, 0.0, 1000.0, 1000.0]);
        assert!(
            p.svg.contains(r#"<g class="districts"><path d=""/></g>"#),
            "no district outline"
        );
        assert!(p.svg.contains(r#"<text x="500.0" y="500.0">S2</text>"#));
        assert!(!p.svg.contains("Autonomous"), "no district label");
        assert!(
            p.svg
                .contains(r#"<path class="layer layer-grid_station" d=""/>"#),
            "the station lies west of the map shown"
        );
    }
}
