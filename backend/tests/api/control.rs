//! `/ws/seat` and `/ws?follow=`: a seat takes a wall, shows areas, a case and a past moment
//! on it, hands it over, and lets go; the walls following the channel change with it.

use crate::support::{Store, TestServer, account, account_token};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use shared::auth::Role;
use shared::control::{ControlState, Display, SeatEvent, SeatMsg};
use shared::wall::{Applied, Mirror, Scope, ServerMsg};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next text frame as `T`; fails the test after five seconds of silence.
async fn next<T: serde::de::DeserializeOwned>(ws: &mut Ws) -> T {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("the stream is open")
            .expect("a valid frame");
        if let Message::Text(text) = msg {
            return serde_json::from_str(&text).expect("a protocol message");
        }
    }
}

/// A wall following `main`, with the mirror of what it shows.
struct Follower {
    ws: Ws,
    mirror: Mirror,
    control: Option<ControlState>,
}

impl Follower {
    async fn open(server: &TestServer, query: &str) -> Follower {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws?{query}", server.addr))
            .await
            .expect("WebSocket handshake");
        Follower {
            ws,
            mirror: Mirror::default(),
            control: None,
        }
    }

    /// Reads until `done` holds of the follower, applying every frame; a gap fails the test.
    async fn until(&mut self, what: &str, done: impl Fn(&Follower) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !done(self) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited 10 s for {what}"
            );
            let msg: ServerMsg = next(&mut self.ws).await;
            if let ServerMsg::Control { control } = &msg {
                self.control = Some(control.clone());
            }
            assert_ne!(self.mirror.apply(&msg), Applied::Gap, "a gap before {what}");
        }
    }

    /// Reads until the wall shows `scope` with a snapshot applied.
    async fn until_showing(&mut self, scope: &Scope) {
        let want = scope.clone();
        self.until(&format!("a snapshot of {scope}"), move |f| {
            f.mirror.scope.as_ref() == Some(&want) && f.mirror.seq.is_some()
        })
        .await;
    }

    fn rev(&self) -> u64 {
        self.control.as_ref().map_or(0, |c| c.rev)
    }
}

/// A seat's connection and its number.
struct SeatWs {
    ws: Ws,
    seat: u64,
}

impl SeatWs {
    async fn open(server: &TestServer, token: &str) -> SeatWs {
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("ws://{}/ws/seat?token={token}", server.addr))
                .await
                .expect("WebSocket handshake");
        let SeatEvent::Hello { seat, protocol, .. } = next(&mut ws).await else {
            panic!("a seat's first message is its hello")
        };
        assert_eq!(protocol, shared::PROTOCOL_VERSION);
        SeatWs { ws, seat }
    }

    async fn send(&mut self, msg: &SeatMsg) {
        let text = serde_json::to_string(msg).expect("json");
        self.ws.send(Message::text(text)).await.expect("send");
    }

    /// The next event.
    async fn event(&mut self) -> SeatEvent {
        next(&mut self.ws).await
    }

    /// Sends `msg` and returns the channel state that answers it.
    async fn granted(&mut self, msg: SeatMsg) -> ControlState {
        self.send(&msg).await;
        match self.event().await {
            SeatEvent::Control { control } => *control,
            other => panic!("{msg:?} was answered with {other:?}"),
        }
    }

    /// Sends `msg` and returns the code and message of its refusal; changes of channels
    /// made before it (which every seat hears of) are passed over.
    async fn refused(&mut self, msg: SeatMsg) -> (String, String) {
        self.send(&msg).await;
        loop {
            match self.event().await {
                SeatEvent::Refused { error, .. } => return (error.code, error.message),
                SeatEvent::Control { .. } => continue,
                other => panic!("{msg:?} was answered with {other:?}"),
            }
        }
    }
}

fn show(display: Option<Display>) -> SeatMsg {
    SeatMsg::Show {
        wall: "main".into(),
        display,
    }
}

fn take() -> SeatMsg {
    SeatMsg::Take {
        wall: "main".into(),
    }
}

