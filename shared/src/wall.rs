//! The wall stream on `/ws`: the wall's state, the messages that carry it, and the rule by
//! which a wall applies them.
//!
//! Every frame from the server is one JSON object tagged by `type`:
//! `hello` first, then a `snapshot`, then `delta`s and `heartbeat`s in sequence order.
//! Values in a delta are absolute (the new value, never an increment), which is what makes
//! a delta safe to apply over a snapshot that already contains part of it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which part of the city a wall watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Scope {
    City,
}

/// The headline counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Every case ever reported.
    pub reported_total: u64,
    /// Cases reported since the centre's local midnight.
    pub reported_today: u64,
    /// Cases not yet closed or rejected.
    pub open: u64,
    /// Cases whose loop is closed.
    pub closed: u64,
    /// Cases closed since the centre's local midnight.
    pub closed_today: u64,
    /// Cases rejected as not for the platform or duplicates.
    pub rejected: u64,
}

impl Counters {
    /// Closed cases as a share of all reported cases, from 0 to 1 (0 when nothing is reported).
    ///
    /// This is the seed's 办结率: 70,000 closed of 75,000 reported is 0.93.
    pub fn closure_rate(&self) -> f64 {
        if self.reported_total == 0 {
            0.0
        } else {
            self.closed as f64 / self.reported_total as f64
        }
    }
}

/// Cases of one category or one area.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub reported_total: u64,
    pub reported_today: u64,
    pub open: u64,
    pub closed: u64,
}

/// Everything a wall shows, as of one sequence number.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WallState {
    /// The local day the "today" figures count (days since 1970-01-01, centre time).
    pub day: i64,
    pub counters: Counters,
    /// By category code (`shared::case::Category::code`); categories without cases are absent.
    #[serde(default)]
    pub by_category: BTreeMap<String, Tally>,
    /// By district code; districts without cases are absent.
    #[serde(default)]
    pub by_district: BTreeMap<String, Tally>,
}

/// A tally with the key it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyed {
    pub key: String,
    pub tally: Tally,
}

/// One changed part of the wall's state, with its new value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Change {
    Counters(Counters),
    Category(Keyed),
    District(Keyed),
}

impl WallState {
    /// What changed from `before` to `self`, as the changes of a delta.
    pub fn changes_since(&self, before: &WallState) -> Vec<Change> {
        let mut changes = Vec::new();
        if self.counters != before.counters {
            changes.push(Change::Counters(self.counters));
        }
        let keyed = |now: &BTreeMap<String, Tally>, then: &BTreeMap<String, Tally>| {
            now.iter()
                .filter(|(k, v)| then.get(*k) != Some(*v))
                .map(|(k, v)| Keyed {
                    key: k.clone(),
                    tally: *v,
                })
                .collect::<Vec<_>>()
        };
        changes.extend(
            keyed(&self.by_category, &before.by_category)
                .into_iter()
                .map(Change::Category),
        );
        changes.extend(
            keyed(&self.by_district, &before.by_district)
                .into_iter()
                .map(Change::District),
        );
        changes
    }

    /// Applies the changes of a delta.
    pub fn apply(&mut self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Counters(c) => self.counters = *c,
                Change::Category(k) => {
                    self.by_category.insert(k.key.clone(), k.tally);
                }
                Change::District(k) => {
                    self.by_district.insert(k.key.clone(), k.tally);
                }
            }
        }
    }
}

/// A message from the server to a wall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// The first message on every connection.
    Hello {
        protocol: u32,
        server_version: String,
        scope: Scope,
    },
    /// The full state as of `seq`; replaces whatever the wall had.
    Snapshot {
        seq: u64,
        server_time_ms: i64,
        state: WallState,
    },
    /// What changed after `prev_seq` up to and including `seq`.
    Delta {
        prev_seq: u64,
        seq: u64,
        changes: Vec<Change>,
    },
    /// Sent every second; `seq` is the last sequence number the server has sent.
    Heartbeat { server_time_ms: i64, seq: u64 },
}

/// A message from a wall to the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// The wall found a gap and asks for a fresh snapshot.
    Snapshot,
}

/// What applying one message did to a wall's mirror of the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The state changed (or was confirmed, for a heartbeat).
    Updated,
    /// The message was already contained in the state and changed nothing.
    Ignored,
    /// The message shows that the wall missed something: it must ask for a snapshot.
    Gap,
}

/// A wall's copy of the server's state, kept in step by the sequence rule.
///
/// The rule: a delta covering `(prev_seq, seq]` applies when `prev_seq <= self.seq < seq`
/// (values are absolute, so overlapping what the wall already has is harmless), is ignored
/// when `seq <= self.seq`, and is a gap when `prev_seq > self.seq`. A heartbeat whose `seq`
/// is ahead of the wall is a gap too. Until the first snapshot, everything is a gap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mirror {
    pub seq: Option<u64>,
    pub state: WallState,
}

