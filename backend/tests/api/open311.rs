//! Open311 GeoReport v2 at `/open311/v2/`: discovery, services, service definitions, posting
//! and reading requests, tokens, and errors in the standard's shape, in JSON and XML.

use crate::on_both_stores;
use crate::support::{Store, TestServer, table_counts};
use serde_json::{Value, json};
use std::collections::BTreeSet;

const LAMP_POST: &str = "0801";
/// A form's fields, in order.
type Form<'a> = Vec<(&'a str, String)>;
/// A point inside the sample city's grid SR-01-001.
const INSIDE: (&str, &str) = ("46.585", "125.025");

/// A client with no credentials of its own, as an Open311 app is.
fn client() -> reqwest::Client {
    reqwest::Client::new()
}

async fn get(server: &TestServer, path: &str) -> reqwest::Response {
    client()
        .get(server.url(&format!("/open311/v2/{path}")))
        .send()
        .await
        .expect("GET")
}

/// The status and JSON body of a GET, after checking its content type.
async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let res = get(server, path).await;
    let status = res.status().as_u16();
    assert_eq!(
        content_type(&res),
        "application/json; charset=utf-8",
        "{path}"
    );
    (status, res.json().await.expect("JSON"))
}

/// The status and XML text of a GET, after checking its content type and that it parses.
async fn get_xml(server: &TestServer, path: &str) -> (u16, String) {
    let res = get(server, path).await;
    let status = res.status().as_u16();
    assert_eq!(content_type(&res), "text/xml; charset=utf-8", "{path}");
    let text = res.text().await.expect("XML text");
    well_formed(&text);
    (status, text)
}

