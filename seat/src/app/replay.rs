//! Looking back at the seat: the banner of a past moment, and yesterday replayed in a minute
//! with its clock, pause, steps and the way back to live.

use super::clock::{now_ms, stamp};
use super::drill::show_area;
use super::render;
use super::session::fail;
use super::state::{Level, Replay, current, generation, with};
use super::wire::WallAnswer;
use super::{drive, queue};
use crate::dom::{button, by_id, fill, h, n, t, tr};
use crate::fetch::{self, Body};
use wasm_bindgen_futures::spawn_local;

/// The bar under the navigation: the look-back banner or the replay's clock and buttons,
/// nothing when the seat is live. A held wall follows the moment shown.
pub(super) fn render_moment() {
    draw_moment();
    drive::sync();
}

fn draw_moment() {
    let (moment, replay) = with(|s| (s.moment, s.replay.clone()));
    let live = button(
        tr("回到实时", "Back to live"),
        &[("data-testid", "seat-live"), ("data-do", "live")],
    );
    let bar = match (replay, moment) {
        (Some(r), _) => {
            let at = r.shown.to_string();
            let paused = if r.paused { "true" } else { "false" };
            h(
                "div",
                &[
                    ("class", "seat-moment replay"),
                    ("data-testid", "seat-replay-bar"),
                ],
                &[
                    n(h(
                        "strong",
                        &[
                            ("class", "seat-clock"),
                            ("data-testid", "replay-clock"),
                            ("data-at", &at),
                            ("data-paused", paused),
                        ],
                        &[t(&clock_text(r.shown, r.paused))],
                    )),
                    button(
                        tr("− 10 分钟", "− 10 min"),
                        &[("data-testid", "replay-back"), ("data-do", "replay-back")],
                    ),
                    button(
                        if r.paused {
                            tr("继续", "Resume")
                        } else {
                            tr("暂停", "Pause")
                        },
                        &[("data-testid", "replay-pause"), ("data-do", "replay-pause")],
                    ),
                    button(
                        tr("+ 10 分钟", "+ 10 min"),
                        &[
                            ("data-testid", "replay-forward"),
                            ("data-do", "replay-forward"),
                        ],
                    ),
                    live,
                ],
            )
        }
        (None, Some(at)) => h(
            "div",
            &[
                ("class", "seat-moment"),
                ("data-testid", "seat-moment-banner"),
                ("data-at", &at.to_string()),
            ],
            &[
                n(h(
                    "strong",
                    &[],
                    &[t(&format!(
                        "{}{}{}",
                        tr("回看：", "Looking back at "),
                        stamp(at),
                        tr(" 时的状态", "")
                    ))],
                )),
                n(h(
                    "span",
                    &[("class", "seat-muted")],
                    &[t(tr(
                        "区县、街道和网格的数字为当时的状态；网格的案件和案件详情为当前状态。",
                        "Areas' figures are as they stood then; a grid's cases and a case are as they stand now.",
                    ))],
                )),
                live,
            ],
        ),
        (None, None) => return fill("seat-moment", &[]),
    };
    fill("seat-moment", &[n(bar)]);
}

/// The replay's clock: the moment shown, and whether it is paused.
fn clock_text(at: i64, paused: bool) -> String {
    format!(
        "{} {}{}",
        tr("回放", "Replay"),
        stamp(at),
        if paused {
            tr("（暂停）", " (paused)")
        } else {
            ""
        }
    )
}

/// Updates the replay's clock in place, between full draws.
fn show_clock(r: &Replay) {
    if let Some(clock) = by_id("replay-clock") {
        let _ = clock.set_attribute("data-at", &r.shown.to_string());
        let _ = clock.set_attribute("data-paused", if r.paused { "true" } else { "false" });
        clock.set_text_content(Some(&clock_text(r.shown, r.paused)));
    }
}

/// Yesterday, from its midnight to the next, in the centre's zone.
pub(super) fn start_replay() {
    let replay = Replay::yesterday(now_ms(), js_sys::Date::now());
    with(|s| {
        s.moment = None;
        s.replay = Some(replay);
    });
    render();
}

/// A step back or forward; the next tick fetches the moment stepped to.
pub(super) fn step_replay(by: i64) {
    with(|s| {
        if let Some(r) = &mut s.replay {
            r.step(by);
        }
    });
}

/// Pauses or resumes the replay at the moment shown.
pub(super) fn pause_replay() {
    with(|s| {
        if let Some(r) = &mut s.replay {
            r.toggle_pause(js_sys::Date::now());
        }
    });
    render_moment();
}

/// Every 200 ms: moves the replay's target with the clock and, when no request is out,
/// fetches the area at the target.
pub(super) fn tick() {
    let now = js_sys::Date::now();
    queue::queue_tick(now);
    // A held wall catches up with a replay's clock that moved at most a tick ago.
    drive::sync();
    let ask = with(|s| s.replay.as_mut()?.advance(now));
    let Some((at, round)) = ask else { return };
    let (names, level, token) =
        with(|s| (s.names.clone(), s.path.last().cloned(), s.token.clone()));
    let asked = generation();
    spawn_local(async move {
        let answer = match (&names, &level, &token) {
            (
                Some(names),
                Some(level @ (Level::City | Level::District(_) | Level::Street(_))),
                Some(token),
            ) => {
                let url = format!("/api/wall/at?scope={}&at={at}", level.scope(names));
                Some(fetch::json::<WallAnswer>("GET", &url, Some(token), Body::None).await)
            }
            _ => None,
        };
        let shown = with(|s| {
            let r = s.replay.as_mut()?;
            r.settle(at, round).then(|| r.clone())
        });
        let Some(r) = shown else { return };
        show_clock(&r);
        drive::sync();
        match (answer, names, level) {
            (Some(Ok(answer)), Some(names), Some(level)) if current(asked) => {
                show_area(&names, &level, &answer.state);
            }
            (Some(Err(failure)), _, _) => fail(failure),
            _ => {}
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replays_clock_says_the_moment_and_a_pause() {
        // The tests read the page's default language, Chinese. 2026-11-28 23:50 in the centre's zone.
        let at = 1_795_881_600_000 - 10 * 60_000;
        assert_eq!(clock_text(at, false), "回放 2026-11-28 23:50");
        assert_eq!(clock_text(at, true), "回放 2026-11-28 23:50（暂停）");
    }
}
