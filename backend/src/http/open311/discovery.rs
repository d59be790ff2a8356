//! The discovery document: where the endpoint is, what it speaks and how to get a key.

use super::Open311;
use super::document::Doc;
use axum::http::HeaderMap;

/// The specification the discovery document names, as the standard spells it.
const SPECIFICATION: &str = "http://wiki.open311.org/GeoReport_v2";

impl Open311 {
    /// The discovery document, with the endpoint's address as the request reached it.
    pub(super) fn discovery(&self, headers: &HeaderMap) -> Doc {
        let changeset = self.datetime(self.started_ms);
        let endpoint = Doc::Fields(vec![
            ("specification", Doc::text(SPECIFICATION)),
            ("url", Doc::Text(endpoint_url(headers))),
            ("changeset", Doc::Text(changeset.clone())),
            (
                "type",
                Doc::text(if self.demo { "test" } else { "production" }),
            ),
            (
                "formats",
                Doc::List(
                    "format",
                    vec![Doc::text("text/xml"), Doc::text("application/json")],
                ),
            ),
        ]);
        Doc::Fields(vec![
            ("changeset", Doc::Text(changeset)),
            (
                "contact",
                Doc::text(
                    "gridwall, the city's grid-governance command centre: ask the centre that \
                     runs this server",
                ),
            ),
            (
                "key_service",
                Doc::text(
                    "POST requests needs an api_key for a reporting app, issued by the centre \
                     that runs this server (a demo server prints one at start)",
                ),
            ),
            ("endpoints", Doc::List("endpoint", vec![endpoint])),
        ])
    }
}

/// Where this endpoint is, from the request's `Host` (and a proxy's `X-Forwarded-Proto`);
/// the path alone when the host is missing or not a plain host name.
fn endpoint_url(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let host = header("host").filter(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
    });
    let scheme = match header("x-forwarded-proto") {
        Some("https") => "https",
        _ => "http",
    };
    match host {
        Some(host) => format!("{scheme}://{host}/open311/v2"),
        None => "/open311/v2".to_owned(),
    }
}
