//! The "大屏 / Wall" panel of the seat: the wall's name, the map metric and place layers the
//! seat chooses for its walls, the take and release buttons, and the status of the wall named
//! (the link, who holds it, another seat's request to hand it over).

use super::{DEFAULT_WALL, MapChoice, WALL_KEY};
use crate::app::state::with;
use crate::dom::{button, by_id, doc, fill, h, n, role_name, storage, t, tr, value};
use crate::text;
use shared::control::{Controller, valid_wall_name};
use wasm_bindgen::JsCast;
use web_sys::Element;

/// The map metrics a wall colours by, as the wall codes them, with their names.
fn metrics() -> [(&'static str, &'static str); 5] {
    [
        ("", tr("地图：大屏自选", "Map: the wall's own")),
        ("open", tr("在办案件", "Open cases")),
        ("overdue", tr("超期案件", "Overdue cases")),
        ("per_1000", tr("每千人案件", "Cases per 1,000")),
        ("coverage", tr("入户走访覆盖率", "Visit coverage")),
    ]
}

/// The place layers a wall can show, with their names.
fn layers() -> [(&'static str, &'static str); 3] {
    [
        ("grid_station", tr("网格工作站", "Grid stations")),
        ("mediation_centre", tr("调解中心", "Mediation centres")),
        ("key_place", tr("重点场所", "Key places")),
    ]
}

/// The map choice as the wall panel holds it now: every layer ticked is the wall's own.
pub(super) fn map_choice() -> MapChoice {
    let metric = Some(value("wall-metric")).filter(|m| !m.is_empty());
    let mut shown = Vec::new();
    let mut all = true;
    for (code, _) in layers() {
        let ticked = doc()
            .query_selector(&format!(
                "[data-testid=\"wall-layer\"][data-layer=\"{code}\"]"
            ))
            .ok()
            .flatten()
            .and_then(|el| js_sys::Reflect::get(&el, &"checked".into()).ok())
            .and_then(|v| v.as_bool())
            .unwrap_or(true);
        if ticked {
            shown.push(code.to_owned());
        } else {
            all = false;
        }
    }
    MapChoice {
        metric,
        layers: (!all).then_some(shown),
    }
}

/// The wall named in the panel's field.
pub(super) fn named_wall() -> String {
    value("wall-name").trim().to_owned()
}

/// The panel's field changed: the status follows the wall named.
pub(in crate::app) fn on_input(ev: web_sys::Event) {
    let named = ev
        .target()
        .and_then(|t| t.dyn_into::<Element>().ok())
        .is_some_and(|el| el.get_attribute("data-testid").as_deref() == Some("wall-name"));
    if named {
        let wall = named_wall();
        with(|s| s.drive.wall = wall);
        show_status();
    }
}

/// Draws the "大屏 / Wall" panel for a leader or a dispatcher, once per sign-in: later changes
/// touch only its status, so that a name being typed is kept.
pub(in crate::app) fn render_panel() {
    if by_id("wall-panel").is_some() {
        return show_status();
    }
    let wall = with(|s| {
        if s.drive.wall.is_empty() {
            s.drive.wall = storage()
                .and_then(|st| st.get_item(WALL_KEY).ok().flatten())
                .filter(|w| valid_wall_name(w))
                .unwrap_or_else(|| DEFAULT_WALL.to_owned());
        }
        s.drive.wall.clone()
    });
    let panel = h(
        "form",
        &[
            ("class", "seat-wall"),
            ("data-testid", "wall-panel"),
            ("data-link", "connecting"),
            ("data-mine", "false"),
        ],
        &[
            n(h("strong", &[], &[t(tr("大屏", "Wall"))])),
            n(h(
                "input",
                &[
                    ("data-testid", "wall-name"),
                    ("value", &wall),
                    ("maxlength", "32"),
                    ("spellcheck", "false"),
                    ("autocomplete", "off"),
                    ("aria-label", tr("大屏名称", "The wall's name")),
                ],
                &[],
            )),
            n(h(
                "select",
                &[
                    ("data-testid", "wall-metric"),
                    ("aria-label", tr("大屏地图指标", "The wall's map metric")),
                ],
                &metrics()
                    .iter()
                    .map(|(code, name)| n(h("option", &[("value", code)], &[t(name)])))
                    .collect::<Vec<_>>(),
            )),
            n(h(
                "span",
                &[("class", "seat-wall-layers")],
                &layers()
                    .iter()
                    .map(|(code, name)| {
                        n(h(
                            "label",
                            &[],
                            &[
                                n(h(
                                    "input",
                                    &[
                                        ("type", "checkbox"),
                                        ("checked", ""),
                                        ("data-testid", "wall-layer"),
                                        ("data-layer", code),
                                    ],
                                    &[],
                                )),
                                t(name),
                            ],
                        ))
                    })
                    .collect::<Vec<_>>(),
            )),
            // Enter in the field takes the wall, as the button does.
            button(
                tr("上大屏", "Take the wall"),
                &[
                    ("type", "submit"),
                    ("class", "seat-primary"),
                    ("data-testid", "take-wall"),
                ],
            ),
            button(
                tr("释放", "Release"),
                &[
                    ("type", "button"),
                    ("data-testid", "release-wall"),
                    ("data-do", "release-wall"),
                ],
            ),
            n(h(
                "span",
                &[
                    ("class", "seat-wall-holder"),
                    ("data-testid", "wall-holder"),
                    ("data-login", ""),
                    ("data-mine", "false"),
                ],
                &[],
            )),
            n(h(
                "div",
                &[("class", "seat-wall-asks"), ("data-testid", "wall-asks")],
                &[],
            )),
        ],
    );
    fill("seat-wall", &[n(panel)]);
    show_status();
}

