//! The grid team ("1+N": full-time grid workers and co-governance members) as the API counts it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The grid team's headcount as of a moment.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeamView {
    /// The moment counted, in Unix milliseconds.
    pub at: i64,
    /// Full-time grid workers (`grid_worker`).
    pub full_time: i64,
    /// Every other member: the "N" of "1+N".
    pub co_governance: i64,
    /// Members by kind code; kinds without members are absent.
    pub by_kind: BTreeMap<String, i64>,
}
