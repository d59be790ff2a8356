//! The aggregator's cost per transition: folding a report and the moves of the closed loop
//! into the city, district and street scopes, as the hub does for every committed event.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use gridwall_core::event::{Committed, Event, Facts};
use gridwall_core::fold::{Aggregate, CityFacts, GridPlace, Scopes};
use shared::case::{Action, CaseState, Category, Supervision};
use shared::time::{DEFAULT_UTC_OFFSET_MINUTES as OFFSET, local_day, local_hour};
use shared::wall::Scope;
use std::collections::BTreeMap;
use std::hint::black_box;

/// A city shaped like the demo's: 9 districts, 110 streets, 4,880 grids.
fn city() -> CityFacts {
    let mut city = CityFacts::default();
    for g in 0..4_880 {
        let street = g % 110;
        city.grids.insert(
            format!("G{g}"),
            GridPlace {
                street: format!("S{street}"),
                district: format!("D{}", street % 9),
            },
        );
    }
    city
}

fn scopes(now: i64) -> Scopes {
    let (day, hour) = (local_day(now, OFFSET), local_hour(now, OFFSET));
    let mut aggregates = BTreeMap::new();
    aggregates.insert(Scope::City, Aggregate::empty(day, hour, OFFSET));
    for d in 0..9 {
        aggregates.insert(
            Scope::District(format!("D{d}")),
            Aggregate::empty(day, hour, OFFSET),
        );
    }
    for s in 0..110 {
        aggregates.insert(
            Scope::Street(format!("S{s}")),
            Aggregate::empty(day, hour, OFFSET),
        );
    }
    Scopes {
        aggregates,
        log_seq: 0,
        visit_seq: 0,
    }
}

/// The closed loop of `cases` cases: a report and five moves each, in commit order.
fn events(cases: i64, now: i64) -> Vec<Event> {
    let loop_moves = [
        (Action::Dispatch, CaseState::Dispatched),
        (Action::Accept, CaseState::Accepted),
        (Action::Resolve, CaseState::Resolved),
        (Action::Verify, CaseState::Verified),
        (Action::Close, CaseState::Closed),
    ];
    let mut out = Vec::new();
    let mut seq = 0;
    for id in 1..=cases {
        let facts = |state, dept: Option<&str>| Facts {
            state,
            department: dept.map(str::to_owned),
            supervision: Supervision::None,
            deadline_ms: dept.map(|_| now + 86_400_000),
        };
        seq += 1;
        let report = Committed {
            seq,
            case_id: id,
            action: Action::Report,
            before: None,
            after: facts(CaseState::Reported, None),
            at_ms: now,
            category: Category::ALL[(id % 15) as usize],
            sub_item: Some(format!("{:02}01", id % 15 + 1)),
            grid_id: Some(format!("G{}", id % 4_880)),
            reported_at_ms: now,
            reporter_id: None,
            committed_at: std::time::Instant::now(),
        };
        let mut before = report.after.clone();
        out.push(Event::Transition(report.clone()));
        for (action, state) in loop_moves {
            seq += 1;
            let after = facts(state, Some("D01"));
            out.push(Event::Transition(Committed {
                seq,
                action,
                before: Some(before),
                after: after.clone(),
                ..report.clone()
            }));
            before = after;
        }
    }
    out
}

fn fold(c: &mut Criterion) {
    // The bench reads the clock itself: the core it measures never does.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let city = city();
    let events = events(2_000, now);
    let mut group = c.benchmark_group("aggregate");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.bench_function(
        "fold 12,000 transitions into city, district and street",
        |b| {
            b.iter_batched(
                || scopes(now),
                |mut scopes| {
                    for e in &events {
                        black_box(scopes.fold(e, &city));
                    }
                    scopes
                },
                criterion::BatchSize::LargeInput,
            )
        },
    );
    group.finish();
}

criterion_group!(benches, fold);
criterion_main!(benches);
