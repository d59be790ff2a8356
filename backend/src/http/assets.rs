//! The wall, the field page and the seat page, embedded in the binary: the pages, their styles
//! and their wasm bundles (one each, so that no page downloads another's code).

use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::LazyLock;

struct Asset {
    content_type: &'static str,
    body: &'static [u8],
    gzipped: Option<&'static [u8]>,
}

static INDEX: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("../../../assets/index.html"),
    gzipped: None,
};
static FIELD: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("../../../assets/field.html"),
    gzipped: None,
};
static SEAT: Asset = Asset {
    content_type: "text/html; charset=utf-8",
    body: include_bytes!("../../../assets/seat.html"),
    gzipped: None,
};
static STYLE: Asset = Asset {
    content_type: "text/css; charset=utf-8",
    body: include_bytes!("../../../assets/style.css"),
    gzipped: None,
};
static START: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_bytes!("../../../assets/start.js"),
    gzipped: None,
};
static JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_bytes!(concat!(env!("OUT_DIR"), "/pkg/frontend.js")),
    gzipped: Some(include_bytes!(concat!(
        env!("OUT_DIR"),
        "/pkg/frontend.js.gz"
    ))),
};
static WASM: Asset = Asset {
    content_type: "application/wasm",
    body: include_bytes!(concat!(env!("OUT_DIR"), "/pkg/frontend_bg.wasm")),
    gzipped: Some(include_bytes!(concat!(
        env!("OUT_DIR"),
        "/pkg/frontend_bg.wasm.gz"
    ))),
};
static FIELD_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_bytes!(concat!(env!("OUT_DIR"), "/pkg/field.js")),
    gzipped: Some(include_bytes!(concat!(env!("OUT_DIR"), "/pkg/field.js.gz"))),
};
static FIELD_WASM: Asset = Asset {
    content_type: "application/wasm",
    body: include_bytes!(concat!(env!("OUT_DIR"), "/pkg/field_bg.wasm")),
    gzipped: Some(include_bytes!(concat!(
        env!("OUT_DIR"),
        "/pkg/field_bg.wasm.gz"
    ))),
};

static SEAT_JS: Asset = Asset {
    content_type: "text/javascript; charset=utf-8",
    body: include_bytes!(concat!(env!("OUT_DIR"), "/pkg/seat.js")),
    gzipped: Some(include_bytes!(concat!(env!("OUT_DIR"), "/pkg/seat.js.gz"))),
};
static SEAT_WASM: Asset = Asset {
    content_type: "application/wasm",
    body: include_bytes!(concat!(env!("OUT_DIR"), "/pkg/seat_bg.wasm")),
    gzipped: Some(include_bytes!(concat!(
        env!("OUT_DIR"),
        "/pkg/seat_bg.wasm.gz"
    ))),
};

/// One tag for the whole build: any change to any asset makes every cached copy stale.
static ETAG_VALUE: LazyLock<HeaderValue> = LazyLock::new(|| {
    let mut h = DefaultHasher::new();
    for asset in [
        &INDEX,
        &FIELD,
        &SEAT,
        &STYLE,
        &JS,
        &WASM,
        &FIELD_JS,
        &FIELD_WASM,
        &SEAT_JS,
        &SEAT_WASM,
    ] {
        asset.body.hash(&mut h);
    }
    HeaderValue::from_str(&format!("\"{:016x}\"", h.finish()))
        .unwrap_or(HeaderValue::from_static("\"0\""))
});

/// Whether the request's `Accept-Encoding` allows a gzipped body.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn serve(asset: &'static Asset, headers: &HeaderMap) -> Response {
    if headers.get(IF_NONE_MATCH) == Some(&*ETAG_VALUE) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let gzip = accepts_gzip(headers);
    let mut out = HeaderMap::new();
    out.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    // Walls revalidate on every load, so a new build reaches them at their next reload.
    out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    out.insert(ETAG, ETAG_VALUE.clone());
    let body = match asset.gzipped {
        Some(gz) if gzip => {
            out.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            out.insert(VARY, HeaderValue::from_static("accept-encoding"));
            gz
        }
        Some(_) => {
            out.insert(VARY, HeaderValue::from_static("accept-encoding"));
            asset.body
        }
        None => asset.body,
    };
    (out, body).into_response()
}

