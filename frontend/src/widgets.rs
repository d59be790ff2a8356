//! Small pieces the panels share: numbers that roll digit by digit, and charts on canvases
//! that redraw when their data or the screen's size changes.

use leptos::html::Canvas;
use leptos::prelude::*;
use web_sys::HtmlCanvasElement;

/// 75000 → "75,000": digit groups make big numbers readable from the back of the room.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Shown text, one span per character, keyed by position from the right, so that a number
/// that goes up changes only the characters that moved, and each of them rolls in.
#[component]
pub fn Rolling(text: Memo<String>) -> impl IntoView {
    let len = Memo::new(move |_| text.with(|s| s.chars().count()));
    view! {
        <For each=move || (0..len.get()).rev() key=|pos| *pos let:pos>
            <Digit text=text pos=pos/>
        </For>
    }
}

/// One character of a [`Rolling`] text: it alternates between two identical animations on
/// each change, which restarts the roll without re-creating the node.
#[component]
fn Digit(text: Memo<String>, pos: usize) -> impl IntoView {
    let ch = Memo::new(move |_| text.with(|s| s.chars().rev().nth(pos).unwrap_or(' ')));
    let turns = Memo::new(move |prev: Option<&(char, u32)>| {
        let c = ch.get();
        match prev {
            None => (c, 0),
            Some(&(p, n)) if p != c => (c, n + 1),
            Some(&v) => v,
        }
    });
    let class = move || match turns.get().1 {
        0 => "d",
        n if n % 2 == 1 => "d ra",
        _ => "d rb",
    };
    view! { <span class=class>{move || turns.get().0.to_string()}</span> }
}

/// A count with its `data-metric` and raw `data-value`, rolling as it changes.
#[component]
pub fn Num(
    #[prop(into)] metric: String,
    #[prop(into)] value: Signal<u64>,
    #[prop(optional)] unit: &'static str,
) -> impl IntoView {
    let text = Memo::new(move |_| group_digits(value.get()));
    view! {
        <span class="num" data-metric=metric data-value=move || value.get().to_string()>
            <Rolling text=text/>
            {(!unit.is_empty()).then(|| view! { <span class="unit">{unit}</span> })}
        </span>
    }
}

/// A share from 0 to 1 shown as a percentage; `data-value` keeps the raw share.
#[component]
pub fn Rate(#[prop(into)] metric: String, #[prop(into)] value: Signal<f64>) -> impl IntoView {
    let text = Memo::new(move |_| format!("{:.1}", value.get() * 100.0));
    view! {
        <span class="num" data-metric=metric data-value=move || value.get().to_string()>
            <Rolling text=text/>
            <span class="unit">"%"</span>
        </span>
    }
}

/// A label above a number, the wall's basic figure.
#[component]
pub fn Figure(label: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="figure">
            <div class="label">{label}</div>
            <div class="value">{children()}</div>
        </div>
    }
}

/// A counter bumped whenever the window is resized, so that charts redraw at the new size.
#[derive(Debug, Clone, Copy)]
pub struct Viewport(pub RwSignal<u32>);

impl Viewport {
    pub fn start() -> Viewport {
        let v = Viewport(RwSignal::new(0));
        let handle = window_event_listener(leptos::ev::resize, move |_| v.0.update(|n| *n += 1));
        // The listener lives as long as the page: the root component never unmounts.
        std::mem::forget(handle);
        v
    }
}

/// A canvas that `paint` draws on; it is redrawn when a signal `paint` reads changes, or the
/// window's size does.
#[component]
pub fn Chart(
    viewport: Viewport,
    paint: impl Fn(&HtmlCanvasElement) + 'static,
    #[prop(optional)] class: &'static str,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        viewport.0.track();
        if let Some(c) = canvas.get() {
            paint(&c);
        }
    });
    view! { <canvas class=format!("chart {class}") node_ref=canvas></canvas> }
}

#[cfg(test)]
mod tests {
    use super::group_digits;

    #[test]
    fn digits_are_grouped_in_thousands() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(999), "999");
        assert_eq!(group_digits(1000), "1,000");
        assert_eq!(group_digits(75_000), "75,000");
        assert_eq!(group_digits(1_450_000), "1,450,000");
    }
}
