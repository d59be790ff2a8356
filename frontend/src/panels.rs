//! The wall's panels around the map: people and housing, event statistics, the "1+N" team,
//! the warning and supervision ticker and the latest cases. Every number is behind its own
//! memo, so a frame that changes one figure touches one text node, and every list is keyed, so
//! a frame that adds a row adds one node.

use crate::charts;
use crate::link::Link;
use crate::text::{self, t};
use crate::widgets::{Chart, Figure, Num, Rate, Viewport};
use leptos::prelude::*;
use shared::case::{Bucket, Category, Supervision};
use shared::wall::{Alert, LatestCase, Warning, WarningLevel};

/// Co-governance kinds in the order the team panel lists them.
const CO_GOVERNANCE: [&str; 6] = [
    "community_police",
    "medical_worker",
    "sent_down_cadre",
    "building_head",
    "volunteer",
    "utility_staff",
];

/// Left: people and housing, and the grid workers' house visits.
#[component]
pub fn PeoplePanel(link: Link) -> impl IntoView {
    let p = link.people;
    let n = move |f: fn(&shared::wall::People) -> u64| Signal::derive(move || p.with(f));
    let coverage = Memo::new(move |_| p.with(|p| p.coverage()));
    view! {
        <section class="panel people" data-panel="people">
            <h2>{t().people}</h2>
            <div class="figures two">
                <Figure label=t().residents>
                    <Num metric="people.residents" value=n(|p| p.residents) unit=t().people_unit/>
                </Figure>
                <Figure label=t().households>
                    <Num metric="people.households" value=n(|p| p.households)/>
                </Figure>
                <Figure label=t().houses>
                    <Num metric="people.houses" value=n(|p| p.houses)/>
                </Figure>
                <Figure label=t().organisations>
                    <Num metric="people.organisations" value=n(|p| p.organisations)/>
                </Figure>
                <Figure label=t().key_places>
                    <Num metric="people.key_places" value=n(|p| p.key_places)/>
                </Figure>
                <Figure label=t().visits_today>
                    <Num metric="people.visits_today" value=n(|p| p.visits_today)/>
                </Figure>
                <Figure label=t().visits_month>
                    <Num metric="people.visits_month" value=n(|p| p.visits_month)/>
                </Figure>
            </div>
            <div class="coverage">
                <div class="label">{t().coverage}</div>
                <div class="value big">
                    <Rate metric="people.coverage" value=coverage/>
                </div>
                <div class="bar">
                    <i style=move || format!("width:{:.1}%", coverage.get() * 100.0)></i>
                </div>
            </div>
        </section>
    }
}

/// The headline counters: reported today and in total, open, closed and the closure rate.
#[component]
pub fn Headline(link: Link) -> impl IntoView {
    let c = link.counters;
    let n = move |f: fn(&shared::wall::Counters) -> u64| Signal::derive(move || c.with(f));
    let rate = Memo::new(move |_| c.with(|c| c.closure_rate()));
    let unit = t().cases_unit;
    view! {
        <div class="headline">
            <Figure label=t().reported_today>
                <Num metric="reported_today" value=n(|c| c.reported_today) unit=unit/>
            </Figure>
            <Figure label=t().reported_total>
                <Num metric="reported_total" value=n(|c| c.reported_total) unit=unit/>
            </Figure>
            <Figure label=t().open>
                <Num metric="open" value=n(|c| c.open) unit=unit/>
            </Figure>
            <Figure label=t().closed>
                <Num metric="closed" value=n(|c| c.closed) unit=unit/>
            </Figure>
            <Figure label=t().closure_rate>
                <Rate metric="closure_rate" value=rate/>
            </Figure>
        </div>
    }
}

/// The 24-hour trend as a chart, with this hour's and the day's counts as numbers.
#[component]
pub fn Trend(link: Link, viewport: Viewport) -> impl IntoView {
    let h = link.hourly;
    let this_hour = Signal::derive(move || h.with(|h| h.counts.last().copied().unwrap_or(0)));
    let day = Signal::derive(move || h.with(|h| h.counts.iter().sum()));
    view! {
        <div class="block trend">
            <div class="block-head">
                <h3>{t().trend}</h3>
                <span class="aside">
                    {t().this_hour} " " <Num metric="hourly.this_hour" value=this_hour/>
                    " · " {t().last_24h} " " <Num metric="hourly.last_24h" value=day/>
                </span>
            </div>
            <Chart
                viewport=viewport
                paint=move |canvas| h.with(|h| charts::trend(canvas, &h.counts, h.hour))
            />
        </div>
    }
}

