//! The grid electronic map: every grid polygon of the scope as one SVG, drawn once from the
//! server's GeoJSON and recoloured grid by grid as frames arrive, with district and street
//! outlines, district labels, the places layers and a pulse where a case is reported.
//!
//! The polygons are plain DOM nodes owned here, not Leptos views: 4,880 reactive items would
//! cost memory and time for nothing, as a grid changes only its `class`.
//!
//! A wall following a control channel draws the whole city once and zooms by its `viewBox`,
//! so that a seat's switch of area costs no fetch and no redraw.

use crate::link::{ActivityKind, GridFrame, Link};
use crate::text::{self, t};
use leptos::prelude::*;
use serde::Deserialize;
use shared::control::Display;
use shared::wall::{GridTally, Scope};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;
use std::time::Duration;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::Element;

/// The map's drawing width in viewBox units; the height follows the scope's shape.
const VIEW_W: f64 = 1000.0;
/// How many pulses may be on the map at once: at 100 transitions a second the map would
/// otherwise fill with circles and the DOM would grow.
const MAX_PULSES: u32 = 24;
/// How long a pulse stays.
const PULSE_MS: u64 = 2_400;

/// What the grids are coloured by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Open,
    Overdue,
    Per1000,
    /// Households visited this month as a share of the grid's households, in percent.
    Coverage,
}

impl Metric {
    pub const ALL: [Metric; 4] = [
        Metric::Open,
        Metric::Overdue,
        Metric::Per1000,
        Metric::Coverage,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Metric::Open => "open",
            Metric::Overdue => "overdue",
            Metric::Per1000 => "per_1000",
            Metric::Coverage => "coverage",
        }
    }

    /// The metric of a code, as a seat names it.
    pub fn from_code(code: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Metric::Open => t().metric_open,
            Metric::Overdue => t().metric_overdue,
            Metric::Per1000 => t().metric_per_1000,
            Metric::Coverage => t().metric_coverage,
        }
    }

    /// The lower bound of each of the seven colour steps.
    pub fn steps(self) -> [f64; 7] {
        match self {
            Metric::Open => [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 7.0],
            Metric::Overdue => [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            Metric::Per1000 => [0.0, 20.0, 35.0, 50.0, 65.0, 80.0, 100.0],
            Metric::Coverage => [0.0, 5.0, 10.0, 20.0, 30.0, 50.0, 75.0],
        }
    }

    /// The legend's label for step `i`: counts as whole-number ranges ("5–6"), coverage as
    /// the lower bound of each step ("10%"), as a share falls between whole numbers and
    /// ranges would not fit beside the layer switches.
    pub fn legend(self, i: usize) -> String {
        let steps = self.steps();
        match self {
            Metric::Coverage if i + 1 == steps.len() => format!("{}%+", steps[i]),
            Metric::Coverage => format!("{}%", steps[i]),
            Metric::Open | Metric::Overdue | Metric::Per1000 => step_label(&steps, i),
        }
    }

    fn value(self, tally: &GridTally, residents: f64) -> f64 {
        match self {
            Metric::Open => tally.open as f64,
            Metric::Overdue => tally.overdue as f64,
            Metric::Per1000 if residents > 0.0 => tally.reported_total as f64 * 1000.0 / residents,
            Metric::Per1000 => 0.0,
            Metric::Coverage => tally.coverage() * 100.0,
        }
    }

    fn bucket(self, value: f64) -> u8 {
        self.steps().iter().rposition(|&s| value >= s).unwrap_or(0) as u8
    }
}

/// The legend's label for step `i` of `steps`: "3", "5–6", "7+".
pub fn step_label(steps: &[f64; 7], i: usize) -> String {
    let lo = steps[i];
    match steps.get(i + 1) {
        None => format!("{lo}+"),
        Some(&hi) if hi - lo <= 1.0 => format!("{lo}"),
        Some(&hi) => format!("{lo}–{}", hi - 1.0),
    }
}

