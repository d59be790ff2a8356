//! The bundle's entry point: installs the panic hook and mounts the wall on the page's body.
//!
//! The field page at `/field` is its own bundle (the `field` crate), so the wall's holds only
//! the wall.

mod app;
mod charts;
mod follow;
mod link;
mod map;
mod page;
mod panels;
mod text;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
