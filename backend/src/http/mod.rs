//! The HTTP layer: every route's handler, grouped by resource, with the shared extractors
//! (`extract`), the OpenAPI document, Open311, the wall's and the seat's WebSockets and the
//! embedded pages. It calls the services; nothing below it imports from it.

pub mod assessment;
pub mod assets;
pub mod cases;
pub mod deadline;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod maps;
pub mod open311;
pub mod openapi;
pub mod photos;
pub mod seat;
pub mod security;
pub mod sessions;
pub mod shed;
pub mod socket;
pub mod team;
pub mod wall;
pub mod ws;