#[tokio::test]
async fn a_seat_puts_an_area_a_case_and_a_past_moment_on_the_walls_that_follow_it() {
    let server = TestServer::start().await;
    let city = Scope::City;
    let district = Scope::District("SR".into());
    let street = Scope::Street("SR01".into());
    // A case with a before photo, to be shown as a card.
    let res = crate::photos::post_form(
        &server,
        "/api/cases",
        crate::photos::form(
            "case",
            &crate::photos::report_json(),
            vec![crate::photos::photo(
                crate::photos::png("before"),
                "before.png",
                "image/png",
            )],
        ),
    )
    .await;
    assert_eq!(res.status(), 201);
    let case: Value = res.json().await.expect("case JSON");
    let case_id = case["id"].as_i64().expect("an id");
    let hash = case["photos"][0]["hash"]
        .as_str()
        .expect("a photo")
        .to_owned();
    let before_past = server.counters().await["reported_total"]
        .as_u64()
        .expect("a count");
    let moment = backend::clock::now_ms();
    // The next report must be stamped after the moment, not in the same millisecond (look back
    // takes what happened at or before it).
    while backend::clock::now_ms() <= moment {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.report("after the moment").await;

    let mut walls = Vec::new();
    for _ in 0..3 {
        let mut wall = Follower::open(&server, "follow=main").await;
        wall.until_showing(&city).await;
        assert_eq!(wall.rev(), 0, "an idle channel");
        walls.push(wall);
    }
    let mut seat = SeatWs::open(&server, &server.tokens.leader).await;
    let taken = seat.granted(take()).await;
    let holder = taken.controller.as_ref().expect("a controller");
    assert_eq!(
        (holder.seat, holder.login.as_str()),
        (seat.seat, "test-leader")
    );

    // Area by area: every wall is told first, then shows the area's state.
    for scope in [&district, &street] {
        let state = seat.granted(show(Some(Display::live(scope.clone())))).await;
        for wall in &mut walls {
            let rev = state.rev;
            wall.until("the control message", |f| f.rev() >= rev).await;
            wall.until_showing(scope).await;
            let api: Value = server
                .get(&format!("/api/wall?scope={scope}"))
                .await
                .json()
                .await
                .expect("wall JSON");
            assert_eq!(
                wall.mirror.state.counters.reported_total,
                api["state"]["counters"]["reported_total"]
                    .as_u64()
                    .expect("count"),
                "{scope}"
            );
        }
    }

    // A case: the card comes with the control message, and its photo opens for the wall.
    let state = seat
        .granted(show(Some(Display {
            case: Some(case_id),
            grid: Some("SR-01-001".into()),
            ..Display::live(street.clone())
        })))
        .await;
    let card = state.card.as_ref().expect("a card");
    assert_eq!(card.case.id, case_id);
    assert_eq!(card.moves[0].photos[0].hash, hash);
    let anonymous = reqwest::Client::new();
    let photo = anonymous
        .get(server.url(&format!("/api/photos/{hash}?wall=main")))
        .send()
        .await
        .expect("GET photo");
    assert_eq!(photo.status(), 200, "the card's photo opens for the wall");
    let other = "0".repeat(64);
    let refused = anonymous
        .get(server.url(&format!("/api/photos/{other}?wall=main")))
        .send()
        .await
        .expect("GET photo");
    assert_eq!(
        refused.status(),
        401,
        "a photo not on the card needs a login"
    );
    let refused = anonymous
        .get(server.url(&format!("/api/photos/{hash}?wall=other")))
        .send()
        .await
        .expect("GET photo");
    assert_eq!(refused.status(), 401, "another channel does not show it");

    // A past moment: a stream of its own whose state is the look-back answer; heartbeats
    // keep it alive without a gap.
    let state = seat
        .granted(show(Some(Display {
            at_ms: Some(moment),
            ..Display::live(city.clone())
        })))
        .await;
    let past: Value = server
        .get(&format!("/api/wall/at?scope=city&at={moment}"))
        .await
        .json()
        .await
        .expect("look-back JSON");
    assert_eq!(past["state"]["counters"]["reported_total"], before_past);
    for wall in &mut walls {
        let rev = state.rev;
        wall.until("the control message", |f| f.rev() >= rev).await;
        wall.until("the past stream", |f| {
            f.mirror
                .stream
                .as_deref()
                .is_some_and(|s| s.starts_with("past-"))
                && f.mirror.seq.is_some()
        })
        .await;
        assert_eq!(wall.mirror.state.counters.reported_total, before_past);
        let seen: Value = serde_json::to_value(&wall.mirror.state).expect("state JSON");
        assert_eq!(seen, past["state"], "the wall shows what look back answers");
        let beat: ServerMsg = next(&mut wall.ws).await;
        assert!(matches!(beat, ServerMsg::Heartbeat { .. }), "{beat:?}");
        assert_eq!(wall.mirror.apply(&beat), Applied::Updated);
    }
    // Back to the present: the overview.
    let state = seat.granted(show(None)).await;
    for wall in &mut walls {
        let rev = state.rev;
        wall.until("the control message", |f| f.rev() >= rev).await;
        wall.until("the live city", |f| {
            f.mirror.scope == Some(Scope::City)
                && f.mirror
                    .stream
                    .as_deref()
                    .is_some_and(|s| !s.starts_with("past-"))
                && f.mirror.seq.is_some()
        })
        .await;
        assert_eq!(wall.mirror.state.counters.reported_total, before_past + 1);
    }
    server.stop().await;
}

#[tokio::test]
async fn one_seat_holds_a_wall_until_it_hands_it_over() {
    let server = TestServer::start().await;
    let mut leader = SeatWs::open(&server, &server.tokens.leader).await;
    let mut dispatcher = SeatWs::open(&server, &server.tokens.dispatcher).await;
    let taken = leader.granted(take()).await;
    // The dispatcher hears of it too.
    let SeatEvent::Control { control } = dispatcher.event().await else {
        panic!("seats hear of every channel's change")
    };
    assert_eq!(*control, taken);

    let (code, message) = dispatcher.refused(take()).await;
    assert_eq!(code, "held");
    assert!(message.contains("test-leader"), "{message}");
    match leader.event().await {
        SeatEvent::Asked { wall, by } => {
            assert_eq!(wall, "main");
            assert_eq!(
                (by.seat, by.login.as_str()),
                (dispatcher.seat, "test-dispatcher")
            );
        }
        other => panic!("the holder is asked, got {other:?}"),
    }
    let (code, _) = dispatcher.refused(show(None)).await;
    assert_eq!(code, "not_holder");

    let handed = leader
        .granted(SeatMsg::Handover {
            wall: "main".into(),
            to_seat: dispatcher.seat,
        })
        .await;
    assert_eq!(
        handed.controller.map(|c| c.seat),
        Some(dispatcher.seat),
        "handed over"
    );
    let (code, _) = leader.refused(show(None)).await;
    assert_eq!(code, "not_holder", "the old holder no longer drives it");

    // What a seat shows is checked: a name, an area, a metric, a moment.
    let (code, message) = dispatcher
        .refused(show(Some(Display::live(Scope::District("XX".into())))))
        .await;
    assert_eq!(code, "not_found", "{message}");
    let (code, message) = dispatcher
        .refused(show(Some(Display {
            metric: Some("heat".into()),
            ..Display::live(Scope::City)
        })))
        .await;
    assert_eq!(code, "invalid_field");
    assert!(message.contains("heat"), "{message}");
    let (code, _) = dispatcher
        .refused(show(Some(Display {
            at_ms: Some(backend::clock::now_ms() + 3_600_000),
            ..Display::live(Scope::City)
        })))
        .await;
    assert_eq!(code, "invalid_field");
    let (code, _) = dispatcher
        .refused(SeatMsg::Take {
            wall: "Main Wall".into(),
        })
        .await;
    assert_eq!(code, "invalid_field");

    // A street dispatcher shows only its street.
    let street_token = account_token(
        &server.db().await,
        backend::services::auth::NewAccount {
            area: Some(Scope::Street("SR01".into())),
            ..account("test-street-dispatcher", Role::Dispatcher)
        },
    )
    .await;
    let mut street = SeatWs::open(&server, &street_token).await;
    street
        .granted(SeatMsg::Take {
            wall: "street-wall".into(),
        })
        .await;
    let (code, _) = street
        .refused(SeatMsg::Show {
            wall: "street-wall".into(),
            display: Some(Display::live(Scope::City)),
        })
        .await;
    assert_eq!(code, "forbidden");

    // Only leaders and dispatchers have seats.
    let staff = server.staff_token("D01").await;
    let url = format!("ws://{}/ws/seat?token={staff}", server.addr);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!("staff must be refused, got {other:?}"),
    }
    let url = format!("ws://{}/ws/seat", server.addr);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 401),
        other => panic!("no token must be refused, got {other:?}"),
    }
    server.stop().await;
}

