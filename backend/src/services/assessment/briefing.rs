//! The briefing image (考核简报) for meetings: a 1600×900 picture of a period's key figures,
//! the departments' and the streets' on-time closure rates and the daily reports, drawn with
//! plotters as SVG or as PNG.
//!
//! One drawing routine serves both backends. It places every label itself rather than
//! letting plotters lay out axes (which would need plotters to measure text with a font), so
//! the SVG, whose text the viewer sets, needs no font file on the server; only the PNG needs
//! the CJK font (`--briefing-font`), read once per path, and sets its text itself (see `Pen`).

use crate::error::AppError;
use ab_glyph::{Font, FontArc, FontVec, GlyphId, PxScale, ScaleFont, point};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use shared::assess::{Period, PeriodFigures, RankRow};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The picture's size: a 16:9 slide.
pub const WIDTH: u32 = 1600;
pub const HEIGHT: u32 = 900;

/// The font the SVG names: the viewer sets the text with the first of them it has.
const SVG_FONTS: &str =
    "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, sans-serif";
/// Bars per chart.
const TOP: usize = 10;

const INK: RGBColor = RGBColor(0x1d, 0x2b, 0x3a);
const MUTED: RGBColor = RGBColor(0x5f, 0x6b, 0x7a);
const RULE: RGBColor = RGBColor(0xd5, 0xdb, 0xe3);
const PANEL: RGBColor = RGBColor(0xf3, 0xf6, 0xf9);
const BANNER: RGBColor = RGBColor(0x0b, 0x3d, 0x91);
const BAR: RGBColor = RGBColor(0x1f, 0x77, 0xb4);
const STREET_BAR: RGBColor = RGBColor(0x2c, 0xa0, 0x6b);
const LATE: RGBColor = RGBColor(0xd6, 0x45, 0x3d);

/// What the briefing shows, read from the database beforehand.
#[derive(Debug, Clone)]
pub struct Briefing {
    pub scope_name: String,
    pub period: Period,
    /// The period as the centre's dates, `2026-01-01 至 2026-01-31`.
    pub period_text: String,
    pub figures: PeriodFigures,
    /// The departments' ranking, best first.
    pub departments: Vec<RankRow>,
    /// The streets' ranking, best first.
    pub streets: Vec<RankRow>,
    /// Reports per local day (`YYYY-MM-DD`), every day of the period.
    pub daily: Vec<(String, u64)>,
}

/// A drawing failure: the backends' errors are internal, never the caller's.
fn drawing_error(err: impl std::fmt::Display) -> AppError {
    AppError::Internal(format!("cannot draw the briefing: {err}"))
}

/// The briefing as an SVG document.
pub fn svg(b: &Briefing) -> Result<String, AppError> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, b, Pen { glyphs: None }).map_err(drawing_error)?;
        root.present().map_err(drawing_error)?;
    }
    Ok(out)
}

/// The briefing as a PNG image, its text set in `font`.
pub fn png(b: &Briefing, font: &FontArc) -> Result<Vec<u8>, AppError> {
    let mut pixels = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, b, Pen { glyphs: Some(font) }).map_err(drawing_error)?;
        root.present().map_err(drawing_error)?;
    }
    let mut out = Vec::with_capacity(pixels.len() / 8);
    {
        let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(drawing_error)?;
        writer.write_image_data(&pixels).map_err(drawing_error)?;
        writer.finish().map_err(drawing_error)?;
    }
    Ok(out)
}

/// The fonts read so far, by path: each file is read and parsed once.
static FONTS: Mutex<BTreeMap<PathBuf, FontArc>> = Mutex::new(BTreeMap::new());

/// The font at `path`, read on first use. A font that cannot be read is a 503 naming the
/// option, and is tried again on the next request, so that installing it needs no restart.
pub fn font(path: &Path) -> Result<FontArc, AppError> {
    let mut fonts = FONTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(font) = fonts.get(path) {
        return Ok(font.clone());
    }
    let unavailable = |why: String| {
        tracing::warn!(path = %path.display(), why, "the PNG briefing has no font");
        AppError::Unavailable(format!(
            "the PNG briefing needs a font with Chinese glyphs: --briefing-font \
             (GRIDWALL_BRIEFING_FONT) names {}, which {why}; install fonts-noto-cjk or point the \
             option at a .ttf, .otf or .ttc font (the SVG briefing needs no font file)",
            path.display()
        ))
    };
    let bytes = std::fs::read(path).map_err(|e| unavailable(format!("cannot be read ({e})")))?;
    let face = chinese_face(&bytes).map_err(unavailable)?;
    let size = bytes.len();
    let font = FontVec::try_from_vec_and_index(bytes, face)
        .map_err(|_| unavailable("is not a font ab_glyph can read".to_owned()))?;
    tracing::info!(path = %path.display(), face, bytes = size, "font for the PNG briefing loaded");
    let font = FontArc::from(font);
    fonts.insert(path.to_owned(), font.clone());
    Ok(font)
}

