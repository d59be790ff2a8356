//! A grid worker's report: the form (category, sub-item, grid, the phone's position, a
//! description and photos from the camera), the browser's geolocation, and the report sent
//! as a multipart form.

use super::photos::{multipart, photo_input};
use super::render;
use super::session::fail;
use super::state::{Screen, token, with};
use super::view::{begin, done, error, label, option, say};
use super::wire::Case;
use crate::dom::{button, by_id, h, tr, value};
use crate::fetch::{self, Body};
use crate::text;
use shared::case::{Category, Point, ReportCase};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;

/// The sub-items of the category `category` as a select lists them: the code, and the code
/// with the name; none for a code that is no category.
fn sub_items(category: &str) -> Vec<(&'static str, String)> {
    Category::from_code(category)
        .map(|c| {
            shared::taxonomy::sub_items_of(c)
                .map(|s| (s.code, format!("{} {}", s.code, text::sub_item(s.code))))
                .collect()
        })
        .unwrap_or_default()
}

/// The sub-items of `category`, after the option of none.
pub(super) fn sub_item_options(category: &str) -> Vec<web_sys::Node> {
    let mut options = vec![option("", tr("（不选小类）", "(none)"))];
    options.extend(
        sub_items(category)
            .into_iter()
            .map(|(code, name)| option(code, &name)),
    );
    options
}

/// A grid worker's report: what, where (its grid, and the phone's position if it shares it),
/// a description and photos from the camera.
pub(super) fn report_form() -> Element {
    let grids = with(|s| {
        s.account
            .as_ref()
            .map(|a| a.grids.clone())
            .unwrap_or_default()
    });
    let categories: Vec<web_sys::Node> = Category::ALL
        .iter()
        .map(|c| option(c.code(), text::category(c.code())))
        .collect();
    let grid_options: Vec<web_sys::Node> = grids.iter().map(|g| option(g, g)).collect();
    h(
        "form",
        &[("class", "field-card"), ("data-testid", "field-report")],
        &[
            label(
                tr("大类", "Category"),
                h("select", &[("data-testid", "field-category")], &categories),
            ),
            label(
                tr("小类", "Sub-item"),
                h(
                    "select",
                    &[("data-testid", "field-sub-item")],
                    &sub_item_options(Category::ALL[0].code()),
                ),
            ),
            label(
                tr("网格", "Grid"),
                h("select", &[("data-testid", "field-grid")], &grid_options),
            ),
            button(
                &position_label(with(|s| s.point)),
                &[
                    ("type", "button"),
                    ("class", "field-secondary"),
                    ("data-testid", "field-locate"),
                    ("data-do", "locate"),
                ],
            ),
            label(
                tr("情况描述", "What was seen"),
                h(
                    "textarea",
                    &[("data-testid", "field-description"), ("rows", "3")],
                    &[],
                ),
            ),
            label(tr("现场照片", "Photos"), photo_input("field-photo")),
            button(
                tr("上报", "Report"),
                &[
                    ("type", "submit"),
                    ("class", "field-primary"),
                    ("data-testid", "field-report-submit"),
                ],
            ),
        ],
    )
}

/// The locate button's label: the position the report will carry, or the offer to add it.
fn position_label(point: Option<Point>) -> String {
    match point {
        Some(p) => format!("{} {:.5}, {:.5}", tr("位置", "At"), p.lon, p.lat),
        None => tr("附上当前位置", "Add my position").to_owned(),
    }
}

