//! Assessment (`/api/rankings`, `/api/rankings.csv`, `/api/compare`, `/api/briefing.svg`,
//! `/api/briefing.png`): the rankings recounted from the raw transition log, the exports and
//! the comparison against the rankings, the parameters' errors and who may read them.

use crate::on_both_stores;
use crate::support::{Store, TestDb, TestServer, account, account_token};
use backend::demo::{self, DemoCity, Scale};
use backend::services::auth::NewAccount;
use serde_json::{Value, json};
use shared::assess::{Comparison, Counts, RankRow, Rankings};
use shared::auth::Role;
use shared::time::{DEFAULT_UTC_OFFSET_MINUTES, civil_from_day, local_day};
use shared::wall::Scope;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet};

const DAY_MS: i64 = 86_400_000;

/// A server on a demo city with nine months of history (fewer cases than the real demo, to
/// keep the test quick), with a few closed and rejected cases reopened through the API so
/// that the log holds reopenings. Returns the server and the build's "now".
async fn demo_server(store: Store) -> (TestServer, i64) {
    let db = TestDb::new(store).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    let now = backend::clock::now_ms();
    let scale = Scale {
        cases: 3_000,
        visit_days: 1,
    };
    demo::build_scaled(
        &pool,
        DemoCity::Full,
        scale,
        2023,
        now,
        DEFAULT_UTC_OFFSET_MINUTES,
    )
    .await
    .expect("build the demo city");
    pool.close().await;
    let server = TestServer::start_with(db).await;
    let pool = server.db().await;
    let reopen: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM (SELECT id FROM cases WHERE state = 'closed' ORDER BY id DESC LIMIT 4) a
         UNION ALL SELECT id FROM (SELECT id FROM cases WHERE state = 'rejected' ORDER BY id DESC LIMIT 1) b",
    )
    .fetch_all(&pool)
    .await
    .expect("closed and rejected cases");
    assert_eq!(reopen.len(), 5, "the demo has closed and rejected cases");
    for id in reopen {
        let res = server
            .post_json(
                &format!("/api/cases/{id}/moves"),
                &json!({"action": "reopen"}),
            )
            .await;
        assert_eq!(res.status(), 200, "reopen case {id}");
    }
    pool.close().await;
    (server, now)
}

/// One raw row of the log, as the test reads it.
#[derive(Debug)]
struct Raw {
    case_id: i64,
    action: String,
    at: i64,
    supervision: String,
    department: Option<String>,
    reported_at: i64,
    street: Option<String>,
}

/// Every transition with its case's report time and street, read row by row.
async fn raw_log(server: &TestServer) -> Vec<Raw> {
    let pool = server.db().await;
    let rows = sqlx::query(
        "SELECT t.case_id, t.action, t.at, t.supervision, t.department_code, c.reported_at, g.street_code
         FROM transitions t JOIN cases c ON c.id = t.case_id LEFT JOIN grids g ON g.id = c.grid_id
         ORDER BY t.seq",
    )
    .fetch_all(&pool)
    .await
    .expect("the log");
    pool.close().await;
    rows.iter()
        .map(|r| Raw {
            case_id: r.try_get("case_id").expect("case_id"),
            action: r.try_get("action").expect("action"),
            at: r.try_get("at").expect("at"),
            supervision: r.try_get("supervision").expect("supervision"),
            department: r.try_get("department_code").expect("department_code"),
            reported_at: r.try_get("reported_at").expect("reported_at"),
            street: r.try_get("street_code").expect("street_code"),
        })
        .collect()
}

/// What the test tallies for one department or street.
#[derive(Debug, Default)]
struct Tally {
    reports: u64,
    closures: u64,
    on_time: u64,
    handling_ms: u64,
    resolved: BTreeSet<i64>,
    returned: BTreeSet<i64>,
    reopened: u64,
}

impl Tally {
    fn add(&mut self, r: &Raw) {
        match r.action.as_str() {
            "report" => self.reports += 1,
            "close" => {
                self.closures += 1;
                if r.supervision != "overdue" {
                    self.on_time += 1;
                }
                self.handling_ms += (r.at - r.reported_at) as u64;
            }
            "resolve" => {
                self.resolved.insert(r.case_id);
            }
            "return" => {
                self.returned.insert(r.case_id);
            }
            "reopen" => self.reopened += 1,
            _ => {}
        }
    }

