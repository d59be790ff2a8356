//! gridwall's wire protocol: the serde types that the server and the wall exchange.
//!
//! This crate is compiled both for the server and for the wall's wasm32 bundle, so it holds
//! plain data and pure functions only: no tokio, no sqlx, no I/O. Changing a type here changes
//! the protocol; bump [`PROTOCOL_VERSION`] when a change is not backwards compatible.

pub mod assess;
pub mod auth;
pub mod case;
pub mod control;
pub mod scope;
pub mod taxonomy;
pub mod team;
pub mod time;
pub mod wall;

/// The version of the `/ws` protocol, announced in every `hello`.
///
/// A wall that receives a version it does not know reloads itself to fetch the matching bundle.
pub const PROTOCOL_VERSION: u32 = 4;
