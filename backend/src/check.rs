//! `gridwall check`: compares the live state of a running server with the state rebuilt from
//! the tables, field by field, so an operator can see that the wall tells the truth.

use crate::services::live;
use crate::store::Db;
use anyhow::{Context, bail};
use serde_json::Value;
use shared::wall::Scope;
use shared::wall::WallView;
use std::collections::BTreeMap;
use std::time::Duration;

/// Flattens a JSON value into `path → leaf` pairs, such as `counters.open → 12`.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, Value>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&path, v, out);
            }
        }
        leaf => {
            out.insert(prefix.to_owned(), leaf.clone());
        }
    }
}

/// The fields in which two states differ, as sentences.
pub fn differences(live: &Value, rebuilt: &Value) -> Vec<String> {
    let (mut a, mut b) = (BTreeMap::new(), BTreeMap::new());
    flatten("", live, &mut a);
    flatten("", rebuilt, &mut b);
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or("absent".to_owned(), Value::to_string);
            format!("{k}: live {}, tables {}", show(a.get(k)), show(b.get(k)))
        })
        .collect()
}

/// Fetches the live state of each scope from the server at `base_url` and compares it with
/// the state of the tables at the same log position; returns, for each scope, the position
/// compared and the differences (none when all agree).
///
/// The city does not stand still while a check runs (the simulator alone moves a case every
/// few hundred milliseconds), so the check never waits for a quiet moment. It rebuilds the
/// state from the tables once, in one snapshot, at some position; then, for each scope, it
/// takes the server's live state (which says the position it stands at, at or past the
/// tables' once the server has folded that far) and brings the tables' state forward to that
/// same position by folding the log rows between the two, as the server does at start. The
/// comparison is therefore of the same moment, however busy the server is; the log rows are
/// read from the tables, never from the server.
pub async fn check_scopes(
    db: &Db,
    base_url: &str,
    token: Option<&str>,
    scopes: &[Scope],
    utc_offset_minutes: i32,
) -> anyhow::Result<Vec<(Scope, u64, Vec<String>)>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .context("cannot make an HTTP client")?;
    let url = format!("{}/api/wall", base_url.trim_end_matches('/'));
    let fetch = |scope: &Scope| {
        let mut query = vec![("scope", scope.to_string())];
        if let Some(token) = token {
            query.push(("token", token.to_owned()));
        }
        fetch_view(http.get(&url).query(&query), &url)
    };
    let city = live::city_facts(db).await?;
    // The tables' state, with the day and hour it was rebuilt for; folded forward as the
    // server's position moves on.
    let mut tables: Option<((i64, i64), gridwall_core::fold::Scopes)> = None;
    let mut results = Vec::with_capacity(scopes.len());
    'scopes: for scope in scopes {
        for _ in 0..MAX_ATTEMPTS {
            let view = fetch(scope).await?;
            let hour = (view.state.day, view.state.hourly.hour);
            if tables.as_ref().is_none_or(|(at, _)| *at != hour) {
                // The first rebuild, or the hour turned: the tables' state is rebuilt for the
                // server's day and hour.
                let rebuilt = live::rebuild(db, &city, hour.0, hour.1, utc_offset_minutes).await?;
                tables = Some((hour, rebuilt));
            }
            let Some((_, state)) = tables.as_mut() else {
                continue;
            };
            if view.log_seq < state.log_seq || view.visit_seq < state.visit_seq {
                // The tables are ahead of what the server has folded yet (it folds each
                // commit a moment after it): ask again in a moment.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
            live::fold_tail_to(db, &city, state, view.log_seq, view.visit_seq).await?;
            let Some(rebuilt) = state.aggregates.get(scope) else {
                bail!("the tables have no {scope}");
            };
            let diffs = differences(
                &serde_json::to_value(&view.state)?,
                &serde_json::to_value(&rebuilt.state)?,
            );
            results.push((scope.clone(), view.log_seq, diffs));
            continue 'scopes;
        }
        bail!(
            "the server did not reach the tables' log position for {scope} after {MAX_ATTEMPTS} \
             tries: is it folding its commits?"
        )
    }
    Ok(results)
}

/// One live state from the server.
async fn fetch_view(request: reqwest::RequestBuilder, url: &str) -> anyhow::Result<WallView> {
    request
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {url}"))?
        .error_for_status()?
        .json()
        .await
        .context("the server's answer is not a wall snapshot")
}

/// How many times a scope's live state is fetched before the check gives up on it.
const MAX_ATTEMPTS: usize = 250;

/// [`check_scopes`] for one scope.
pub async fn check(
    db: &Db,
    base_url: &str,
    scope: &Scope,
    utc_offset_minutes: i32,
) -> anyhow::Result<(u64, Vec<String>)> {
    let mut results = check_scopes(
        db,
        base_url,
        None,
        std::slice::from_ref(scope),
        utc_offset_minutes,
    )
    .await?;
    let (_, seq, diffs) = results.pop().context("no result")?;
    Ok((seq, diffs))
}

/// Every scope of the city: the city, its districts and its streets.
pub async fn all_scopes(db: &Db) -> anyhow::Result<Vec<Scope>> {
    let mut scopes = vec![Scope::City];
    let districts: Vec<String> = sqlx::query_scalar("SELECT code FROM districts ORDER BY code")
        .fetch_all(db)
        .await?;
    scopes.extend(districts.into_iter().map(Scope::District));
    let streets: Vec<String> = sqlx::query_scalar("SELECT code FROM streets ORDER BY code")
        .fetch_all(db)
        .await?;
    scopes.extend(streets.into_iter().map(Scope::Street));
    Ok(scopes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn differences_name_each_field() {
        let live = json!({"counters": {"open": 3, "closed": 1}, "by_district": {"A": {"open": 1}}});
        let tables = json!({"counters": {"open": 2, "closed": 1}, "by_district": {}});
        assert_eq!(
            differences(&live, &tables),
            [
                "by_district.A.open: live 1, tables absent",
                "counters.open: live 3, tables 2"
            ]
        );
        assert!(differences(&live, &live).is_empty());
    }
}