/// The face of a font collection to draw Chinese with: its Simplified Chinese face (Noto Sans
/// CJK's first face is the Japanese one, whose forms of some characters differ from those
/// read in China), else its first. A single font is face 0. It must have Chinese glyphs.
fn chinese_face(bytes: &[u8]) -> Result<u32, String> {
    let mut chosen = 0;
    if let Some(count) = ttf_parser::fonts_in_collection(bytes) {
        for index in 0..count {
            let Ok(face) = ttf_parser::Face::parse(bytes, index) else {
                continue;
            };
            let simplified = face.names().into_iter().any(|name| {
                matches!(
                    name.name_id,
                    ttf_parser::name_id::FAMILY | ttf_parser::name_id::TYPOGRAPHIC_FAMILY
                ) && name
                    .to_string()
                    .is_some_and(|n| n.split_whitespace().any(|w| w == "SC"))
            });
            if simplified {
                chosen = index;
                break;
            }
        }
    }
    let face =
        ttf_parser::Face::parse(bytes, chosen).map_err(|e| format!("is not a font ({e})"))?;
    if face.glyph_index('综').is_none() {
        return Err("has no Chinese glyphs".to_owned());
    }
    Ok(chosen)
}

/// How text is set. plotters' own text drawing on a bitmap (its `ab_glyph` feature, 0.3.7)
/// drops each glyph's left side bearing, which runs Chinese characters into each other
/// (每日 drawn as one blot, then a gap), so on a bitmap the briefing sets its text itself
/// with ab_glyph, pixel by pixel through plotters; an SVG gets plotters' `<text>` elements,
/// which the viewer sets.
#[derive(Clone, Copy)]
struct Pen<'a> {
    /// The font for a bitmap; `None` for an SVG.
    glyphs: Option<&'a FontArc>,
}

impl Pen<'_> {
    /// Writes `text` at `(x, y)` in `size` pixels (the em), anchored as `h` and `v` say.
    #[allow(clippy::too_many_arguments)]
    fn text<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        text: &str,
        (x, y): (i32, i32),
        size: f64,
        color: &RGBColor,
        (h, v): (HPos, VPos),
        heavy: bool,
    ) -> DrawResult<DB> {
        let Some(font) = self.glyphs else {
            // plotters' SVG writes the size divided by 1.24 as the CSS font size.
            let style = FontDesc::new(
                FontFamily::Name(SVG_FONTS),
                size * 1.24,
                if heavy {
                    FontStyle::Bold
                } else {
                    FontStyle::Normal
                },
            );
            let style = TextStyle::from(style).color(color).pos(Pos::new(h, v));
            return root.draw(&Text::new(text.to_owned(), (x, y), style));
        };
        let font = font.as_scaled(PxScale::from(size as f32));
        let ids: Vec<GlyphId> = text.chars().map(|c| font.glyph_id(c)).collect();
        let mut width = 0.0f32;
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                width += font.kern(ids[i - 1], *id);
            }
            width += font.h_advance(*id);
        }
        let left = match h {
            HPos::Left => x as f32,
            HPos::Center => x as f32 - width / 2.0,
            HPos::Right => x as f32 - width,
        };
        // Anchored by the em box: ascent above the baseline, descent (negative) below.
        let baseline = match v {
            VPos::Top => y as f32 + font.ascent(),
            VPos::Center => y as f32 + (font.ascent() + font.descent()) / 2.0,
            VPos::Bottom => y as f32 + font.descent(),
        };
        let mut caret = left;
        let mut failed = None;
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                caret += font.kern(ids[i - 1], *id);
            }
            let glyph = id.with_scale_and_position(font.scale(), point(caret, baseline));
            caret += font.h_advance(*id);
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            // No bold face is loaded: a heavy text is drawn twice, a pixel apart.
            for shift in if heavy { 0..2 } else { 0..1 } {
                outline.draw(|gx, gy, coverage| {
                    if failed.is_some() || coverage <= 0.0 {
                        return;
                    }
                    let at = (
                        bounds.min.x as i32 + gx as i32 + shift,
                        bounds.min.y as i32 + gy as i32,
                    );
                    if let Err(e) = root.draw_pixel(at, &color.mix(f64::from(coverage.min(1.0)))) {
                        failed = Some(e);
                    }
                });
            }
        }
        failed.map_or(Ok(()), Err)
    }
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// A name cut to `max` characters, so that an imported long name cannot run into its bar.
fn clipped(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        name.to_owned()
    } else {
        let mut cut: String = name.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}

