//! The governed city in the database: its areas (districts, streets, communities, grids)
//! with their geometry, the case taxonomy and the departments; writing them, and reading them
//! back as GeoJSON and as the grid index.

use crate::store::Db;
use crate::store::bulk::{Bulk, Val};
use gridwall_core::geo::{GridIndex, Shape};
use gridwall_core::policy::AreaIndex;
use serde_json::{Value, json};
use shared::case::Category;
use shared::taxonomy::{DEPARTMENTS, DepartmentLevel, SUB_ITEMS};
use sqlx::{AnyConnection, Row};

#[derive(Debug, Clone, PartialEq)]
pub struct DistrictRow {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// `district` (区) or `county` (县).
    pub kind: String,
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StreetRow {
    pub code: String,
    pub district_code: String,
    pub name_zh: String,
    /// `street` (街道) or `township` (乡镇).
    pub kind: String,
    pub shape: Shape,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CommunityRow {
    pub code: String,
    pub street_code: String,
    pub name_zh: String,
    /// `community` (社区) or `village` (村).
    pub kind: String,
}

/// People and housing in one grid.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Housing {
    pub houses: i64,
    pub households: i64,
    pub residents: i64,
    pub organisations: i64,
    pub key_places: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GridRow {
    pub id: String,
    pub name: String,
    pub street_code: String,
    pub community_code: Option<String>,
    /// `urban` or `rural`.
    pub kind: String,
    pub shape: Shape,
    pub housing: Housing,
}

/// Everything that makes up the city's map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Areas {
    pub districts: Vec<DistrictRow>,
    pub streets: Vec<StreetRow>,
    pub communities: Vec<CommunityRow>,
    pub grids: Vec<GridRow>,
}

/// Writes the 15 categories, the 332 sub-items and the 87 departments.
pub async fn insert_taxonomy(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let mut departments = Bulk::new("departments", &["code", "name_zh", "name_en", "level"]);
    for d in &DEPARTMENTS {
        let level = match d.level {
            DepartmentLevel::City => "city",
            DepartmentLevel::District => "district",
        };
        departments
            .push(
                conn,
                vec![
                    d.code.into(),
                    d.name_zh.into(),
                    d.name_en.into(),
                    level.into(),
                ],
            )
            .await?;
    }
    departments.finish(conn).await?;
    let mut categories = Bulk::new("categories", &["code", "name_zh", "position"]);
    for (i, c) in Category::ALL.iter().enumerate() {
        categories
            .push(
                conn,
                vec![c.code().into(), c.name_zh().into(), (i as i64 + 1).into()],
            )
            .await?;
    }
    categories.finish(conn).await?;
    let mut items = Bulk::new(
        "sub_items",
        &[
            "code",
            "category_code",
            "name_zh",
            "name_en",
            "time_limit_hours",
            "department_code",
        ],
    );
    for s in &SUB_ITEMS {
        items
            .push(
                conn,
                vec![
                    s.code.into(),
                    s.category.code().into(),
                    s.name_zh.into(),
                    s.name_en.into(),
                    i64::from(s.time_limit_hours).into(),
                    s.department.into(),
                ],
            )
            .await?;
    }
    items.finish(conn).await?;
    Ok(())
}

/// Writes new areas; every code must be new.
pub async fn insert_areas(conn: &mut AnyConnection, areas: &Areas) -> Result<(), sqlx::Error> {
    let mut districts = Bulk::new(
        "districts",
        &[
            "code",
            "name_zh",
            "name_en",
            "kind",
            "centre_lon",
            "centre_lat",
            "geometry",
        ],
    );
    for d in &areas.districts {
        let centre = d.shape.label_point();
        districts
            .push(
                conn,
                vec![
                    d.code.clone().into(),
                    d.name_zh.clone().into(),
                    d.name_en.clone().into(),
                    d.kind.clone().into(),
                    centre[0].into(),
                    centre[1].into(),
                    d.shape.to_geojson().to_string().into(),
                ],
            )
            .await?;
    }
    districts.finish(conn).await?;
    let mut streets = Bulk::new(
        "streets",
        &["code", "district_code", "name_zh", "kind", "geometry"],
    );
    for s in &areas.streets {
        streets
            .push(
                conn,
                vec![
                    s.code.clone().into(),
                    s.district_code.clone().into(),
                    s.name_zh.clone().into(),
                    s.kind.clone().into(),
                    s.shape.to_geojson().to_string().into(),
                ],
            )
            .await?;
    }
    streets.finish(conn).await?;
    let mut communities = Bulk::new("communities", &["code", "street_code", "name_zh", "kind"]);
    for c in &areas.communities {
        communities
            .push(
                conn,
                vec![
                    c.code.clone().into(),
                    c.street_code.clone().into(),
                    c.name_zh.clone().into(),
                    c.kind.clone().into(),
                ],
            )
            .await?;
    }
    communities.finish(conn).await?;
    let mut grids = Bulk::new("grids", GRID_COLUMNS);
    for g in &areas.grids {
        grids.push(conn, grid_row(g)).await?;
    }
    grids.finish(conn).await?;
    Ok(())
}

const GRID_COLUMNS: &[&str] = &[
    "id",
    "name",
    "street_code",
    "community_code",
    "kind",
    "geometry",
    "min_lon",
    "min_lat",
    "max_lon",
    "max_lat",
    "houses",
    "households",
    "residents",
    "organisations",
    "key_places",
];

fn grid_row(g: &GridRow) -> Vec<Val> {
    let b = g.shape.bbox();
    vec![
        g.id.clone().into(),
        g.name.clone().into(),
        g.street_code.clone().into(),
        g.community_code.clone().into(),
        g.kind.clone().into(),
        g.shape.to_geojson().to_string().into(),
        b[0].into(),
        b[1].into(),
        b[2].into(),
        b[3].into(),
        g.housing.houses.into(),
        g.housing.households.into(),
        g.housing.residents.into(),
        g.housing.organisations.into(),
        g.housing.key_places.into(),
    ]
}

/// Whether the city has been loaded: true once any grid exists.
pub async fn has_grids(db: &Db) -> Result<bool, sqlx::Error> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM grids")
        .fetch_one(db)
        .await?;
    Ok(n > 0)
}

