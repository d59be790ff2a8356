//! What the seat reads from the API: lean mirrors of the server's answers (the wall's state,
//! cases, the map documents' properties, comparisons and rankings) that decode only the
//! fields the seat shows.
//!
//! Each is read with serde skipping whatever it does not name, so that the seat's bundle does
//! not carry the decoders of whole answers (the wall's state, the map's geometry); the tests
//! check that each still reads what the server writes.

use serde::Deserialize;
use shared::case::{CasePhoto, CaseState, Category, Supervision};
use std::collections::BTreeMap;

/// The open and overdue cases of one area, as the wall's state tallies them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub(super) struct Tally {
    #[serde(default)]
    pub(super) open: u64,
    #[serde(default)]
    pub(super) overdue: u64,
    #[serde(default)]
    pub(super) reported_total: u64,
}

/// The scope's headline figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
pub(super) struct Counters {
    #[serde(default)]
    pub(super) open: u64,
    #[serde(default)]
    pub(super) overdue: u64,
    #[serde(default)]
    pub(super) warned: u64,
    #[serde(default)]
    pub(super) escalated: u64,
    #[serde(default)]
    pub(super) reported_today: u64,
    #[serde(default)]
    pub(super) closed_today: u64,
}

/// The part of a scope's wall state the seat reads; serde skips the rest, so the seat does
/// not carry the decoder of the whole state.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub(super) struct WallState {
    #[serde(default)]
    pub(super) counters: Counters,
    #[serde(default)]
    pub(super) by_district: BTreeMap<String, Tally>,
    #[serde(default)]
    pub(super) by_street: BTreeMap<String, Tally>,
    #[serde(default)]
    pub(super) by_grid: BTreeMap<String, Tally>,
}

/// `/api/wall` and `/api/wall/at` both carry the state in `state`.
#[derive(Debug, Deserialize)]
pub(super) struct WallAnswer {
    pub(super) state: WallState,
}

/// A case as a list or `GET /api/cases/{id}` shows it: one decoder for both.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(super) struct Case {
    pub(super) id: i64,
    pub(super) category: Category,
    pub(super) sub_item: Option<String>,
    pub(super) grid_id: Option<String>,
    pub(super) description: String,
    pub(super) state: CaseState,
    pub(super) department: Option<String>,
    pub(super) supervision: Supervision,
    pub(super) deadline_ms: Option<i64>,
    pub(super) reported_at_ms: i64,
    #[serde(default)]
    pub(super) photos: Vec<CasePhoto>,
}

/// `GET /api/cases`: the cases, and whether more matched than the limit let through.
#[derive(Debug, Deserialize)]
pub(super) struct List {
    pub(super) cases: Vec<Case>,
    #[serde(default)]
    pub(super) more: bool,
}

/// A map document (GeoJSON), of which the seat reads only the features' properties.
#[derive(Debug, Deserialize)]
pub(super) struct Collection<P> {
    pub(super) features: Vec<Feature<P>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Feature<P> {
    pub(super) properties: P,
}

impl<P> Collection<P> {
    /// The features' properties, in the document's order.
    pub(super) fn properties(self) -> Vec<P> {
        self.features.into_iter().map(|f| f.properties).collect()
    }
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct District {
    pub(super) code: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) name_en: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Street {
    pub(super) code: String,
    pub(super) name: String,
    pub(super) district_code: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct Grid {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) street_code: String,
    pub(super) district_code: String,
}

/// The key figures of one period, as `/api/compare` answers them.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct Figures {
    #[serde(default)]
    pub(super) reports: u64,
    #[serde(default)]
    pub(super) closures: u64,
    #[serde(default)]
    pub(super) on_time: u64,
    #[serde(default)]
    pub(super) on_time_rate: Option<f64>,
    #[serde(default)]
    pub(super) avg_handling_hours: Option<f64>,
    #[serde(default)]
    pub(super) returned: u64,
    #[serde(default)]
    pub(super) reopened: u64,
}

/// `/api/compare`: the area's figures this period (`a`) and the one it is compared with (`b`).
#[derive(Debug, Deserialize)]
pub(super) struct Comparison {
    #[serde(default)]
    pub(super) scope_name: String,
    pub(super) a: Figures,
    pub(super) b: Figures,
}

/// One row of a ranking, as `/api/rankings` answers it.
#[derive(Debug, Clone, Deserialize)]
pub(super) struct RankRow {
    pub(super) rank: u32,
    pub(super) code: String,
    pub(super) name: String,
    #[serde(default)]
    pub(super) closures: u64,
    #[serde(default)]
    pub(super) on_time_rate: Option<f64>,
    #[serde(default)]
    pub(super) avg_handling_hours: Option<f64>,
    #[serde(default)]
    pub(super) returned_share: Option<f64>,
    #[serde(default)]
    pub(super) reopened: u64,
    #[serde(default)]
    pub(super) reports: Option<u64>,
}

/// `/api/rankings`: the departments or streets of the area, best first.
#[derive(Debug, Deserialize)]
pub(super) struct Rankings {
    #[serde(default)]
    pub(super) scope_name: String,
    pub(super) rows: Vec<RankRow>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::assess::{Counts, Period, PeriodFigures, RankBy};
    use shared::case::{Action, CaseList, CaseListView, CaseSummary, CaseView};
    use shared::wall::Scope;

