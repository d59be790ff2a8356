//! The services layer: the server's long-lived parts, built on the store. The case commands and
//! their writer task, the time-limit watcher, accounts and credentials, display tokens, the
//! control channels, the live hub with look back and the saved state, and the photo store.
//!
//! A service may use the store and the base modules (`clock`, `error`, `metrics`), never the
//! HTTP layer or the app wiring above it (`backend/tests/layers.rs`).

pub mod assessment;
pub mod auth;
pub mod cases;
pub mod control;
pub mod credentials;
pub mod deadlines;
pub mod live;
pub mod photo_store;
pub mod tokens;
pub mod write_health;