    /// The row the ranking should show, rates worked out here rather than by `shared`.
    fn row(&self, code: &str, name: &str, with_reports: bool) -> RankRow {
        let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
        RankRow {
            rank: 0,
            code: code.to_owned(),
            name: name.to_owned(),
            closures: self.closures,
            on_time: self.on_time,
            on_time_rate: ratio(self.on_time, self.closures),
            handling_ms: self.handling_ms,
            avg_handling_hours: (self.closures > 0)
                .then(|| self.handling_ms as f64 / self.closures as f64 / 3_600_000.0),
            resolved: self.resolved.len() as u64,
            returned: self.returned.len() as u64,
            returned_share: ratio(self.returned.len() as u64, self.resolved.len() as u64),
            reopened: self.reopened,
            reports: with_reports.then_some(self.reports),
        }
    }
}

/// Sorts rows as the issue asks: on-time rate down, average handling up, then code; rows
/// without closures last, by code.
fn ranked(mut rows: Vec<RankRow>) -> Vec<RankRow> {
    rows.sort_by(|a, b| {
        let key = |r: &RankRow| {
            (
                r.on_time_rate.is_none(),
                -r.on_time_rate.unwrap_or(0.0),
                r.avg_handling_hours.unwrap_or(0.0),
            )
        };
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(ka.2.total_cmp(&kb.2))
            .then(a.code.cmp(&b.code))
    });
    for (i, r) in rows.iter_mut().enumerate() {
        r.rank = i as u32 + 1;
    }
    rows
}

async fn get_json(server: &TestServer, path: &str) -> Value {
    let res = server.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.expect("JSON")
}

async fn rankings(server: &TestServer, query: &str) -> Rankings {
    serde_json::from_value(get_json(server, &format!("/api/rankings?{query}")).await)
        .expect("a Rankings body")
}

/// A period's dates as the briefing writes them.
fn date(ms: i64) -> String {
    let (y, m, d) = civil_from_day(local_day(ms, DEFAULT_UTC_OFFSET_MINUTES));
    format!("{y:04}-{m:02}-{d:02}")
}

