//! Comparing and assessing an area: this week against last week, the departments' and
//! streets' rankings over a preset period, and the exports fetched with the bearer token.

use super::clock::{monday_of, now_ms, stamp};
use super::session::fail;
use super::state::{Level, Names, Preset, current, token, with};
use super::view::{card, error, screen};
use super::wire::{Comparison, RankRow, Rankings};
use crate::dom::{button, by_id, doc, fill, h, n, t, tr};
use crate::fetch::{self, Body};
use crate::text;
use shared::time::day_from_civil;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;

/// This week so far (from Monday's midnight in the centre's zone) against the same stretch
/// of last week, for the area (a grid's figures are its street's).
pub(super) fn load_compare(asked: u64, names: Rc<Names>, area: Level) {
    let Some(token) = token() else { return };
    let offset = shared::time::DEFAULT_UTC_OFFSET_MINUTES;
    let now = now_ms();
    let today = shared::time::local_day(now, offset);
    let from = shared::time::local_day_start_ms(monday_of(today), offset);
    let week = 7 * shared::time::DAY_MS;
    spawn_local(async move {
        let url = format!(
            "/api/compare?scope={}&from={from}&to={now}&vs_from={}&vs_to={}",
            area.scope(&names),
            from - week,
            now - week
        );
        match fetch::json::<Comparison>("GET", &url, Some(&token), Body::None).await {
            Ok(c) if current(asked) => show_compare(&c, from, now),
            Ok(_) => {}
            Err(failure) => fail(failure),
        }
    });
}

