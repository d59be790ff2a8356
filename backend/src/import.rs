//! `gridwall import grids` and `gridwall export grids`: a real city's grids in and out as
//! GeoJSON. An import is checked completely before anything is written, and then written in
//! one transaction: all of it, or nothing.

use crate::store::Db;
use crate::store::city;
use gridwall_core::geo::Shape;
use serde_json::Value;
use std::collections::BTreeMap;

/// Which feature properties carry a grid's id, name, street, district and kind.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct Mapping {
    /// The property with the grid's id (a string or an integer).
    #[arg(long, default_value = "id")]
    pub id_property: String,
    /// The property with the grid's name.
    #[arg(long, default_value = "name")]
    pub name_property: String,
    /// The property with the name of the grid's street or township.
    #[arg(long, default_value = "street")]
    pub street_property: String,
    /// The property with the name of the grid's district or county.
    #[arg(long, default_value = "district")]
    pub district_property: String,
    /// The property with the grid's kind, `urban` or `rural` (optional; `urban` when absent).
    #[arg(long, default_value = "kind")]
    pub kind_property: String,
}

impl Default for Mapping {
    fn default() -> Mapping {
        Mapping {
            id_property: "id".to_owned(),
            name_property: "name".to_owned(),
            street_property: "street".to_owned(),
            district_property: "district".to_owned(),
            kind_property: "kind".to_owned(),
        }
    }
}

/// Why an import was refused; nothing was written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is not JSON: {0}")]
    NotJson(String),
    #[error("the file is not a GeoJSON FeatureCollection with a `features` array")]
    NotFeatureCollection,
    #[error("the FeatureCollection has no features")]
    Empty,
    #[error("feature {index}: {reason}")]
    Feature { index: usize, reason: String },
}

/// One grid as read from the file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedGrid {
    pub id: String,
    pub name: String,
    pub street: String,
    pub district: String,
    pub kind: String,
    pub shape: Shape,
}

fn text_property(
    properties: &serde_json::Map<String, Value>,
    key: &str,
    index: usize,
) -> Result<String, ImportError> {
    let fail = |reason: String| ImportError::Feature { index, reason };
    match properties.get(key) {
        None | Some(Value::Null) => Err(fail(format!("property `{key}` is missing"))),
        Some(Value::String(s)) if s.trim().is_empty() => {
            Err(fail(format!("property `{key}` is empty")))
        }
        Some(Value::String(s)) => Ok(s.trim().to_owned()),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(n.to_string()),
        Some(other) => Err(fail(format!(
            "property `{key}` must be a string, not {other}"
        ))),
    }
}

/// Reads and checks every feature of a GeoJSON FeatureCollection of grids.
pub fn parse_grids(text: &str, mapping: &Mapping) -> Result<Vec<ImportedGrid>, ImportError> {
    let doc: Value = serde_json::from_str(text).map_err(|e| ImportError::NotJson(e.to_string()))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(ImportError::NotFeatureCollection);
    }
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or(ImportError::NotFeatureCollection)?;
    if features.is_empty() {
        return Err(ImportError::Empty);
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut grids = Vec::with_capacity(features.len());
    for (index, feature) in features.iter().enumerate() {
        let fail = |reason: String| ImportError::Feature { index, reason };
        let geometry = feature
            .get("geometry")
            .filter(|g| !g.is_null())
            .ok_or_else(|| fail("it has no geometry".to_owned()))?;
        let shape = Shape::from_geojson(geometry).map_err(|e| fail(e.0))?;
        // A grid is stored at 6 decimals (`Shape::to_geojson`) and read back at every start of
        // the server, so the shape kept is the stored one, checked again: rounding can merge
        // neighbouring positions or make edges cross, and a stored grid the server refuses
        // would stop it from starting.
        let shape = Shape::from_geojson(&shape.to_geojson()).map_err(|e| {
            fail(format!(
                "at 6 decimals (about 10 cm), as grids are stored, {e}"
            ))
        })?;
        let properties = feature
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| fail("it has no properties".to_owned()))?;
        let id = text_property(properties, &mapping.id_property, index)?;
        if id.chars().count() > 32
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(fail(format!(
                "grid id `{id}` must be at most 32 letters, digits, `-` or `_`"
            )));
        }
        if let Some(first) = seen.insert(id.clone(), index) {
            return Err(fail(format!(
                "grid id `{id}` is already used by feature {first}"
            )));
        }
        let kind = match properties.get(&mapping.kind_property) {
            None | Some(Value::Null) => "urban".to_owned(),
            Some(Value::String(k)) if k == "urban" || k == "rural" => k.clone(),
            Some(other) => {
                return Err(fail(format!(
                    "property `{}` must be `urban` or `rural`, not {other}",
                    mapping.kind_property
                )));
            }
        };
        grids.push(ImportedGrid {
            name: text_property(properties, &mapping.name_property, index)?,
            street: text_property(properties, &mapping.street_property, index)?,
            district: text_property(properties, &mapping.district_property, index)?,
            id,
            kind,
            shape,
        });
    }
    Ok(grids)
}

