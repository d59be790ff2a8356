//! The city's map: `/api/grids.geojson` and the outlines, and grids imported from GeoJSON.

use crate::on_both_stores;
use crate::support::{Store, TestDb, TestServer};
use backend::import::{Mapping, import_grids, parse_grids};
use serde_json::{Value, json};

#[tokio::test]
async fn every_grid_is_served_as_geojson_with_its_area_names() {
    let server = TestServer::start().await;
    let res = server.get("/api/grids.geojson").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/geo+json");
    let doc: Value = res.json().await.expect("GeoJSON");
    assert_eq!(doc["type"], "FeatureCollection");
    let features = doc["features"].as_array().expect("features");
    assert_eq!(features.len(), 4);
    let first = &features[0];
    assert_eq!(first["geometry"]["type"], "Polygon");
    for key in ["id", "name", "street", "district", "kind"] {
        assert!(
            first["properties"][key].is_string(),
            "{key} missing in {first}"
        );
    }
    assert_eq!(first["properties"]["district"], "样例区");
    assert_eq!(first["properties"]["kind"], "urban");

    for (path, count) in [("/api/streets.geojson", 1), ("/api/districts.geojson", 1)] {
        let doc: Value = server.get(path).await.json().await.expect("GeoJSON");
        assert_eq!(
            doc["features"].as_array().map(Vec::len),
            Some(count),
            "{path}"
        );
    }
    // A district carries its English name, for walls that read English.
    let districts: Value = server
        .get("/api/districts.geojson")
        .await
        .json()
        .await
        .expect("GeoJSON");
    let district = &districts["features"][0]["properties"];
    assert_eq!(
        (&district["name"], &district["name_en"]),
        (&json!("样例区"), &json!("Sample District"))
    );
    server.stop().await;
}

fn grid(id: &str, name: &str, x: f64, y: f64) -> Value {
    json!({"type": "Feature",
        "properties": {"id": id, "name": name, "street": "新村街道", "district": "新区", "kind": "rural"},
        "geometry": {"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]]}})
}

on_both_stores!(imported_grids_take_reports_and_reach_the_map);
async fn imported_grids_take_reports_and_reach_the_map(store: Store) {
    let db = TestDb::new(store).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    let text = json!({"type": "FeatureCollection", "features": [
        grid("NEW-1", "新一网格", 124.50, 46.00),
        grid("NEW-2", "新二网格", 124.51, 46.00),
    ]})
    .to_string();
    let grids = parse_grids(&text, &Mapping::default()).expect("valid file");
    let done = import_grids(&pool, &grids).await.expect("import");
    assert_eq!(
        (done.grids_added, done.streets_added, done.districts_added),
        (2, 1, 1)
    );
    // A second import of the same ids renames instead of duplicating.
    let renamed = text.replace("新二网格", "新二网格（调整）");
    let done = import_grids(
        &pool,
        &parse_grids(&renamed, &Mapping::default()).expect("valid"),
    )
    .await
    .expect("import again");
    assert_eq!(
        (done.grids_added, done.grids_updated, done.streets_added),
        (0, 2, 0)
    );
    pool.close().await;

    let server = TestServer::start_with(db).await;
    let doc: Value = server
        .get("/api/grids.geojson")
        .await
        .json()
        .await
        .expect("GeoJSON");
    let names: Vec<&str> = doc["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(|f| f["properties"]["name"].as_str())
        .collect();
    assert_eq!(names, ["新一网格", "新二网格（调整）"]);
    // A point in the second grid is placed there.
    let res = server
        .post_json(
            "/api/cases",
            &json!({"category": "ecology", "point": {"lon": 124.515, "lat": 46.005}, "description": "秸秆焚烧"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.expect("case");
    assert_eq!(case["grid_id"], "NEW-2");
    server.stop().await;
}

#[tokio::test]
async fn a_bad_feature_stops_the_whole_import() {
    let db = TestDb::new(Store::Sqlite).await;
    let mut bad = grid("BAD", "坏网格", 124.6, 46.1);
    bad["geometry"]["coordinates"][0]
        .as_array_mut()
        .expect("ring")
        .pop();
    let text = json!({"type": "FeatureCollection", "features": [grid("OK-1", "好网格", 124.5, 46.0), bad]}).to_string();
    let err = parse_grids(&text, &Mapping::default()).expect_err("the open ring is refused");
    assert_eq!(
        err.to_string(),
        "feature 1: the outer ring of the polygon is not closed: its last position must repeat its first"
    );
    let pool = backend::store::connect(&db.url).await.expect("open");
    assert!(!backend::store::city::has_grids(&pool).await.expect("count"));
}