on_both_stores!(rankings_match_the_transition_log);
async fn rankings_match_the_transition_log(store: Store) {
    let (server, now) = demo_server(store).await;
    let (from, to) = (now - 120 * DAY_MS, now + 3_600_000);
    let log = raw_log(&server).await;
    let in_period: Vec<&Raw> = log.iter().filter(|r| r.at >= from && r.at < to).collect();

    // The history has what the figures are about, so that agreement means something.
    let count = |action: &str, extra: &dyn Fn(&Raw) -> bool| {
        in_period
            .iter()
            .filter(|r| r.action == action && extra(r))
            .count()
    };
    assert!(
        count("close", &|r| r.supervision == "overdue") > 0,
        "no late closure"
    );
    assert!(
        count("close", &|r| r.supervision != "overdue") > 100,
        "few closures"
    );
    assert!(count("return", &|_| true) > 0, "no return");
    assert!(count("reopen", &|_| true) >= 5, "no reopening");
    assert!(
        count("reopen", &|r| r.department.is_none()) > 0,
        "no reopened rejection"
    );

    let pool = server.db().await;
    let streets: Vec<(String, String, String)> =
        sqlx::query("SELECT code, name_zh, district_code FROM streets ORDER BY code")
            .fetch_all(&pool)
            .await
            .expect("streets")
            .iter()
            .map(|r| {
                (
                    r.try_get("code").expect("code"),
                    r.try_get("name_zh").expect("name"),
                    r.try_get("district_code").expect("district"),
                )
            })
            .collect();
    pool.close().await;

    let mut by_department: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_street: BTreeMap<String, Tally> = BTreeMap::new();
    for r in &in_period {
        if !["report", "close", "resolve", "return", "reopen"].contains(&r.action.as_str()) {
            continue;
        }
        if let Some(d) = &r.department {
            by_department.entry(d.clone()).or_default().add(r);
        }
        if let Some(s) = &r.street {
            by_street.entry(s.clone()).or_default().add(r);
        }
    }
    // Reports carry no department: a department is ranked for what it handled.
    let expected_departments = ranked(
        by_department
            .iter()
            .filter(|(_, t)| {
                t.closures + t.resolved.len() as u64 + t.returned.len() as u64 + t.reopened > 0
            })
            .map(|(code, t)| t.row(code, shared::taxonomy::department_name(code, false), false))
            .collect(),
    );
    let empty = Tally::default();
    let street_rows = |district: Option<&str>| {
        ranked(
            streets
                .iter()
                .filter(|(_, _, d)| district.is_none_or(|w| w == d))
                .map(|(code, name, _)| by_street.get(code).unwrap_or(&empty).row(code, name, true))
                .collect(),
        )
    };

    let period = format!("from={from}&to={to}");
    let got = rankings(&server, &format!("by=department&{period}")).await;
    assert_eq!(got.by, shared::assess::RankBy::Department);
    assert_eq!(got.scope, Scope::City);
    assert_eq!(got.period.from_ms, from);
    assert_eq!(got.period.to_ms, to);
    assert!(got.rows.len() > 10, "{} departments", got.rows.len());
    assert_eq!(got.rows, expected_departments);

    let got = rankings(&server, &format!("by=street&{period}")).await;
    assert_eq!(got.rows.len(), 110);
    assert_eq!(got.rows, street_rows(None));
    assert!(got.rows[0].on_time_rate >= got.rows[50].on_time_rate);

    // A district's streets, and the departments as seen from that district.
    let district = streets[0].2.clone();
    let got = rankings(
        &server,
        &format!("by=street&scope=district:{district}&{period}"),
    )
    .await;
    assert_eq!(got.scope, Scope::District(district.clone()));
    assert_eq!(got.rows, street_rows(Some(&district)));
    let in_district: BTreeSet<&str> = streets
        .iter()
        .filter(|(_, _, d)| *d == district)
        .map(|(c, _, _)| c.as_str())
        .collect();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    for r in &in_period {
        if let (Some(d), Some(s)) = (&r.department, &r.street)
            && in_district.contains(s.as_str())
        {
            tallies.entry(d.clone()).or_default().add(r);
        }
    }
    let expected: Vec<RankRow> = ranked(
        tallies
            .iter()
            .filter(|(_, t)| {
                t.closures + t.resolved.len() as u64 + t.returned.len() as u64 + t.reopened > 0
            })
            .map(|(code, t)| t.row(code, shared::taxonomy::department_name(code, false), false))
            .collect(),
    );
    let got = rankings(
        &server,
        &format!("by=department&scope=district:{district}&{period}"),
    )
    .await;
    assert_eq!(got.rows, expected);

    // The JSON fits the document's schema.
    let doc = crate::openapi::document(&server).await;
    let body = get_json(&server, &format!("/api/rankings?by=street&{period}")).await;
    crate::openapi::check(&doc, "get", "/api/rankings", 200, &body);
    let body = get_json(&server, &format!("/api/compare?{period}")).await;
    crate::openapi::check(&doc, "get", "/api/compare", 200, &body);
    server.stop().await;
}

/// A CSV document's lines and fields, by RFC 4180 (quoted fields may hold commas, quotes and
/// line breaks).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(
        field.is_empty() && row.is_empty(),
        "the CSV ends with a line break"
    );
    rows
}

fn counts_of(rows: &[RankRow]) -> Counts {
    rows.iter()
        .fold(Counts::default(), |sum, r| sum.plus(&r.counts()))
}

