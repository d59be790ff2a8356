//! The event charts, drawn with plotters on canvases: the 24-hour trend, the 15 categories and
//! the department ranking. Drawing is kept apart from the data: each function takes plain
//! numbers and a canvas sized to its box at the device's pixel ratio.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use web_sys::HtmlCanvasElement;

const TEXT: RGBColor = RGBColor(0xc9, 0xd6, 0xea);
const MUTED: RGBColor = RGBColor(0x6f, 0x80, 0x9c);
const RULE: RGBColor = RGBColor(0x22, 0x33, 0x52);
const ACCENT: RGBColor = RGBColor(0x35, 0xb7, 0x79);
const BAR: RGBColor = RGBColor(0x21, 0x91, 0x8c);
const BAR_HI: RGBColor = RGBColor(0xfd, 0xe7, 0x25);
const FONT: &str =
    "Noto Sans CJK SC, Noto Sans SC, Source Han Sans SC, WenQuanYi Micro Hei, sans-serif";

/// Sizes the canvas's backing store to its box times the pixel ratio and returns the scale of
/// one CSS pixel and the root font size (one `rem`) in canvas pixels.
pub fn fit(canvas: &HtmlCanvasElement) -> Option<(f64, f64)> {
    let window = web_sys::window()?;
    let dpr = window.device_pixel_ratio().max(1.0);
    let w = (f64::from(canvas.client_width()) * dpr).round() as u32;
    let h = (f64::from(canvas.client_height()) * dpr).round() as u32;
    if w == 0 || h == 0 {
        return None;
    }
    if canvas.width() != w {
        canvas.set_width(w);
    }
    if canvas.height() != h {
        canvas.set_height(h);
    }
    // Plotters draws over what is there: clear the last drawing first, or it shows through.
    if let Ok(Some(ctx)) = canvas.get_context("2d")
        && let Ok(ctx) = ctx.dyn_into::<web_sys::CanvasRenderingContext2d>()
    {
        ctx.clear_rect(0.0, 0.0, f64::from(w), f64::from(h));
    }
    let rem = window
        .document()
        .and_then(|d| d.document_element())
        .and_then(|e| window.get_computed_style(&e).ok().flatten())
        .and_then(|s| s.get_property_value("font-size").ok())
        .and_then(|v| v.trim_end_matches("px").parse::<f64>().ok())
        .unwrap_or(16.0);
    Some((dpr, rem * dpr))
}

fn font(px: f64, color: RGBColor) -> TextStyle<'static> {
    (FONT, px).into_font().color(&color)
}

/// Reports per hour over the last 24 hours; `hour` is the current hour (hours since the
/// epoch, local time), whose count is last.
pub fn trend(canvas: &HtmlCanvasElement, counts: &[u64], hour: i64) {
    let Some((dpr, rem)) = fit(canvas) else {
        return;
    };
    let Some(backend) = CanvasBackend::with_canvas_object(canvas.clone()) else {
        return;
    };
    let root = backend.into_drawing_area();
    let _ = root.fill(&TRANSPARENT);
    let max = counts.iter().copied().max().unwrap_or(0).max(4);
    let n = counts.len().max(1) as i32;
    let built = ChartBuilder::on(&root)
        .margin((0.3 * rem) as u32)
        .x_label_area_size((1.3 * rem) as u32)
        .y_label_area_size((2.2 * rem) as u32)
        .build_cartesian_2d(0..n - 1, 0u64..max + max / 5);
    let Ok(mut chart) = built else { return };
    let label_hour = move |i: &i32| {
        let h = (hour - i64::from(n - 1 - *i)).rem_euclid(24);
        format!("{h:02}")
    };
    let _ = chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(RULE.stroke_width(dpr as u32))
        .light_line_style(TRANSPARENT)
        .axis_style(RULE.stroke_width(dpr as u32))
        .x_labels(8)
        .y_labels(4)
        .x_label_formatter(&label_hour)
        .label_style(font(0.75 * rem, MUTED))
        .draw();
    let _ = chart.draw_series(
        AreaSeries::new(
            counts.iter().enumerate().map(|(i, &c)| (i as i32, c)),
            0,
            ACCENT.mix(0.25),
        )
        .border_style(ACCENT.stroke_width((2.0 * dpr) as u32)),
    );
    let _ = root.present();
}

/// Horizontal bars, one row each: a name (given `name_chars` characters of room), a bar
/// scaled to the largest value, and a note. The first `highlight` rows are bright.
pub fn bars(
    canvas: &HtmlCanvasElement,
    rows: &[(&str, u64, String)],
    name_chars: f64,
    highlight: usize,
) {
    let Some((_, rem)) = fit(canvas) else {
        return;
    };
    let Some(backend) = CanvasBackend::with_canvas_object(canvas.clone()) else {
        return;
    };
    let root = backend.into_drawing_area();
    let _ = root.fill(&TRANSPARENT);
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (f64::from(w), f64::from(h));
    let n = rows.len().max(1) as f64;
    let row_h = h / n;
    let text_px = (row_h * 0.62).min(0.85 * rem);
    let name_w = (name_chars + 0.6) * text_px;
    let note_w = 4.2 * text_px;
    let bar_w = (w - name_w - note_w).max(1.0);
    let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    for (i, (name, value, note)) in rows.iter().enumerate() {
        let y = i as f64 * row_h;
        let mid = (y + row_h / 2.0) as i32;
        let style = font(text_px, TEXT).pos(Pos::new(HPos::Left, VPos::Center));
        let _ = root.draw(&Text::new(name.to_string(), (0, mid), style));
        let len = bar_w * (*value as f64 / max);
        let colour = if i < highlight { BAR_HI } else { BAR };
        let _ = root.draw(&Rectangle::new(
            [
                (name_w as i32, (y + row_h * 0.2) as i32),
                ((name_w + len.max(1.0)) as i32, (y + row_h * 0.8) as i32),
            ],
            colour.filled(),
        ));
        let style = font(text_px, MUTED).pos(Pos::new(HPos::Right, VPos::Center));
        let _ = root.draw(&Text::new(note.clone(), (w as i32, mid), style));
    }
    let _ = root.present();
}
