//! The grid electronic map: every grid polygon of the scope as one SVG, drawn once from the
//! server's GeoJSON and recoloured grid by grid as frames arrive, with district and street
//! outlines, district labels, the places layers and a pulse where a case is reported.
//!
//! The polygons are plain DOM nodes owned here, not Leptos views: 4,880 reactive items would
//! cost memory and time for nothing, as a grid changes only its `class`.
//!
//! A wall following a control channel draws the whole city once and zooms by its `viewBox`,
//! so that a seat's switch of area costs no fetch and no redraw.
//!
//! This module is the map panel itself: its switches, legend and layer toggles, and the
//! effects that draw the map, recolour it, follow a channel's display and pulse; each part of
//! the map lives in a module of its own (see ARCHITECTURE.md).

mod areas;
mod documents;
mod draw;
mod geometry;
mod grids;
mod layers;
mod metric;
mod pulse;
mod svg;

use crate::link::{ActivityKind, Link};
use crate::text::t;
use draw::{draw, sleep_ms};
use grids::MapState;
use leptos::prelude::*;
use metric::{CLASSES, Metric};
use pulse::pulse;
use shared::control::Display;
use shared::wall::Scope;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::Element;

pub use areas::area_name;

/// Sets `signal` to what a display shows, keeping the wall's own value in `saved` while it
/// does, and puts the wall's own value back when the display no longer says.
fn override_with<T: Copy + PartialEq + Send + Sync + 'static>(
    signal: RwSignal<T>,
    saved: &mut Option<T>,
    shown: Option<T>,
) {
    match shown {
        Some(v) => {
            if saved.is_none() {
                *saved = Some(signal.get_untracked());
            }
            if signal.get_untracked() != v {
                signal.set(v);
            }
        }
        None => {
            if let Some(own) = saved.take() {
                signal.set(own);
            }
        }
    }
}

