//! The city's map for the wall: grids, streets and districts as GeoJSON, read once at start,
//! serialised once and served gzipped to every wall.

use crate::store::Db;
use crate::store::city::{self, Level};
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::io::Write;
use std::sync::Arc;

/// One GeoJSON document, plain and gzipped.
#[derive(Debug)]
pub struct Document {
    plain: axum::body::Bytes,
    gzipped: axum::body::Bytes,
}

impl Document {
    fn new(text: String) -> Document {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(text.as_bytes());
        let gzipped = gz.finish().unwrap_or_default();
        Document {
            plain: text.into(),
            gzipped: gzipped.into(),
        }
    }

    fn respond(&self, headers: &HeaderMap) -> Response {
        let gzip = crate::http::assets::accepts_gzip(headers);
        let mut out = HeaderMap::new();
        out.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/geo+json"),
        );
        out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        out.insert(VARY, HeaderValue::from_static("accept-encoding"));
        if gzip && !self.gzipped.is_empty() {
            out.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            (out, self.gzipped.clone()).into_response()
        } else {
            (out, self.plain.clone()).into_response()
        }
    }
}

/// A GeoJSON document as the OpenAPI document describes it: a `FeatureCollection` whose
/// features' properties depend on the map (see the operation).
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct FeatureCollection {
    /// Always `FeatureCollection`.
    #[schema(rename = "type", pattern = "^FeatureCollection$")]
    kind: String,
    /// GeoJSON `Feature` objects: a `geometry` (Polygon, MultiPolygon or Point) and
    /// `properties`.
    #[schema(value_type = Vec<Object>)]
    features: Vec<serde_json::Value>,
}

/// The documents of the map.
#[derive(Debug)]
pub struct Maps {
    pub grids: Document,
    pub streets: Document,
    pub districts: Document,
    pub places: Document,
}

impl Maps {
    pub async fn load(db: &Db) -> Result<Maps, sqlx::Error> {
        Ok(Maps {
            grids: Document::new(city::grids_geojson(db).await?),
            streets: Document::new(city::outlines_geojson(db, Level::Street).await?),
            districts: Document::new(city::outlines_geojson(db, Level::District).await?),
            places: Document::new(city::places_geojson(db).await?),
        })
    }
}

/// `GET /api/grids.geojson`: every grid, with id, name, street, district and kind.
#[utoipa::path(
    get,
    path = "/api/grids.geojson",
    operation_id = "grids_geojson",
    tag = "map",
    responses(
        (status = 200, description = "Every grid, with id, name, street, district and kind. Gzipped when the request accepts it; revalidated on every load (`no-cache`).",
            body = FeatureCollection, content_type = "application/geo+json"),
        (status = 429, description = "Too many anonymous requests at once (32 per server, with the maps, Open311's reads, `/api/team` and `/metrics`); `Retry-After` says when to try again.", body = shared::case::ApiError),
    ),
    security(())
)]
pub async fn grids(State(maps): State<Arc<Maps>>, headers: HeaderMap) -> Response {
    maps.grids.respond(&headers)
}

/// `GET /api/streets.geojson`: street and township outlines.
#[utoipa::path(
    get,
    path = "/api/streets.geojson",
    operation_id = "streets_geojson",
    tag = "map",
    responses(
        (status = 200, description = "Street and township outlines. Gzipped when the request accepts it; revalidated on every load (`no-cache`).",
            body = FeatureCollection, content_type = "application/geo+json"),
        (status = 429, description = "Too many anonymous requests at once (32 per server, with the maps, Open311's reads, `/api/team` and `/metrics`); `Retry-After` says when to try again.", body = shared::case::ApiError),
    ),
    security(())
)]
pub async fn streets(State(maps): State<Arc<Maps>>, headers: HeaderMap) -> Response {
    maps.streets.respond(&headers)
}

/// `GET /api/districts.geojson`: district and county outlines.
#[utoipa::path(
    get,
    path = "/api/districts.geojson",
    operation_id = "districts_geojson",
    tag = "map",
    responses(
        (status = 200, description = "District and county outlines. Gzipped when the request accepts it; revalidated on every load (`no-cache`).",
            body = FeatureCollection, content_type = "application/geo+json"),
        (status = 429, description = "Too many anonymous requests at once (32 per server, with the maps, Open311's reads, `/api/team` and `/metrics`); `Retry-After` says when to try again.", body = shared::case::ApiError),
    ),
    security(())
)]
pub async fn districts(State(maps): State<Arc<Maps>>, headers: HeaderMap) -> Response {
    maps.districts.respond(&headers)
}

/// `GET /api/places.geojson`: grid stations, mediation centres and key places.
#[utoipa::path(
    get,
    path = "/api/places.geojson",
    operation_id = "places_geojson",
    tag = "map",
    responses(
        (status = 200, description = "Grid stations, mediation centres and key places. Gzipped when the request accepts it; revalidated on every load (`no-cache`).",
            body = FeatureCollection, content_type = "application/geo+json"),
        (status = 429, description = "Too many anonymous requests at once (32 per server, with the maps, Open311's reads, `/api/team` and `/metrics`); `Retry-After` says when to try again.", body = shared::case::ApiError),
    ),
    security(())
)]
pub async fn places(State(maps): State<Arc<Maps>>, headers: HeaderMap) -> Response {
    maps.places.respond(&headers)
}
