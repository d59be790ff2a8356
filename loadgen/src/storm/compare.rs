//! The storm's verdict: the server's view of the scope, and every wall's mirror held against
//! it, with the paths at which the two differ.

use super::mirrors::WallOutcome;
use anyhow::{Context, bail};
use shared::wall::WallView;

/// The server's view of `scope`, which every wall's mirror must equal at the end.
pub(super) async fn wall_view(
    client: &reqwest::Client,
    base: &str,
    scope: &str,
) -> anyhow::Result<WallView> {
    let url = format!("{base}/api/wall?scope={scope}");
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    if !status.is_success() {
        bail!("{url} answered {status}");
    }
    response
        .json()
        .await
        .with_context(|| format!("{url} is not a wall view"))
}

/// Compares every wall's mirror with the server's state; prints the walls that differ and
/// returns how many do.
pub(super) fn compare_mirrors(outcomes: &[WallOutcome], view: &WallView) -> usize {
    let server = serde_json::to_value(&view.state).unwrap_or_default();
    let mut differing = 0;
    for (index, outcome) in outcomes.iter().enumerate() {
        let mirror = &outcome.mirror;
        if mirror.state == view.state && mirror.log_seq == view.log_seq {
            continue;
        }
        differing += 1;
        if differing > 10 {
            continue;
        }
        let mine = serde_json::to_value(&mirror.state).unwrap_or_default();
        let mut diffs = Vec::new();
        diff("state", &mine, &server, &mut diffs);
        println!(
            "wall {index}{} differs: seq {:?} log_seq {} (server {} / {}); {} fields, first: {}",
            if outcome.stalled { " (stalled)" } else { "" },
            mirror.seq,
            mirror.log_seq,
            view.seq,
            view.log_seq,
            diffs.len(),
            diffs.iter().take(4).cloned().collect::<Vec<_>>().join("; ")
        );
    }
    differing
}

/// The paths at which `mine` and `theirs` differ, with both values for leaves.
fn diff(path: &str, mine: &serde_json::Value, theirs: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (mine, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    Some(other) => diff(&here, value, other, out),
                    None => out.push(format!("{here} only on the wall")),
                }
            }
            for key in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{key} only on the server"));
            }
        }
        (a, b) if a != b => out.push(format!("{path}: wall {a}, server {b}")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_names_the_paths_that_differ() {
        let a = serde_json::json!({"counters": {"open": 1, "closed": 2}, "by_grid": {"g1": 1}});
        let b = serde_json::json!({"counters": {"open": 1, "closed": 3}, "by_grid": {"g2": 1}});
        let mut out = Vec::new();
        diff("state", &a, &b, &mut out);
        assert_eq!(
            out,
            vec![
                "state.by_grid.g1 only on the wall",
                "state.by_grid.g2 only on the server",
                "state.counters.closed: wall 2, server 3",
            ]
        );
    }
}
