//! The bundle's entry point: installs the panic hook and mounts the wall on the page's body,
//! or starts the field page when the address is `/field`.

mod app;
mod charts;
mod fetch;
mod field;
mod link;
mod map;
mod page;
mod panels;
mod text;
mod widgets;

fn main() {
    console_error_panic_hook::set_once();
    if field::wanted() {
        field::start();
    } else {
        leptos::mount::mount_to_body(app::App);
    }
}