/// A share as a percentage with one decimal; a dash when there is none.
fn rate(r: Option<f64>) -> String {
    r.map_or("—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// Hours with one decimal; a dash when there are none.
fn hours(h: Option<f64>) -> String {
    h.map_or("—".to_owned(), |h| format!("{h:.1}"))
}

/// Draws this week's figures against last week's, row by row.
fn show_compare(c: &Comparison, from: i64, to: i64) {
    let rows: [(&str, &str, String, String); 7] = [
        (
            "reports",
            tr("上报", "Reports"),
            c.a.reports.to_string(),
            c.b.reports.to_string(),
        ),
        (
            "closures",
            tr("结案", "Closures"),
            c.a.closures.to_string(),
            c.b.closures.to_string(),
        ),
        (
            "on_time",
            tr("按时结案", "On time"),
            c.a.on_time.to_string(),
            c.b.on_time.to_string(),
        ),
        (
            "on_time_rate",
            tr("按时结案率", "On-time rate"),
            rate(c.a.on_time_rate),
            rate(c.b.on_time_rate),
        ),
        (
            "avg_handling_hours",
            tr("平均处置时长（小时）", "Average handling (hours)"),
            hours(c.a.avg_handling_hours),
            hours(c.b.avg_handling_hours),
        ),
        (
            "returned",
            tr("核查退回", "Returned after a check"),
            c.a.returned.to_string(),
            c.b.returned.to_string(),
        ),
        (
            "reopened",
            tr("重新开启", "Reopened"),
            c.a.reopened.to_string(),
            c.b.reopened.to_string(),
        ),
    ];
    let head = n(h(
        "div",
        &[("class", "seat-compare-row seat-head")],
        &[
            n(h("span", &[], &[])),
            n(h(
                "span",
                &[],
                &[t(&format!(
                    "{} ({} – {})",
                    tr("本周", "This week"),
                    stamp(from),
                    stamp(to)
                ))],
            )),
            n(h(
                "span",
                &[],
                &[t(tr("上周同期", "Last week, same stretch"))],
            )),
        ],
    ));
    let mut kids = vec![head];
    kids.extend(rows.iter().map(|(key, label, a, b)| {
        n(h(
            "div",
            &[
                ("class", "seat-compare-row"),
                ("data-testid", "seat-compare-row"),
                ("data-key", key),
            ],
            &[
                n(h("span", &[("class", "seat-muted")], &[t(label)])),
                n(h("strong", &[("data-testid", "seat-compare-a")], &[t(a)])),
                n(h("strong", &[("data-testid", "seat-compare-b")], &[t(b)])),
            ],
        ))
    }));
    fill(
        "seat-body",
        &[screen(
            &Level::Compare,
            &[card(
                &format!(
                    "{} · {}",
                    c.scope_name,
                    tr("本周对比上周", "this week against last")
                ),
                &[n(h(
                    "div",
                    &[
                        ("class", "seat-compare"),
                        ("data-testid", "seat-compare-table"),
                    ],
                    &kids,
                ))],
            )],
        )],
    );
}

/// The period of a preset as `[from, to)` in Unix ms, as of `now`: the current week and
/// month run until now.
fn period_of(preset: Preset, now: i64) -> (i64, i64) {
    let offset = shared::time::DEFAULT_UTC_OFFSET_MINUTES;
    let start = |day| shared::time::local_day_start_ms(day, offset);
    let today = shared::time::local_day(now, offset);
    let monday = monday_of(today);
    match preset {
        Preset::ThisWeek => (start(monday), now),
        Preset::LastWeek => (start(monday - 7), start(monday)),
        Preset::ThisMonth => (start(shared::time::month_start_day(today)), now),
        Preset::MonthLastYear => {
            let (y, m, _) = shared::time::civil_from_day(today);
            let first = day_from_civil(y - 1, m, 1);
            let next = if m == 12 {
                day_from_civil(y, 1, 1)
            } else {
                day_from_civil(y - 1, m + 1, 1)
            };
            (start(first), start(next))
        }
    }
}

/// The departments' and streets' rankings of the area (a grid's are its street's) over the
/// chosen period, read together.
pub(super) fn load_assess(asked: u64, names: Rc<Names>, area: Level) {
    let Some(token) = token() else { return };
    let preset = with(|s| s.period);
    let (from, to) = period_of(preset, now_ms());
    let query = format!("scope={}&from={from}&to={to}", area.scope(&names));
    spawn_local(async move {
        let url = |by: &str| format!("/api/rankings?by={by}&{query}");
        let departments =
            fetch::json::<Rankings>("GET", &url("department"), Some(&token), Body::None).await;
        let streets =
            fetch::json::<Rankings>("GET", &url("street"), Some(&token), Body::None).await;
        match (departments, streets) {
            (Ok(d), Ok(s)) if current(asked) => show_assess(preset, &query, from, to, &d, &s),
            (Err(failure), _) | (_, Err(failure)) => fail(failure),
            _ => {}
        }
    });
}

/// A preset's name on its button.
fn preset_name(preset: Preset) -> &'static str {
    match preset {
        Preset::ThisWeek => tr("本周", "This week"),
        Preset::LastWeek => tr("上周", "Last week"),
        Preset::ThisMonth => tr("本月", "This month"),
        Preset::MonthLastYear => tr("去年同月", "Same month last year"),
    }
}

/// Draws the assessment: the period's presets and range, the downloads, and the two rankings.
fn show_assess(
    preset: Preset,
    query: &str,
    from: i64,
    to: i64,
    departments: &Rankings,
    streets: &Rankings,
) {
    let presets: Vec<web_sys::Node> = Preset::ALL
        .iter()
        .map(|p| {
            button(
                preset_name(*p),
                &[
                    (
                        "class",
                        if *p == preset {
                            "seat-preset active"
                        } else {
                            "seat-preset"
                        },
                    ),
                    ("data-testid", "seat-period"),
                    ("data-do", "period"),
                    ("data-period", p.code()),
                    ("aria-pressed", if *p == preset { "true" } else { "false" }),
                ],
            )
        })
        .collect();
    let download = |label: &str, path: &str, name: &str, id: &str| {
        button(
            label,
            &[
                ("data-testid", id),
                ("data-do", "download"),
                ("data-url", &format!("{path}?{query}")),
                ("data-name", name),
            ],
        )
    };
    let by_department = format!("/api/rankings.csv?by=department&{query}");
    let by_street = format!("/api/rankings.csv?by=street&{query}");
    let downloads = vec![
        button(
            tr("部门排名 CSV", "Departments CSV"),
            &[
                ("data-testid", "seat-download-departments"),
                ("data-do", "download"),
                ("data-url", &by_department),
                ("data-name", "departments.csv"),
            ],
        ),
        button(
            tr("街道排名 CSV", "Streets CSV"),
            &[
                ("data-testid", "seat-download-streets"),
                ("data-do", "download"),
                ("data-url", &by_street),
                ("data-name", "streets.csv"),
            ],
        ),
        download(
            tr("简报 PNG", "Briefing PNG"),
            "/api/briefing.png",
            "briefing.png",
            "seat-download-png",
        ),
        download(
            tr("简报 SVG", "Briefing SVG"),
            "/api/briefing.svg",
            "briefing.svg",
            "seat-download-svg",
        ),
    ];
    let bar = n(h(
        "div",
        &[("class", "seat-assess-bar")],
        &[
            n(h("div", &[("class", "seat-presets")], &presets)),
            n(h(
                "span",
                &[
                    ("class", "seat-muted"),
                    ("data-testid", "seat-period-range"),
                ],
                &[t(&format!("{} – {}", stamp(from), stamp(to)))],
            )),
            n(h("div", &[("class", "seat-downloads")], &downloads)),
        ],
    ));
    let title = |kind: &str| format!("{} · {kind}", departments.scope_name);
    fill(
        "seat-body",
        &[screen(
            &Level::Assess,
            &[
                bar,
                n(h(
                    "div",
                    &[("class", "seat-detail")],
                    &[
                        card(
                            &title(tr("部门排名", "departments")),
                            &[ranking(&departments.rows, "department", false)],
                        ),
                        card(
                            &title(tr("街道排名", "streets")),
                            &[ranking(&streets.rows, "street", true)],
                        ),
                    ],
                )),
            ],
        )],
    );
}

/// A ranking's table: departments (`by` = `department`, named in the page's language) or
/// streets, with the streets' reports.
fn ranking(rows: &[RankRow], by: &str, with_reports: bool) -> web_sys::Node {
    let mut head = vec![
        n(h("span", &[], &[t(tr("名次", "Rank"))])),
        n(h("span", &[], &[t(tr("名称", "Name"))])),
        n(h("span", &[], &[t(tr("结案", "Closed"))])),
        n(h("span", &[], &[t(tr("按时率", "On time"))])),
        n(h("span", &[], &[t(tr("时长(时)", "Hours"))])),
        n(h("span", &[], &[t(tr("退回率", "Returned"))])),
        n(h("span", &[], &[t(tr("重开", "Reopened"))])),
    ];
    if with_reports {
        head.push(n(h("span", &[], &[t(tr("上报", "Reports"))])));
    }
    let class = if with_reports {
        "seat-rank wide"
    } else {
        "seat-rank"
    };
    let mut out = vec![n(h(
        "div",
        &[("class", &format!("{class} seat-head"))],
        &head,
    ))];
    out.extend(rows.iter().map(|r| {
        let name = if by == "department" {
            text::department(&r.code).to_owned()
        } else {
            r.name.clone()
        };
        let mut cells = vec![
            n(h(
                "span",
                &[("class", "seat-num")],
                &[t(&r.rank.to_string())],
            )),
            n(h("span", &[("class", "seat-name")], &[t(&name)])),
            n(h(
                "span",
                &[("class", "seat-num")],
                &[t(&r.closures.to_string())],
            )),
            n(h(
                "span",
                &[("class", "seat-num")],
                &[t(&rate(r.on_time_rate))],
            )),
            n(h(
                "span",
                &[("class", "seat-num")],
                &[t(&hours(r.avg_handling_hours))],
            )),
            n(h(
                "span",
                &[("class", "seat-num")],
                &[t(&rate(r.returned_share))],
            )),
            n(h(
                "span",
                &[("class", "seat-num")],
                &[t(&r.reopened.to_string())],
            )),
        ];
        if with_reports {
            cells.push(n(h(
                "span",
                &[("class", "seat-num")],
                &[t(&r.reports.unwrap_or(0).to_string())],
            )));
        }
        n(h(
            "div",
            &[
                ("class", class),
                ("data-testid", "seat-rank-row"),
                ("data-by", by),
                ("data-code", &r.code),
            ],
            &cells,
        ))
    }));
    if rows.is_empty() {
        out.push(n(h(
            "p",
            &[("class", "seat-muted")],
            &[t(tr("此期间无结案", "No closures in this period"))],
        )));
    }
    n(h("div", &[("class", "seat-items")], &out))
}

/// Downloads an export: the routes need the bearer header, which a plain link cannot send,
/// so the file is fetched as a blob and handed to an `<a download>`.
pub(super) fn download(url: String, name: String) {
    let Some(token) = token() else { return };
    spawn_local(async move {
        match blob_url(&url, &token).await {
            Ok(object) => {
                // The last download's link stays (hidden) until this one, so that the browser
                // has read its blob before its URL is let go.
                while let Some(old) = by_id("seat-download-link") {
                    if let Some(href) = old.get_attribute("href") {
                        let _ = web_sys::Url::revoke_object_url(&href);
                    }
                    old.remove();
                }
                let a = h(
                    "a",
                    &[
                        ("href", &object),
                        ("download", &name),
                        ("data-testid", "seat-download-link"),
                        ("class", "seat-hidden"),
                    ],
                    &[],
                );
                if let Some(body) = doc().body() {
                    let _ = body.append_child(&a);
                }
                if let Ok(a) = a.clone().dyn_into::<web_sys::HtmlElement>() {
                    a.click();
                }
            }
            Err(message) => error(Some(&message)),
        }
    });
}

/// `GET url` with the bearer token, as an object URL of its body.
async fn blob_url(url: &str, token: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    let headers = web_sys::Headers::new().map_err(|e| format!("{e:?}"))?;
    headers
        .set("authorization", &format!("Bearer {token}"))
        .map_err(|e| format!("{e:?}"))?;
    init.set_headers(&headers);
    let request =
        web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| format!("{e:?}"))?;
    let response: web_sys::Response =
        wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request))
            .await
            .and_then(|r| r.dyn_into())
            .map_err(|e| format!("{e:?}"))?;
    if !response.ok() {
        // The server's own words, as for any refusal.
        let text =
            wasm_bindgen_futures::JsFuture::from(response.text().map_err(|e| format!("{e:?}"))?)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default();
        return Err(serde_json::from_str::<shared::case::ApiError>(&text)
            .map(|e| e.error.message)
            .unwrap_or_else(|_| format!("HTTP {}", response.status())));
    }
    let blob: web_sys::Blob =
        wasm_bindgen_futures::JsFuture::from(response.blob().map_err(|e| format!("{e:?}"))?)
            .await
            .and_then(|b| b.dyn_into())
            .map_err(|e| format!("{e:?}"))?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(|e| format!("{e:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-29 (a Sunday) 08:30 in the centre's zone.
    const NOW: i64 = 1_795_881_600_000 + 8 * 3_600_000 + 30 * 60_000;

    fn day_start(y: i64, m: u32, d: u32) -> i64 {
        shared::time::local_day_start_ms(
            day_from_civil(y, m, d),
            shared::time::DEFAULT_UTC_OFFSET_MINUTES,
        )
    }

    #[test]
    fn the_presets_periods_are_weeks_from_monday_and_months_from_the_first() {
        let monday = day_start(2026, 11, 23);
        assert_eq!(period_of(Preset::ThisWeek, NOW), (monday, NOW));
        assert_eq!(
            period_of(Preset::LastWeek, NOW),
            (day_start(2026, 11, 16), monday)
        );
        assert_eq!(
            period_of(Preset::ThisMonth, NOW),
            (day_start(2026, 11, 1), NOW)
        );
        assert_eq!(
            period_of(Preset::MonthLastYear, NOW),
            (day_start(2025, 11, 1), day_start(2025, 12, 1))
        );
    }

    #[test]
    fn december_last_year_ends_at_this_years_new_year() {
        let december = day_start(2026, 12, 15) + 3_600_000;
        assert_eq!(
            period_of(Preset::MonthLastYear, december),
            (day_start(2025, 12, 1), day_start(2026, 1, 1))
        );
    }

    #[test]
    fn rates_and_hours_have_one_decimal_and_a_dash_for_none() {
        assert_eq!(rate(Some(0.75)), "75.0%");
        assert_eq!(rate(Some(1.0 / 3.0)), "33.3%");
        assert_eq!(rate(None), "—");
        assert_eq!(hours(Some(2.26)), "2.3");
        assert_eq!(hours(Some(10.0)), "10.0");
        assert_eq!(hours(None), "—");
    }

    #[test]
    fn every_preset_has_its_own_button() {
        let names: std::collections::BTreeSet<&str> =
            Preset::ALL.iter().map(|p| preset_name(*p)).collect();
        assert_eq!(names.len(), Preset::ALL.len());
        assert_eq!(preset_name(Preset::MonthLastYear), "去年同月");
    }
}