/// Asks the browser where the phone is; the point goes with the report beside the grid.
pub(super) fn locate() {
    let Some(geo) = web_sys::window().and_then(|w| w.navigator().geolocation().ok()) else {
        return error(tr("此浏览器无法定位", "This browser cannot locate"));
    };
    let found = Closure::once_into_js(move |position: JsValue| {
        let coords = js_sys::Reflect::get(&position, &"coords".into()).unwrap_or_default();
        let number = |key: &str| {
            js_sys::Reflect::get(&coords, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
        };
        if let (Some(lon), Some(lat)) = (number("longitude"), number("latitude")) {
            let point = Point { lon, lat };
            with(|s| s.point = Some(point));
            if let Some(b) = by_id("field-locate") {
                b.set_text_content(Some(&position_label(Some(point))));
            }
        }
    });
    let failed = Closure::once_into_js(move |err: JsValue| {
        let message = js_sys::Reflect::get(&err, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_default();
        error(&format!("{}{message}", tr("无法定位：", "Cannot locate: ")));
    });
    if geo
        .get_current_position_with_error_callback(
            found.unchecked_ref(),
            Some(failed.unchecked_ref()),
        )
        .is_err()
    {
        error(tr("此浏览器无法定位", "This browser cannot locate"));
    }
}

/// The report's body from the form's values: a sub-item or grid left empty is sent as none,
/// so that the server does not read an empty code as a wrong one.
fn report_of(
    category: String,
    sub_item: String,
    grid_id: String,
    point: Option<Point>,
    description: String,
) -> ReportCase {
    ReportCase {
        category,
        sub_item: Some(sub_item).filter(|s| !s.is_empty()),
        grid_id: Some(grid_id).filter(|g| !g.is_empty()),
        point,
        description,
    }
}

/// Sends the report with its photos, and opens the new case.
pub(super) fn report() {
    let report = report_of(
        value("field-category"),
        value("field-sub-item"),
        value("field-grid"),
        with(|s| s.point),
        value("field-description"),
    );
    let form = match multipart("case", &report, "field-photo") {
        Ok(form) => form,
        Err(err) => return error(&err),
    };
    if !begin() {
        return;
    }
    spawn_local(async move {
        let answer =
            fetch::json::<Case>("POST", "/api/cases", token().as_deref(), Body::Form(form)).await;
        done();
        match answer {
            Ok(case) => {
                with(|s| s.screen = Screen::Detail(case.id));
                render();
                say(
                    "notice",
                    Some(&format!(
                        "{}{}",
                        tr("已上报，案件编号 #", "Reported as case #"),
                        case.id
                    )),
                );
            }
            Err(failure) => fail(failure),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    // The tests read the page's default language, Chinese.

    #[test]
    fn a_category_lists_its_own_sub_items_by_code_and_name() {
        let items = sub_items(Category::MunicipalFacilities.code());
        assert!(items.contains(&("0801", "0801 路灯杆倾斜".to_owned())));
        assert!(
            items.iter().all(|(code, _)| code.starts_with("08")),
            "{items:?}"
        );
        assert!(sub_items("no_such_category").is_empty());
        assert!(sub_items("").is_empty());
    }

    #[test]
    fn the_locate_button_shows_the_position_to_five_places() {
        assert_eq!(position_label(None), "附上当前位置");
        let at = Point {
            lon: 125.103_456_7,
            lat: 46.589_012_3,
        };
        assert_eq!(position_label(Some(at)), "位置 125.10346, 46.58901");
    }

    #[test]
    fn an_empty_sub_item_or_grid_is_sent_as_none() {
        let r = report_of(
            "municipal_facilities".into(),
            String::new(),
            String::new(),
            None,
            "灯不亮".into(),
        );
        assert_eq!((r.sub_item, r.grid_id), (None, None));
        let at = Point { lon: 1.0, lat: 2.0 };
        let r = report_of(
            "municipal_facilities".into(),
            "0801".into(),
            "G1".into(),
            Some(at),
            "灯杆倾斜".into(),
        );
        assert_eq!(r.sub_item.as_deref(), Some("0801"));
        assert_eq!(r.grid_id.as_deref(), Some("G1"));
        assert_eq!(r.point, Some(at));
        assert_eq!(r.description, "灯杆倾斜");
    }
}