/// The step classes, coloured by the stylesheet (viridis, safe for colour-blind viewers).
const CLASSES: [&str; 7] = ["s0", "s1", "s2", "s3", "s4", "s5", "s6"];
/// A grid's mark as a following wall shows it: outside the area shown (dimmed).
const OUT: u8 = 1;
/// A grid's mark: the grid a seat picked out.
const CHOSEN: u8 = 2;
/// The classes added for each combination of marks, in the order of their bits.
const MARKS: [&str; 4] = ["", " out", " chosen", " out chosen"];

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

#[derive(Deserialize)]
struct Collection<P> {
    features: Vec<Feature<P>>,
}

#[derive(Deserialize)]
struct Feature<P> {
    properties: P,
    geometry: Geometry,
}

#[derive(Deserialize)]
#[serde(tag = "type", content = "coordinates")]
enum Geometry {
    Polygon(Vec<Vec<[f64; 2]>>),
    MultiPolygon(Vec<Vec<Vec<[f64; 2]>>>),
    Point([f64; 2]),
}

impl Geometry {
    fn rings(&self) -> Vec<&Vec<[f64; 2]>> {
        match self {
            Geometry::Polygon(rings) => rings.iter().collect(),
            Geometry::MultiPolygon(polys) => polys.iter().flatten().collect(),
            Geometry::Point(_) => Vec::new(),
        }
    }
}

#[derive(Deserialize)]
struct GridProps {
    id: String,
    street_code: String,
    district_code: String,
    #[serde(default)]
    residents: i64,
}

#[derive(Deserialize)]
struct AreaProps {
    code: String,
    name: String,
    /// The English name, which districts carry.
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    district_code: Option<String>,
}

impl AreaProps {
    /// The name in the page's language: the English one when the page reads English and the
    /// area has one, the Chinese one otherwise.
    fn label(&self) -> &str {
        match &self.name_en {
            Some(en) if text::english() && !en.trim().is_empty() => en,
            _ => &self.name,
        }
    }
}

#[derive(Deserialize)]
struct PlaceProps {
    kind: String,
}

