//! Driving a wall from a seat: what a seat asks on `/ws/seat`, and what the walls that follow
//! a named control channel (`/?follow=NAME`) are told on `/ws`.
//!
//! A channel has at most one controller. Every change of a channel gives it a new `rev`, and
//! every wall following it receives the whole [`ControlState`] (it is small), so a wall never
//! has to piece a display together from several messages.

use crate::auth::Role;
use crate::case::{ApiErrorBody, CaseMove, CaseView};
use crate::scope::Scope;
use serde::{Deserialize, Serialize};

/// The longest name of a control channel.
pub const MAX_WALL_NAME: usize = 32;

/// Whether `name` can name a control channel: 1 to 32 of `a-z`, `0-9` and `-`.
pub fn valid_wall_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_WALL_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// What a controller puts on the walls that follow it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Display {
    /// The area whose figures the wall shows; its map zooms to it.
    pub scope: Scope,
    /// The map's metric (`open`, `overdue`, `per_1000`, `coverage`); the wall's own when absent.
    #[serde(default)]
    pub metric: Option<String>,
    /// The map's place layers shown (`grid_station`, `mediation_centre`, `key_place`); the
    /// wall's own when absent.
    #[serde(default)]
    pub layers: Option<Vec<String>>,
    /// A grid picked out on the map.
    #[serde(default)]
    pub grid: Option<String>,
    /// A case shown on the wall as a card: its timeline, photos and time left.
    #[serde(default)]
    pub case: Option<i64>,
    /// A past moment (Unix ms) whose state the wall shows; live when absent.
    #[serde(default)]
    pub at_ms: Option<i64>,
    /// Set when `at_ms` is a replay's clock, so that the wall shows the period and speed.
    #[serde(default)]
    pub replay: Option<ReplayClock>,
}

impl Display {
    /// The live state of a scope and nothing more.
    pub fn live(scope: Scope) -> Display {
        Display {
            scope,
            metric: None,
            layers: None,
            grid: None,
            case: None,
            at_ms: None,
            replay: None,
        }
    }
}

/// A replay's period and pace, as the wall's clock shows them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplayClock {
    pub from_ms: i64,
    pub to_ms: i64,
    /// How many times faster than real time the replay runs (a day in a minute is 1440).
    pub speed: f64,
    pub paused: bool,
}

/// Who holds a channel.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Controller {
    /// The seat connection, as its `hello` named it.
    pub seat: u64,
    pub login: String,
    pub name: String,
    pub role: Role,
}

/// A case as a wall shows it: the case and its moves with their photos.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseCard {
    pub case: CaseView,
    pub moves: Vec<CaseMove>,
}

/// A control channel as every wall following it, and every seat, sees it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlState {
    /// The channel's name, as in `/?follow=NAME`.
    pub wall: String,
    /// Grows by one with every change of the channel.
    pub rev: u64,
    pub controller: Option<Controller>,
    /// What the controller shows; `None` is the wall's own live overview.
    pub display: Option<Display>,
    /// The case of `display.case`, read when it was shown.
    pub card: Option<CaseCard>,
    /// When a channel whose controller left returns to the overview (Unix ms).
    pub returns_at_ms: Option<i64>,
}

impl ControlState {
    /// A channel nobody has touched.
    pub fn idle(wall: &str) -> ControlState {
        ControlState {
            wall: wall.to_owned(),
            rev: 0,
            controller: None,
            display: None,
            card: None,
            returns_at_ms: None,
        }
    }
}

/// What a seat sends on `/ws/seat`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SeatMsg {
    /// Take control of a wall. A wall held by another seat is refused, and its holder is asked
    /// to hand it over.
    Take { wall: String },
    /// Let go of a wall; it returns to its overview after a short delay.
    Release { wall: String },
    /// Hand a held wall to another connected seat, keeping what it shows.
    Handover { wall: String, to_seat: u64 },
    /// Show something on a held wall; `None` is the wall's own overview.
    Show {
        wall: String,
        display: Option<Display>,
    },
}

/// What a seat receives on `/ws/seat`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SeatEvent {
    /// The first message: this connection's seat number and the channels in use.
    Hello {
        protocol: u32,
        seat: u64,
        walls: Vec<ControlState>,
    },
    /// A channel changed (any channel, so that every seat sees who holds what).
    Control { control: Box<ControlState> },
    /// Another seat asks for a wall this seat holds.
    Asked { wall: String, by: Controller },
    /// A request of this seat was refused; `error.code` says why (`held`, `not_holder`,
    /// `forbidden`, `invalid_field`, `not_found`).
    Refused { wall: String, error: ApiErrorBody },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_names_are_short_lowercase_words() {
        for good in ["main", "wall-2", "seat-17", "a"] {
            assert!(valid_wall_name(good), "{good}");
        }
        let long = "x".repeat(MAX_WALL_NAME + 1);
        for bad in ["", "Main", "wall 2", "墙", "a/b", long.as_str()] {
            assert!(!valid_wall_name(bad), "{bad}");
        }
    }

    #[test]
    fn seat_messages_are_tagged_json() {
        let show = SeatMsg::Show {
            wall: "main".into(),
            display: Some(Display {
                at_ms: Some(5),
                ..Display::live(Scope::District("230602".into()))
            }),
        };
        let text = serde_json::to_string(&show).expect("json");
        assert!(
            text.starts_with(r#"{"type":"show","wall":"main""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<SeatMsg>(&text).expect("back"), show);
        // Optional fields may be left out by a hand-written client.
        let short: SeatMsg = serde_json::from_str(
            r#"{"type":"show","wall":"main","display":{"scope":{"kind":"city"}}}"#,
        )
        .expect("short form");
        assert_eq!(
            short,
            SeatMsg::Show {
                wall: "main".into(),
                display: Some(Display::live(Scope::City))
            }
        );
    }
}
