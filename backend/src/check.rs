//! `gridwall check`: compares the live state of a running server with the state rebuilt from
//! the tables, field by field, so an operator can see that the wall tells the truth.

use crate::live;
use crate::store::Db;
use anyhow::{Context, bail};
use serde_json::Value;
use shared::wall::ServerMsg;
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

/// Fetches the live state from the server at `base_url` and rebuilds the same moment from the
/// tables; returns the sequence number compared and the differences (none when all agree).
/// Transitions that commit between the two reads are waited out: the comparison is made only
/// when both describe the same sequence number.
pub async fn check(
    db: &Db,
    base_url: &str,
    utc_offset_minutes: i32,
) -> anyhow::Result<(u64, Vec<String>)> {
    let http = reqwest::Client::new();
    let url = format!("{}/api/wall", base_url.trim_end_matches('/'));
    for _ in 0..50 {
        let msg: ServerMsg = http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("cannot reach the server at {url}"))?
            .error_for_status()?
            .json()
            .await
            .context("the server's answer is not a wall snapshot")?;
        let ServerMsg::Snapshot { seq, state, .. } = msg else {
            bail!("the server's answer is not a wall snapshot");
        };
        let rebuilt = live::rebuild(db, state.day, utc_offset_minutes).await?;
        if rebuilt.seq == seq {
            let diffs = differences(
                &serde_json::to_value(&state)?,
                &serde_json::to_value(&rebuilt.state)?,
            );
            return Ok((seq, diffs));
        }
        // A transition committed between the two reads; look again in a moment.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the city changed too fast to catch the server and the tables at the same moment")
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
