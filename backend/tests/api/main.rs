//! The backend's integration tests: a real server on port 0 with its own database, one
//! module per route.

mod assessment;
mod assets;
mod auth;
mod bounds;
mod cases;
mod city;
mod control;
mod crash;
mod credentials;
mod demo;
mod faults;
mod health;
mod idempotency;
mod lists;
mod lookback;
mod open311;
mod openapi;
mod photos;
mod properties;
mod support;
mod timeouts;
mod wall;
mod ws;
