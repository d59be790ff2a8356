//! Photos on the field page: the camera input, the photos it holds sent as a multipart form
//! with a report's or a move's JSON, and a case's photos fetched with the token and let go of
//! when the screen changes.

use super::state::{token, with};
use crate::dom::{by_id, h};
use crate::fetch;
use serde::Serialize;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Element, HtmlInputElement};

/// A file input that opens the phone's back camera and takes several photos.
pub(super) fn photo_input(id: &str) -> Element {
    h(
        "input",
        &[
            ("type", "file"),
            ("accept", "image/*"),
            ("capture", "environment"),
            ("multiple", ""),
            ("data-testid", id),
        ],
        &[],
    )
}

fn file_input(id: &str) -> Option<HtmlInputElement> {
    by_id(id).and_then(|el| el.dyn_into().ok())
}

/// How many photos the input `id` holds.
pub(super) fn photo_count(id: &str) -> u32 {
    file_input(id)
        .and_then(|i| i.files())
        .map_or(0, |files| files.length())
}

/// The JSON of a report or move in its part, and the photos chosen in the input `photos`, as
/// the multipart form the API takes.
pub(super) fn multipart<T: Serialize>(
    part: &str,
    body: &T,
    photos: &str,
) -> Result<web_sys::FormData, String> {
    let form = web_sys::FormData::new().map_err(|e| format!("{e:?}"))?;
    let json = serde_json::to_string(body).map_err(|e| e.to_string())?;
    form.append_with_str(part, &json)
        .map_err(|e| format!("{e:?}"))?;
    if let Some(files) = file_input(photos).and_then(|i| i.files()) {
        for i in 0..files.length() {
            if let Some(file) = files.get(i) {
                form.append_with_blob_and_filename("photo", &file, &file.name())
                    .map_err(|e| format!("{e:?}"))?;
            }
        }
    }
    Ok(form)
}

/// Fetches a photo with the caller's token and puts it at the head of `item`.
pub(super) fn load_photo(item: &Element, hash: &str, alt: &'static str) {
    let Some(token) = token() else { return };
    let item = item.clone();
    let hash = hash.to_owned();
    spawn_local(async move {
        let Ok(url) = fetch::photo_url(&hash, &token).await else {
            return;
        };
        if item.is_connected() {
            let img = h("img", &[("src", &url), ("alt", alt)], &[]);
            let _ = item.insert_before(&img, item.first_child().as_ref());
            with(|s| s.photo_urls.push(url));
        } else {
            // The screen changed while the photo loaded.
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
}

/// Lets go of the photos on screen, before the screen is drawn again.
pub(super) fn clear_photos() {
    for url in with(|s| std::mem::take(&mut s.photo_urls)) {
        let _ = web_sys::Url::revoke_object_url(&url);
    }
}