/// What an import wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub grids_added: usize,
    pub grids_updated: usize,
    pub streets_added: usize,
    pub districts_added: usize,
}

/// The union of the shapes' polygons, as an outline for a district or street made of grids.
fn outline(shapes: &[&Shape]) -> Shape {
    Shape {
        polygons: shapes
            .iter()
            .flat_map(|s| s.polygons.iter().cloned())
            .collect(),
    }
}

/// Writes checked grids in one transaction. Districts and streets are matched by name and
/// created when new; grids are matched by id, updated when they exist and added otherwise.
pub async fn import_grids(db: &Db, grids: &[ImportedGrid]) -> Result<Imported, sqlx::Error> {
    use sqlx::Row;
    let mut tx = db.begin().await?;
    let mut done = Imported::default();
    city::ensure_taxonomy(&mut tx).await?;
    let mut districts: BTreeMap<String, String> = BTreeMap::new();
    for row in sqlx::query("SELECT code, name_zh FROM districts")
        .fetch_all(&mut *tx)
        .await?
    {
        districts.insert(row.try_get("name_zh")?, row.try_get("code")?);
    }
    let mut streets: BTreeMap<(String, String), String> = BTreeMap::new();
    for row in sqlx::query("SELECT code, district_code, name_zh FROM streets")
        .fetch_all(&mut *tx)
        .await?
    {
        streets.insert(
            (row.try_get("district_code")?, row.try_get("name_zh")?),
            row.try_get("code")?,
        );
    }
    let mut areas = city::Areas::default();
    // New districts and streets take their outline from their grids.
    let mut by_district: BTreeMap<&str, Vec<&Shape>> = BTreeMap::new();
    let mut by_street: BTreeMap<(&str, &str), Vec<&Shape>> = BTreeMap::new();
    for g in grids {
        by_district.entry(&g.district).or_default().push(&g.shape);
        by_street
            .entry((&g.district, &g.street))
            .or_default()
            .push(&g.shape);
    }
    let mut next_district = districts.len() + 1;
    for (name, shapes) in &by_district {
        if !districts.contains_key(*name) {
            let code = format!("IMP-D{next_district:03}");
            next_district += 1;
            areas.districts.push(city::DistrictRow {
                code: code.clone(),
                name_zh: (*name).to_owned(),
                name_en: (*name).to_owned(),
                kind: "district".to_owned(),
                shape: outline(shapes),
            });
            districts.insert((*name).to_owned(), code);
            done.districts_added += 1;
        }
    }
    let mut next_street = streets.len() + 1;
    for ((district, name), shapes) in &by_street {
        let district_code = districts[*district].clone();
        if let std::collections::btree_map::Entry::Vacant(slot) =
            streets.entry((district_code.clone(), (*name).to_owned()))
        {
            let code = format!("IMP-S{next_street:04}");
            next_street += 1;
            areas.streets.push(city::StreetRow {
                code: code.clone(),
                district_code,
                name_zh: (*name).to_owned(),
                kind: "street".to_owned(),
                shape: outline(shapes),
            });
            slot.insert(code);
            done.streets_added += 1;
        }
    }
    let existing: std::collections::BTreeSet<String> = sqlx::query_scalar("SELECT id FROM grids")
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
    for g in grids {
        let street_code = streets[&(districts[&g.district].clone(), g.street.clone())].clone();
        let grid = city::GridRow {
            id: g.id.clone(),
            name: g.name.clone(),
            street_code,
            community_code: None,
            kind: g.kind.clone(),
            shape: g.shape.clone(),
            housing: city::Housing::default(),
        };
        if existing.contains(&g.id) {
            let b = grid.shape.bbox();
            sqlx::query(
                "UPDATE grids SET name = $1, street_code = $2, kind = $3, geometry = $4,
                 min_lon = $5, min_lat = $6, max_lon = $7, max_lat = $8 WHERE id = $9",
            )
            .bind(&grid.name)
            .bind(&grid.street_code)
            .bind(&grid.kind)
            .bind(grid.shape.to_geojson().to_string())
            .bind(b[0])
            .bind(b[1])
            .bind(b[2])
            .bind(b[3])
            .bind(&grid.id)
            .execute(&mut *tx)
            .await?;
            done.grids_updated += 1;
        } else {
            areas.grids.push(grid);
            done.grids_added += 1;
        }
    }
    city::insert_areas(&mut tx, &areas).await?;
    // The saved wall state and the look-back checkpoints count cases into areas that may
    // have just changed.
    crate::services::live::saved::forget_saved_state(&mut tx).await?;
    crate::services::live::history::forget_checkpoints(&mut tx).await?;
    tx.commit().await?;
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn feature(id: Value, ring: Value) -> Value {
        json!({"type": "Feature", "properties": {"id": id, "name": "第一网格", "street": "会战街道", "district": "萨尔图区"},
               "geometry": {"type": "Polygon", "coordinates": [ring]}})
    }

    fn square() -> Value {
        json!([
            [125.0, 46.0],
            [125.01, 46.0],
            [125.01, 46.01],
            [125.0, 46.01],
            [125.0, 46.0]
        ])
    }

    fn collection(features: Vec<Value>) -> String {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    }

    #[test]
    fn good_features_are_read() {
        let grids = parse_grids(
            &collection(vec![
                feature(json!("A1"), square()),
                feature(json!(7), square()),
            ]),
            &Mapping::default(),
        )
        .expect("valid");
        assert_eq!(grids.len(), 2);
        assert_eq!(grids[1].id, "7");
        assert_eq!(grids[0].street, "会战街道");
        assert_eq!(grids[0].kind, "urban");
    }

    #[test]
    fn errors_name_the_feature_and_the_reason() {
        let open_ring = json!([
            [125.0, 46.0],
            [125.01, 46.0],
            [125.01, 46.01],
            [125.0, 46.01]
        ]);
        let mut no_street = feature(json!("B"), square());
        no_street["properties"]
            .as_object_mut()
            .expect("object")
            .remove("street");
        let cases = [
            (
                collection(vec![
                    feature(json!("A"), square()),
                    feature(json!("B"), open_ring),
                ]),
                "feature 1: the outer ring of the polygon is not closed",
            ),
            (
                collection(vec![feature(json!("A"), square()), no_street]),
                "feature 1: property `street` is missing",
            ),
            (
                collection(vec![
                    feature(json!("A"), square()),
                    feature(json!("A"), square()),
                ]),
                "feature 1: grid id `A` is already used by feature 0",
            ),
            (
                collection(vec![feature(json!("A/1"), square())]),
                "feature 0: grid id `A/1`",
            ),
            (collection(vec![]), "no features"),
            (
                "{\"type\": \"Feature\"}".to_owned(),
                "not a GeoJSON FeatureCollection",
            ),
            ("not json".to_owned(), "not JSON"),
        ];
        for (text, expected) in cases {
            let err = parse_grids(&text, &Mapping::default())
                .expect_err("invalid")
                .to_string();
            assert!(err.contains(expected), "{err} does not say {expected}");
        }
    }

    /// A ring valid as given but not at the 6 decimals at which grids are stored: two of its
    /// corners each have a twin 0.4 µ° away, and rounding merges each pair, leaving three
    /// positions. Found by the fuzzer: it used to be taken, and the server then refused its
    /// stored geometry at every start.
    #[test]
    fn a_ring_that_collapses_when_stored_is_refused() {
        let ring = json!([
            [125.0, 46.0],
            [125.000_000_4, 46.0],
            [125.01, 46.01],
            [125.01, 46.010_000_4],
            [125.0, 46.0]
        ]);
        let valid_as_given =
            Shape::from_geojson(&json!({"type": "Polygon", "coordinates": [ring.clone()]}));
        assert!(valid_as_given.is_ok(), "{valid_as_given:?}");
        let err = parse_grids(
            &collection(vec![feature(json!("A"), ring)]),
            &Mapping::default(),
        )
        .expect_err("a ring that collapses at 6 decimals")
        .to_string();
        assert!(
            err.contains("feature 0") && err.contains("6 decimals"),
            "{err}"
        );
    }

    #[test]
    fn the_mapping_picks_the_properties() {
        let text = collection(vec![json!({"type": "Feature",
            "properties": {"gid": "Z9", "title": "一号", "jd": "街道甲", "qx": "区乙", "type": "rural"},
            "geometry": {"type": "Polygon", "coordinates": [square()]}})]);
        let mapping = Mapping {
            id_property: "gid".into(),
            name_property: "title".into(),
            street_property: "jd".into(),
            district_property: "qx".into(),
            kind_property: "type".into(),
        };
        let grids = parse_grids(&text, &mapping).expect("valid");
        assert_eq!(
            (
                grids[0].id.as_str(),
                grids[0].kind.as_str(),
                grids[0].district.as_str()
            ),
            ("Z9", "rural", "区乙")
        );
    }
}