#[tokio::test]
async fn a_wall_returns_to_its_overview_after_its_seat_drops() {
    let server = TestServer::start_sample(Store::Sqlite, |c| {
        c.control_return = Duration::from_millis(300);
    })
    .await;
    let mut wall = Follower::open(&server, "follow=main").await;
    wall.until_showing(&Scope::City).await;
    let mut seat = SeatWs::open(&server, &server.tokens.leader).await;
    seat.granted(take()).await;
    let district = Scope::District("SR".into());
    seat.granted(show(Some(Display::live(district.clone()))))
        .await;
    wall.until_showing(&district).await;
    drop(seat);
    wall.until("the controller gone", |f| {
        f.control
            .as_ref()
            .is_some_and(|c| c.controller.is_none() && c.returns_at_ms.is_some())
    })
    .await;
    assert_eq!(
        wall.mirror.scope,
        Some(district),
        "the wall keeps what it showed for a while"
    );
    wall.until("the overview", |f| {
        f.control
            .as_ref()
            .is_some_and(|c| c.display.is_none() && c.returns_at_ms.is_none())
    })
    .await;
    wall.until_showing(&Scope::City).await;
    // A bad name is refused before the upgrade, naming the parameter.
    let url = format!("ws://{}/ws?follow=Main%20Wall", server.addr);
    match tokio_tungstenite::connect_async(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 400);
            let body: Value =
                serde_json::from_slice(res.body().as_deref().unwrap_or_default()).expect("JSON");
            assert_eq!(body["error"]["field"], "follow");
        }
        other => panic!("a bad wall name must be refused, got {other:?}"),
    }
    server.stop().await;
}