impl Mirror {
    pub fn apply(&mut self, msg: &ServerMsg) -> Applied {
        match msg {
            ServerMsg::Hello { .. } => Applied::Ignored,
            ServerMsg::Snapshot { seq, state, .. } => {
                self.seq = Some(*seq);
                self.state = state.clone();
                Applied::Updated
            }
            ServerMsg::Delta {
                prev_seq,
                seq,
                changes,
            } => {
                let Some(have) = self.seq else {
                    return Applied::Gap;
                };
                if *seq <= have {
                    Applied::Ignored
                } else if *prev_seq > have {
                    Applied::Gap
                } else {
                    self.state.apply(changes);
                    self.seq = Some(*seq);
                    Applied::Updated
                }
            }
            ServerMsg::Heartbeat { seq, .. } => match self.seq {
                Some(have) if *seq <= have => Applied::Updated,
                _ => Applied::Gap,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(reported_total: u64) -> Counters {
        Counters {
            reported_total,
            reported_today: reported_total,
            open: reported_total,
            ..Counters::default()
        }
    }

    fn delta(prev_seq: u64, seq: u64) -> ServerMsg {
        ServerMsg::Delta {
            prev_seq,
            seq,
            changes: vec![Change::Counters(counters(seq))],
        }
    }

    fn snapshot(seq: u64) -> ServerMsg {
        ServerMsg::Snapshot {
            seq,
            server_time_ms: 0,
            state: WallState {
                day: 1,
                counters: counters(seq),
                ..WallState::default()
            },
        }
    }

    #[test]
    fn deltas_before_a_snapshot_are_gaps() {
        let mut m = Mirror::default();
        assert_eq!(m.apply(&delta(0, 1)), Applied::Gap);
        assert_eq!(m.apply(&snapshot(5)), Applied::Updated);
        assert_eq!(m.seq, Some(5));
    }

    #[test]
    fn in_order_deltas_apply() {
        let mut m = Mirror::default();
        m.apply(&snapshot(5));
        assert_eq!(m.apply(&delta(5, 7)), Applied::Updated);
        assert_eq!(m.apply(&delta(7, 8)), Applied::Updated);
        assert_eq!(m.seq, Some(8));
        assert_eq!(m.state.counters.reported_total, 8);
    }

    #[test]
    fn a_delta_overlapping_the_snapshot_applies() {
        // The snapshot was taken at 6 while a frame covering 5..=7 was being built.
        let mut m = Mirror::default();
        m.apply(&snapshot(6));
        assert_eq!(m.apply(&delta(5, 7)), Applied::Updated);
        assert_eq!(m.state.counters.reported_total, 7);
    }

    #[test]
    fn old_deltas_are_ignored_and_leave_the_state() {
        let mut m = Mirror::default();
        m.apply(&snapshot(9));
        assert_eq!(m.apply(&delta(5, 7)), Applied::Ignored);
        assert_eq!(m.apply(&delta(7, 9)), Applied::Ignored);
        assert_eq!(m.state.counters.reported_total, 9);
    }

    #[test]
    fn a_skipped_delta_is_a_gap() {
        let mut m = Mirror::default();
        m.apply(&snapshot(5));
        assert_eq!(m.apply(&delta(6, 8)), Applied::Gap);
        assert_eq!(m.seq, Some(5), "a gap must not move the mirror");
    }

    #[test]
    fn a_heartbeat_ahead_of_the_wall_is_a_gap() {
        let mut m = Mirror::default();
        m.apply(&snapshot(5));
        let hb = |seq| ServerMsg::Heartbeat {
            server_time_ms: 0,
            seq,
        };
        assert_eq!(m.apply(&hb(5)), Applied::Updated);
        assert_eq!(m.apply(&hb(6)), Applied::Gap);
    }

    #[test]
    fn changes_carry_only_what_moved_and_rebuild_the_state() {
        let mut before = WallState::default();
        before.by_category.insert(
            "ecology".into(),
            Tally {
                open: 1,
                ..Tally::default()
            },
        );
        before.by_district.insert(
            "230602".into(),
            Tally {
                open: 1,
                ..Tally::default()
            },
        );
        let mut after = before.clone();
        after.counters.open = 2;
        after.by_category.insert(
            "ecology".into(),
            Tally {
                open: 2,
                ..Tally::default()
            },
        );
        after.by_category.insert(
            "fire_safety".into(),
            Tally {
                open: 1,
                ..Tally::default()
            },
        );
        let changes = after.changes_since(&before);
        assert_eq!(changes.len(), 3, "{changes:?}");
        assert!(!changes.iter().any(|c| matches!(c, Change::District(_))));
        let mut mirror = before.clone();
        mirror.apply(&changes);
        assert_eq!(mirror, after);
        assert!(after.changes_since(&after).is_empty());
    }

    #[test]
    fn closure_rate_is_a_ratio() {
        let c = Counters {
            reported_total: 75_000,
            closed: 69_750,
            ..Counters::default()
        };
        assert!((c.closure_rate() - 0.93).abs() < 1e-12);
        assert_eq!(Counters::default().closure_rate(), 0.0);
    }

    #[test]
    fn messages_are_tagged_json() {
        let json = serde_json::to_string(&ServerMsg::Heartbeat {
            server_time_ms: 7,
            seq: 3,
        })
        .expect("serialise");
        assert_eq!(json, r#"{"type":"heartbeat","server_time_ms":7,"seq":3}"#);
        let back: ClientMsg = serde_json::from_str(r#"{"type":"snapshot"}"#).expect("parse");
        assert_eq!(back, ClientMsg::Snapshot);
    }
}