    /// What the server writes, as JSON, read back as the seat's mirror of it.
    fn read<T: serde::de::DeserializeOwned>(written: &impl serde::Serialize) -> T {
        let json = serde_json::to_string(written).expect("the server's type writes");
        serde_json::from_str(&json).expect("the seat reads what the server writes")
    }

    fn tally(open: u64, overdue: u64, reported_total: u64) -> shared::wall::Tally {
        shared::wall::Tally {
            open,
            overdue,
            reported_total,
            ..shared::wall::Tally::default()
        }
    }

    #[test]
    fn the_wall_state_is_read_for_its_counters_and_area_tallies_only() {
        let mut state = shared::wall::WallState::default();
        state.counters.open = 12;
        state.counters.overdue = 3;
        state.counters.warned = 2;
        state.counters.escalated = 1;
        state.counters.reported_today = 7;
        state.counters.closed_today = 5;
        state.by_district.insert("D1".into(), tally(10, 3, 40));
        state.by_street.insert("S1".into(), tally(4, 1, 9));
        state.by_grid.insert(
            "G1".into(),
            shared::wall::GridTally {
                open: 2,
                overdue: 1,
                reported_total: 6,
                ..shared::wall::GridTally::default()
            },
        );
        state
            .by_category
            .insert("environment".into(), tally(99, 9, 99));
        let answer = serde_json::json!({ "scope": "city", "state": state });
        let seen: WallAnswer = read(&answer);
        let c = seen.state.counters;
        assert_eq!(
            (
                c.open,
                c.overdue,
                c.warned,
                c.escalated,
                c.reported_today,
                c.closed_today
            ),
            (12, 3, 2, 1, 7, 5)
        );
        let d1 = Tally {
            open: 10,
            overdue: 3,
            reported_total: 40,
        };
        assert_eq!(seen.state.by_district.get("D1"), Some(&d1));
        assert_eq!(seen.state.by_street.get("S1").map(|t| t.open), Some(4));
        let g1 = Tally {
            open: 2,
            overdue: 1,
            reported_total: 6,
        };
        assert_eq!(seen.state.by_grid.get("G1"), Some(&g1));
    }