/// A controller as people name it: its name and role.
fn who(c: &Controller) -> String {
    if text::english() {
        format!("{} ({})", c.name, role_name(c.role))
    } else {
        format!("{}（{}）", c.name, role_name(c.role))
    }
}

/// Brings the panel's status up to date: the link, who holds the wall named, and another
/// seat's request.
pub(super) fn show_status() {
    let (Some(panel), Some(holder)) = (by_id("wall-panel"), by_id("wall-holder")) else {
        return;
    };
    let (wall, linked, channel, me, asked) = with(|s| {
        let d = &s.drive;
        (
            d.wall.clone(),
            d.seat.is_some(),
            d.walls.get(&d.wall).cloned(),
            d.seat,
            d.asked.clone(),
        )
    });
    let controller = channel.and_then(|c| c.controller);
    let mine = controller.as_ref().is_some_and(|c| Some(c.seat) == me);
    let mine_attr = if mine { "true" } else { "false" };
    let _ = panel.set_attribute("data-link", if linked { "live" } else { "connecting" });
    let _ = panel.set_attribute("data-mine", mine_attr);
    let _ = holder.set_attribute(
        "data-login",
        controller.as_ref().map_or("", |c| c.login.as_str()),
    );
    let _ = holder.set_attribute("data-mine", mine_attr);
    let _ = holder.set_attribute("data-wall", &wall);
    let status = match (&controller, linked) {
        (_, false) => tr("正在连接大屏…", "Connecting to the walls…").to_owned(),
        (None, true) => format!("{wall}{}", tr("：空闲", ": free")),
        (Some(_), true) if mine => format!(
            "{wall}{}",
            tr("：由本席位控制，跟随本屏显示", ": driven by this seat")
        ),
        (Some(c), true) => format!("{wall}{}{}", tr("：控制者 ", ": held by "), who(c)),
    };
    holder.set_text_content(Some(&status));
    let prompt: Vec<web_sys::Node> = asked
        .map(|(wall, by)| {
            n(h(
                "div",
                &[
                    ("class", "seat-wall-prompt"),
                    ("role", "alert"),
                    ("data-testid", "handover-prompt"),
                    ("data-wall", &wall),
                    ("data-by", &by.login),
                    ("data-by-seat", &by.seat.to_string()),
                ],
                &[
                    t(&format!(
                        "{}{}{wall}",
                        who(&by),
                        tr(" 请求接管大屏 ", " asks for the wall ")
                    )),
                    button(
                        tr("移交", "Hand over"),
                        &[
                            ("type", "button"),
                            ("class", "seat-primary"),
                            ("data-testid", "handover"),
                            ("data-do", "handover"),
                        ],
                    ),
                    button(
                        tr("保留", "Keep it"),
                        &[
                            ("type", "button"),
                            ("data-testid", "handover-keep"),
                            ("data-do", "handover-keep"),
                        ],
                    ),
                ],
            ))
        })
        .into_iter()
        .collect();
    fill("wall-asks", &prompt);
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::auth::Role;

    #[test]
    fn a_controller_is_named_with_its_role() {
        // The tests read the page's default language, Chinese.
        let c = Controller {
            seat: 1,
            login: "leader".into(),
            name: "王领导".into(),
            role: Role::Leader,
        };
        assert_eq!(who(&c), "王领导（领导）");
    }

    #[test]
    fn the_first_metric_is_the_walls_own_and_every_code_is_distinct() {
        assert_eq!(
            metrics()[0].0,
            "",
            "no metric chosen leaves the wall its own"
        );
        let codes: std::collections::BTreeSet<&str> = metrics()
            .iter()
            .chain(layers().iter())
            .map(|(code, _)| *code)
            .collect();
        assert_eq!(codes.len(), metrics().len() + layers().len());
    }
}
