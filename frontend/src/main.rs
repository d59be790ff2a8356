//! The wall's entry point: installs the panic hook and mounts the app on the page's body.

mod app;
mod charts;
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
