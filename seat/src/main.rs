//! The seat page's bundle, served at `/seat`: installs the panic hook and starts the page.
//!
//! It is a wasm binary of its own, apart from the wall's and the field page's, so that no page
//! downloads another's code; it borrows the field page's request, language and DOM modules
//! as they are.

mod app;
#[path = "../../field/src/dom.rs"]
mod dom;
// The field page's multipart body is not one the seat sends, and the module is shared as it is.
#[allow(dead_code)]
#[path = "../../field/src/fetch.rs"]
mod fetch;
#[path = "../../field/src/text.rs"]
mod text;

fn main() {
    console_error_panic_hook::set_once();
    app::start();
}
