//! The wall's page: the header with the link indicator and the headline counters.

use crate::link::{self, Link, LinkState};
use crate::text;
use leptos::prelude::*;
use shared::case::Category;

#[component]
pub fn App() -> impl IntoView {
    let link = link::start();
    let counters = link.counters;
    // One memo per number, so that a frame which changes one counter touches one text node.
    let reported_today = Memo::new(move |_| counters.get().reported_today);
    let reported_total = Memo::new(move |_| counters.get().reported_total);
    let open = Memo::new(move |_| counters.get().open);
    let closed = Memo::new(move |_| counters.get().closed);
    let closure_rate = Memo::new(move |_| counters.get().closure_rate());

    view! {
        <div class="wall">
            <header class="wall-header">
                <div class="titles">
                    <h1>{text::TITLE}</h1>
                    <p class="subtitle">{text::SUBTITLE}</p>
                </div>
                <LinkStatus link=link/>
            </header>
            <main class="counters" data-panel="counters">
                <Count label=text::REPORTED_TODAY metric="reported_today" value=reported_today/>
                <Count label=text::REPORTED_TOTAL metric="reported_total" value=reported_total/>
                <Count label=text::OPEN metric="open" value=open/>
                <Count label=text::CLOSED metric="closed" value=closed/>
                <div class="counter rate">
                    <div class="label">{text::CLOSURE_RATE}</div>
                    <div
                        class="value"
                        data-metric="closure_rate"
                        data-value=move || closure_rate.get().to_string()
                    >
                        {move || format!("{:.1}", closure_rate.get() * 100.0)}
                        <span class="unit">"%"</span>
                    </div>
                </div>
            </main>
            <Categories link=link/>
        </div>
    }
}

/// The 15 categories: reported today and still open, one row each.
#[component]
fn Categories(link: Link) -> impl IntoView {
    let rows = Category::ALL
        .iter()
        .map(|&category| {
            let code = category.code();
            let tally = Memo::new(move |_| link.by_category.with(|m| m.get(code).copied().unwrap_or_default()));
            let today = Memo::new(move |_| tally.get().reported_today);
            let open = Memo::new(move |_| tally.get().open);
            view! {
                <tr>
                    <th>{category.name_zh()}</th>
                    <td data-metric=format!("category.{code}.reported_today") data-value=move || today.get().to_string()>
                        {move || group_digits(today.get())}
                    </td>
                    <td data-metric=format!("category.{code}.open") data-value=move || open.get().to_string()>
                        {move || group_digits(open.get())}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel categories" data-panel="categories">
            <h2>{text::CATEGORIES}</h2>
            <table>
                <thead>
                    <tr>
                        <th>{text::CATEGORY}</th>
                        <th>{text::REPORTED_TODAY}</th>
                        <th>{text::OPEN}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// A headline number with its label.
#[component]
fn Count(label: &'static str, metric: &'static str, value: Memo<u64>) -> impl IntoView {
    view! {
        <div class="counter">
            <div class="label">{label}</div>
            <div class="value" data-metric=metric data-value=move || value.get().to_string()>
                {move || group_digits(value.get())}
                <span class="unit">{text::CASES_UNIT}</span>
            </div>
        </div>
    }
}

/// The link indicator: live, reconnecting or stale, with the data's age when not live.
#[component]
fn LinkStatus(link: Link) -> impl IntoView {
    let state = Memo::new(move |_| link.state());
    let label = move || match state.get() {
        LinkState::Live => text::LINK_LIVE,
        LinkState::Reconnecting => text::LINK_RECONNECTING,
        LinkState::Stale => text::LINK_STALE,
    };
    let age = move || {
        if state.get() == LinkState::Live {
            String::new()
        } else {
            match link.age_ms() {
                Some(ms) => text::data_age(ms),
                None => text::LINK_NO_DATA.to_owned(),
            }
        }
    };
    view! {
        <div class="link-status" data-testid="link-status" data-state=move || state.get().code()>
            <span class="dot"></span>
            <span class="link-label">{label}</span>
            <span class="link-age">{age}</span>
        </div>
    }
}

/// 75000 → "75,000": digit groups make big numbers readable from the back of the room.
fn group_digits(n: u64) -> String {
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