    #[test]
    fn an_empty_state_reads_as_nothing_counted() {
        let seen: WallAnswer = serde_json::from_str(r#"{"state":{}}"#).expect("read");
        assert_eq!(seen.state, WallState::default());
        assert!(
            serde_json::from_str::<WallAnswer>("{}").is_err(),
            "no state"
        );
    }

    fn view() -> CaseView {
        CaseView {
            id: 42,
            category: Category::Environment,
            sub_item: Some("garbage".into()),
            grid_id: Some("G1".into()),
            point: None,
            description: "垃圾堆放".into(),
            state: CaseState::Dispatched,
            allowed: vec![Action::Accept],
            department: Some("D01".into()),
            supervision: Supervision::Warned,
            deadline_ms: Some(2_000),
            reported_at_ms: 1_000,
            updated_at_ms: 1_500,
            seq: 3,
            photos: vec![CasePhoto {
                hash: "ab".repeat(32),
                content_type: "image/jpeg".into(),
                action: Action::Report,
                seq: 1,
            }],
        }
    }

    #[test]
    fn a_case_reads_from_its_own_route_with_its_photos() {
        let case: Case = read(&view());
        assert_eq!(case.id, 42);
        assert_eq!(case.category, Category::Environment);
        assert_eq!(case.sub_item.as_deref(), Some("garbage"));
        assert_eq!(case.grid_id.as_deref(), Some("G1"));
        assert_eq!(case.state, CaseState::Dispatched);
        assert_eq!(case.department.as_deref(), Some("D01"));
        assert_eq!(case.supervision, Supervision::Warned);
        assert_eq!(case.deadline_ms, Some(2_000));
        assert_eq!(case.reported_at_ms, 1_000);
        assert_eq!(case.photos, view().photos);
    }

    #[test]
    fn a_list_reads_its_cases_without_photos_and_whether_there_are_more() {
        let list = CaseList {
            view: CaseListView::All,
            state: None,
            limit: 200,
            cases: vec![CaseSummary::from(&view())],
            more: true,
        };
        let seen: List = read(&list);
        assert!(seen.more);
        assert_eq!(seen.cases.len(), 1);
        assert_eq!(seen.cases[0].id, 42);
        assert!(seen.cases[0].photos.is_empty());
        let short: List = serde_json::from_str(r#"{"cases":[]}"#).expect("read");
        assert!(!short.more, "a list that says nothing of more has no more");
    }

    #[test]
    fn the_map_documents_are_read_for_their_properties_without_geometry() {
        let grids = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]},
             "properties":{"id":"G1","name":"一网格","street_code":"S1","district_code":"D1","households":40}},
            {"type":"Feature","geometry":null,
             "properties":{"id":"G2","name":"二网格","street_code":"S2","district_code":"D1"}}]}"#;
        let grids = serde_json::from_str::<Collection<Grid>>(grids)
            .expect("read")
            .properties();
        let ids: Vec<&str> = grids.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["G1", "G2"]);
        assert_eq!(grids[1].street_code, "S2");
        let districts = r#"{"features":[{"properties":{"code":"D1","name":"一区"}},
            {"properties":{"code":"D2","name":"二区","name_en":"Second"}}]}"#;
        let districts = serde_json::from_str::<Collection<District>>(districts)
            .expect("read")
            .properties();
        assert_eq!(districts[0].name_en, None);
        assert_eq!(districts[1].name_en.as_deref(), Some("Second"));
    }

    #[test]
    fn comparisons_and_rankings_read_what_the_server_writes() {
        let period = Period {
            from_ms: 0,
            to_ms: 10,
        };
        let counts = Counts {
            reports: 8,
            closures: 4,
            on_time: 3,
            handling_ms: 4 * 3_600_000,
            resolved: 4,
            returned: 1,
            reopened: 2,
        };
        let comparison = shared::assess::Comparison {
            scope: Scope::City,
            scope_name: "全市".into(),
            a: PeriodFigures::new(period, &counts, 5),
            b: PeriodFigures::new(period, &Counts::default(), 5),
        };
        let seen: Comparison = read(&comparison);
        assert_eq!(seen.scope_name, "全市");
        assert_eq!((seen.a.reports, seen.a.closures, seen.a.on_time), (8, 4, 3));
        assert_eq!(seen.a.on_time_rate, Some(0.75));
        assert_eq!(seen.a.avg_handling_hours, Some(1.0));
        assert_eq!((seen.a.returned, seen.a.reopened), (1, 2));
        assert_eq!(seen.b.on_time_rate, None, "no closures, no rate");
        let mut rows = vec![
            shared::assess::RankRow::new("S1".into(), "一街道".into(), &counts, true),
            shared::assess::RankRow::new("S2".into(), "二街道".into(), &Counts::default(), true),
        ];
        shared::assess::RankRow::rank(&mut rows);
        let rankings = shared::assess::Rankings {
            by: RankBy::Street,
            scope: Scope::City,
            scope_name: "全市".into(),
            period,
            rows,
        };
        let seen: Rankings = read(&rankings);
        assert_eq!(seen.rows.len(), 2);
        let first = &seen.rows[0];
        assert_eq!((first.rank, first.code.as_str()), (1, "S1"));
        assert_eq!(first.name, "一街道");
        assert_eq!(first.closures, 4);
        assert_eq!(first.returned_share, Some(0.25));
        assert_eq!(first.reports, Some(8));
        assert_eq!(seen.rows[1].on_time_rate, None);
    }
}
