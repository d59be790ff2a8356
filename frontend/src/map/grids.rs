//! The drawn grids and the map's own state outside the reactive graph: each grid's node, tally
//! and colour step, the frames' tallies kept even before the map is drawn, and the class
//! changes that recolour a grid, dim it outside the area shown, or pick it out.
//!
//! A grid's `class` is its step class and its marks, and it is set only when one of them
//! changes, from JavaScript strings made once, as a recolour touches 4,880 grids.

use super::geometry::{focus_view, in_scope};
use super::metric::{CLASSES, Metric};
use super::svg::Shape;
use crate::link::GridFrame;
use shared::wall::{GridTally, Scope};
use std::collections::HashMap;
use wasm_bindgen::JsCast;
use web_sys::Element;

/// A grid's mark as a following wall shows it: outside the area shown (dimmed).
const OUT: u8 = 1;
/// A grid's mark: the grid a seat picked out.
const CHOSEN: u8 = 2;
/// The classes added for each combination of marks, in the order of their bits.
const MARKS: [&str; 4] = ["", " out", " chosen", " out chosen"];

/// Every `class` a grid can have: each step class with each combination of marks.
fn class_names() -> Vec<String> {
    CLASSES
        .iter()
        .flat_map(|c| MARKS.iter().map(move |m| format!("{c}{m}")))
        .collect()
}

/// Where the `class` of step `bucket` with `marks` is in [`class_names`].
fn class_at(bucket: u8, marks: u8) -> usize {
    bucket as usize * MARKS.len() + marks as usize
}

/// A grid's marks: [`OUT`] when it lies outside the area shown, [`CHOSEN`] when it is picked.
fn marks_of(inside: bool, chosen: bool) -> u8 {
    (if inside { 0 } else { OUT }) | if chosen { CHOSEN } else { 0 }
}

/// One drawn grid.
pub(super) struct Grid {
    el: Element,
    residents: f64,
    /// Where its pulses appear, in viewBox units.
    pub(super) centre: (f64, f64),
    bucket: u8,
    tally: GridTally,
    /// Its bounding box in viewBox units: left, top, right, bottom.
    bounds: [f64; 4],
    district: String,
    street: String,
    /// [`OUT`] and [`CHOSEN`].
    marks: u8,
}

impl Grid {
    /// The grid of node `el`, drawn as `shape`, not yet coloured.
    pub(super) fn new(el: Element, shape: Option<&Shape>) -> Grid {
        Grid {
            el,
            residents: shape.map_or(0.0, |s| s.residents),
            centre: shape.map_or((0.0, 0.0), |s| s.centre),
            bucket: 0,
            tally: GridTally::default(),
            bounds: shape.map(|s| s.bounds).unwrap_or_default(),
            district: shape.map(|s| s.district.clone()).unwrap_or_default(),
            street: shape.map(|s| s.street.clone()).unwrap_or_default(),
            marks: 0,
        }
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `Element.setAttribute` with names and values that are JavaScript strings already:
    /// web-sys's version decodes two Rust strings per call, which was most of the time of
    /// a recolour of 4,880 grids.
    type Attributed;
    #[wasm_bindgen(method, js_name = setAttribute)]
    fn set_attribute_js(this: &Attributed, name: &js_sys::JsString, value: &js_sys::JsString);
}

/// The map's own state, outside the reactive graph.
#[derive(Default)]
pub(super) struct MapState {
    pub(super) grids: Vec<Grid>,
    pub(super) index: HashMap<String, usize>,
    /// The latest tally of every grid with cases, kept even before the map is drawn.
    tallies: HashMap<String, GridTally>,
    pub(super) pulses: Option<Element>,
    pub(super) live_pulses: u32,
    /// `class` and the step classes with every combination of marks (step × 4 + marks), as
    /// JavaScript strings made once.
    class_attr: Option<js_sys::JsString>,
    classes: Vec<js_sys::JsString>,
    /// The svg element and its whole-map `viewBox`, for zooming back out.
    pub(super) svg: Option<Element>,
    pub(super) full_view: String,
}

impl MapState {
    /// Takes the grids of a frame, into the drawn grids when the map is drawn.
    pub(super) fn take_frame(&mut self, frame: &GridFrame) {
        if frame.full {
            self.tallies.clear();
            for g in &mut self.grids {
                g.tally = GridTally::default();
            }
        }
        for (id, tally) in &frame.grids {
            self.tallies.insert(id.clone(), *tally);
            if let Some(&i) = self.index.get(id) {
                self.grids[i].tally = *tally;
            }
        }
    }

