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

/// Fetches the live state of each scope from the server at `base_url` and rebuilds the same
/// moment from the tables; returns, for each scope, the log position compared and the
/// differences (none when all agree). Events that commit between the two reads are waited
/// out: a comparison is made only when both describe the same transition and the same house
/// visit. One rebuild serves every scope for as long as the city stands still.
pub async fn check_scopes(
    db: &Db,
    base_url: &str,
    token: Option<&str>,
    scopes: &[Scope],
    utc_offset_minutes: i32,
) -> anyhow::Result<Vec<(Scope, u64, Vec<String>)>> {
    let http = reqwest::Client::new();
    let url = format!("{}/api/wall", base_url.trim_end_matches('/'));
    let city = live::city_facts(db).await?;
    let mut rebuilt: Option<((u64, u64, i64, i64), gridwall_core::fold::Scopes)> = None;
    let mut results = Vec::with_capacity(scopes.len());
    'scopes: for scope in scopes {
        for _ in 0..50 {
            let mut query = vec![("scope", scope.to_string())];
            if let Some(token) = token {
                query.push(("token", token.to_owned()));
            }
            let view: WallView = http
                .get(&url)
                .query(&query)
                .send()
                .await
                .with_context(|| format!("cannot reach the server at {url}"))?
                .error_for_status()?
                .json()
                .await
                .context("the server's answer is not a wall snapshot")?;
            let WallView {
                log_seq,
                visit_seq,
                state,
                ..
            } = view;
            let position = (log_seq, visit_seq, state.day, state.hourly.hour);
            if rebuilt.as_ref().is_none_or(|(at, _)| *at != position) {
                let scopes =
                    live::rebuild(db, &city, state.day, state.hourly.hour, utc_offset_minutes)
                        .await?;
                rebuilt = Some((
                    (
                        scopes.log_seq,
                        scopes.visit_seq,
                        state.day,
                        state.hourly.hour,
                    ),
                    scopes,
                ));
            }
            if let Some((at, tables)) = &rebuilt
                && *at == position
            {
                let Some(tables) = tables.aggregates.get(scope) else {
                    bail!("the tables have no {scope}");
                };
                let diffs = differences(
                    &serde_json::to_value(&state)?,
                    &serde_json::to_value(&tables.state)?,
                );
                results.push((scope.clone(), log_seq, diffs));
                continue 'scopes;
            }
            // Something committed between the two reads; look again in a moment.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the city changed too fast to catch the server and the tables at the same moment")
    }
    Ok(results)
}

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
