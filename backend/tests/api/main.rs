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
mod logs;
mod lookback;
mod open311;
mod open311_privacy;
mod openapi;
mod photos;
mod properties;
mod support;
mod timeouts;
mod tls;
mod wall;
mod ws;
