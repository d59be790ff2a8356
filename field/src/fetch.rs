//! The field page's HTTP calls: JSON or multipart bodies with the bearer token, and the
//! server's own error message for anything refused, so the person in the field reads why.

use serde::de::DeserializeOwned;
use shared::case::ApiError;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// What a request carries.
#[derive(Debug)]
pub enum Body {
    None,
    Json(String),
    /// A multipart form: the browser writes the boundary into the content type itself.
    Form(web_sys::FormData),
}

/// A refused or failed request: the status (0 when the network failed) and what to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub status: u16,
    pub message: String,
}

impl Failure {
    fn network(err: JsValue) -> Failure {
        Failure {
            status: 0,
            message: format!(
                "{}{}",
                if crate::text::english() {
                    "The server cannot be reached: "
                } else {
                    "无法连接服务器："
                },
                err.as_string().unwrap_or_else(|| format!("{err:?}"))
            ),
        }
    }
}

/// Sends one request and returns the response's text, or the server's error message (with
/// the field it names) when the status is not a success.
pub async fn send(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Body,
) -> Result<String, Failure> {
    let window = web_sys::window().ok_or_else(|| Failure::network("no window".into()))?;
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    let headers = web_sys::Headers::new().map_err(Failure::network)?;
    if let Some(token) = token {
        headers
            .set("authorization", &format!("Bearer {token}"))
            .map_err(Failure::network)?;
    }
    match body {
        Body::None => {}
        Body::Json(json) => {
            headers
                .set("content-type", "application/json")
                .map_err(Failure::network)?;
            init.set_body(&JsValue::from_str(&json));
        }
        Body::Form(form) => init.set_body(&form),
    }
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(Failure::network)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .and_then(|r| r.dyn_into())
        .map_err(Failure::network)?;
    let text = JsFuture::from(response.text().map_err(Failure::network)?)
        .await
        .map_err(Failure::network)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        return Ok(text);
    }
    let status = response.status();
    let message = match serde_json::from_str::<ApiError>(&text) {
        Ok(err) => match err.error.field {
            Some(field) => format!("{field}: {}", err.error.message),
            None => err.error.message,
        },
        Err(_) => format!("HTTP {status}"),
    };
    Err(Failure { status, message })
}

/// [`send`], with the answer read as JSON.
pub async fn json<T: DeserializeOwned>(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Body,
) -> Result<T, Failure> {
    let text = send(method, url, token, body).await?;
    serde_json::from_str(&text).map_err(|e| Failure {
        status: 0,
        message: format!("{url}: {e}"),
    })
}

/// A photo of a case as an object URL for an `<img>`: photos are served only with the
/// caller's token, which an `<img src>` cannot send.
pub async fn photo_url(hash: &str, token: &str) -> Result<String, JsValue> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    let headers = web_sys::Headers::new()?;
    headers.set("authorization", &format!("Bearer {token}"))?;
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(&format!("/api/photos/{hash}"), &init)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await?
        .dyn_into()?;
    if !response.ok() {
        return Err(JsValue::from_str(&format!("HTTP {}", response.status())));
    }
    let blob: web_sys::Blob = JsFuture::from(response.blob()?).await?.dyn_into()?;
    web_sys::Url::create_object_url_with_blob(&blob)
}