#[tokio::test]
async fn exports_and_comparisons_agree_with_the_rankings() {
    let (server, now) = demo_server(Store::Sqlite).await;
    let (from, to) = (now - 60 * DAY_MS, now + 3_600_000);
    let period = format!("from={from}&to={to}");

    // CSV: the JSON's rows, with a byte order mark, a header and a download name.
    for by in ["department", "street"] {
        let json = rankings(&server, &format!("by={by}&{period}")).await;
        let res = server
            .get(&format!("/api/rankings.csv?by={by}&{period}"))
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
        let disposition = res.headers()["content-disposition"]
            .to_str()
            .expect("ASCII")
            .to_owned();
        assert!(
            disposition.starts_with("attachment; filename=\"")
                && disposition.contains(&format!("rankings-{by}-city-{}", date(from)))
                && disposition.ends_with(".csv\""),
            "{disposition}"
        );
        let bytes = res.bytes().await.expect("body");
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a UTF-8 byte order mark");
        let text = std::str::from_utf8(&bytes[3..]).expect("UTF-8");
        let lines = parse_csv(text);
        assert_eq!(lines[0][0], "排名");
        assert_eq!(lines[0].len(), 13);
        assert_eq!(lines.len(), json.rows.len() + 1);
        let number = |s: &str| (!s.is_empty()).then(|| s.parse::<f64>().expect("a number"));
        for (fields, row) in lines[1..].iter().zip(&json.rows) {
            assert_eq!(fields.len(), 13, "{fields:?}");
            assert_eq!(fields[0], row.rank.to_string());
            assert_eq!(fields[1], row.code);
            assert_eq!(fields[2], row.name);
            assert_eq!(fields[3], row.closures.to_string());
            assert_eq!(fields[4], row.on_time.to_string());
            assert_eq!(number(&fields[5]), row.on_time_rate);
            assert_eq!(fields[6], row.handling_ms.to_string());
            assert_eq!(number(&fields[7]), row.avg_handling_hours);
            assert_eq!(fields[8], row.resolved.to_string());
            assert_eq!(fields[9], row.returned.to_string());
            assert_eq!(number(&fields[10]), row.returned_share);
            assert_eq!(fields[11], row.reopened.to_string());
            assert_eq!(
                fields[12],
                row.reports.map(|n| n.to_string()).unwrap_or_default()
            );
        }
    }

    // Compare: each period's figures are the totals of its street ranking (every case has a
    // grid, so the streets hold all of them), and the closures those of its department one.
    let (b_from, b_to) = (from - 90 * DAY_MS, from - 30 * DAY_MS);
    let cmp: Comparison = serde_json::from_value(
        get_json(
            &server,
            &format!("/api/compare?{period}&vs_from={b_from}&vs_to={b_to}"),
        )
        .await,
    )
    .expect("a Comparison body");
    assert_eq!(cmp.scope, Scope::City);
    assert_eq!(cmp.scope_name, "全市");
    for (figures, (f, t)) in [(&cmp.a, (from, to)), (&cmp.b, (b_from, b_to))] {
        assert_eq!((figures.period.from_ms, figures.period.to_ms), (f, t));
        let streets = rankings(&server, &format!("by=street&from={f}&to={t}")).await;
        let departments = rankings(&server, &format!("by=department&from={f}&to={t}")).await;
        let sum = counts_of(&streets.rows);
        let expected =
            shared::assess::PeriodFigures::new(figures.period, &sum, figures.overdue_now);
        assert_eq!(*figures, expected);
        assert!(figures.closures > 0 && figures.reports > 0, "{figures:?}");
        let by_department = counts_of(&departments.rows);
        assert_eq!(
            (
                by_department.closures,
                by_department.on_time,
                by_department.handling_ms
            ),
            (sum.closures, sum.on_time, sum.handling_ms)
        );
    }
    let wall = server.counters().await;
    assert_eq!(Some(cmp.a.overdue_now), wall["overdue"].as_u64());
    // Without `vs_…`, `b` is the period of the same length just before `a`.
    let cmp: Comparison =
        serde_json::from_value(get_json(&server, &format!("/api/compare?{period}")).await)
            .expect("a Comparison body");
    assert_eq!(cmp.b.period.to_ms, from);
    assert_eq!(cmp.b.period.from_ms, from - (to - from));

    // The SVG: well-formed, naming the period and the best department.
    let departments = rankings(&server, &format!("by=department&{period}")).await;
    let top = &departments.rows[0];
    assert!(top.on_time_rate.is_some());
    let res = server.get(&format!("/api/briefing.svg?{period}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
    let svg = res.text().await.expect("SVG text");
    let doc = roxmltree::Document::parse(&svg).expect("the SVG is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("width"), Some("1600"));
    assert_eq!(root.attribute("height"), Some("900"));
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect();
    let all = texts.join("\n");
    assert!(
        all.contains(&format!("{} 至 {}", date(from), date(to - 1))),
        "{all}"
    );
    assert!(all.contains("全市"), "{all}");
    assert!(
        all.contains(&top.name),
        "the top department {} is named: {all}",
        top.name
    );

    // The PNG: a real PNG of 1600×900 with something drawn on it.
    let res = server.get(&format!("/api/briefing.png?{period}")).await;
    assert_eq!(res.status(), 200, "is fonts-noto-cjk installed?");
    assert_eq!(res.headers()["content-type"], "image/png");
    let bytes = res.bytes().await.expect("PNG bytes");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes.to_vec()));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a PNG frame");
    assert_eq!((info.width, info.height), (1600, 900));
    let colours: BTreeSet<&[u8]> = pixels[..info.buffer_size()].chunks(3).collect();
    assert!(
        colours.len() > 20,
        "{} colours: text and charts are drawn",
        colours.len()
    );
    server.stop().await;
}

/// The status and error body of a GET as `token` (none when `None`).
async fn status_as(server: &TestServer, token: Option<&str>, path: &str) -> (u16, Value) {
    let mut req = reqwest::Client::new().get(server.url(path));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("GET");
    let status = res.status().as_u16();
    let body = if res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap_or("").starts_with("application/json"))
    {
        res.json().await.expect("JSON")
    } else {
        Value::Null
    };
    (status, body)
}