fn content_type(res: &reqwest::Response) -> String {
    res.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn well_formed(text: &str) {
    assert!(
        text.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        "{text}"
    );
    if let Err(err) = roxmltree::Document::parse(text) {
        panic!("not well-formed XML ({err}): {text}");
    }
}

/// The texts of every element named `name`, in document order.
fn texts(xml: &str, name: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    doc.descendants()
        .filter(|n| n.has_tag_name(name))
        .map(|n| n.text().unwrap_or("").to_owned())
        .collect()
}

fn root(xml: &str) -> String {
    let doc = roxmltree::Document::parse(xml).expect("well-formed XML");
    doc.root_element().tag_name().name().to_owned()
}

/// POSTs a form to `requests.{format}`.
async fn post_form(
    server: &TestServer,
    format: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let body = serde_urlencoded::to_string(fields).expect("a form");
    client()
        .post(server.url(&format!("/open311/v2/requests.{format}")))
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(body)
        .send()
        .await
        .expect("POST")
}

async fn api_key(server: &TestServer, name: &str) -> String {
    backend::services::auth::create_api_key(&server.db().await, name, false)
        .await
        .expect("an API key")
}

/// Posts a request for `service` at the sample city's point and returns its id.
async fn post_request(server: &TestServer, key: &str, service: &str, description: &str) -> i64 {
    let res = post_form(
        server,
        "json",
        &[
            ("api_key", key),
            ("service_code", service),
            ("lat", INSIDE.0),
            ("long", INSIDE.1),
            ("description", description),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("JSON");
    body[0]["service_request_id"].as_i64().expect("an id")
}

/// The ids of `requests.json?{query}`, in the order given.
async fn ids(server: &TestServer, query: &str) -> Vec<i64> {
    let (status, body) = get_json(server, &format!("requests.json?{query}")).await;
    assert_eq!(status, 200, "{query}: {body}");
    body.as_array()
        .expect("an array")
        .iter()
        .map(|r| r["service_request_id"].as_i64().expect("an id"))
        .collect()
}

/// Checks an error body in the standard shape and returns its description.
fn standard_error(body: &Value, status: u16) -> String {
    let errors = body.as_array().expect("an array of errors");
    assert_eq!(errors.len(), 1, "{body}");
    assert_eq!(errors[0]["code"], status, "{body}");
    let description = errors[0]["description"].as_str().expect("a description");
    assert!(!description.is_empty());
    description.to_owned()
}

#[tokio::test]
async fn discovery_and_services_come_in_json_and_xml() {
    let server = TestServer::start().await;

    let (status, discovery) = get_json(&server, "discovery.json").await;
    assert_eq!(status, 200);
    let endpoint = &discovery["endpoints"][0];
    assert_eq!(
        endpoint["specification"],
        "http://wiki.open311.org/GeoReport_v2"
    );
    assert_eq!(
        endpoint["url"],
        format!("http://{}/open311/v2", server.addr)
    );
    assert_eq!(endpoint["type"], "production");
    assert_eq!(endpoint["formats"], json!(["text/xml", "application/json"]));
    for field in ["changeset", "contact", "key_service"] {
        assert!(discovery[field].is_string(), "{field}: {discovery}");
    }
    let (status, xml) = get_xml(&server, "discovery.xml").await;
    assert_eq!(status, 200);
    assert_eq!(root(&xml), "discovery");
    assert_eq!(texts(&xml, "format"), ["text/xml", "application/json"]);
    assert_eq!(texts(&xml, "changeset")[0], discovery["changeset"]);

    let (status, services) = get_json(&server, "services.json").await;
    assert_eq!(status, 200);
    let services = services.as_array().expect("an array").clone();
    assert_eq!(services.len(), 332);
    let groups: BTreeSet<&str> = services
        .iter()
        .map(|s| s["group"].as_str().expect("a group"))
        .collect();
    assert_eq!(groups.len(), 15);
    assert!(groups.contains("市政设施"), "{groups:?}");
    for s in &services {
        assert_eq!(s["metadata"], false);
        assert_eq!(s["type"], "realtime");
        for field in ["service_code", "service_name", "description", "keywords"] {
            assert!(s[field].is_string(), "{field}: {s}");
        }
    }
    let lamp = services
        .iter()
        .find(|s| s["service_code"] == LAMP_POST)
        .expect("the lamp-post service");
    assert_eq!(lamp["service_name"], "路灯杆倾斜");
    assert_eq!(lamp["group"], "市政设施");

    let (status, xml) = get_xml(&server, "services.xml").await;
    assert_eq!(status, 200);
    assert_eq!(root(&xml), "services");
    let codes = texts(&xml, "service_code");
    assert_eq!(codes.len(), 332);
    assert_eq!(codes[0], services[0]["service_code"]);
    assert_eq!(
        texts(&xml, "group").iter().collect::<BTreeSet<_>>().len(),
        15
    );
    assert_eq!(texts(&xml, "service_name")[0], services[0]["service_name"]);

    let (status, definition) = get_json(&server, "services/0801.json").await;
    assert_eq!(status, 200);
    assert_eq!(
        definition,
        json!({"service_code": "0801", "attributes": []})
    );
    let (status, xml) = get_xml(&server, "services/0801.xml").await;
    assert_eq!(status, 200);
    assert_eq!(root(&xml), "service_definition");
    assert_eq!(texts(&xml, "service_code"), ["0801"]);

    let (status, body) = get_json(&server, "services/9999.json").await;
    assert_eq!(status, 404);
    assert!(standard_error(&body, 404).contains("9999"));
    server.stop().await;
}

on_both_stores!(the_lamp_post_story_through_open311);
async fn the_lamp_post_story_through_open311(store: Store) {
    let server = TestServer::start_on(store).await;
    let key = api_key(&server, "citizen-app").await;
    // Markup characters and Chinese text, which both spellings must carry unharmed.
    let said = "路灯杆倾斜 & <危险> \"请尽快\" 'x'";
    let res = post_form(
        &server,
        "xml",
        &[
            ("api_key", key.as_str()),
            ("jurisdiction_id", "daqing.gov.cn"),
            ("service_code", LAMP_POST),
            ("lat", INSIDE.0),
            ("long", INSIDE.1),
            ("description", said),
            ("media_url", "https://photos.example.org/lamp.jpg"),
            ("email", "citizen@example.org"),
            ("first_name", "张"),
            ("last_name", "三"),
            ("phone", "13800000000"),
            ("device_id", "device-42"),
            ("attribute[WHISPAWN]", "123456"),
        ],
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(content_type(&res), "text/xml; charset=utf-8");
    let xml = res.text().await.expect("XML");
    well_formed(&xml);
    assert_eq!(root(&xml), "service_requests");
    let id: i64 = texts(&xml, "service_request_id")[0]
        .parse()
        .expect("a numeric id");
    assert!(texts(&xml, "service_notice")[0].contains("D01"), "{xml}");
    assert_eq!(texts(&xml, "account_id"), [""]);

    // Stored as a report by the app, in the grid of the point, with the platform's category.
    let db = server.db().await;
    assert_eq!(table_counts(&db).await, (1, 1));
    let (category, sub_item, grid, description): (String, String, String, String) = sqlx::query_as(
        "SELECT category, sub_item_code, grid_id, description FROM cases WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&db)
    .await
    .expect("the case");
    assert_eq!(
        (category.as_str(), sub_item.as_str(), grid.as_str()),
        ("municipal_facilities", LAMP_POST, "SR-01-001")
    );
    assert!(description.starts_with(said), "{description}");
    let actor: String = sqlx::query_scalar("SELECT actor FROM transitions WHERE case_id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .expect("the report's transition");
    assert_eq!(actor, "app:citizen-app");

    let (status, body) = get_json(&server, &format!("requests/{id}.json")).await;
    assert_eq!(status, 200);
    let request = &body[0];
    assert_eq!(request["service_request_id"], id);
    assert_eq!(request["status"], "open");
    assert!(
        request["status_notes"]
            .as_str()
            .expect("notes")
            .starts_with("reported"),
        "{request}"
    );
    assert_eq!(request["service_code"], LAMP_POST);
    assert_eq!(request["service_name"], "路灯杆倾斜");
    assert_eq!(request["description"], said);
    assert_eq!(request["media_url"], "https://photos.example.org/lamp.jpg");
    assert_eq!(request["lat"], 46.585);
    assert_eq!(request["long"], 125.025);
    assert_eq!(request["address_id"], "SR-01-001");
    assert_eq!(request["address"], "样例街道第1网格, 样例街道, 样例区");
    assert_eq!(request["agency_responsible"], Value::Null);
    assert_eq!(request["expected_datetime"], Value::Null);
    let requested = request["requested_datetime"].as_str().expect("a datetime");
    assert!(
        requested.ends_with("+08:00") && requested.len() == 25,
        "{requested}"
    );
    // Nothing of the reporter's identity is kept or shown.
    for private in [
        "citizen@example.org",
        "张",
        "13800000000",
        "device-42",
        "123456",
    ] {
        assert!(!body.to_string().contains(private), "{private} in {body}");
        assert!(!description.contains(private), "{private} stored");
    }

    let (status, xml) = get_xml(&server, &format!("requests/{id}.xml")).await;
    assert_eq!(status, 200);
    assert_eq!(root(&xml), "service_requests");
    assert_eq!(texts(&xml, "description"), [said]);
    assert_eq!(texts(&xml, "status"), ["open"]);
    assert_eq!(texts(&xml, "zipcode"), [""]);

    // The platform's loop, as the centre, the department and the grid worker move it.
    let mut expected = None;
    for (action, status, note) in [
        ("dispatch", "open", "dispatched to D01"),
        ("accept", "open", "accepted by D01"),
        ("resolve", "open", "resolved by D01"),
        ("verify", "open", "the fix was verified"),
        ("close", "closed", "closed"),
    ] {
        let res = server
            .post_json(
                &format!("/api/cases/{id}/moves"),
                &json!({"action": action}),
            )
            .await;
        assert_eq!(res.status(), 200, "{action}");
        let (_, body) = get_json(&server, &format!("requests/{id}.json")).await;
        let request = &body[0];
        assert_eq!(request["status"], status, "after {action}: {request}");
        let notes = request["status_notes"].as_str().expect("notes");
        assert!(notes.starts_with(note), "after {action}: {notes}");
        assert_eq!(
            request["agency_responsible"], "大庆市城市管理综合执法局",
            "after {action}"
        );
        let deadline = request["expected_datetime"].as_str().expect("a deadline");
        assert!(deadline.ends_with("+08:00"), "{deadline}");
        // The deadline is set by the dispatch and kept through the loop.
        assert_eq!(*expected.get_or_insert(deadline.to_owned()), deadline);
    }
    let (_, body) = get_json(&server, &format!("requests/{id}.json")).await;
    assert!(
        body[0]["updated_datetime"].as_str() >= body[0]["requested_datetime"].as_str(),
        "{body}"
    );
    assert_eq!(ids(&server, "status=closed").await, [id]);
    assert_eq!(ids(&server, "status=open").await, Vec::<i64>::new());

    // The token of a request answered at once is its id.
    let (status, body) = get_json(&server, &format!("tokens/{id}.json")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!([{"service_request_id": id, "token": id.to_string()}])
    );
    let (status, xml) = get_xml(&server, &format!("tokens/{id}.xml")).await;
    assert_eq!(status, 200);
    assert_eq!(texts(&xml, "token"), [id.to_string()]);
    let (status, body) = get_json(&server, "tokens/999999.json").await;
    assert_eq!(status, 404);
    standard_error(&body, 404);
    server.stop().await;
}

on_both_stores!(requests_are_filtered_newest_first);
async fn requests_are_filtered_newest_first(store: Store) {
    let server = TestServer::start_on(store).await;
    let key = api_key(&server, "filters").await;
    let heating = post_request(&server, &key, "0101", "暖气不热").await;
    let lamp = post_request(&server, &key, LAMP_POST, "路灯杆倾斜").await;
    // A report through the platform's own API is a request too.
    let worker = server.report("路灯不亮").await["id"].as_i64().expect("id");
    let rejected = post_request(&server, &key, LAMP_POST, "重复上报").await;
    let res = server
        .post_json(
            &format!("/api/cases/{rejected}/moves"),
            &json!({"action": "reject"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    assert_eq!(ids(&server, "").await, [rejected, worker, lamp, heating]);
    assert_eq!(
        ids(&server, "service_code=0801").await,
        [rejected, worker, lamp]
    );
    assert_eq!(
        ids(&server, "service_code=0101,0801&jurisdiction_id=x").await,
        [rejected, worker, lamp, heating]
    );
    assert_eq!(
        ids(&server, "service_code=0101&service_code=0801").await,
        [rejected, worker, lamp, heating]
    );
    assert_eq!(ids(&server, "status=closed").await, [rejected]);
    assert_eq!(
        ids(&server, "status=open&service_code=0801").await,
        [worker, lamp]
    );
    assert_eq!(
        ids(&server, "status=open,closed").await,
        [rejected, worker, lamp, heating]
    );
    // Ids override every other parameter.
    assert_eq!(
        ids(
            &server,
            &format!("service_request_id={heating},{lamp}&status=closed")
        )
        .await,
        [lamp, heating]
    );

    let now = backend::clock::now_ms();
    let offset = 8 * 60;
    let at = |ms: i64| backend::http::open311::w3c_datetime(ms, offset);
    let hour = 3_600_000;
    assert_eq!(
        ids(&server, &format!("start_date={}", at(now + hour))).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&server, &format!("end_date={}", at(now - hour))).await,
        Vec::<i64>::new()
    );
    // The `+` of the offset unescaped, as many clients send it: it arrives as a space.
    assert_eq!(
        ids(
            &server,
            &format!("start_date={}&end_date={}", at(now - hour), at(now + hour))
        )
        .await,
        [rejected, worker, lamp, heating]
    );
    let escaped = at(now - hour).replace('+', "%2B");
    assert_eq!(
        ids(&server, &format!("start_date={escaped}")).await.len(),
        4
    );
    // A date alone is the centre's whole day.
    let today = at(now)[..10].to_owned();
    assert_eq!(
        ids(&server, &format!("start_date={today}&end_date={today}"))
            .await
            .len(),
        4
    );
    server.stop().await;
}

on_both_stores!(at_most_1000_requests_come_back);
async fn at_most_1000_requests_come_back(store: Store) {
    let server = TestServer::start_on(store).await;
    let key = api_key(&server, "bulk").await;
    let url = server.url("/open311/v2/requests.json");
    let mut posts = tokio::task::JoinSet::new();
    let http = client();
    for i in 0..1_001 {
        let (http, url, key) = (http.clone(), url.clone(), key.clone());
        posts.spawn(async move {
            let description = format!("路灯 {i}");
            let body = serde_urlencoded::to_string([
                ("api_key", key.as_str()),
                ("service_code", LAMP_POST),
                ("lat", INSIDE.0),
                ("long", INSIDE.1),
                ("description", description.as_str()),
            ])
            .expect("a form");
            let res = http
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("POST");
            assert_eq!(res.status(), 200);
        });
        // A bounded number in flight, so that the test does not open a thousand sockets.
        if posts.len() >= 32 {
            posts.join_next().await.expect("a post").expect("posted");
        }
    }
    while let Some(done) = posts.join_next().await {
        done.expect("posted");
    }
    assert_eq!(table_counts(&server.db().await).await, (1_001, 1_001));
    let all: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM cases ORDER BY reported_at DESC, id DESC")
            .fetch_all(&server.db().await)
            .await
            .expect("ids");
    let listed = ids(&server, "").await;
    assert_eq!(listed.len(), 1_000);
    assert_eq!(listed, all[..1_000]);
    server.stop().await;
}

on_both_stores!(errors_come_in_the_standard_shape_and_store_nothing);
async fn errors_come_in_the_standard_shape_and_store_nothing(store: Store) {
    let server = TestServer::start_on(store).await;
    let key = api_key(&server, "errors").await;
    let good = |extra: &[(&'static str, &'static str)]| {
        let mut fields: Form = vec![
            ("api_key", key.clone()),
            ("service_code", LAMP_POST.to_owned()),
            ("lat", INSIDE.0.to_owned()),
            ("long", INSIDE.1.to_owned()),
            ("description", "路灯杆倾斜".to_owned()),
        ];
        for &(name, value) in extra {
            fields.retain(|&(n, _)| n != name);
            if !value.is_empty() {
                fields.push((name, value.to_owned()));
            }
        }
        fields
    };
    let long_description = "长".repeat(2_001);
    let cases: Vec<(Form, u16, &str)> = vec![
        (good(&[("api_key", "")]), 403, "api_key is missing"),
        (
            good(&[("api_key", "not-a-key")]),
            403,
            "api_key is not valid",
        ),
        (good(&[("service_code", "9999")]), 404, "9999"),
        (
            good(&[("service_code", "")]),
            400,
            "service_code was not provided",
        ),
        (
            good(&[("lat", "39.9"), ("long", "116.4")]),
            400,
            "lat 39.9, long 116.4 lies outside the city",
        ),
        (good(&[("lat", ""), ("long", "")]), 400, "send lat and long"),
        (good(&[("long", "")]), 400, "long was not provided"),
        (
            good(&[("lat", ""), ("long", ""), ("address_string", "中央大街1号")]),
            400,
            "address_string",
        ),
        (good(&[("lat", "north")]), 400, "lat `north`"),
        (good(&[("long", "200")]), 400, "long `200`"),
        (
            good(&[("media_url", "javascript:alert(1)")]),
            400,
            "media_url",
        ),
        (
            {
                let mut f = good(&[]);
                f.retain(|(n, _)| *n != "description");
                f.push(("description", long_description.clone()));
                f
            },
            400,
            "longer than 2000",
        ),
    ];
    for (fields, status, says) in &cases {
        for format in ["json", "xml"] {
            let body = serde_urlencoded::to_string(fields).expect("a form");
            let res = client()
                .post(server.url(&format!("/open311/v2/requests.{format}")))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("POST");
            assert_eq!(res.status().as_u16(), *status, "{says} ({format})");
            let description = if format == "json" {
                standard_error(&res.json().await.expect("JSON"), *status)
            } else {
                let xml = res.text().await.expect("XML");
                well_formed(&xml);
                assert_eq!(root(&xml), "errors");
                assert_eq!(texts(&xml, "code"), [status.to_string()]);
                texts(&xml, "description").remove(0)
            };
            assert!(description.contains(says), "{says}: {description}");
        }
    }

    // A JSON body is not the standard's form.
    let res = client()
        .post(server.url("/open311/v2/requests.json"))
        .json(&json!({"api_key": key, "service_code": LAMP_POST}))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 400);
    standard_error(&res.json().await.expect("JSON"), 400);

    // Reads: bad parameters, unknown resources and formats, wrong methods.
    for (path, status, says) in [
        (
            "requests.json?start_date=yesterday",
            400,
            "start_date `yesterday`",
        ),
        ("requests.json?end_date=2026-02-30", 400, "end_date"),
        (
            "requests.json?start_date=2026-01-01&end_date=2026-11-01",
            400,
            "90 days",
        ),
        (
            "requests.json?start_date=2026-11-02&end_date=2026-11-01",
            400,
            "before start_date",
        ),
        ("requests.json?status=pending", 400, "pending"),
        ("requests.json?service_code=9999", 400, "9999"),
        ("requests.json?service_request_id=abc", 400, "abc"),
        ("requests/999.json", 404, "999"),
        ("requests/abc.json", 404, "abc"),
        ("services/0801.json.json", 404, "0801.json"),
        ("complaints.json", 404, "complaints"),
        ("tokens/abc.json", 404, "abc"),
        ("a/b/c.json", 404, "no such Open311 resource"),
    ] {
        let (got, body) = get_json(&server, path).await;
        assert_eq!(got, status, "{path}: {body}");
        let description = standard_error(&body, status);
        assert!(description.contains(says), "{path}: {description}");
    }
    // An unknown format is answered in XML, the standard's own.
    for path in ["services.html", "requests/1.csv", "discovery"] {
        let (got, xml) = get_xml(&server, path).await;
        assert_eq!(got, 404, "{path}");
        assert_eq!(root(&xml), "errors");
        assert_eq!(texts(&xml, "code"), ["404"]);
    }
    let res = client()
        .put(server.url("/open311/v2/requests.json"))
        .send()
        .await
        .expect("PUT");
    assert_eq!(res.status(), 405);
    standard_error(&res.json().await.expect("JSON"), 405);
    let res = post_form(&server, "json", &[("api_key", "x")]).await;
    assert_eq!(res.status(), 403);
    let res = client()
        .post(server.url("/open311/v2/services.json"))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 405);
    standard_error(&res.json().await.expect("JSON"), 405);

    assert_eq!(table_counts(&server.db().await).await, (0, 0));
    server.stop().await;
}