fn parse_geometry(text: &str, what: &str) -> Result<Shape, sqlx::Error> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        sqlx::Error::Decode(format!("the geometry of {what} is not JSON: {e}").into())
    })?;
    Shape::from_geojson(&value)
        .map_err(|e| sqlx::Error::Decode(format!("the geometry of {what} is invalid: {e}").into()))
}

/// The index that finds the grid of a point, over every grid in the database.
pub async fn grid_index(db: &Db) -> Result<GridIndex, sqlx::Error> {
    let rows = sqlx::query("SELECT id, geometry FROM grids ORDER BY id")
        .fetch_all(db)
        .await?;
    let mut grids = Vec::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let geometry: String = row.try_get("geometry")?;
        let shape = parse_geometry(&geometry, &format!("grid {id}"))?;
        grids.push((id, shape));
    }
    Ok(GridIndex::new(grids))
}

/// Every grid as a GeoJSON FeatureCollection; each feature's properties carry its id, name,
/// street, district and kind.
pub async fn grids_geojson(db: &Db) -> Result<String, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT g.id, g.name, g.kind, g.geometry, g.residents, s.code AS street_code, s.name_zh AS street,
                d.code AS district_code, d.name_zh AS district
         FROM grids g JOIN streets s ON s.code = g.street_code JOIN districts d ON d.code = s.district_code
         ORDER BY g.id",
    )
    .fetch_all(db)
    .await?;
    let mut features = Vec::with_capacity(rows.len());
    for row in rows {
        let geometry: String = row.try_get("geometry")?;
        let geometry: Value = serde_json::from_str(&geometry).map_err(|e| {
            sqlx::Error::Decode(format!("a grid's geometry is not JSON: {e}").into())
        })?;
        features.push(json!({
            "type": "Feature",
            "id": row.try_get::<String, _>("id")?,
            "properties": {
                "id": row.try_get::<String, _>("id")?,
                "name": row.try_get::<String, _>("name")?,
                "street": row.try_get::<String, _>("street")?,
                "street_code": row.try_get::<String, _>("street_code")?,
                "district": row.try_get::<String, _>("district")?,
                "district_code": row.try_get::<String, _>("district_code")?,
                "kind": row.try_get::<String, _>("kind")?,
                "residents": row.try_get::<i64, _>("residents")?,
            },
            "geometry": geometry,
        }));
    }
    Ok(json!({"type": "FeatureCollection", "features": features}).to_string())
}

/// Which outlines `outlines_geojson` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    District,
    Street,
}

/// District or street outlines as a GeoJSON FeatureCollection; each feature's properties carry
/// its code, name and kind, a district's its English name (`name_en`) too, and a street's its
/// district's code.
pub async fn outlines_geojson(db: &Db, level: Level) -> Result<String, sqlx::Error> {
    let sql = match level {
        Level::District => {
            "SELECT code, name_zh, name_en, kind, geometry, NULL AS district_code FROM districts ORDER BY code"
        }
        Level::Street => {
            "SELECT code, name_zh, kind, geometry, district_code FROM streets ORDER BY code"
        }
    };
    let rows = sqlx::query(sql).fetch_all(db).await?;
    let mut features = Vec::with_capacity(rows.len());
    for row in rows {
        let geometry: String = row.try_get("geometry")?;
        let geometry: Value = serde_json::from_str(&geometry)
            .map_err(|e| sqlx::Error::Decode(format!("an outline is not JSON: {e}").into()))?;
        let mut properties = json!({
            "code": row.try_get::<String, _>("code")?,
            "name": row.try_get::<String, _>("name_zh")?,
            "kind": row.try_get::<String, _>("kind")?,
        });
        match level {
            // The English name, for walls that read English; streets have none yet.
            Level::District => properties["name_en"] = json!(row.try_get::<String, _>("name_en")?),
            Level::Street => {
                properties["district_code"] = json!(row.try_get::<String, _>("district_code")?)
            }
        }
        features.push(json!({"type": "Feature", "properties": properties, "geometry": geometry}));
    }
    Ok(json!({"type": "FeatureCollection", "features": features}).to_string())
}

