//! What the field page reads from the API: a lean mirror of a case, decoded alike from a
//! list's summary and from the case itself, and the list as `GET /api/cases` answers it.
//!
//! Serde skips every field the page does not name, so that the bundle carries one small
//! decoder; the tests check that it still reads what the server writes.

use serde::Deserialize;
use shared::case::{Action, CaseListView, CasePhoto, CaseState, Category};

/// The part of a case the page shows, read from a list's summary or from the case itself:
/// one decoder for both keeps the bundle small.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(super) struct Case {
    pub(super) id: i64,
    pub(super) category: Category,
    pub(super) sub_item: Option<String>,
    pub(super) grid_id: Option<String>,
    pub(super) description: String,
    pub(super) state: CaseState,
    pub(super) allowed: Vec<Action>,
    pub(super) department: Option<String>,
    pub(super) deadline_ms: Option<i64>,
    pub(super) reported_at_ms: i64,
    /// A summary has none; the case itself has them.
    #[serde(default)]
    pub(super) photos: Vec<CasePhoto>,
}

/// A list as `GET /api/cases` answers it, with what the page reads.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub(super) struct List {
    pub(super) view: CaseListView,
    pub(super) cases: Vec<Case>,
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use shared::case::{CaseList, CaseSummary, CaseView, Supervision};

    /// A freshly reported case of the municipal facilities, with sub-item `sub_item`.
    pub(in crate::app) fn case(id: i64, sub_item: Option<&str>) -> Case {
        Case {
            id,
            category: Category::MunicipalFacilities,
            sub_item: sub_item.map(Into::into),
            grid_id: Some("G1".into()),
            description: "路灯杆倾斜，有倒伏危险".into(),
            state: CaseState::Reported,
            allowed: CaseState::Reported.allowed(),
            department: None,
            deadline_ms: None,
            reported_at_ms: 1_795_968_000_000,
            photos: Vec::new(),
        }
    }

    fn served() -> CaseView {
        CaseView {
            id: 42,
            category: Category::MunicipalFacilities,
            sub_item: Some("0801".into()),
            grid_id: Some("G1".into()),
            point: Some(shared::case::Point {
                lon: 125.1,
                lat: 46.6,
            }),
            description: "路灯杆倾斜".into(),
            state: CaseState::Dispatched,
            allowed: CaseState::Dispatched.allowed(),
            department: Some("D01".into()),
            supervision: Supervision::None,
            deadline_ms: Some(1_795_970_000_000),
            reported_at_ms: 1_795_968_000_000,
            updated_at_ms: 1_795_968_500_000,
            seq: 2,
            photos: vec![CasePhoto {
                hash: "ab".repeat(32),
                content_type: "image/jpeg".into(),
                action: Action::Report,
                seq: 1,
            }],
        }
    }

    #[test]
    fn a_case_reads_what_the_server_writes() {
        let view = served();
        let json = serde_json::to_string(&view).expect("a case serialises");
        let case: Case = serde_json::from_str(&json).expect("the page reads a case");
        assert_eq!(case.id, 42);
        assert_eq!(case.state, CaseState::Dispatched);
        assert_eq!(case.allowed, view.allowed);
        assert_eq!(case.department.as_deref(), Some("D01"));
        assert_eq!(case.deadline_ms, view.deadline_ms);
        assert_eq!(case.photos, view.photos);
    }

    #[test]
    fn a_list_reads_summaries_without_photos() {
        let list = CaseList {
            view: CaseListView::Queue,
            state: None,
            limit: 50,
            cases: vec![CaseSummary::from(&served())],
            more: false,
        };
        let json = serde_json::to_string(&list).expect("a list serialises");
        let read: List = serde_json::from_str(&json).expect("the page reads a list");
        assert_eq!(read.view, CaseListView::Queue);
        assert_eq!(read.cases.len(), 1);
        assert_eq!(read.cases[0].id, 42);
        assert_eq!(read.cases[0].sub_item.as_deref(), Some("0801"));
        assert!(read.cases[0].photos.is_empty());
    }
}
