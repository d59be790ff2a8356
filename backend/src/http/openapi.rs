//! The OpenAPI 3.1 document of the HTTP interface, served at `GET /api/openapi.json`.
//!
//! It is generated from the code: each handler's `#[utoipa::path]` describes its operation
//! (parameters, bodies, every status it answers with, and who may call it), and the wire types
//! of `shared` (with its `openapi` feature) and of the handlers derive their schemas from the
//! same definitions serde uses. [`ApiDoc`]'s `paths(...)` is the one list of documented
//! operations: a new route is added to `crate::routes` (next to `app`) and its annotated
//! handler here, and the `openapi` integration test fails while the two disagree.

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

/// The document's operations, schemas, security schemes and tags.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "gridwall",
        description = "The grid-governance command centre's HTTP interface: the case API \
            (reports, moves and their evidence photos), the wall's state and its stream, the \
            city's map, Open311 GeoReport v2 for citizen-reporting apps, and operations. \
            Every error of the `/api` routes and of `/ws` before its upgrade comes as \
            `ApiError`; Open311 errors come in the standard's `[{code, description}]`.",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        crate::http::sessions::login,
        crate::http::sessions::logout,
        crate::http::sessions::me,
        crate::http::cases::list_cases,
        crate::http::cases::report_case,
        crate::http::cases::get_case,
        crate::http::cases::move_case,
        crate::http::cases::case_moves,
        crate::http::photos::serve,
        crate::http::wall::wall_state,
        crate::http::wall::wall_at,
        crate::http::team::team,
        crate::http::assessment::rankings,
        crate::http::assessment::rankings_csv,
        crate::http::assessment::compare,
        crate::http::assessment::briefing_svg,
        crate::http::assessment::briefing_png,
        crate::http::maps::grids,
        crate::http::maps::districts,
        crate::http::maps::streets,
        crate::http::maps::places,
        serve,
        crate::http::ws::upgrade,
        crate::http::seat::upgrade,
        crate::http::open311::open311_discovery,
        crate::http::open311::open311_services,
        crate::http::open311::service_definition,
        crate::http::open311::open311_requests,
        crate::http::open311::post_resource,
        crate::http::open311::get_request,
        crate::http::open311::get_token,
        crate::http::health::healthz,
        crate::metrics::metrics,
        crate::http::assets::index,
        crate::http::assets::field,
        crate::http::assets::style,
        crate::http::assets::start,
        crate::http::assets::script,
        crate::http::assets::wasm,
        crate::http::assets::field_script,
        crate::http::assets::field_wasm,
        crate::http::assets::seat,
        crate::http::assets::seat_script,
        crate::http::assets::seat_wasm,
    ),
    // The stream's messages are no HTTP body, but `/ws` names them; listing them here puts
    // their schemas in the document.
    components(schemas(
        shared::wall::ServerMsg,
        shared::wall::ClientMsg,
        shared::control::SeatMsg,
        shared::control::SeatEvent
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "accounts", description = "Signing in and out, and who a credential is."),
        (name = "cases", description = "Reporting and moving cases, and their evidence photos."),
        (name = "wall", description = "A scope's state: now (`/api/wall`), at a past moment (`/api/wall/at`) and as a stream (`/ws`)."),
        (name = "assessment", description = "Assessment (综治考核): rankings of departments and streets over a period, comparisons of two periods, as JSON, CSV and a briefing image; for leaders, and for dispatchers within their area."),
        (name = "map", description = "The city's map as GeoJSON, read once at start."),
        (name = "open311", description = "Open311 GeoReport v2 for citizen-reporting apps; every path names its format."),
        (name = "operations", description = "Health, metrics and this document."),
        (name = "page", description = "The wall's page and its assets, embedded in the binary."),
    )
)]
pub struct ApiDoc;

/// Adds the security schemes the operations name.
#[derive(Debug)]
struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A login's session token from `POST /api/login`, as \
                         `Authorization: Bearer <token>`.",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Api-Key",
                "A reporting app's API key (Open311 clients, the hotline's system).",
            ))),
        );
        components.add_security_scheme(
            "display_token",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "token",
                "A wall's display token (`gridwall token display`), which opens one scope \
                 and those inside it; not needed in demo mode, where walls are open.",
            ))),
        );
        components.add_security_scheme(
            "open311_api_key",
            SecurityScheme::ApiKey(ApiKey::Query(ApiKeyValue::with_description(
                "api_key",
                "Open311's `api_key`, a reporting app's key, in the form or the query string.",
            ))),
        );
    }
}

/// The document, built once: it depends on nothing but the code.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// The document as JSON, serialised once.
fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        // The document is plain data with string keys; serialising it cannot fail.
        document().to_json().unwrap_or_else(|_| "{}".to_owned())
    })
}

/// `GET /api/openapi.json`: this document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    operation_id = "openapi_json",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of every route.", content(("application/json"))),
    ),
    security(())
)]
pub async fn serve() -> Response {
    ([(CONTENT_TYPE, "application/json")], json()).into_response()
}
