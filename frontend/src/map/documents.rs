//! The map documents as the server serves them (`/api/grids.geojson`, districts, streets and
//! places): the GeoJSON the map reads, decoded to what it draws, and fetched together.

use crate::text;
use serde::Deserialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

#[derive(Deserialize)]
pub(super) struct Collection<P> {
    pub(super) features: Vec<Feature<P>>,
}

#[derive(Deserialize)]
pub(super) struct Feature<P> {
    pub(super) properties: P,
    pub(super) geometry: Geometry,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
pub(super) enum Geometry {
    Polygon(Vec<Vec<[f64; 2]>>),
    MultiPolygon(Vec<Vec<Vec<[f64; 2]>>>),
    Point([f64; 2]),
}

impl Geometry {
    /// Every ring of the shape, the polygons of a multipolygon one after another; a point has
    /// none.
    pub(super) fn rings(&self) -> Vec<&Vec<[f64; 2]>> {
        match self {
            Geometry::Polygon(rings) => rings.iter().collect(),
            Geometry::MultiPolygon(polys) => polys.iter().flatten().collect(),
            Geometry::Point(_) => Vec::new(),
        }
    }
}

#[derive(Deserialize)]
pub(super) struct GridProps {
    pub(super) id: String,
    pub(super) street_code: String,
    pub(super) district_code: String,
    #[serde(default)]
    pub(super) residents: i64,
}

#[derive(Deserialize)]
pub(super) struct AreaProps {
    pub(super) code: String,
    pub(super) name: String,
    /// The English name, which districts carry.
    #[serde(default)]
    pub(super) name_en: Option<String>,
    #[serde(default)]
    pub(super) district_code: Option<String>,
}

impl AreaProps {
    /// The name in the page's language: the English one when the page reads English and the
    /// area has one, the Chinese one otherwise.
    pub(super) fn label(&self) -> &str {
        self.label_in(text::english())
    }

    /// The name in English when `english` and the area has a name in English.
    fn label_in(&self, english: bool) -> &str {
        match &self.name_en {
            Some(en) if english && !en.trim().is_empty() => en,
            _ => &self.name,
        }
    }
}

#[derive(Deserialize)]
pub(super) struct PlaceProps {
    pub(super) kind: String,
}

/// The four documents a map is drawn from.
pub(super) struct Documents {
    pub(super) grids: Collection<GridProps>,
    pub(super) districts: Collection<AreaProps>,
    pub(super) streets: Collection<AreaProps>,
    pub(super) places: Collection<PlaceProps>,
}

impl Documents {
    /// Fetches the documents; the map goes without places when they cannot be read, as the
    /// grids matter and the places are decoration.
    pub(super) async fn fetch() -> Result<Documents, JsValue> {
        let grids = fetch_json("/api/grids.geojson").await?;
        let districts = fetch_json("/api/districts.geojson").await?;
        let streets = fetch_json("/api/streets.geojson").await?;
        let places = fetch_json("/api/places.geojson")
            .await
            .unwrap_or(Collection {
                features: Vec::new(),
            });
        Ok(Documents {
            grids,
            districts,
            streets,
            places,
        })
    }
}

/// Fetches a document from the server as text.
async fn fetch_text(url: &str) -> Result<String, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from_str(&format!("{url}: {}", response.status())));
    }
    let text = JsFuture::from(response.text()?).await?;
    text.as_string()
        .ok_or_else(|| JsValue::from_str("not text"))
}

async fn fetch_json<T: for<'de> Deserialize<'de>>(url: &str) -> Result<T, JsValue> {
    let text = fetch_text(url).await?;
    serde_json::from_str(&text).map_err(|e| JsValue::from_str(&format!("{url}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_read_as_rings_and_points_as_none() {
        let json = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","properties":{"kind":"key_place"},
             "geometry":{"type":"Point","coordinates":[125.1,46.6]}},
            {"type":"Feature","properties":{"kind":"grid_station"},
             "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
            {"type":"Feature","properties":{"kind":"mediation_centre"},
             "geometry":{"type":"MultiPolygon","coordinates":[
                [[[0,0],[1,0],[0,1],[0,0]]],
                [[[2,2],[3,2],[2,3],[2,2]],[[2.1,2.1],[2.2,2.1],[2.1,2.2],[2.1,2.1]]]]}}]}"#;
        let places: Collection<PlaceProps> = serde_json::from_str(json).expect("GeoJSON");
        let rings: Vec<usize> = places
            .features
            .iter()
            .map(|f| f.geometry.rings().len())
            .collect();
        assert_eq!(rings, [0, 1, 3]);
        assert_eq!(places.features[0].properties.kind, "key_place");
        let Geometry::Point(at) = &places.features[0].geometry else {
            panic!("a point reads as a point");
        };
        assert_eq!(*at, [125.1, 46.6]);
    }

    #[test]
    fn a_grid_without_residents_has_none() {
        let json = r#"{"id":"G1","street_code":"230602001","district_code":"230602"}"#;
        let grid: GridProps = serde_json::from_str(json).expect("grid properties");
        assert_eq!((grid.id.as_str(), grid.residents), ("G1", 0));
    }

    #[test]
    fn an_area_is_named_in_english_only_when_it_has_an_english_name() {
        let district: AreaProps = serde_json::from_str(
            r#"{"code":"230602","name":"萨尔图区","name_en":"Sartu District"}"#,
        )
        .expect("district properties");
        assert_eq!(district.label_in(false), "萨尔图区");
        assert_eq!(district.label_in(true), "Sartu District");
        let street: AreaProps = serde_json::from_str(
            r#"{"code":"230602001","name":"萨尔图街道","name_en":" ","district_code":"230602"}"#,
        )
        .expect("street properties");
        assert_eq!(
            street.label_in(true),
            "萨尔图街道",
            "a blank name is no name"
        );
        assert_eq!(street.district_code.as_deref(), Some("230602"));
    }
}