const ROUTES: [&str; 5] = [
    "/api/rankings",
    "/api/rankings.csv",
    "/api/compare",
    "/api/briefing.svg",
    "/api/briefing.png",
];

#[tokio::test]
async fn bad_parameters_are_named() {
    let server = TestServer::start().await;
    let leader = server.tokens.leader.clone();
    let day = DAY_MS;
    // Periods start at a moment in the years the API takes (2023-11-14), a whole number of days on.
    let t: i64 = 1_700_000_000_000;
    let d = |n: i64| t + n * day;
    for (path, field) in [
        ("/api/rankings?by=district".to_owned(), "by"),
        ("/api/rankings.csv?by=".to_owned() + "grid", "by"),
        (format!("/api/rankings?from={}&to={}", d(10), d(5)), "to"),
        (format!("/api/rankings?from={}&to={}", d(10), d(10)), "to"),
        (format!("/api/rankings?from={t}&to={}", d(401)), "from"),
        ("/api/rankings?from=yesterday".to_owned(), "from"),
        ("/api/rankings?scope=county:1".to_owned(), "scope"),
        (format!("/api/compare?from={}&to={}", d(10), d(5)), "to"),
        (
            format!(
                "/api/compare?from={}&to={}&vs_from={}&vs_to={}",
                d(10),
                d(20),
                d(5),
                d(4)
            ),
            "vs_to",
        ),
        (
            format!(
                "/api/compare?from={}&to={}&vs_from={t}&vs_to={}",
                d(500),
                d(501),
                d(450)
            ),
            "vs_from",
        ),
        (format!("/api/briefing.svg?from={t}&to={}", d(500)), "from"),
        // Moments outside the years 2000 to 2100 are refused before any arithmetic: this period
        // once made the server build a series of 10^11 days and run out of memory.
        (
            "/api/briefing.svg?from=-5000000000000000000&to=5000000000000000000".to_owned(),
            "to",
        ),
        (
            format!("/api/rankings?from=-5000000000000000000&to={}", d(1)),
            "from",
        ),
        (format!("/api/compare?vs_from=1&to={}", d(1)), "vs_from"),
        (format!("/api/briefing.png?from={}&to={}", d(3), d(1)), "to"),
    ] {
        let (status, body) = status_as(&server, Some(&leader), &path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], "bad_parameter", "{path}: {body}");
        assert_eq!(body["error"]["field"], field, "{path}: {body}");
    }
    // A period of exactly 400 days is taken; an unknown parameter is refused.
    let (status, _) = status_as(
        &server,
        Some(&leader),
        &format!("/api/rankings?from={t}&to={}", d(400)),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = status_as(&server, Some(&leader), "/api/rankings?colour=red").await;
    assert_eq!(status, 400, "{body}");
    // An unknown street is not found.
    let (status, body) = status_as(&server, Some(&leader), "/api/rankings?scope=street:NOPE").await;
    assert_eq!(status, 404, "{body}");
    server.stop().await;
}

