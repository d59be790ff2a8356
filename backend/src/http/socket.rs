//! What every WebSocket of the server (walls on `/ws`, seats on `/ws/seat`) is held to: a
//! send that does not finish in time drops the client, and a client that says nothing, not
//! even a pong to the server's pings, for the idle time is closed, so that a dead link or a
//! stuck client never holds a connection, a control channel or a seat for ever.

use axum::extract::ws::{Message, WebSocket};
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

#[cfg(test)]
mod tests {
    use super::*;

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
