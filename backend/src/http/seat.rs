//! `/ws/seat`: a dispatch seat's connection for driving walls, a send task and a receive task
//! joined by `select!`.
//!
//! The seat sends [`SeatMsg`]s (take, show, hand over, release); the server checks each one
//! against the seat's account (its area, the cases it may see) and answers through the
//! channel's state, which every seat hears about, or with a `refused` naming what is wrong.
//! When the connection ends, the walls the seat held are let go and return to their overview
//! after the configured delay.

use crate::error::AppError;
use crate::http::extract::signed_out;
use crate::http::socket::{Recheck, SEND_TIMEOUT, SocketIdle, refusal_close};
use crate::services::auth::{Auth, Credential};
use crate::services::cases::Cases;
use crate::services::control::{ChannelRefusal, Controls, Direct};
use crate::services::live::Hub;
use axum::extract::State;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures_util::{SinkExt, StreamExt};
use gridwall_core::policy::{AreaIndex, Principal};
use shared::auth::Role;
use shared::case::ApiError;
use shared::control::{CaseCard, ControlState, Controller, Display, SeatEvent, SeatMsg};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// A seat's messages are small; a display is a few hundred bytes.
const MAX_SEAT_MESSAGE: usize = 16 * 1024;
/// The map metrics a display may name, as the wall's metric switch codes them.
const METRICS: [&str; 4] = ["open", "overdue", "per_1000", "coverage"];
/// The place layers a display may name.
const LAYERS: [&str; 3] = ["grid_station", "mediation_centre", "key_place"];

/// `/ws/seat?token=TOKEN`: the seat's bearer token (browsers cannot set headers on a
/// WebSocket; an `Authorization: Bearer` header works too).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SeatQuery {
    /// A leader's or dispatcher's bearer token from `POST /api/login`.
    token: Option<String>,
}

/// `GET /ws/seat`: a seat's connection for driving walls.
#[utoipa::path(
    get,
    path = "/ws/seat",
    operation_id = "seat_stream",
    tag = "wall",
    description = "Upgrades to a WebSocket through which a leader's or dispatcher's seat drives \
        walls that follow a control channel (`/ws?follow=NAME`). The seat sends `SeatMsg` \
        objects (`take`, `show`, `handover`, `release`); the server sends `SeatEvent` objects: \
        a `hello` with the seat's number and the channels in use, a `control` for every change \
        of any channel, an `asked` when another seat wants a wall this seat holds, and a \
        `refused` naming what is wrong with a request. One seat holds a wall at a time; a \
        wall whose seat lets go or whose link drops returns to its overview after a short \
        delay (`--control-return-ms`).",
    params(SeatQuery),
    responses(
        (status = 101, description = "Switching Protocols: the WebSocket is open; its text frames are `SeatEvent` JSON objects."),
        (status = 400, description = "An unknown query parameter, or not a WebSocket handshake (plain text).", body = ApiError),
        (status = 401, description = "No bearer token, or one that does not work.", body = ApiError),
        (status = 403, description = "The account is not a leader's or a dispatcher's.", body = ApiError),
        (status = 500, description = "The server failed (database); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []))
)]
#[allow(clippy::too_many_arguments)]
pub async fn upgrade(
    crate::http::extract::ApiQuery(query): crate::http::extract::ApiQuery<SeatQuery>,
    headers: axum::http::HeaderMap,
    ws: WebSocketUpgrade,
    State(auth): State<Arc<Auth>>,
    State(controls): State<Arc<Controls>>,
    State(cases): State<Cases>,
    State(hub): State<Hub>,
    State(idle): State<SocketIdle>,
    State(recheck): State<Recheck>,
    State(shutdown): State<CancellationToken>,
) -> Result<Response, AppError> {
    let token =
        crate::http::extract::token_of(query.token.as_deref(), &headers).ok_or_else(signed_out)?;
    let (who, account) = auth.account(&Credential::Bearer(token.to_owned())).await?;
    if !matches!(who.role, Role::Leader | Role::Dispatcher) {
        return Err(AppError::Forbidden(format!(
            "a {} does not drive walls: seats are for leaders and dispatchers",
            who.role
        )));
    }
    let controller = Controller {
        seat: 0,
        login: account.login,
        name: account.name,
        role: account.role,
    };
    let seat = Seat {
        who,
        credential: Credential::Bearer(token.to_owned()),
        recheck,
        auth,
        controls,
        cases,
        hub,
    };
    Ok(ws
        .max_message_size(MAX_SEAT_MESSAGE)
        .max_frame_size(MAX_SEAT_MESSAGE)
        .on_upgrade(move |socket| serve_seat(socket, seat, controller, idle, shutdown)))
}