/// One drawn grid.
struct Grid {
    el: Element,
    residents: f64,
    centre: (f64, f64),
    bucket: u8,
    tally: GridTally,
    /// Its bounding box in viewBox units: left, top, right, bottom.
    bounds: [f64; 4],
    district: String,
    street: String,
    /// [`OUT`] and [`CHOSEN`].
    marks: u8,
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
struct MapState {
    grids: Vec<Grid>,
    index: HashMap<String, usize>,
    /// The latest tally of every grid with cases, kept even before the map is drawn.
    tallies: HashMap<String, GridTally>,
    pulses: Option<Element>,
    live_pulses: u32,
    /// `class` and the step classes with every combination of marks (step × 4 + marks), as
    /// JavaScript strings made once.
    class_attr: Option<js_sys::JsString>,
    classes: Vec<js_sys::JsString>,
    /// The svg element and its whole-map `viewBox`, for zooming back out.
    svg: Option<Element>,
    full_view: String,
}

impl MapState {
    /// Takes the grids of a frame, into the drawn grids when the map is drawn.
    fn take_frame(&mut self, frame: &GridFrame) {
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
    fn drawn(&mut self, grids: Vec<Grid>, index: HashMap<String, usize>) {
        self.grids = grids;
        self.index = index;
        for (id, tally) in &self.tallies {
            if let Some(&i) = self.index.get(id) {
                self.grids[i].tally = *tally;
            }
        }
        self.class_attr = Some(js_sys::JsString::from("class"));
        self.classes = CLASSES
            .iter()
            .flat_map(|c| {
                MARKS
                    .iter()
                    .map(move |m| js_sys::JsString::from(format!("{c}{m}")))
            })
            .collect();
    }

    /// Marks the grids outside `scope` and the `chosen` one, and returns the `viewBox` that
    /// frames the grids of `scope` (the whole map for the city or an area with no grids).
    fn focus(&mut self, scope: &Scope, chosen: Option<&String>) -> String {
        let chosen = chosen.and_then(|id| self.index.get(id).copied());
        let mut boxes = Vec::new();
        for (i, g) in self.grids.iter_mut().enumerate() {
            let inside = in_scope(scope, &g.district, &g.street);
            if inside {
                boxes.push(g.bounds);
            }
            let marks = if inside { 0 } else { OUT } | if chosen == Some(i) { CHOSEN } else { 0 };
            if marks != g.marks {
                g.marks = marks;
                if let (Some(attr), Some(class)) = (
                    &self.class_attr,
                    self.classes.get(g.bucket as usize * 4 + marks as usize),
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
    fn recolour(&mut self, metric: Metric, ids: Option<&[(String, GridTally)]>, force: bool) {
        let Some(attr) = &self.class_attr else {
            return;
        };
        let classes = &self.classes;
        let set = |grid: &mut Grid| {
            let b = metric.bucket(metric.value(&grid.tally, grid.residents));
            if force || b != grid.bucket {
                grid.bucket = b;
                if let Some(class) = classes.get(b as usize * 4 + grid.marks as usize) {
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

/// Fetches a document from the server as text.
async fn fetch_text(url: &str) -> Result<String, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str(url))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from_str(&format!("{url}: {}", response.status())));
    }
    let text = JsFuture::from(response.text()?).await?;
    text.as_string()
        .ok_or_else(|| JsValue::from_str("not text"))
}

async fn fetch_json<T: for<'de> Deserialize<'de>>(url: &str) -> Result<T, JsValue> {
    let text = fetch_text(url).await?;
    serde_json::from_str(&text).map_err(|e| JsValue::from_str(&format!("{url}: {e}")))
}

/// Longitude and latitude to viewBox units: an equirectangular projection scaled by the
/// cosine of the middle latitude, which is exact enough for one city.
#[derive(Debug, Clone, Copy)]
struct Projection {
    lon0: f64,
    lat1: f64,
    k: f64,
    kx: f64,
    height: f64,
}

impl Projection {
    fn fit(points: impl Iterator<Item = [f64; 2]>) -> Projection {
        let (mut lo0, mut lo1, mut la0, mut la1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for [lon, lat] in points {
            lo0 = lo0.min(lon);
            lo1 = lo1.max(lon);
            la0 = la0.min(lat);
            la1 = la1.max(lat);
        }
        if lo0 > lo1 {
            (lo0, lo1, la0, la1) = (0.0, 1.0, 0.0, 1.0);
        }
        let kx = ((la0 + la1) / 2.0).to_radians().cos();
        let k = VIEW_W / ((lo1 - lo0) * kx).max(1e-9);
        Projection {
            lon0: lo0,
            lat1: la1,
            k,
            kx,
            height: (la1 - la0) * k,
        }
    }

    fn xy(&self, [lon, lat]: [f64; 2]) -> (f64, f64) {
        (
            (lon - self.lon0) * self.kx * self.k,
            (self.lat1 - lat) * self.k,
        )
    }
}

/// Appends an SVG path for `rings` to `out`, one decimal place per coordinate.
fn path_data(out: &mut String, proj: &Projection, rings: &[&Vec<[f64; 2]>]) {
    for ring in rings {
        for (i, &p) in ring.iter().enumerate() {
            let (x, y) = proj.xy(p);
            let _ = write!(out, "{}{x:.1} {y:.1}", if i == 0 { 'M' } else { 'L' });
        }
        out.push('Z');
    }
}

/// The average of a polygon's outer vertices: inside it, as the demo city's cells are convex.
fn centre(proj: &Projection, rings: &[&Vec<[f64; 2]>]) -> (f64, f64) {
    let Some(ring) = rings.first() else {
        return (0.0, 0.0);
    };
    let n = ring.len().max(1) as f64;
    let (sx, sy) = ring.iter().fold((0.0, 0.0), |(sx, sy), &p| {
        let (x, y) = proj.xy(p);
        (sx + x, sy + y)
    });
    (sx / n, sy / n)
}

/// A long name of several words as two lines, split at the space nearest its middle: English
/// names ("Dorbod Mongol Autonomous County") are three times as long as Chinese ones and would
/// run over their neighbours on one line.
fn label_lines(name: &str) -> Option<(&str, &str)> {
    if name.chars().count() <= 10 {
        return None;
    }
    let middle = name.len() / 2;
    let (at, _) = name
        .match_indices(' ')
        .min_by_key(|(i, _)| i.abs_diff(middle))?;
    Some((&name[..at], &name[at + 1..]))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;")
}

/// Whether a grid of `district` and `street` belongs to `scope`.
fn in_scope(scope: &Scope, district: &str, street: &str) -> bool {
    match scope {
        Scope::City => true,
        Scope::District(code) => district == code,
        Scope::Street(code) => street == code,
    }
}

/// The bounding box (left, top, right, bottom) of a polygon's outer rings.
fn bounds(proj: &Projection, rings: &[&Vec<[f64; 2]>]) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for &p in rings.iter().flat_map(|r| r.iter()) {
        let (x, y) = proj.xy(p);
        b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
    }
    b
}

/// The `viewBox` (x, y, width, height) framing `boxes` with a margin of a tenth of its
/// longer side on every edge, so that the area does not touch the panel's border; `None`
/// when there is nothing to frame.
fn focus_view(boxes: &[[f64; 4]]) -> Option<[f64; 4]> {
    let b = boxes
        .iter()
        .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, g| {
            [
                b[0].min(g[0]),
                b[1].min(g[1]),
                b[2].max(g[2]),
                b[3].max(g[3]),
            ]
        });
    if b[0] > b[2] || b[1] > b[3] {
        return None;
    }
    let margin = ((b[2] - b[0]).max(b[3] - b[1]) * 0.1).max(2.0);
    Some([
        b[0] - margin,
        b[1] - margin,
        b[2] - b[0] + 2.0 * margin,
        b[3] - b[1] + 2.0 * margin,
    ])
}

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

/// What [`draw`] leaves: the grids, their index, the pulse group, the svg and its `viewBox`.
type Drawn = (Vec<Grid>, HashMap<String, usize>, Element, Element, String);

/// Fetches the map documents and draws them into `host`; returns the drawn grids. With
/// `keep_names` the names of the areas are kept for the breadcrumbs.
async fn draw(host: Element, scope: Scope, keep_names: bool) -> Result<Drawn, JsValue> {
    let grids: Collection<GridProps> = fetch_json("/api/grids.geojson").await?;
    let districts: Collection<AreaProps> = fetch_json("/api/districts.geojson").await?;
    let streets: Collection<AreaProps> = fetch_json("/api/streets.geojson").await?;
    let places: Collection<PlaceProps> =
        fetch_json("/api/places.geojson")
            .await
            .unwrap_or(Collection {
                features: Vec::new(),
            });

    let grids: Vec<Feature<GridProps>> = grids
        .features
        .into_iter()
        .filter(|f| {
            in_scope(
                &scope,
                &f.properties.district_code,
                &f.properties.street_code,
            )
        })
        .collect();
    if keep_names {
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
    let proj = Projection::fit(
        grids
            .iter()
            .flat_map(|f| f.geometry.rings().into_iter().flatten().copied()),
    );
    let keep_area = |code: &str, district: Option<&str>, is_district: bool| match &scope {
        Scope::City => true,
        Scope::District(d) => {
            if is_district {
                code == d
            } else {
                district == Some(d.as_str())
            }
        }
        Scope::Street(s) => !is_district && code == s,
    };

    let mut svg = String::with_capacity(grids.len() * 120);
    let full_view = format!("-8 -8 {:.0} {:.0}", VIEW_W + 16.0, proj.height + 16.0);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="map-svg" viewBox="{full_view}" preserveAspectRatio="xMidYMid meet"><g class="grids">"#,
    );
    let mut centres = Vec::with_capacity(grids.len());
    let mut boxes = Vec::with_capacity(grids.len());
    let mut residents = Vec::with_capacity(grids.len());
    let mut index = HashMap::with_capacity(grids.len());
    for (i, f) in grids.iter().enumerate() {
        let rings = f.geometry.rings();
        let _ = write!(
            svg,
            r#"<path class="s0" data-grid-id="{}" d=""#,
            escape(&f.properties.id)
        );
        path_data(&mut svg, &proj, &rings);
        svg.push_str(r#""/>"#);
        centres.push(centre(&proj, &rings));
        boxes.push(bounds(&proj, &rings));
        residents.push(f.properties.residents as f64);
        index.insert(f.properties.id.clone(), i);
    }
    svg.push_str(r#"</g><g class="streets"><path d=""#);
    for f in &streets.features {
        if keep_area(
            &f.properties.code,
            f.properties.district_code.as_deref(),
            false,
        ) {
            path_data(&mut svg, &proj, &f.geometry.rings());
        }
    }
    svg.push_str(r#""/></g><g class="districts"><path d=""#);
    for f in &districts.features {
        if keep_area(&f.properties.code, None, true) {
            path_data(&mut svg, &proj, &f.geometry.rings());
        }
    }
    svg.push_str(r#""/></g>"#);
    // Places, one path per layer: a few thousand markers as three DOM nodes.
    for (kind, shape) in [
        ("grid_station", "s"),
        ("mediation_centre", "d"),
        ("key_place", "c"),
    ] {
        let _ = write!(svg, r#"<path class="layer layer-{kind}" d=""#);
        for f in &places.features {
            if f.properties.kind != kind {
                continue;
            }
            if let Geometry::Point(p) = f.geometry {
                let (x, y) = proj.xy(p);
                if !(0.0..=VIEW_W).contains(&x) || !(0.0..=proj.height).contains(&y) {
                    continue;
                }
                let _ = match shape {
                    "s" => write!(svg, "M{:.1} {:.1}h2v2h-2Z", x - 1.0, y - 1.0),
                    "d" => write!(svg, "M{x:.1} {:.1}l3 3l-3 3l-3 -3Z", y - 3.0),
                    _ => write!(
                        svg,
                        "M{:.1} {y:.1}a1.2 1.2 0 1 0 2.4 0a1.2 1.2 0 1 0 -2.4 0Z",
                        x - 1.2
                    ),
                };
            }
        }
        svg.push_str(r#""/>"#);
    }
    svg.push_str(r#"<g class="labels">"#);
    let label_areas: Vec<&Feature<AreaProps>> = match &scope {
        Scope::Street(_) => streets
            .features
            .iter()
            .filter(|f| keep_area(&f.properties.code, None, false))
            .collect(),
        _ => districts
            .features
            .iter()
            .filter(|f| keep_area(&f.properties.code, None, true))
            .collect(),
    };
    for f in label_areas {
        let (x, y) = centre(&proj, &f.geometry.rings());
        let _ = write!(svg, r#"<text x="{x:.1}" y="{y:.1}">"#);
        match label_lines(f.properties.label()) {
            // The first line keeps its trailing space, so that the text reads as one name.
            Some((first, second)) => {
                let _ = write!(
                    svg,
                    r#"<tspan x="{x:.1}" dy="-0.55em">{} </tspan><tspan x="{x:.1}" dy="1.1em">{}</tspan>"#,
                    escape(first),
                    escape(second)
                );
            }
            None => svg.push_str(&escape(f.properties.label())),
        }
        svg.push_str("</text>");
    }
    svg.push_str(r#"</g><g class="pulses"></g></svg>"#);
    host.set_inner_html(&svg);

    let group = host.query_selector("g.grids")?.ok_or("no grid group")?;
    let children = group.children();
    let mut drawn = Vec::with_capacity(grids.len());
    for i in 0..children.length() {
        if let Some(el) = children.item(i) {
            let k = i as usize;
            let props = grids.get(k).map(|f| &f.properties);
            drawn.push(Grid {
                el,
                residents: residents.get(k).copied().unwrap_or(0.0),
                centre: centres.get(k).copied().unwrap_or((0.0, 0.0)),
                bucket: 0,
                tally: GridTally::default(),
                bounds: boxes.get(k).copied().unwrap_or_default(),
                district: props.map(|p| p.district_code.clone()).unwrap_or_default(),
                street: props.map(|p| p.street_code.clone()).unwrap_or_default(),
                marks: 0,
            });
        }
    }
    let pulses = host.query_selector("g.pulses")?.ok_or("no pulse group")?;
    let svg_el = host.query_selector("svg")?.ok_or("no svg")?;
    Ok((drawn, index, pulses, svg_el, full_view))
}

/// Waits `ms` milliseconds.
async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
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

/// Adds a short-lived pulse at a grid's centre; removes it when its animation is over.
fn pulse(state: &Rc<RefCell<MapState>>, grid_id: &str) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_into_their_steps() {
        assert_eq!(Metric::Open.bucket(0.0), 0);
        assert_eq!(Metric::Open.bucket(1.0), 1);
        assert_eq!(Metric::Open.bucket(6.0), 5);
        assert_eq!(Metric::Open.bucket(70.0), 6);
        assert_eq!(Metric::Per1000.bucket(49.9), 2);
        let half = GridTally {
            households: 200,
            households_visited_month: 100,
            ..GridTally::default()
        };
        assert_eq!(Metric::Coverage.value(&half, 0.0), 50.0);
        assert_eq!(Metric::Coverage.bucket(50.0), 5);
        assert_eq!(Metric::Coverage.bucket(4.9), 0);
    }

    #[test]
    fn long_names_break_into_two_lines_near_their_middle() {
        assert_eq!(label_lines("萨尔图区"), None);
        assert_eq!(label_lines("Sartu"), None);
        assert_eq!(label_lines("Sartu District"), Some(("Sartu", "District")));
        assert_eq!(
            label_lines("Dorbod Mongol Autonomous County"),
            Some(("Dorbod Mongol", "Autonomous County"))
        );
        assert_eq!(label_lines("杜尔伯特蒙古族自治县"), None);
    }

    #[test]
    fn a_focus_frames_its_grids_with_a_margin() {
        assert_eq!(focus_view(&[]), None);
        // Two grids spanning 100 × 50: a margin of 10 on every side.
        let view = focus_view(&[[100.0, 200.0, 150.0, 230.0], [140.0, 210.0, 200.0, 250.0]]);
        assert_eq!(view, Some([90.0, 190.0, 120.0, 70.0]));
        // A tiny area still gets a margin that can be seen.
        assert_eq!(
            focus_view(&[[5.0, 5.0, 6.0, 6.0]]),
            Some([3.0, 3.0, 5.0, 5.0])
        );
    }

    #[test]
    fn a_display_overrides_the_walls_own_scope() {
        let own = Scope::District("230602".into());
        assert_eq!(shown_scope(None, &own), own);
        let d = Display::live(Scope::Street("230603001".into()));
        assert_eq!(
            shown_scope(Some(&d), &own),
            Scope::Street("230603001".into())
        );
        assert_eq!(Metric::from_code("per_1000"), Some(Metric::Per1000));
        assert_eq!(Metric::from_code("nope"), None);
    }

    #[test]
    fn legend_labels_name_ranges() {
        let steps = Metric::Open.steps();
        assert_eq!(step_label(&steps, 0), "0");
        assert_eq!(step_label(&steps, 5), "5–6");
        assert_eq!(step_label(&steps, 6), "7+");
        assert_eq!(Metric::Open.legend(5), "5–6");
        assert_eq!(Metric::Coverage.legend(0), "0%");
        assert_eq!(Metric::Coverage.legend(6), "75%+");
    }
}