/// Draws the whole briefing on `root`, which is `WIDTH`×`HEIGHT`.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    b: &Briefing,
    pen: Pen<'_>,
) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    // The banner: the scope and the period.
    root.draw(&Rectangle::new(
        [(0, 0), (WIDTH as i32, 96)],
        BANNER.filled(),
    ))?;
    pen.text(
        root,
        &format!("{} 综治考核简报", b.scope_name),
        (40, 48),
        40.0,
        &WHITE,
        (HPos::Left, VPos::Center),
        true,
    )?;
    pen.text(
        root,
        &b.period_text,
        (WIDTH as i32 - 40, 48),
        28.0,
        &WHITE,
        (HPos::Right, VPos::Center),
        false,
    )?;

    figures(root, b, pen)?;
    let half = (WIDTH as i32 - 40 * 2 - 32) / 2;
    bars(
        root,
        pen,
        (40, 272),
        (half, 360),
        "职能部门按期结案率 · 前10",
        &b.departments,
        &BAR,
    )?;
    bars(
        root,
        pen,
        (40 + half + 32, 272),
        (half, 360),
        "街道按期结案率 · 前10",
        &b.streets,
        &STREET_BAR,
    )?;
    daily(root, b, pen, (40, 656), (WIDTH as i32 - 80, 224))?;
    Ok(())
}

/// The key figures, one tile each.
fn figures<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    b: &Briefing,
    pen: Pen<'_>,
) -> DrawResult<DB> {
    let f = &b.figures;
    let hours = f
        .avg_handling_hours
        .map_or_else(|| "—".to_owned(), |h| format!("{h:.1} 小时"));
    let tiles: [(&str, String, &RGBColor); 7] = [
        ("上报案件", f.reports.to_string(), &INK),
        ("结案", f.closures.to_string(), &INK),
        ("按期结案率", percent(f.on_time_rate), &BANNER),
        ("平均办理时长", hours, &INK),
        ("核查退回占比", percent(f.returned_share), &INK),
        ("重新打开", f.reopened.to_string(), &INK),
        ("当前超期", f.overdue_now.to_string(), &LATE),
    ];
    let gap = 16;
    let width = (WIDTH as i32 - 80 - gap * (tiles.len() as i32 - 1)) / tiles.len() as i32;
    for (i, (label, value, color)) in tiles.iter().enumerate() {
        let x = 40 + i as i32 * (width + gap);
        let (top, bottom) = (120, 240);
        root.draw(&Rectangle::new(
            [(x, top), (x + width, bottom)],
            PANEL.filled(),
        ))?;
        root.draw(&Rectangle::new([(x, top), (x + 6, bottom)], color.filled()))?;
        pen.text(
            root,
            label,
            (x + 22, top + 18),
            20.0,
            &MUTED,
            (HPos::Left, VPos::Top),
            false,
        )?;
        pen.text(
            root,
            value,
            (x + 22, bottom - 18),
            36.0,
            color,
            (HPos::Left, VPos::Bottom),
            true,
        )?;
    }
    Ok(())
}

