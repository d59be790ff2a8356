//! The bundle's entry point: installs the panic hook and mounts the wall, or the field page
//! when the address is `/field`, on the page's body.

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
        leptos::mount::mount_to_body(field::FieldApp);
    } else {
        leptos::mount::mount_to_body(app::App);
    }
}
