//! The map drawn into its host: the documents fetched, the SVG written and set at once, and
//! the nodes the map updates later picked up (each grid's path, the pulses' group, the svg).

use super::areas;
use super::documents::Documents;
use super::grids::Grid;
use super::svg::picture;
use shared::wall::Scope;
use std::collections::HashMap;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::Element;

/// What [`draw`] leaves: the grids, their index, the pulse group, the svg and its `viewBox`.
pub(super) type Drawn = (Vec<Grid>, HashMap<String, usize>, Element, Element, String);

/// Fetches the map documents and draws them into `host`; returns the drawn grids. With
/// `keep_names` the names of the areas are kept for the breadcrumbs.
pub(super) async fn draw(host: Element, scope: Scope, keep_names: bool) -> Result<Drawn, JsValue> {
    let docs = Documents::fetch().await?;
    if keep_names {
        areas::keep(&docs.districts, &docs.streets);
    }
    let drawn = picture(&scope, &docs);
    host.set_inner_html(&drawn.svg);

    let group = host.query_selector("g.grids")?.ok_or("no grid group")?;
    let children = group.children();
    let mut grids = Vec::with_capacity(drawn.shapes.len());
    for i in 0..children.length() {
        if let Some(el) = children.item(i) {
            grids.push(Grid::new(el, drawn.shapes.get(i as usize)));
        }
    }
    let pulses = host.query_selector("g.pulses")?.ok_or("no pulse group")?;
    let svg_el = host.query_selector("svg")?.ok_or("no svg")?;
    Ok((grids, drawn.index, pulses, svg_el, drawn.full_view))
}

/// Waits `ms` milliseconds.
pub(super) async fn sleep_ms(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}