/// A horizontal bar chart of the on-time closure rates of the first `TOP` rows that closed
/// anything, with each row's rate and closures beside its bar.
fn bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pen: Pen<'_>,
    (x, y): (i32, i32),
    (width, height): (i32, i32),
    title: &str,
    rows: &[RankRow],
    color: &RGBColor,
) -> DrawResult<DB> {
    pen.text(
        root,
        title,
        (x, y),
        24.0,
        &INK,
        (HPos::Left, VPos::Top),
        true,
    )?;
    let shown: Vec<&RankRow> = rows
        .iter()
        .filter(|r| r.on_time_rate.is_some())
        .take(TOP)
        .collect();
    let top = y + 44;
    if shown.is_empty() {
        pen.text(
            root,
            "本期无结案",
            (x, top + 20),
            20.0,
            &MUTED,
            (HPos::Left, VPos::Top),
            false,
        )?;
        return Ok(());
    }
    let label_width = 300;
    let value_width = 150;
    let bar_x = x + label_width + 12;
    let bar_width = width - label_width - 12 - value_width;
    let row_height = (height - 44) / TOP as i32;
    // The 100% line, for reading the bars against.
    root.draw(&PathElement::new(
        vec![
            (bar_x + bar_width, top),
            (bar_x + bar_width, top + row_height * shown.len() as i32),
        ],
        RULE.stroke_width(1),
    ))?;
    for (i, row) in shown.iter().enumerate() {
        let row_y = top + i as i32 * row_height;
        let middle = row_y + row_height / 2;
        pen.text(
            root,
            &format!("{}. {}", row.rank, clipped(&row.name, 17)),
            (x + label_width, middle),
            17.0,
            &INK,
            (HPos::Right, VPos::Center),
            false,
        )?;
        let rate = row.on_time_rate.unwrap_or(0.0).clamp(0.0, 1.0);
        let length = ((bar_width as f64) * rate).round() as i32;
        root.draw(&Rectangle::new(
            [
                (bar_x, row_y + 5),
                (bar_x + length.max(1), row_y + row_height - 5),
            ],
            color.filled(),
        ))?;
        pen.text(
            root,
            &format!("{}  结案 {} 件", percent(row.on_time_rate), row.closures),
            (bar_x + bar_width + 10, middle),
            17.0,
            &INK,
            (HPos::Left, VPos::Center),
            false,
        )?;
    }
    Ok(())
}

/// The reports of each day of the period as a line, with the scale's top and the first,
/// middle and last dates.
fn daily<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    b: &Briefing,
    pen: Pen<'_>,
    (x, y): (i32, i32),
    (width, height): (i32, i32),
) -> DrawResult<DB> {
    let total: u64 = b.daily.iter().map(|(_, n)| n).sum();
    pen.text(
        root,
        &format!("每日上报案件 · 共 {total} 件"),
        (x, y),
        24.0,
        &INK,
        (HPos::Left, VPos::Top),
        true,
    )?;
    let plot_x = x + 70;
    let plot_top = y + 44;
    let plot_width = width - 70;
    let plot_height = height - 44 - 30;
    let top_value = b.daily.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    // A round top for the scale, a little above the highest day.
    let magnitude = 10f64
        .powi((top_value as f64).log10().floor() as i32)
        .max(1.0);
    let scale_top = ((top_value as f64 * 1.1 / magnitude).ceil() * magnitude).max(1.0);
    let bottom = plot_top + plot_height;
    for (value, at) in [
        (0.0, bottom),
        (scale_top / 2.0, plot_top + plot_height / 2),
        (scale_top, plot_top),
    ] {
        root.draw(&PathElement::new(
            vec![(plot_x, at), (plot_x + plot_width, at)],
            RULE.stroke_width(1),
        ))?;
        pen.text(
            root,
            &format!("{value}"),
            (plot_x - 10, at),
            15.0,
            &MUTED,
            (HPos::Right, VPos::Center),
            false,
        )?;
    }
    let days = b.daily.len();
    if days > 0 {
        let last = days - 1;
        let mut marks = vec![0, last / 2, last];
        marks.dedup();
        for i in marks {
            let at = plot_x + (plot_width as f64 * i as f64 / last.max(1) as f64).round() as i32;
            let h = match i {
                0 => HPos::Left,
                i if i == last => HPos::Right,
                _ => HPos::Center,
            };
            pen.text(
                root,
                &b.daily[i].0,
                (at, bottom + 8),
                15.0,
                &MUTED,
                (h, VPos::Top),
                false,
            )?;
        }
        // The line itself, on a cartesian chart over the plot's rectangle.
        let area = root
            .clone()
            .shrink((plot_x, plot_top), (plot_width as u32, plot_height as u32));
        let mut chart = ChartBuilder::on(&area)
            .build_cartesian_2d(0f64..last.max(1) as f64, 0f64..scale_top)?;
        chart.draw_series(LineSeries::new(
            b.daily
                .iter()
                .enumerate()
                .map(|(i, (_, n))| (i as f64, *n as f64)),
            BANNER.stroke_width(3),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_are_clipped_and_short_ones_kept() {
        assert_eq!(clipped("萨尔图街道", 17), "萨尔图街道");
        assert_eq!(clipped("一二三四五", 3), "一二…");
    }

    #[test]
    fn what_is_not_a_font_is_refused() {
        assert!(chinese_face(b"not a font").is_err());
    }
}
