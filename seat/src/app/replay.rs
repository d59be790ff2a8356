//! Looking back at the seat: the banner of a past moment, and yesterday replayed in a minute
//! with its clock, pause, steps and the way back to live.

use super::*;

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
    let offset = shared::time::DEFAULT_UTC_OFFSET_MINUTES;
    let today = shared::time::local_day(now_ms(), offset);
    let start = shared::time::local_day_start_ms(today - 1, offset);
    let end = shared::time::local_day_start_ms(today, offset);
    with(|s| {
        s.moment = None;
        s.replay = Some(Replay {
            target: start as f64,
            shown: start,
            start,
            end,
            paused: false,
            dirty: true,
            in_flight: false,
            last_tick: js_sys::Date::now(),
            round: 0,
        });
    });
    render();
}

pub(super) fn step_replay(by: i64) {
    with(|s| {
        if let Some(r) = &mut s.replay {
            let at = (r.shown + by).clamp(r.start, r.end);
            r.target = at as f64;
            r.dirty = true;
            r.round += 1;
        }
    });
}

/// Every 200 ms: moves the replay's target with the clock and, when no request is out,
/// fetches the area at the target.
pub(super) fn tick() {
    let now = js_sys::Date::now();
    queue::queue_tick(now);
    // A held wall catches up with a replay's clock that moved at most a tick ago.
    drive::sync();
    let ask = with(|s| {
        let r = s.replay.as_mut()?;
        let elapsed = now - r.last_tick;
        r.last_tick = now;
        if !r.paused {
            let day = (r.end - r.start) as f64;
            r.target = (r.target + elapsed * day / REPLAY_MS).min(r.end as f64);
        }
        if r.in_flight || (r.paused && !r.dirty) {
            return None;
        }
        let at = r.target as i64;
        if at == r.shown && !r.dirty {
            return None;
        }
        r.dirty = false;
        r.in_flight = true;
        Some((at, r.round))
    });
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
            r.in_flight = false;
            if r.round != round {
                return None;
            }
            r.shown = at;
            if at >= r.end {
                r.paused = true;
            }
            Some(r.clone())
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
