//! Harness for gridwall's end-to-end tests: the real server on a loopback port with its own
//! database, and headless Chromium driven through chromedriver.

pub mod browser;
pub mod server;