/// What a seat's requests are checked against and carried out with.
struct Seat {
    who: Arc<Principal>,
    /// The seat's session, checked again every `recheck`: a seat signed out, expired or
    /// disabled is closed with the reason.
    credential: Credential,
    recheck: Recheck,
    auth: Arc<Auth>,
    controls: Arc<Controls>,
    cases: Cases,
    hub: Hub,
}

fn encode(event: &SeatEvent) -> Utf8Bytes {
    Utf8Bytes::from(serde_json::to_string(event).unwrap_or_default())
}

async fn serve_seat(
    socket: WebSocket,
    seat: Seat,
    controller: Controller,
    idle: SocketIdle,
    shutdown: CancellationToken,
) {
    let login = controller.login.clone();
    // The guard lives as long as this function: when it ends, the seat's walls are let go.
    let (guard, mut direct) = seat.controls.connect(controller);
    let id = guard.seat;
    tracing::info!(seat = id, login, "a seat connected");
    let mut changes = seat.controls.changes();
    let hello = SeatEvent::Hello {
        protocol: shared::PROTOCOL_VERSION,
        seat: id,
        walls: seat.controls.walls(),
    };
    let (mut sink, mut stream) = socket.split();
    let (replies_tx, mut replies) = mpsc::channel::<SeatEvent>(16);
    let controls = Arc::clone(&seat.controls);
    let viewer = Arc::clone(&seat.who);
    let areas = Arc::clone(&seat.auth.areas);
    let (auth, credential) = (Arc::clone(&seat.auth), seat.credential.clone());
    let mut rechecks = seat.recheck.ticks();
    let mut send_task = tokio::spawn(async move {
        if !send(&mut sink, Message::Text(encode(&hello))).await {
            return;
        }
        let mut pings = idle.pings();
        loop {
            let event = tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                _ = rechecks.tick() => {
                    // Asked of the database, not the cache, so that a sign-out elsewhere or a
                    // disabled account ends the seat within the interval.
                    if let Err(err) = auth.recheck(&credential).await {
                        if let Some(close) = refusal_close(&err) {
                            tracing::info!(seat = id, code = close.code, reason = %close.reason,
                                "closing a seat whose session no longer works");
                            send(&mut sink, Message::Close(Some(close))).await;
                            return;
                        }
                        tracing::warn!(error = %err, "cannot re-check a seat's session; trying again later");
                    }
                    continue;
                }
                _ = pings.tick() => {
                    // The seat's answer (a browser pongs by itself) keeps its connection open.
                    if !send(&mut sink, Message::Ping(axum::body::Bytes::new())).await {
                        return;
                    }
                    continue;
                }
                Some(event) = replies.recv() => event,
                Some(Direct::Asked { wall, by }) = direct.recv() => SeatEvent::Asked { wall, by },
                change = changes.recv() => match change {
                    Ok(control) => SeatEvent::Control { control: Box::new(for_seat(&control, &viewer, &areas)) },
                    // A seat that fell behind gets every channel as it is now: no silent gap.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let mut ok = true;
                        for control in controls.walls() {
                            let event = SeatEvent::Control { control: Box::new(for_seat(&control, &viewer, &areas)) };
                            ok &= send(&mut sink, Message::Text(encode(&event))).await;
                        }
                        if !ok {
                            return;
                        }
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            };
            if !send(&mut sink, Message::Text(encode(&event))).await {
                return;
            }
        }
        send(&mut sink, Message::Close(None)).await;
    });
    let mut recv_task = tokio::spawn(async move {
        while let Some(msg) = idle.next(&mut stream).await {
            let text = match msg {
                Message::Text(text) => text,
                Message::Close(_) => break,
                _ => continue,
            };
            let reply = match read_seat_msg(&text) {
                Ok(msg) => {
                    let wall = wall_of(&msg).to_owned();
                    seat.handle(id, msg)
                        .await
                        .err()
                        .map(|ChannelRefusal(error)| SeatEvent::Refused { wall, error })
                }
                Err(refused) => Some(refused),
            };
            if let Some(reply) = reply
                && replies_tx.send(reply).await.is_err()
            {
                break;
            }
        }
    });
    tokio::select! {
        _ = &mut send_task => recv_task.abort(),
        _ = &mut recv_task => send_task.abort(),
    }
    tracing::info!(seat = id, "a seat disconnected");
    drop(guard);
}

