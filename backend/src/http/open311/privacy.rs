//! Who reads Open311's requests, and what each reader sees. Open311 is the door citizens'
//! apps come through, and without a key anyone on the network stands at it: the public sees
//! only the cases anyone could see on the street (the public categories) and those filed
//! through Open311, never a sensitive one (`taxonomy::sensitivity`: the special groups, family
//! and health matters), and their places only as their grid's label point. An app with its
//! key reads what its role allows, with exact places.

use super::error::Failure;
use crate::services::auth::Auth;
use crate::store::binds::Binds;
use axum::http::{HeaderMap, StatusCode};
use gridwall_core::policy::Principal;
use shared::taxonomy;
use std::sync::Arc;

use super::document::Format;

/// Who reads.
#[derive(Debug, Clone)]
pub(crate) enum Reader {
    /// No key: the public.
    Public,
    /// A reporting app, by its key.
    App(Arc<Principal>),
}

/// The reader of a request: the app whose key comes as `api_key` (the standard's parameter)
/// or in `X-Api-Key`, or the public when there is none; a key that opens nothing is a 403
/// rather than a quiet fall back to the public view.
pub(crate) async fn reader(
    auth: &Auth,
    headers: &HeaderMap,
    api_key: Option<&str>,
    format: Format,
) -> Result<Reader, Failure> {
    let key = api_key.map(str::to_owned).or_else(|| {
        headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
    });
    let Some(key) = key.filter(|k| !k.is_empty()) else {
        return Ok(Reader::Public);
    };
    auth.api_key_principal(&key)
        .await
        .map(Reader::App)
        .map_err(|_| {
            Failure::new(
                StatusCode::FORBIDDEN,
                format,
                "api_key is not valid: no reporting app has this key (leave it out to read \
                 what the public may)",
            )
        })
}

/// The SQL condition (starting with ` AND`) that keeps what the public may read: not a
/// sensitive sub-item, and a public category or a case filed through Open311 (reported by a
/// reporting app). Nothing for an app, whose reach is checked per row.
pub(crate) fn condition(reader: &Reader, binds: &mut Binds) -> String {
    if let Reader::App(_) = reader {
        return String::new();
    }
    let sensitive: Vec<String> = taxonomy::SUB_ITEMS
        .iter()
        .filter(|s| taxonomy::sensitivity(s.code).is_some())
        .map(|s| binds.text(s.code))
        .collect();
    let public: Vec<String> = taxonomy::PUBLIC_CATEGORIES
        .iter()
        .map(|c| binds.text(c.code()))
        .collect();
    let app = binds.text("reporting_app");
    format!(
        " AND (c.sub_item_code IS NULL OR c.sub_item_code NOT IN ({})) \
         AND (c.category IN ({}) OR EXISTS (SELECT 1 FROM transitions r \
              WHERE r.case_id = c.id AND r.action = 'report' AND r.role = {app}))",
        sensitive.join(", "),
        public.join(", ")
    )
}
