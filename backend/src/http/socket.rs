//! What every WebSocket of the server (walls on `/ws`, seats on `/ws/seat`) is held to: a
//! send that does not finish in time drops the client, and a client that says nothing, not
//! even a pong to the server's pings, for the idle time is closed, so that a dead link or a
//! stuck client never holds a connection, a control channel or a seat for ever.

use crate::error::AppError;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::StreamExt;
use futures_util::stream::SplitStream;
use std::time::Duration;

/// How long one message may take to go out before the client is dropped.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a WebSocket may stay silent; the server pings three times in that span, and any
/// message (a browser answers pings by itself) counts as a sign of life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketIdle(pub Duration);

impl Default for SocketIdle {
    fn default() -> SocketIdle {
        SocketIdle(Duration::from_secs(45))
    }
}

impl SocketIdle {
    /// How often the server pings.
    pub fn ping_every(self) -> Duration {
        (self.0 / 3).max(Duration::from_millis(10))
    }

    /// The ticker of the server's pings; its first tick is one period away.
    pub fn pings(self) -> tokio::time::Interval {
        let every = self.ping_every();
        let mut pings = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        pings.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        pings
    }

    /// The client's next message; `None` when it closed, failed, or stayed silent for the
    /// idle time.
    pub async fn next(self, stream: &mut SplitStream<WebSocket>) -> Option<Message> {
        match tokio::time::timeout(self.0, stream.next()).await {
            Ok(Some(Ok(msg))) => Some(msg),
            Ok(_) => None,
            Err(_) => {
                tracing::info!(
                    idle_s = self.0.as_secs_f64(),
                    "closing a WebSocket whose client stayed silent (no pong to the pings)"
                );
                None
            }
        }
    }
}

/// How often an open socket checks its credential again (`Config::recheck_every`): a wall's
/// display token or login, a seat's session. A credential is checked at the upgrade only, and
/// a socket may stay open for weeks, so without this a revoked one would keep working.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recheck(pub Duration);

impl Default for Recheck {
    fn default() -> Recheck {
        Recheck(Duration::from_secs(30))
    }
}

impl Recheck {
    /// The ticker of the re-checks; its first tick is one period away, since the upgrade has
    /// just checked.
    pub fn ticks(self) -> tokio::time::Interval {
        let every = self.0.max(Duration::from_millis(10));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks
    }
}

/// Close code for a credential that no longer works (HTTP's 401 in the private range).
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// Close code for a credential that no longer opens what the socket shows (HTTP's 403).
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// A close frame's reason may take 123 bytes (its payload is at most 125, with the code).
const MAX_CLOSE_REASON: usize = 123;

/// The close frame for a re-check's refusal, whose reason the page shows; `None` for other
/// errors (the database failing is no reason to drop a wall, the next re-check tries again).
pub fn refusal_close(err: &AppError) -> Option<CloseFrame> {
    let (code, text) = match err {
        AppError::Unauthorized(text) => (CLOSE_UNAUTHORIZED, text),
        AppError::Forbidden(text) => (CLOSE_FORBIDDEN, text),
        _ => return None,
    };
    Some(CloseFrame {
        code,
        reason: Utf8Bytes::from(close_reason(text)),
    })
}

/// `text` cut to what a close frame carries, at a character's boundary.
pub fn close_reason(text: &str) -> String {
    if text.len() <= MAX_CLOSE_REASON {
        return text.to_owned();
    }
    let mut end = MAX_CLOSE_REASON - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_close_with_a_reason_that_fits_the_frame() {
        let close = refusal_close(&AppError::Unauthorized(
            "this display token was revoked".into(),
        ))
        .expect("a 401 closes");
        assert_eq!(close.code, CLOSE_UNAUTHORIZED);
        assert_eq!(close.reason.as_str(), "this display token was revoked");
        let close = refusal_close(&AppError::Forbidden("no".into())).expect("a 403 closes");
        assert_eq!(close.code, CLOSE_FORBIDDEN);
        assert!(refusal_close(&AppError::Unavailable("busy".into())).is_none());
        let long = "显示令牌已被吊销".repeat(20);
        let cut = close_reason(&long);
        assert!(cut.len() <= MAX_CLOSE_REASON, "{} bytes", cut.len());
        assert!(cut.ends_with('…'));
        assert!(long.starts_with(cut.trim_end_matches('…')));
    }

    #[test]
    fn the_server_pings_three_times_per_idle_span() {
        assert_eq!(
            SocketIdle(Duration::from_secs(45)).ping_every(),
            Duration::from_secs(15)
        );
        assert_eq!(
            SocketIdle(Duration::ZERO).ping_every(),
            Duration::from_millis(10)
        );
    }
}
