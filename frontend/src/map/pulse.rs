//! The pulse where a case is reported: a short-lived circle at its grid's centre, with a cap
//! on how many are on the map at once.

use super::grids::MapState;
use leptos::prelude::set_timeout;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

/// How many pulses may be on the map at once: at 100 transitions a second the map would
/// otherwise fill with circles and the DOM would grow.
const MAX_PULSES: u32 = 24;
/// How long a pulse stays.
const PULSE_MS: u64 = 2_400;

/// Adds a short-lived pulse at a grid's centre; removes it when its animation is over.
pub(super) fn pulse(state: &Rc<RefCell<MapState>>, grid_id: &str) {
    let (el, pulses) = {
        let mut st = state.borrow_mut();
        if st.live_pulses >= MAX_PULSES {
            return;
        }
        let Some(&i) = st.index.get(grid_id) else {
            return;
        };
        let (x, y) = st.grids[i].centre;
        let Some(pulses) = st.pulses.clone() else {
            return;
        };
        let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        let Ok(el) = doc.create_element_ns(Some("http://www.w3.org/2000/svg"), "circle") else {
            return;
        };
        let _ = el.set_attribute("cx", &format!("{x:.1}"));
        let _ = el.set_attribute("cy", &format!("{y:.1}"));
        let _ = el.set_attribute("r", "6");
        let _ = el.set_attribute("class", "pulse");
        st.live_pulses += 1;
        (el, pulses)
    };
    let _ = pulses.append_child(&el);
    let state = Rc::clone(state);
    set_timeout(
        move || {
            el.remove();
            state.borrow_mut().live_pulses -= 1;
        },
        Duration::from_millis(PULSE_MS),
    );
}