/// The area of a display, or the wall's own when nothing is shown.
fn shown_scope(display: Option<&Display>, own: &Scope) -> Scope {
    display.map_or_else(|| own.clone(), |d| d.scope.clone())
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

/// The map panel: the metric switch, the layer toggles, the map and its legend. A wall that
/// `follow`s a control channel draws the whole city and shows what the channel's display
/// asks for: its area framed, its grid picked out, its metric and layers.
#[component]
pub fn MapPanel(
    link: Link,
    scope: Scope,
    #[prop(optional)] compact: bool,
    #[prop(optional)] follow: bool,
) -> impl IntoView {
    let state = Rc::new(RefCell::new(MapState::default()));
    let metric = RwSignal::new(Metric::Open);
    let own_scope = scope.clone();
    let scope = if follow { Scope::City } else { scope };
    let ready = RwSignal::new(false);
    let failed = RwSignal::new(false);
    let count = RwSignal::new(0usize);
    let layers = [
        ("grid_station", t().grid_stations, RwSignal::new(true)),
        (
            "mediation_centre",
            t().mediation_centres,
            RwSignal::new(true),
        ),
        ("key_place", t().key_places_layer, RwSignal::new(!compact)),
    ];
    let host = NodeRef::<leptos::html::Div>::new();

    // Frames: keep every tally, and recolour the grids of the frame once the map is drawn.
    {
        let state = Rc::clone(&state);
        Effect::new(move |_| {
            link.grids.with(|frame| {
                let mut st = state.borrow_mut();
                st.take_frame(frame);
                if ready.get_untracked() {
                    let m = metric.get_untracked();
                    if frame.full {
                        st.recolour(m, None, false);
                    } else {
                        st.recolour(m, Some(&frame.grids), false);
                    }
                }
            });
        });
    }
    // A new metric recolours every grid: the wall's heaviest redraw, measured for BENCHMARKS.
    {
        let state = Rc::clone(&state);
        Effect::new(move |_| {
            let m = metric.get();
            if !ready.get() {
                return;
            }
            let perf = performance();
            if let Some(p) = &perf {
                let _ = p.mark("recolour-start");
            }
            state.borrow_mut().recolour(m, None, true);
            if let Some(p) = &perf {
                let _ = p.mark("recolour-end");
                let _ = p.measure_with_start_mark_and_end_mark(
                    "recolour",
                    "recolour-start",
                    "recolour-end",
                );
                // Keep the timeline bounded on a wall that runs for weeks.
                p.clear_marks_with_mark_name("recolour-start");
                p.clear_marks_with_mark_name("recolour-end");
            }
        });
    }
    // The first complete frame: the map drawn and coloured from the first snapshot. The mark
    // is set after the next paint, for the start-up benchmark.
    {
        let marked = StoredValue::new(false);
        Effect::new(move |_| {
            if marked.get_value() || !ready.get() || link.last_frame_ms.get().is_none() {
                return;
            }
            marked.set_value(true);
            request_animation_frame(move || {
                if let Some(p) = performance() {
                    let _ = p.mark("wall-complete");
                }
            });
        });
    }
    // What a following wall is shown: the area framed by a new viewBox and the others
    // dimmed, the grid picked out, the metric and layers. All of it is set here on the nodes
    // and signals the map has anyway, rather than through memos and view closures, to keep
    // the bundle small; the wall's own metric and layers are kept while a display overrides
    // them, and restored after.
    if follow {
        let state = Rc::clone(&state);
        let saved: RefCell<(Option<Metric>, [Option<bool>; 3])> = RefCell::new((None, [None; 3]));
        Effect::new(move |_| {
            let is_ready = ready.get();
            link.control.with(|c| {
                let d = c.as_ref().and_then(|c| c.display.as_ref());
                let mut saved = saved.borrow_mut();
                let shown = d.and_then(|d| Metric::from_code(d.metric.as_deref()?));
                override_with(metric, &mut saved.0, shown);
                for (i, (kind, _, on)) in layers.into_iter().enumerate() {
                    let shown = d.and_then(|d| Some(d.layers.as_ref()?.iter().any(|k| k == kind)));
                    override_with(on, &mut saved.1[i], shown);
                }
                let scope = shown_scope(d, &own_scope);
                // The stylesheet reads the focus too: any area but the city is zoomed in.
                if let Some(el) = host.get_untracked() {
                    let _ = el.set_attribute("data-focus", &scope.to_string());
                }
                if is_ready {
                    let mut st = state.borrow_mut();
                    let view = st.focus(&scope, d.and_then(|d| d.grid.as_ref()));
                    if let Some(svg) = &st.svg {
                        let _ = svg.set_attribute("viewBox", &view);
                    }
                }
            });
        });
    }
    // A pulse where a case was just reported.
    {
        let state = Rc::clone(&state);
        Effect::new(move |_| {
            link.fresh_activity.with(|fresh| {
                if !ready.get_untracked() {
                    return;
                }
                for a in fresh.iter().filter(|a| a.kind == ActivityKind::Reported) {
                    pulse(&state, &a.grid_id);
                }
            });
        });
    }
    // Draw once the host is on the page.
    {
        let state = Rc::clone(&state);
        Effect::new(move |_| {
            let Some(el) = host.get() else { return };
            let state = Rc::clone(&state);
            let scope = scope.clone();
            let el: Element = el.into();
            leptos::task::spawn_local(async move {
                // A wall that started while the server was away keeps trying until it can draw.
                loop {
                    match draw(el.clone(), scope.clone(), follow).await {
                        Ok((grids, index, pulses, svg, full_view)) => {
                            {
                                let mut st = state.borrow_mut();
                                count.set(grids.len());
                                st.drawn(grids, index);
                                st.pulses = Some(pulses);
                                st.svg = Some(svg);
                                st.full_view = full_view;
                            }
                            failed.set(false);
                            ready.set(true);
                            return;
                        }
                        Err(err) => {
                            leptos::logging::warn!("gridwall: map: {err:?}");
                            failed.set(true);
                            sleep_ms(5_000).await;
                        }
                    }
                }
            });
        });
    }

    view! {
        <section class="panel map-panel" data-panel="map">
            <div class="panel-head">
                <h2>{t().map}</h2>
                <div class="switches">
                    {Metric::ALL
                        .into_iter()
                        .map(|m| {
                            view! {
                                <button
                                    class="switch"
                                    class:on=move || metric.get() == m
                                    data-map-metric=m.code()
                                    on:click=move |_| metric.set(m)
                                >
                                    {m.label()}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </div>
            <div
                class="map-host"
                class:hide-grid_station=move || !layers[0].2.get()
                class:hide-mediation_centre=move || !layers[1].2.get()
                class:hide-key_place=move || !layers[2].2.get()
                data-state=move || if ready.get() { "ready" } else if failed.get() { "failed" } else { "loading" }
                data-grids=move || count.get().to_string()
                node_ref=host
            >
                <p class="map-note">{t().map_loading}</p>
            </div>
            <Show when=move || failed.get()>
                <p class="map-failed">{t().map_failed}</p>
            </Show>
            <div class="map-foot">
                <div class="legend">
                    <span class="legend-title">{move || metric.get().label()}</span>
                    {(0..7)
                        .map(|i| {
                            view! {
                                <span class="legend-step">
                                    <i class=CLASSES[i]></i>
                                    {move || metric.get().legend(i)}
                                </span>
                            }
                        })
                        .collect_view()}
                </div>
                <div class="layers">
                    {layers
                        .into_iter()
                        .map(|(kind, label, on)| {
                            view! {
                                <button
                                    class=format!("switch layer-switch layer-key-{kind}")
                                    class:on=move || on.get()
                                    on:click=move |_| on.update(|v| *v = !*v)
                                >
                                    <i></i>
                                    {label}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_display_overrides_the_walls_own_scope() {
        let own = Scope::District("230602".into());
        assert_eq!(shown_scope(None, &own), own);
        let d = Display::live(Scope::Street("230603001".into()));
        assert_eq!(
            shown_scope(Some(&d), &own),
            Scope::Street("230603001".into())
        );
    }
}