/// Writes the taxonomy (unless it is there already) and `areas`, in one transaction.
pub async fn install(db: &Db, areas: &Areas) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    ensure_taxonomy(&mut tx).await?;
    insert_areas(&mut tx, areas).await?;
    tx.commit().await
}

/// Writes the taxonomy unless the database has it already.
pub async fn ensure_taxonomy(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sub_items")
        .fetch_one(&mut *conn)
        .await?;
    if have == 0 {
        insert_taxonomy(conn).await?;
    }
    Ok(())
}

/// A small city of four square grids in one street of one district, around 125.03°E,
/// 46.59°N: for tests and trials that need a map but not the whole demo city.
pub fn sample_areas() -> Areas {
    let square = |x: f64, y: f64, side: f64| {
        Shape::polygon(&[[x, y], [x + side, y], [x + side, y + side], [x, y + side]])
    };
    let grids = [
        ("SR-01-001", 125.02, 46.58),
        ("SR-01-002", 125.03, 46.58),
        ("SR-01-003", 125.02, 46.59),
        ("SR-01-004", 125.03, 46.59),
    ]
    .iter()
    .enumerate()
    .map(|(i, &(id, x, y))| GridRow {
        id: id.to_owned(),
        name: format!("样例街道第{}网格", i + 1),
        street_code: "SR01".to_owned(),
        community_code: Some("SR01C1".to_owned()),
        kind: "urban".to_owned(),
        shape: square(x, y, 0.01),
        housing: Housing {
            houses: 150,
            households: 160,
            residents: 420,
            organisations: 5,
            key_places: 1,
        },
    })
    .collect();
    Areas {
        districts: vec![DistrictRow {
            code: "SR".to_owned(),
            name_zh: "样例区".to_owned(),
            name_en: "Sample District".to_owned(),
            kind: "district".to_owned(),
            shape: square(125.02, 46.58, 0.02),
        }],
        streets: vec![StreetRow {
            code: "SR01".to_owned(),
            district_code: "SR".to_owned(),
            name_zh: "样例街道".to_owned(),
            kind: "street".to_owned(),
            shape: square(125.02, 46.58, 0.02),
        }],
        communities: vec![CommunityRow {
            code: "SR01C1".to_owned(),
            street_code: "SR01".to_owned(),
            name_zh: "样例社区".to_owned(),
            kind: "community".to_owned(),
        }],
        grids,
    }
}

/// The grid team as of a moment: members who had joined by then and not yet left, by kind.
pub async fn headcount(db: &Db, at_ms: i64) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT m.kind AS kind, COUNT(*) AS n FROM members m
         WHERE EXISTS (SELECT 1 FROM team_changes j WHERE j.member_id = m.id AND j.kind = 'join' AND j.at <= $1)
           AND NOT EXISTS (SELECT 1 FROM team_changes l WHERE l.member_id = m.id AND l.kind = 'leave' AND l.at <= $2)
         GROUP BY m.kind ORDER BY m.kind",
    )
    .bind(at_ms)
    .bind(at_ms)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("kind")?, row.try_get("n")?)))
        .collect()
}

/// Grid stations, mediation centres and key places as GeoJSON points.
pub async fn places_geojson(db: &Db) -> Result<String, sqlx::Error> {
    let rows = sqlx::query("SELECT id, kind, name, grid_id, lon, lat FROM places ORDER BY id")
        .fetch_all(db)
        .await?;
    let mut features = Vec::with_capacity(rows.len());
    for row in rows {
        let lon: f64 = row.try_get("lon")?;
        let lat: f64 = row.try_get("lat")?;
        features.push(json!({
            "type": "Feature",
            "properties": {
                "id": row.try_get::<String, _>("id")?,
                "kind": row.try_get::<String, _>("kind")?,
                "name": row.try_get::<String, _>("name")?,
                "grid_id": row.try_get::<Option<String>, _>("grid_id")?,
            },
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
        }));
    }
    Ok(json!({"type": "FeatureCollection", "features": features}).to_string())
}

/// Which street and district each grid lies in, for the access policy's area checks.
pub async fn load_area_index(db: &Db) -> Result<AreaIndex, sqlx::Error> {
    let streets = sqlx::query("SELECT code, district_code FROM streets")
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("code")?, row.try_get("district_code")?)))
        .collect::<Result<Vec<(String, String)>, sqlx::Error>>()?;
    let grids = sqlx::query("SELECT id, street_code FROM grids")
        .fetch_all(db)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("id")?, row.try_get("street_code")?)))
        .collect::<Result<Vec<(String, String)>, sqlx::Error>>()?;
    Ok(AreaIndex::new(streets, grids))
}
