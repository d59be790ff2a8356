//! The wall's entry point: installs the panic hook and mounts the app on the page's body.

mod app;
mod link;
mod text;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