/// Sends one message; false when the seat did not take it within [`SEND_TIMEOUT`] or its
/// link failed, and the seat is then let go.
async fn send(
    sink: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    message: Message,
) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await,
        Ok(Ok(()))
    )
}

/// A channel as one seat may see it: a case card the seat's account may not see is left
/// out (the seat still sees that a case is shown, by its display, not what it holds).
fn for_seat(control: &ControlState, viewer: &Principal, areas: &AreaIndex) -> ControlState {
    let mut control = control.clone();
    if let Some(card) = &control.card
        && !viewer.may_see(
            card.case.grid_id.as_deref(),
            card.case.department.as_deref(),
            areas,
        )
    {
        control.card = None;
    }
    control
}

/// A seat's message, or the refusal that answers text that is not one. The fuzzers
/// (`crate::fuzzing`) call it too.
pub(crate) fn read_seat_msg(text: &str) -> Result<SeatMsg, SeatEvent> {
    serde_json::from_str::<SeatMsg>(text).map_err(|err| SeatEvent::Refused {
        wall: String::new(),
        error: ChannelRefusal::of(&AppError::BadRequest(format!("not a seat message: {err}"))).0,
    })
}

pub(crate) fn wall_of(msg: &SeatMsg) -> &str {
    match msg {
        SeatMsg::Take { wall }
        | SeatMsg::Release { wall }
        | SeatMsg::Handover { wall, .. }
        | SeatMsg::Show { wall, .. } => wall,
    }
}

impl Seat {
    async fn handle(&self, seat: u64, msg: SeatMsg) -> Result<(), ChannelRefusal> {
        match msg {
            SeatMsg::Take { wall } => {
                self.controls.take(seat, &wall)?;
                tracing::info!(target: "audit", event = "seat_take", actor = %self.who.actor, seat, wall, "a seat took a wall");
                Ok(())
            }
            SeatMsg::Release { wall } => {
                self.controls.release(seat, &wall)?;
                tracing::info!(target: "audit", event = "seat_release", actor = %self.who.actor, seat, wall, "a seat let a wall go");
                Ok(())
            }
            SeatMsg::Handover { wall, to_seat } => {
                self.controls.handover(seat, &wall, to_seat)?;
                tracing::info!(target: "audit", event = "seat_handover", actor = %self.who.actor, seat, to_seat, wall, "a seat handed a wall over");
                Ok(())
            }
            SeatMsg::Show { wall, display } => {
                let card = match &display {
                    Some(display) => self
                        .check(display)
                        .await
                        .map_err(|e| ChannelRefusal::of(&e))?,
                    None => None,
                };
                self.controls.show(seat, &wall, display, card).map(drop)
            }
        }
    }