    /// Keeps the grids just drawn, with the tallies that came before them.
    pub(super) fn drawn(&mut self, grids: Vec<Grid>, index: HashMap<String, usize>) {
        self.grids = grids;
        self.index = index;
        for (id, tally) in &self.tallies {
            if let Some(&i) = self.index.get(id) {
                self.grids[i].tally = *tally;
            }
        }
        self.class_attr = Some(js_sys::JsString::from("class"));
        self.classes = class_names()
            .into_iter()
            .map(js_sys::JsString::from)
            .collect();
    }

    /// Marks the grids outside `scope` and the `chosen` one, and returns the `viewBox` that
    /// frames the grids of `scope` (the whole map for the city or an area with no grids).
    pub(super) fn focus(&mut self, scope: &Scope, chosen: Option<&String>) -> String {
        let chosen = chosen.and_then(|id| self.index.get(id).copied());
        let mut boxes = Vec::new();
        for (i, g) in self.grids.iter_mut().enumerate() {
            let inside = in_scope(scope, &g.district, &g.street);
            if inside {
                boxes.push(g.bounds);
            }
            let marks = marks_of(inside, chosen == Some(i));
            if marks != g.marks {
                g.marks = marks;
                if let (Some(attr), Some(class)) = (
                    &self.class_attr,
                    self.classes.get(class_at(g.bucket, marks)),
                ) {
                    g.el.unchecked_ref::<Attributed>()
                        .set_attribute_js(attr, class);
                }
            }
        }
        match scope {
            Scope::City => None,
            _ => focus_view(&boxes),
        }
        .map(|[x, y, w, h]| format!("{x:.1} {y:.1} {w:.1} {h:.1}"))
        .unwrap_or_else(|| self.full_view.clone())
    }

    /// Recolours the grids of `ids` (all when `None`), touching only grids whose step changed
    /// unless `force`.
    pub(super) fn recolour(
        &mut self,
        metric: Metric,
        ids: Option<&[(String, GridTally)]>,
        force: bool,
    ) {
        let Some(attr) = &self.class_attr else {
            return;
        };
        let classes = &self.classes;
        let set = |grid: &mut Grid| {
            let b = metric.bucket(metric.value(&grid.tally, grid.residents));
            if force || b != grid.bucket {
                grid.bucket = b;
                if let Some(class) = classes.get(class_at(b, grid.marks)) {
                    grid.el
                        .unchecked_ref::<Attributed>()
                        .set_attribute_js(attr, class);
                }
            }
        };
        match ids {
            Some(ids) => {
                for (id, _) in ids {
                    if let Some(&i) = self.index.get(id) {
                        set(&mut self.grids[i]);
                    }
                }
            }
            None => self.grids.iter_mut().for_each(set),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_has_a_class_for_every_combination_of_marks() {
        let names = class_names();
        assert_eq!(names.len(), CLASSES.len() * 4);
        assert_eq!(names[class_at(0, 0)], "s0");
        assert_eq!(names[class_at(3, marks_of(false, false))], "s3 out");
        assert_eq!(names[class_at(3, marks_of(true, true))], "s3 chosen");
        assert_eq!(names[class_at(6, marks_of(false, true))], "s6 out chosen");
        assert_eq!(class_at(6, OUT | CHOSEN), names.len() - 1);
    }

    #[test]
    fn frames_keep_their_tallies_until_a_snapshot_replaces_them() {
        let tally = |open| GridTally {
            open,
            ..GridTally::default()
        };
        let mut st = MapState::default();
        st.take_frame(&GridFrame {
            full: false,
            grids: vec![("G1".into(), tally(2)), ("G2".into(), tally(1))],
        });
        st.take_frame(&GridFrame {
            full: false,
            grids: vec![("G1".into(), tally(3))],
        });
        assert_eq!(st.tallies.get("G1"), Some(&tally(3)));
        assert_eq!(st.tallies.get("G2"), Some(&tally(1)));
        st.take_frame(&GridFrame {
            full: true,
            grids: vec![("G3".into(), tally(4))],
        });
        assert_eq!(
            st.tallies.len(),
            1,
            "a snapshot lists every grid with cases"
        );
        assert_eq!(st.tallies.get("G3"), Some(&tally(4)));
    }

    #[test]
    fn an_undrawn_map_frames_the_whole_map() {
        let mut st = MapState {
            full_view: "-8 -8 1016 516".into(),
            ..MapState::default()
        };
        assert_eq!(
            st.focus(&Scope::District("D1".into()), None),
            "-8 -8 1016 516"
        );
        assert_eq!(st.focus(&Scope::City, None), "-8 -8 1016 516");
    }
}
