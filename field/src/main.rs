//! The field page's bundle, served at `/field`: installs the panic hook and starts the page.
//!
//! It is a separate wasm binary from the wall's, so that neither page downloads the other.

mod app;
mod dom;
mod fetch;
mod text;

fn main() {
    console_error_panic_hook::set_once();
    app::start();
}