/// The 15 categories, ranked by open cases, as bars.
#[component]
pub fn CategoryChart(link: Link, viewport: Viewport) -> impl IntoView {
    let by = link.by_category;
    view! {
        <div class="block categories" data-chart="categories">
            <div class="block-head">
                <h3>{t().categories}</h3>
                <span class="aside">{t().open} " / " {t().reported_today}</span>
            </div>
            <Chart
                viewport=viewport
                paint=move |canvas| {
                    by.with(|m| {
                        let mut rows: Vec<(&str, u64, String)> = Category::ALL
                            .iter()
                            .map(|c| {
                                let tally = m.get(c.code()).copied().unwrap_or_default();
                                (text::short(text::category(c.code())), tally.open, format!("{} / {}", tally.open, tally.reported_today))
                            })
                            .collect();
                        rows.sort_by_key(|r| std::cmp::Reverse(r.1));
                        // English names run about twice as wide as the four characters
                        // of a Chinese one.
                        let name_chars = if text::english() { 9.0 } else { 4.0 };
                        charts::bars(canvas, &rows, name_chars, 3);
                    })
                }
            />
        </div>
    }
}

/// Each category's numbers as a table: the figures the chart draws, for people and tools
/// that read numbers rather than bars.
#[component]
pub fn CategoryTable(link: Link) -> impl IntoView {
    let rows = Category::ALL
        .iter()
        .map(|&category| {
            let code = category.code();
            let tally = Memo::new(move |_| link.by_category.with(|m| m.get(code).copied().unwrap_or_default()));
            view! {
                <tr>
                    <th>{text::category(code)}</th>
                    <td><Num metric=format!("category.{code}.reported_today") value=Signal::derive(move || tally.get().reported_today)/></td>
                    <td><Num metric=format!("category.{code}.open") value=Signal::derive(move || tally.get().open)/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="category-table">
            <thead>
                <tr>
                    <th>{t().category}</th>
                    <th>{t().reported_today}</th>
                    <th>{t().open}</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// The departments with the most closures, with their on-time rates.
#[component]
pub fn DepartmentChart(link: Link, viewport: Viewport) -> impl IntoView {
    let by = link.by_department;
    view! {
        <div class="block departments" data-chart="departments">
            <div class="block-head">
                <h3>{t().departments}</h3>
                <span class="aside">{t().closures} " · " {t().on_time}</span>
            </div>
            <Chart
                viewport=viewport
                paint=move |canvas| {
                    by.with(|m| {
                        let mut rows: Vec<(&str, u64, String)> = m
                            .iter()
                            .map(|(code, d)| {
                                (text::short(text::department(code)), d.closures, format!("{:.1}%", d.on_time_rate() * 100.0))
                            })
                            .collect();
                        rows.sort_by_key(|r| std::cmp::Reverse(r.1));
                        rows.truncate(8);
                        charts::bars(canvas, &rows, 9.0, 0);
                    })
                }
            />
        </div>
    }
}

/// Right: the event-statistics cloud map.
#[component]
pub fn EventsPanel(link: Link, viewport: Viewport) -> impl IntoView {
    view! {
        <section class="panel events" data-panel="events">
            <h2>{t().events}</h2>
            <Headline link=link/>
            <Trend link=link viewport=viewport/>
            <CategoryChart link=link viewport=viewport/>
            // The chart's figures as numbers, folded away: for tools, and for anyone who
            // unfolds them at a seat.
            <details class="category-numbers">
                <summary>{t().category}</summary>
                <CategoryTable link=link/>
            </details>
            <DepartmentChart link=link viewport=viewport/>
        </section>
    }
}

/// Bottom left: the grid team in its "1+N" structure.
#[component]
pub fn TeamPanel(link: Link) -> impl IntoView {
    let team = link.team;
    let kind = move |code: &'static str| {
        let k = Memo::new(move |_| team.with(|m| m.get(code).copied().unwrap_or_default()));
        (
            Signal::derive(move || k.get().members),
            Signal::derive(move || k.get().active_today),
        )
    };
    let (workers, workers_active) = kind("grid_worker");
    let total = Signal::derive(move || team.with(|m| m.values().map(|k| k.members).sum()));
    view! {
        <section class="panel team" data-panel="team">
            <h2>{t().team}</h2>
            <div class="team-body">
                <div class="team-one">
                    <div class="label">{text::team_kind("grid_worker")} " · 1"</div>
                    <div class="value big"><Num metric="team.grid_worker.members" value=workers unit=t().people_unit/></div>
                    <div class="sub">{t().active_today} " " <Num metric="team.grid_worker.active_today" value=workers_active/></div>
                    <div class="sub">{t().team_total} " " <Num metric="team.total" value=total/></div>
                </div>
                <table class="team-n">
                    <thead>
                        <tr><th>"N"</th><th>{t().members}</th><th>{t().active_today}</th></tr>
                    </thead>
                    <tbody>
                        {CO_GOVERNANCE
                            .iter()
                            .map(|&code| {
                                let (members, active) = kind(code);
                                view! {
                                    <tr>
                                        <th>{text::team_kind(code)}</th>
                                        <td><Num metric=format!("team.{code}.members") value=members/></td>
                                        <td><Num metric=format!("team.{code}.active_today") value=active/></td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

fn level_label(level: WarningLevel) -> &'static str {
    match level {
        WarningLevel::Warned => t().warned,
        WarningLevel::Overdue => t().overdue,
        WarningLevel::Escalated => t().escalated,
    }
}

fn level_code(level: WarningLevel) -> &'static str {
    match level {
        WarningLevel::Warned => "warned",
        WarningLevel::Overdue => "overdue",
        WarningLevel::Escalated => "escalated",
    }
}

/// "HH:MM" of a Unix time in the centre's time zone.
pub fn clock(ms: f64, seconds: bool) -> String {
    let local = ms + f64::from(shared::time::DEFAULT_UTC_OFFSET_MINUTES) * 60_000.0;
    let secs = (local / 1000.0).floor() as i64;
    let (h, m, s) = (
        (secs / 3600).rem_euclid(24),
        (secs / 60).rem_euclid(60),
        secs.rem_euclid(60),
    );
    if seconds {
        format!("{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}")
    }
}

/// How many rows a list keeps on the page: the newest, which is all that fits anyway.
const LIST_ROWS: usize = 14;

/// The warning and supervision ticker: the three levels as counts, then the newest warnings,
/// hotspots and surges.
#[component]
pub fn WarningsPanel(link: Link) -> impl IntoView {
    let c = link.counters;
    let n = move |f: fn(&shared::wall::Counters) -> u64| Signal::derive(move || c.with(f));
    let hot = Signal::derive(move || link.hotspots.with(|h| h.len() as u64));
    let surging = Signal::derive(move || link.surges.with(|s| s.len() as u64));
    // The newest warnings first; a memo, so the list is rebuilt only when a warning moved.
    let latest = Memo::new(move |_| {
        link.warnings.with(|w| {
            let mut list: Vec<Warning> = w.values().cloned().collect();
            list.sort_by(|a, b| {
                b.updated_ms
                    .cmp(&a.updated_ms)
                    .then(b.case_id.cmp(&a.case_id))
            });
            list.truncate(LIST_ROWS);
            list
        })
    });
    let areas = Memo::new(move |_| {
        let mut rows: Vec<(String, String, String)> = link.surges.with(|s| {
            s.values()
                .map(|s| {
                    (
                        format!("surge/{}", s.district),
                        t().surge.to_owned(),
                        format!(
                            "{} · {}",
                            s.district,
                            text::surge(s.this_hour, s.usual_per_hour())
                        ),
                    )
                })
                .collect()
        });
        link.hotspots.with(|h| {
            rows.extend(h.values().take(LIST_ROWS).map(|h| {
                (
                    format!("hot/{}/{}", h.grid_id, h.sub_item),
                    t().hotspot.to_owned(),
                    format!("{} · {}", h.grid_id, text::hotspot(&h.sub_item, h.count)),
                )
            }))
        });
        rows.truncate(LIST_ROWS / 2);
        rows
    });
    let flashing = flashing(link);
    view! {
        <section class="panel warnings" data-panel="warnings">
            <h2>{t().warnings}</h2>
            <div class="levels">
                <Figure label=t().warned><Num metric="warned" value=n(|c| c.warned)/></Figure>
                <Figure label=t().overdue><Num metric="overdue" value=n(|c| c.overdue)/></Figure>
                <Figure label=t().escalated><Num metric="escalated" value=n(|c| c.escalated)/></Figure>
                <Figure label=t().hotspot><Num metric="hotspots" value=hot/></Figure>
                <Figure label=t().surge><Num metric="surges" value=surging/></Figure>
            </div>
            <ul class="ticker">
                <For each=move || areas.get() key=|r| r.0.clone() let:row>
                    <li class="row area" class:flash={
                        let key = row.0.clone();
                        move || flashing.with(|f| f.contains(&key))
                    }>
                        <span class="badge surge">{row.1}</span>
                        <span class="what">{row.2}</span>
                    </li>
                </For>
                <For each=move || latest.get() key=|w| (w.case_id, w.level, w.updated_ms) let:w>
                    <li class="row" data-case-id=w.case_id class:flash={
                        let key = format!("case/{}", w.case_id);
                        move || flashing.with(|f| f.contains(&key))
                    }>
                        <span class=format!("badge {}", level_code(w.level))>{level_label(w.level)}</span>
                        <span class="when">{clock(w.updated_ms as f64, false)}</span>
                        <span class="what">
                            {text::category(&w.category)} " · "
                            {w.sub_item.as_deref().map(text::sub_item).unwrap_or("")}
                        </span>
                        <span class="where">
                            {w.grid_id.clone().unwrap_or_default()} " "
                            {w.department.as_deref().map(text::department).unwrap_or("")}
                        </span>
                    </li>
                </For>
            </ul>
            <Show when=move || latest.with(|l| l.is_empty()) && areas.with(|a| a.is_empty())>
                <p class="empty">{t().no_warnings}</p>
            </Show>
        </section>
    }
}

/// The latest cases of the scope, newest first: the case queue. A row is keyed by its case
/// and the case's last move, so a case that moves comes in again at the top while every other
/// row keeps its nodes: new rows slide in, and nothing else is redrawn.
#[component]
pub fn CasesPanel(link: Link) -> impl IntoView {
    let rows = Memo::new(move |_| {
        link.latest.with(|m| {
            let mut list: Vec<LatestCase> = m.values().cloned().collect();
            list.sort_by_key(|c| std::cmp::Reverse(c.seq));
            list
        })
    });
    let flashing = flashing(link);
    view! {
        <section class="panel cases" data-panel="cases">
            <div class="latest" data-panel="latest">
                <h2>{t().cases}</h2>
                <ul class="ticker latest-list">
                    <For each=move || rows.get() key=|c| (c.case_id, c.seq) let:c>
                        <LatestRow case=c flashing=flashing/>
                    </For>
                </ul>
                <Show when=move || rows.with(|r| r.is_empty())>
                    <p class="empty">{t().no_cases}</p>
                </Show>
            </div>
        </section>
    }
}

/// One row of the latest cases: its state, when it moved, what it is, where, and how late.
#[component]
fn LatestRow(case: LatestCase, flashing: Memo<Vec<String>>) -> impl IntoView {
    let state = case.state.code();
    let what = match case.sub_item.as_deref() {
        Some(item) => format!(
            "{} · {}",
            text::category(&case.category),
            text::sub_item(item)
        ),
        None => text::category(&case.category).to_owned(),
    };
    // Lateness matters while the case is open; a case closed late is not under supervision
    // any more, and the badge would read as if it were.
    let late = match case.supervision {
        _ if case.state.bucket() != Bucket::Open => None,
        Supervision::None => None,
        Supervision::Warned => Some(WarningLevel::Warned),
        Supervision::Overdue => Some(WarningLevel::Overdue),
    };
    let key = format!("case/{}", case.case_id);
    view! {
        <li
            class="row"
            class:flash=move || flashing.with(|f| f.contains(&key))
            data-case-id=case.case_id
            data-state=state
            data-seq=case.seq
        >
            <span class=format!("badge state-{state}")>{text::case_state(case.state)}</span>
            <span class="when">{clock(case.moved_ms as f64, true)}</span>
            <span class="what" title=case.sub_item.clone().unwrap_or_default()>{what}</span>
            {late.map(|l| view! { <span class=format!("badge {}", level_code(l))>{level_label(l)}</span> })}
            <span class="where">{case.grid_id.clone().unwrap_or_default()}</span>
        </li>
    }
}

/// How long a row is marked after an alert about it arrived.
const FLASH_MS: f64 = 6_000.0;

/// The keys of what the alerts of the last [`FLASH_MS`] named (`case/ID`, `hot/GRID/SUB_ITEM`,
/// `surge/DISTRICT`), so that the lists can mark those rows: an alert says to notice something
/// the lists already hold.
fn flashing(link: Link) -> Memo<Vec<String>> {
    Memo::new(move |_| {
        let now = link.now_ms.get();
        link.alerts.with(|alerts| {
            alerts
                .iter()
                .take_while(|r| now - r.at_ms < FLASH_MS)
                .map(|r| match &r.alert {
                    Alert::Warning(w) => format!("case/{}", w.case_id),
                    Alert::Hotspot(h) => format!("hot/{}/{}", h.grid_id, h.sub_item),
                    Alert::Surge(s) => format!("surge/{}", s.district),
                })
                .collect()
        })
    })
}
