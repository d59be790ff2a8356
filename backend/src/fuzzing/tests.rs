//! Every fuzz target on a few thousand inputs in the ordinary suite: random bytes, the seed
//! corpus of `fuzz/corpus/` mutated, and inputs built from each parser's own grammar. A panic
//! in a parser, or a 5xx for bad input, fails the test and names the smallest input found.

use super::*;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use std::path::Path;

/// An input, shown as text with its other bytes escaped when a test fails.
#[derive(Clone)]
struct Input(Vec<u8>);

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes: \"{}\"", self.0.len(), self.0.escape_ascii())
    }
}

/// The seed corpus of a target, the valid examples `fuzz/corpus/TARGET/` holds.
fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("a corpus file").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no seeds", dir.display());
    files
        .iter()
        .map(|file| std::fs::read(file).expect("a corpus file"))
        .collect()
}

/// Pieces that the parsers give meaning to, for mutations to insert.
const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "null",
    "true",
    "-1",
    "0",
    "1e400",
    "-0",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "0.0000004",
    "%",
    "%ff",
    "%00",
    "%e4%b8",
    "&",
    "=",
    "+",
    "\0",
    "\r\n",
    "\r\n\r\n",
    "--gridwall-fuzz",
    "--gridwall-fuzz--",
    "\u{feff}",
    "\\ud800",
    "\u{7f}",
    "路灯",
    "\"type\":",
    "\"features\":",
];

/// One change to an input.
#[derive(Debug, Clone)]
enum Edit {
    Flip(Index, u8),
    Insert(Index, Vec<u8>),
    Delete(Index, usize),
    /// A slice repeated: how inputs grow long and deeply nested.
    Repeat(Index, usize, usize),
    Truncate(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    let token = prop::sample::select(TOKENS).prop_map(|t| t.as_bytes().to_vec());
    let inserted = prop_oneof![token, prop::collection::vec(any::<u8>(), 1..8)];
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(i, bit)| Edit::Flip(i, bit)),
        (any::<Index>(), inserted).prop_map(|(i, bytes)| Edit::Insert(i, bytes)),
        (any::<Index>(), 1usize..16).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<Index>(), 1usize..64, 1usize..40).prop_map(|(i, n, k)| Edit::Repeat(i, n, k)),
        any::<Index>().prop_map(Edit::Truncate),
    ]
}

/// The longest input a mutation makes: the largest any target takes in its fuzzer.
const MAX_INPUT: usize = 64 * 1024;

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let at = |i: &Index, len: usize| if len == 0 { 0 } else { i.index(len) };
    match edit {
        Edit::Flip(i, bit) if !bytes.is_empty() => {
            let i = at(i, bytes.len());
            bytes[i] ^= 1 << bit;
        }
        Edit::Flip(..) => {}
        Edit::Insert(i, new) => {
            let i = at(i, bytes.len() + 1);
            bytes.splice(i..i, new.iter().copied());
        }
        Edit::Delete(i, n) => {
            let i = at(i, bytes.len() + 1);
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Edit::Repeat(i, n, k) => {
            let i = at(i, bytes.len() + 1);
            let end = (i + n).min(bytes.len());
            let slice = bytes[i..end].to_vec();
            for _ in 0..*k {
                bytes.splice(end..end, slice.iter().copied());
            }
        }
        Edit::Truncate(i) => {
            let i = at(i, bytes.len() + 1);
            bytes.truncate(i);
        }
    }
    bytes.truncate(MAX_INPUT);
}

/// Inputs made from `seeds` by a few edits each.
fn mutated(seeds: Vec<Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(seeds),
        prop::collection::vec(edit(), 1..6),
    )
        .prop_map(|(mut bytes, edits)| {
            for e in &edits {
                apply(&mut bytes, e);
            }
            bytes
        })
}

/// Random bytes, mostly short, some printable.
fn random_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        "[ -~]{0,200}".prop_map(String::into_bytes),
    ]
}