#[utoipa::path(
    get,
    path = "/",
    operation_id = "page",
    tag = "page",
    responses(
        (status = 200, description = "The wall: `?layout=wall|seat|share`, `?lang=en`, `?scope=` and `?token=` are read by the page itself. Gzipped when the request accepts it and the asset is compressed; `no-cache` with an `ETag` of the build.",
            content(("text/html"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
}

#[utoipa::path(
    get,
    path = "/field",
    operation_id = "field_page",
    tag = "page",
    responses(
        (status = 200, description = "The phone-sized field page for grid workers, department staff and dispatchers (sign in, report with a photo, queues, moves with photos); `?lang=en` is read by the page. Caching as for `/`.",
            content(("text/html"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn field(headers: HeaderMap) -> Response {
    serve(&FIELD, &headers)
}

#[utoipa::path(
    get,
    path = "/assets/style.css",
    operation_id = "stylesheet",
    tag = "page",
    responses(
        (status = 200, description = "The wall's stylesheet. Gzipped when the request accepts it and the asset is compressed; `no-cache` with an `ETag` of the build.",
            content(("text/css"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn style(headers: HeaderMap) -> Response {
    serve(&STYLE, &headers)
}

#[utoipa::path(
    get,
    path = "/assets/start.js",
    operation_id = "start_script",
    tag = "page",
    responses(
        (status = 200, description = "Starts the page's own bundle (the wall's, the field page's or the seat's, by the page's path): the pages carry no inline script, so that they pass their Content-Security-Policy. `no-cache` with an `ETag` of the build.",
            content(("text/javascript"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn start(headers: HeaderMap) -> Response {
    serve(&START, &headers)
}

#[utoipa::path(
    get,
    path = "/pkg/frontend.js",
    operation_id = "wall_script",
    tag = "page",
    responses(
        (status = 200, description = "The wall's JavaScript glue for its wasm bundle. Gzipped when the request accepts it and the asset is compressed; `no-cache` with an `ETag` of the build.",
            content(("text/javascript"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn script(headers: HeaderMap) -> Response {
    serve(&JS, &headers)
}

#[utoipa::path(
    get,
    path = "/pkg/frontend_bg.wasm",
    operation_id = "wall_wasm",
    tag = "page",
    responses(
        (status = 200, description = "The wall's wasm bundle. Gzipped when the request accepts it and the asset is compressed; `no-cache` with an `ETag` of the build.",
            content(("application/wasm"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn wasm(headers: HeaderMap) -> Response {
    serve(&WASM, &headers)
}

#[utoipa::path(
    get,
    path = "/pkg/field.js",
    operation_id = "field_script",
    tag = "page",
    responses(
        (status = 200, description = "The field page's JavaScript glue for its own wasm bundle. Gzipped when the request accepts it and the asset is compressed; `no-cache` with an `ETag` of the build.",
            content(("text/javascript"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn field_script(headers: HeaderMap) -> Response {
    serve(&FIELD_JS, &headers)
}

#[utoipa::path(
    get,
    path = "/pkg/field_bg.wasm",
    operation_id = "field_wasm",
    tag = "page",
    responses(
        (status = 200, description = "The field page's wasm bundle, separate from the wall's. Gzipped when the request accepts it and the asset is compressed; `no-cache` with an `ETag` of the build.",
            content(("application/wasm"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn field_wasm(headers: HeaderMap) -> Response {
    serve(&FIELD_WASM, &headers)
}

#[utoipa::path(
    get,
    path = "/seat",
    operation_id = "seat_page",
    tag = "page",
    responses(
        (status = 200, description = "The seat page for leaders and dispatchers at 1920×1080: drill-down from the city to one case with its timeline and photos, overdue cases, look back and replay, the dispatch queue; `?lang=en` is read by the page. Caching as for `/`.",
            content(("text/html"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn seat(headers: HeaderMap) -> Response {
    serve(&SEAT, &headers)
}

#[utoipa::path(
    get,
    path = "/pkg/seat.js",
    operation_id = "seat_script",
    tag = "page",
    responses(
        (status = 200, description = "The seat page's JavaScript glue for its own wasm bundle. Gzipped when the request accepts it and the asset is compressed; `no-cache` with an `ETag` of the build.",
            content(("text/javascript"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn seat_script(headers: HeaderMap) -> Response {
    serve(&SEAT_JS, &headers)
}

#[utoipa::path(
    get,
    path = "/pkg/seat_bg.wasm",
    operation_id = "seat_wasm",
    tag = "page",
    responses(
        (status = 200, description = "The seat page's wasm bundle, separate from the wall's and the field page's. Gzipped when the request accepts it and the asset is compressed; `no-cache` with an `ETag` of the build.",
            content(("application/wasm"))),
        (status = 304, description = "`If-None-Match` names this build's `ETag`."),
    ),
    security(())
)]
pub async fn seat_wasm(headers: HeaderMap) -> Response {
    serve(&SEAT_WASM, &headers)
}
