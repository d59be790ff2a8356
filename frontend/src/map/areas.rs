//! The names of the districts and streets, kept by a wall that follows a control channel once
//! its map has fetched them, for the breadcrumbs of the area shown.

use super::documents::AreaProps;
use super::documents::Collection;
use shared::wall::Scope;
use std::cell::RefCell;

thread_local! {
    /// The names of districts and streets by scope (`district:CODE`, `street:CODE`), with a
    /// street's district code: the breadcrumbs of a following wall read them from here, as
    /// the map has fetched them already.
    /// A list rather than a map: a hundred areas are read a few times a second at most, and
    /// a map type of its own would be code in the bundle.
    static AREAS: RefCell<Vec<(String, String, Option<String>)>> = const { RefCell::new(Vec::new()) };
}

/// The name of an area and, for a street, its district's code, once the map has loaded them.
pub fn area_name(scope: &Scope) -> Option<(String, Option<String>)> {
    let key = scope.to_string();
    AREAS.with(|a| {
        a.borrow()
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, name, district)| (name.clone(), district.clone()))
    })
}

/// Keeps the names of `districts` and `streets` in the page's language, in place of any kept
/// before.
pub(super) fn keep(districts: &Collection<AreaProps>, streets: &Collection<AreaProps>) {
    AREAS.with(|a| {
        let mut a = a.borrow_mut();
        a.clear();
        for f in &districts.features {
            let key = Scope::District(f.properties.code.clone()).to_string();
            a.push((key, f.properties.label().to_owned(), None));
        }
        for f in &streets.features {
            let key = Scope::Street(f.properties.code.clone()).to_string();
            let name = f.properties.label().to_owned();
            a.push((key, name, f.properties.district_code.clone()));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn areas(json: &str) -> Collection<AreaProps> {
        serde_json::from_str(json).expect("area GeoJSON")
    }

    #[test]
    fn kept_names_answer_for_their_scopes() {
        assert_eq!(area_name(&Scope::District("230602".into())), None);
        let districts = areas(
            r#"{"features":[{"properties":{"code":"230602","name":"萨尔图区","name_en":"Sartu District"},
                "geometry":{"type":"Polygon","coordinates":[]}}]}"#,
        );
        let streets = areas(
            r#"{"features":[{"properties":{"code":"230602001","name":"萨尔图街道","district_code":"230602"},
                "geometry":{"type":"Polygon","coordinates":[]}}]}"#,
        );
        keep(&districts, &streets);
        // The tests read the page's default language, Chinese.
        assert_eq!(
            area_name(&Scope::District("230602".into())),
            Some(("萨尔图区".to_owned(), None))
        );
        assert_eq!(
            area_name(&Scope::Street("230602001".into())),
            Some(("萨尔图街道".to_owned(), Some("230602".to_owned())))
        );
        assert_eq!(
            area_name(&Scope::Street("230602".into())),
            None,
            "a district is no street"
        );
        assert_eq!(area_name(&Scope::City), None);
        keep(&areas(r#"{"features":[]}"#), &streets);
        assert_eq!(
            area_name(&Scope::District("230602".into())),
            None,
            "names kept before are replaced"
        );
    }
}