#[tokio::test]
async fn leaders_and_dispatchers_within_their_area_read_the_assessment() {
    let server = TestServer::start().await;
    let pool = server.db().await;
    let street_dispatcher = account_token(
        &pool,
        NewAccount {
            area: Some(Scope::Street("SR01".to_owned())),
            ..account("street-dispatcher", Role::Dispatcher)
        },
    )
    .await;
    let district_dispatcher = account_token(
        &pool,
        NewAccount {
            area: Some(Scope::District("SR".to_owned())),
            ..account("district-dispatcher", Role::Dispatcher)
        },
    )
    .await;
    let other_dispatcher = account_token(
        &pool,
        NewAccount {
            area: Some(Scope::Street("ELSEWHERE".to_owned())),
            ..account("other-dispatcher", Role::Dispatcher)
        },
    )
    .await;
    let district_leader = account_token(
        &pool,
        NewAccount {
            area: Some(Scope::District("SR".to_owned())),
            ..account("district-leader", Role::Leader)
        },
    )
    .await;
    let staff = server.staff_token("D01").await;
    pool.close().await;
    let tokens = server.tokens.clone();
    for route in ROUTES {
        let city = format!("{route}?scope=city");
        let district = format!("{route}?scope=district:SR");
        let street = format!("{route}?scope=street:SR01");
        for (who, token, path, status) in [
            ("nobody", None, &city, 401),
            ("a grid worker", Some(tokens.worker.as_str()), &street, 403),
            ("department staff", Some(staff.as_str()), &city, 403),
            ("the leader", Some(tokens.leader.as_str()), &city, 200),
            (
                "a district's leader",
                Some(district_leader.as_str()),
                &city,
                200,
            ),
            (
                "the city's dispatcher",
                Some(tokens.dispatcher.as_str()),
                &street,
                200,
            ),
            (
                "a district's dispatcher",
                Some(district_dispatcher.as_str()),
                &street,
                200,
            ),
            (
                "a district's dispatcher",
                Some(district_dispatcher.as_str()),
                &city,
                403,
            ),
            (
                "a street's dispatcher",
                Some(street_dispatcher.as_str()),
                &street,
                200,
            ),
            (
                "a street's dispatcher",
                Some(street_dispatcher.as_str()),
                &district,
                403,
            ),
            (
                "a street's dispatcher",
                Some(street_dispatcher.as_str()),
                &city,
                403,
            ),
            (
                "another street's dispatcher",
                Some(other_dispatcher.as_str()),
                &street,
                403,
            ),
        ] {
            let (got, body) = status_as(&server, token, path).await;
            assert_eq!(got, status, "{who} GET {path}: {body}");
            if status >= 400 {
                assert!(
                    body["error"]["message"].is_string(),
                    "{who} GET {path}: {body}"
                );
            }
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn the_png_without_its_font_is_unavailable_and_names_the_option() {
    let db = TestDb::new(Store::Sqlite).await;
    let pool = backend::store::connect(&db.url).await.expect("open");
    backend::store::city::install(&pool, &backend::store::city::sample_areas())
        .await
        .expect("install the sample city");
    pool.close().await;
    let config = backend::config::Config {
        briefing_font: "/nonexistent/gridwall/NoFont.ttc".into(),
        ..backend::config::Config::new(db.url.clone())
    };
    let server = TestServer::start_configured(db, config).await;
    let res = server.get("/api/briefing.png").await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.expect("JSON");
    let message = body["error"]["message"].as_str().expect("a message");
    assert!(message.contains("--briefing-font"), "{message}");
    assert!(
        message.contains("/nonexistent/gridwall/NoFont.ttc"),
        "{message}"
    );
    // The SVG needs no font file.
    let res = server.get("/api/briefing.svg").await;
    assert_eq!(res.status(), 200);
    server.stop().await;
}