    /// Checks a display against the seat's account and reads its case's card: the area must
    /// be the seat's or inside it, the case one the seat may see.
    async fn check(&self, display: &Display) -> Result<Option<CaseCard>, AppError> {
        let areas = &self.auth.areas;
        match &self.who.area {
            Some(area) if areas.contains(area, &display.scope) => {}
            Some(area) => {
                return Err(AppError::Forbidden(format!(
                    "{} is outside your area ({area})",
                    display.scope
                )));
            }
            None => {
                return Err(AppError::Forbidden(
                    "an account without an area shows nothing on a wall".to_owned(),
                ));
            }
        }
        let known = self
            .hub
            .current(display.scope.clone())
            .await
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        if known.is_none() {
            return Err(AppError::NotFound(format!(
                "there is no {} in the city",
                display.scope
            )));
        }
        if let Some(metric) = &display.metric
            && !METRICS.contains(&metric.as_str())
        {
            return Err(AppError::invalid(
                "display.metric",
                format!(
                    "{metric:?} is not a map metric: use one of {}",
                    METRICS.join(", ")
                ),
            ));
        }
        if let Some(layer) = display
            .layers
            .iter()
            .flatten()
            .find(|l| !LAYERS.contains(&l.as_str()))
        {
            return Err(AppError::invalid(
                "display.layers",
                format!("{layer:?} is not a map layer: use {}", LAYERS.join(", ")),
            ));
        }
        if let Some(grid) = &display.grid
            && !areas.covers(&display.scope, grid)
        {
            return Err(AppError::invalid(
                "display.grid",
                format!("grid {grid:?} is not in {}", display.scope),
            ));
        }
        let now = crate::clock::now_ms();
        if let Some(at) = display.at_ms
            && !shared::time::moment_in_range(at)
        {
            return Err(AppError::invalid(
                "display.at_ms",
                format!("{at} is outside the moments a wall shows (the years 2000 to 2100)"),
            ));
        }
        if let Some(at) = display.at_ms
            && at > now
        {
            return Err(AppError::invalid(
                "display.at_ms",
                format!("{at} is in the future (the server's time is {now})"),
            ));
        }
        match display.case {
            Some(id) => {
                let case = self.cases.get_for(id, &self.who).await?;
                // A case is shown only inside the scope the wall shows, so that a wall (and
                // whoever follows it with a token of that scope) never gets a case from
                // outside the area it may watch.
                let inside = match &case.grid_id {
                    Some(grid) => areas.covers(&display.scope, grid),
                    None => display.scope == shared::wall::Scope::City,
                };
                if !inside {
                    return Err(AppError::invalid(
                        "display.case",
                        format!("case {id} is not in {}: show its area first", display.scope),
                    ));
                }
                let moves = self.cases.moves_for(id, &self.who).await?;
                Ok(Some(CaseCard { case, moves }))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::control::CaseCard;
    use shared::wall::Scope;
    use std::collections::HashSet;

    fn card_in(grid: &str) -> CaseCard {
        let case = serde_json::from_value(serde_json::json!({
            "id": 7, "category": "special_groups", "sub_item": "1304", "grid_id": grid,
            "point": null, "description": "张某某", "state": "dispatched", "allowed": [],
            "reported_at_ms": 0, "updated_at_ms": 0, "seq": 1,
        }))
        .expect("a case");
        CaseCard {
            case,
            moves: Vec::new(),
        }
    }

    /// A district's dispatcher at a seat never receives the card of a case outside its area,
    /// though it sees that the channel shows one.
    #[test]
    fn a_seat_gets_only_the_cards_its_account_may_see() {
        let areas = AreaIndex::new(
            [("S1".into(), "D1".into()), ("S2".into(), "D2".into())],
            [("G1".into(), "S1".into()), ("G2".into(), "S2".into())],
        );
        let dispatcher = Principal {
            actor: "d1".to_owned(),
            identity: "account:1".to_owned(),
            role: Role::Dispatcher,
            area: Some(Scope::District("D1".into())),
            department: None,
            grids: HashSet::new(),
            member_id: None,
        };
        let mut control = ControlState::idle("main");
        control.card = Some(card_in("G2"));
        assert_eq!(for_seat(&control, &dispatcher, &areas).card, None);
        control.card = Some(card_in("G1"));
        assert_eq!(
            for_seat(&control, &dispatcher, &areas).card,
            control.card,
            "a case of its own district"
        );
    }
}