/// Runs `target` on `cases` inputs of `strategy`; a panic fails the test, naming the input.
fn run(target: fn(&[u8]), cases: u32, strategy: impl Strategy<Value = Vec<u8>>) {
    let config = Config {
        cases,
        failure_persistence: None,
        // A failure is shrunk for a little while only: the input found is shown either way.
        max_shrink_iters: 2_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy.prop_map(Input), |input| {
        target(&input.0);
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
}

/// The three kinds of input for one target: random, mutated seeds, and `built` (inputs from
/// the target's grammar, some of them mutated too).
fn fuzz<S: Strategy<Value = Vec<u8>>>(name: &str, built: impl Fn() -> S) {
    let target = TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .expect("a target");
    run(target, 300, random_bytes());
    run(target, 700, mutated(seeds(name)));
    run(target, 300, built());
    run(
        target,
        300,
        (built(), prop::collection::vec(edit(), 0..3)).prop_map(|(mut bytes, edits)| {
            for e in &edits {
                apply(&mut bytes, e);
            }
            bytes
        }),
    );
}

/// A JSON value of any shape, with the strings and numbers the parsers care about.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(VALUES).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..4).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

/// Names the parsers know, as query keys and JSON fields.
const KEYS: &[&str] = &[
    "type",
    "wall",
    "to_seat",
    "display",
    "scope",
    "kind",
    "id",
    "metric",
    "layers",
    "grid",
    "case",
    "at_ms",
    "replay",
    "from_ms",
    "to_ms",
    "speed",
    "paused",
    "token",
    "at",
    "by",
    "from",
    "to",
    "vs_from",
    "vs_to",
    "view",
    "state",
    "limit",
    "supervision",
    "open",
    "stream",
    "since",
    "follow",
    "service_request_id",
    "service_code",
    "start_date",
    "end_date",
    "status",
    "api_key",
    "lat",
    "long",
    "description",
    "media_url",
    "address_string",
    "address_id",
    "category",
    "sub_item",
    "grid_id",
    "point",
    "lon",
    "action",
    "note",
    "department",
    "login",
    "password",
    "email",
];

/// Values the parsers know, and their near misses.
const VALUES: &[&str] = &[
    "city",
    "district:230602",
    "street:230602001",
    "district:",
    "street",
    "1795881600000",
    "946684800000",
    "4102444800000",
    "4102444800001",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "department",
    "mine",
    "queue",
    "all",
    "reported",
    "closed",
    "open",
    "0",
    "1",
    "200",
    "201",
    "true",
    "false",
    "none",
    "warned",
    "overdue",
    "2026-11-01",
    "2026-11-29T00:00:00+08:00",
    "2026-11-29T00:00 08:00",
    "0001-01-01",
    "9999-12-31T23:59:59Z",
    "2026-02-30",
    "0801",
    "9999",
    "http://x.cn/a.jpg",
    "https:// x",
    "46.5",
    "125.0",
    "NaN",
    "inf",
    "1e400",
    "main",
    "wall-2",
    "Main",
    "take",
    "show",
    "handover",
    "release",
    "snapshot",
    "dispatch",
    "D01",
    "municipal_facilities",
    "grid_station",
    "per_1000",
    "",
];

/// `key=value&…` with keys and values the parsers know, some percent-encoded.
fn query_text() -> impl Strategy<Value = String> {
    let key =
        prop_oneof![3 => prop::sample::select(KEYS).prop_map(str::to_owned), 1 => "[a-z_]{0,6}"];
    let value = prop_oneof![
        3 => prop::sample::select(VALUES).prop_map(str::to_owned),
        1 => "[ -~]{0,12}",
        1 => "\\PC{0,6}",
        1 => "(%[0-9a-fA-F]{2}){1,4}",
    ];
    prop::collection::vec((key, value, any::<bool>()), 0..8).prop_map(|pairs| {
        pairs
            .into_iter()
            .map(|(k, v, encode)| {
                if encode {
                    format!(
                        "{k}={}",
                        serde_urlencoded::to_string([("", v.as_str())])
                            .unwrap_or_default()
                            .trim_start_matches('=')
                    )
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// A position: one of a square's corners near 125°E 46°N, moved on the scale at which the
/// import rounds (1e-6 degrees), or anywhere, or not a position at all.
fn coordinate() -> impl Strategy<Value = Value> {
    let corner = prop::sample::select(
        &[
            (125.0, 46.0),
            (125.01, 46.0),
            (125.01, 46.01),
            (125.0, 46.01),
        ][..],
    );
    let nudge = prop::sample::select(&[0.0, 1e-7, -1e-7, 4e-7, -4e-7, 6e-7, -6e-7, 1e-6, 1e-3][..]);
    prop_oneof![
        6 => (corner, nudge.clone(), nudge)
            .prop_map(|((x, y), dx, dy)| json!([x + dx, y + dy])),
        1 => (-200.0..200.0f64, -100.0..100.0f64).prop_map(|(x, y)| json!([x, y])),
        1 => json_value(),
    ]
}

/// A ring: usually closed, with a handful of positions.
fn ring() -> impl Strategy<Value = Value> {
    (prop::collection::vec(coordinate(), 0..7), any::<u8>()).prop_map(|(mut points, close)| {
        if close < 220
            && let Some(first) = points.first().cloned()
        {
            points.push(first);
        }
        Value::Array(points)
    })
}

fn geometry() -> impl Strategy<Value = Value> {
    let polygon = || prop::collection::vec(ring(), 0..3).prop_map(Value::Array);
    prop_oneof![
        4 => polygon().prop_map(|p| json!({"type": "Polygon", "coordinates": p})),
        1 => prop::collection::vec(polygon(), 0..3)
            .prop_map(|ps| json!({"type": "MultiPolygon", "coordinates": ps})),
        1 => json_value(),
    ]
}

fn feature_collection() -> impl Strategy<Value = Vec<u8>> {
    let id = prop_oneof![
        "[A-Za-z0-9_-]{1,6}".prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        json_value(),
    ];
    let text = || prop_oneof![3 => "\\PC{0,6}".prop_map(Value::from), 1 => json_value()];
    let kind = prop_oneof![
        Just(Value::from("urban")),
        Just(Value::from("rural")),
        json_value()
    ];
    let feature = (id, text(), text(), text(), kind, geometry()).prop_map(
        |(id, name, street, district, kind, geometry)| {
            json!({"type": "Feature",
                   "properties": {"id": id, "name": name, "street": street,
                                  "district": district, "kind": kind},
                   "geometry": geometry})
        },
    );
    prop::collection::vec(feature, 0..4).prop_map(|features| {
        json!({"type": "FeatureCollection", "features": features})
            .to_string()
            .into_bytes()
    })
}

/// A multipart body of parts the report and move routes know, and some they do not.
fn multipart() -> impl Strategy<Value = Vec<u8>> {
    let name = prop::sample::select(&["case", "move", "photo", "photo", "other", ""][..]);
    let content = prop_oneof![
        Just(br#"{"category":"municipal_facilities","sub_item":"0801","grid_id":"A","description":"x"}"#.to_vec()),
        Just(br#"{"action":"dispatch","department":"D01"}"#.to_vec()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| [&b"\xff\xd8\xff"[..], &b].concat()),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| [&b"\x89PNG\r\n\x1a\n"[..], &b].concat()),
        Just(b"RIFF\x24\0\0\0WEBPVP8 ".to_vec()),
        Just(b"GIF89a\x01\0\x01\0".to_vec()),
        (MAX_PHOTO_BYTES - 2..MAX_PHOTO_BYTES + 2).prop_map(|n| {
            let mut b = vec![0x5a; n];
            b[..3].copy_from_slice(b"\xff\xd8\xff");
            b
        }),
        prop::collection::vec(any::<u8>(), 0..32),
    ];
    let part = (
        name,
        prop::option::of("[a-z.]{0,8}"),
        prop::option::of(prop::sample::select(
            &["image/jpeg", "application/json", "text/plain", ""][..],
        )),
        content,
    );
    (prop::collection::vec(part, 0..9), any::<bool>()).prop_map(|(parts, close)| {
        let mut body = Vec::new();
        for (name, file, content_type, content) in parts {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            let mut disposition = format!("Content-Disposition: form-data; name=\"{name}\"");
            if let Some(file) = file {
                disposition.push_str(&format!("; filename=\"{file}\""));
            }
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(b"\r\n");
            if let Some(content_type) = content_type {
                body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(&content);
            body.extend_from_slice(b"\r\n");
        }
        if close {
            body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        }
        body
    })
}

/// A JSON object with fields the bodies and messages know.
fn json_object() -> impl Strategy<Value = Vec<u8>> {
    let tag = prop::sample::select(&["take", "show", "handover", "release", "snapshot", "x"][..]);
    let display = prop_oneof![
        Just(Value::Null),
        (json_value(), json_value()).prop_map(|(metric, at)| json!({
            "scope": {"kind": "district", "id": "230602"}, "metric": metric, "at_ms": at
        })),
        json_value(),
    ];
    prop_oneof![
        (tag, prop::sample::select(VALUES), any::<u64>(), display).prop_map(
            |(tag, wall, seat, display)| json!({
                "type": tag, "wall": wall, "to_seat": seat, "display": display
            })
            .to_string()
            .into_bytes()
        ),
        json_value().prop_map(|v| v.to_string().into_bytes()),
    ]
}

#[test]
fn geojson() {
    fuzz("geojson", feature_collection);
}

#[test]
fn geojson_rings() {
    fuzz("geojson_rings", || {
        prop::collection::vec(any::<u8>(), 0..40)
    });
}

#[test]
fn open311_form() {
    fuzz("open311_form", || {
        (query_text(), prop::option::of(query_text())).prop_map(|(body, query)| match query {
            Some(query) => format!("{body}\0{query}").into_bytes(),
            None => body.into_bytes(),
        })
    });
}

#[test]
fn open311_query() {
    fuzz("open311_query", || {
        query_text().prop_map(String::into_bytes)
    });
}

#[test]
fn photo_body() {
    fuzz("photo_body", multipart);
}

#[test]
fn json_body() {
    fuzz("json_body", json_object);
}

#[test]
fn ws_client() {
    fuzz("ws_client", json_object);
}

#[test]
fn ws_seat() {
    fuzz("ws_seat", json_object);
}

#[test]
fn query() {
    fuzz("query", || query_text().prop_map(String::into_bytes));
}

/// A target's seeds are valid input: a seed the parser refuses would make the mutations start
/// from the wrong place.
#[test]
fn the_seeds_are_read() {
    for (name, _) in TARGETS {
        assert!(!seeds(name).is_empty(), "{name}");
    }
    for seed in seeds("geojson") {
        let text = std::str::from_utf8(&seed).expect("UTF-8");
        parse_grids(text, &Mapping::default()).expect("a seed is a valid import");
    }
    for seed in seeds("ws_seat") {
        seat::read_seat_msg(std::str::from_utf8(&seed).expect("UTF-8")).expect("a seat message");
    }
}
