//! gridwall's core: the domain without I/O.
//!
//! The events the case writer commits ([`event`]), the access policy ([`policy`]), the batch
//! planner that applies the state machine to a batch of writes ([`plan`]) and answers retried
//! ones from their idempotency keys ([`idempotency`]), the fold that turns events into every
//! scope's wall state ([`fold`]), the city's geometry ([`geo`]) and the login throttle ([`throttle`]).
//!
//! Invariants, held by `backend/tests/layers.rs` and by this crate's dependencies:
//! - `core` does no I/O: no database, no network, no files, no clock. Whatever needs the time
//!   takes it as an argument (`now_ms`, `at_ms`).
//! - `core` depends on `shared`, serde and serde_json only; its tests need no database, no
//!   browser and no wasm build.

pub mod event;
pub mod fold;
pub mod geo;
pub mod idempotency;
pub mod photo;
pub mod plan;
pub mod policy;
pub mod throttle;