/// Followers naming more walls than the server keeps make no channels, so a seat still takes
/// its wall and a wall following it sees it; on a server whose walls need a display token, a
/// follower without one is refused before any channel is looked at.
#[tokio::test]
async fn a_flood_of_followers_leaves_the_seats_their_channels() {
    let server = TestServer::start().await;
    let mut flood = Vec::new();
    for i in 0..300 {
        flood.push(Follower::open(&server, &format!("follow=flood-{i}")).await);
    }
    let mut seat = SeatWs::open(&server, &server.tokens.leader).await;
    let state = seat.granted(take()).await;
    assert_eq!(state.wall, "main");
    assert!(state.controller.is_some(), "{state:?}");
    let mut wall = Follower::open(&server, "follow=main").await;
    wall.until("the seat's control", |f| {
        f.control.as_ref().is_some_and(|c| c.controller.is_some())
    })
    .await;
    drop(flood);
    server.stop().await;

    let closed = TestServer::start_sample(Store::Sqlite, |c| c.walls_open = false).await;
    for i in 0..300 {
        let url = format!("ws://{}/ws?follow=flood-{i}", closed.addr);
        match tokio_tungstenite::connect_async(url).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
                assert_eq!(res.status(), 401, "follower {i} without a token");
            }
            other => panic!("follower {i} without a token was let in: {other:?}"),
        }
    }
    let mut seat = SeatWs::open(&closed, &closed.tokens.leader).await;
    let state = seat.granted(take()).await;
    assert!(state.controller.is_some(), "{state:?}");
    closed.stop().await;
}
