//! Evidence photos over HTTP: the multipart bodies that carry them with a report or a move
//! (`WithPhotos`), and `GET /api/photos/{hash}` for whoever may see a case that shows it.

use crate::error::AppError;
use crate::http::extract::Caller;
use crate::http::extract::{self, ApiPath};
use crate::http::idempotency::{BodyDigest, KEY_HEADER};
use crate::services::cases::Cases;
use crate::services::photo_store::{
    MAX_JSON_PART_BYTES, MAX_PHOTOS_PER_MOVE, PhotoStore, SNIFF_BYTES, Upload, cases_showing,
    is_hash, recognised,
};
use crate::store::Db;
use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, MultipartError};
use axum::extract::{FromRef, FromRequest, Multipart, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use shared::case::{ApiError, MoveCase, ReportCase};
use std::sync::Arc;

/// A plain JSON body keeps axum's default limit: only photos need the larger one that the
/// report and move routes allow.
const MAX_JSON_BODY_BYTES: usize = 2 * 1024 * 1024;

/// `?wall=NAME&token=TOKEN`: for a wall following channel NAME, which shows the photos of
/// the case on its channel without an account.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PhotoQuery {
    /// The control channel of a wall showing a case card with this photo.
    wall: Option<String>,
    /// The wall's display token (outside demo mode).
    token: Option<String>,
}

/// `GET /api/photos/{hash}`: a photo's bytes with the type recognised when it was stored, for
/// a caller who may see at least one case showing it (401 without credentials, 403 for a
/// caller who may see none of them, 404 for a photo no committed move recorded). A photo never
/// changes under its name, so its caller's browser may keep it for a year (`private`: no
/// shared cache may, since another caller may not be allowed to see it); `nosniff` keeps
/// browsers from second-guessing the type.
#[utoipa::path(
    get,
    path = "/api/photos/{hash}",
    operation_id = "get_photo",
    tag = "cases",
    params(("hash" = String, Path, description = "The SHA-256 of the photo's bytes, in lowercase hex, as a case's `photos` list it."), PhotoQuery),
    responses(
        (status = 200, description = "The photo's bytes, `private, max-age=31536000, immutable`, with `nosniff`.",
            content(("image/jpeg"), ("image/png"), ("image/webp"))),
        (status = 401, description = "No credential, or one that does not work, and no `wall` showing the photo.", body = ApiError),
        (status = 403, description = "Every case that shows the photo is outside what the caller may see, or the wall's token does not open the scope its channel shows.", body = ApiError),
        (status = 404, description = "No committed move recorded a photo of this name.", body = ApiError),
        (status = 500, description = "The server failed (database or photo storage); the log has the details, the body does not.", body = ApiError),
    ),
    security(("bearer" = []), ("api_key" = []), (), ("display_token" = []))
)]
#[allow(clippy::too_many_arguments)]
pub async fn serve(
    State(db): State<Db>,
    State(store): State<Arc<PhotoStore>>,
    State(cases): State<Cases>,
    State(controls): State<Arc<crate::services::control::Controls>>,
    State(access): State<Arc<crate::services::tokens::Access>>,
    caller: Result<Caller, AppError>,
    ApiPath(hash): ApiPath<String>,
    extract::ApiQuery(query): extract::ApiQuery<PhotoQuery>,
) -> Result<Response, AppError> {
    let unknown = || AppError::NotFound("no such photo".to_owned());
    if !is_hash(&hash) {
        return Err(unknown());
    }
    // A wall has no account: it may show the photos of the case its channel shows, if its
    // display token opens the scope shown.
    let who = match (caller, query.wall.as_deref()) {
        (Ok(Caller(who)), _) => Some(who),
        (Err(err), None) => return Err(err),
        (Err(err), Some(wall)) => {
            let Some(scope) = controls.shown_photo(wall, &hash) else {
                return Err(err);
            };
            access.check(query.token.as_deref(), &scope).await?;
            None
        }
    };
    // Only a photo that a committed move references has a row; a file without one (left by a
    // refused move) is not served.
    let content_type: String =
        sqlx::query_scalar("SELECT content_type FROM photos WHERE hash = $1")
            .bind(&hash)
            .fetch_optional(&db)
            .await?
            .ok_or_else(unknown)?;
    // The same rule as `GET /api/cases/{id}`: a photo is as visible as the cases it shows.
    let showing = cases_showing(&db, &hash).await?;
    if let Some(who) = &who
        && !cases.may_see_any(&showing, who).await?
    {
        return Err(AppError::Forbidden(format!(
            "the photo belongs to cases outside what a {} here may see",
            who.role
        )));
    }
    let bytes = store.read(&hash).await.map_err(|err| {
        // A recorded photo whose file is gone is the server's fault; the log names it.
        AppError::Storage(std::io::Error::new(
            err.kind(),
            format!("recorded photo {hash} cannot be read: {err}"),
        ))
    })?;
    let content_type = HeaderValue::from_str(&content_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    Ok((
        StatusCode::OK,
        [
            (CONTENT_TYPE, content_type),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=31536000, immutable"),
            ),
            (X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        bytes,
    )
        .into_response())
}

/// The `multipart/form-data` body of `POST /api/cases`, for the OpenAPI document only:
/// `WithPhotos` reads the parts as they arrive rather than into a struct.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ReportForm {
    /// The report, the same JSON as the `application/json` body.
    case: ReportCase,
    /// Up to six before photos (JPEG, PNG or WebP, recognised by their bytes), each within the
    /// server's `--max-photo-bytes`.
    #[serde(default)]
    photo: Vec<PhotoPart>,
}

/// The `multipart/form-data` body of `POST /api/cases/{id}/moves`, for the OpenAPI document
/// only.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct MoveForm {
    /// The move, the same JSON as the `application/json` body.
    #[schema(rename = "move")]
    move_: MoveCase,
    /// Up to six photos (the after photo of a resolution, the photo of a verification).
    #[serde(default)]
    photo: Vec<PhotoPart>,
}

/// One `photo` part: the image's bytes. Its type is recognised from them, whatever the part's
/// `Content-Type` says.
#[derive(Debug, utoipa::ToSchema)]
#[schema(content_media_type = "application/octet-stream")]
#[allow(dead_code)]
pub struct PhotoPart(String);

/// The name of the JSON part that carries a body beside its photos.
pub trait FormPart {
    const PART: &'static str;
    /// What the part holds, for the message when it is missing.
    const WHAT: &'static str;
}

impl FormPart for ReportCase {
    const PART: &'static str = "case";
    const WHAT: &'static str = "the report";
}

impl FormPart for MoveCase {
    const PART: &'static str = "move";
    const WHAT: &'static str = "the move";
}

/// A report or move body with its photos. `application/json` is the body alone, as before;
/// `multipart/form-data` is one part named `case` (or `move`) holding that JSON and up to
/// [`MAX_PHOTOS_PER_MOVE`] parts named `photo`. Every photo is recognised and checked against
/// the size limit while it arrives, so a bad one is refused before anything is stored. It reads
/// the body, so it comes last in a handler, after `auth::Caller`: an anonymous upload is then
/// refused with 401 before any of it is read.
#[derive(Debug)]
pub struct WithPhotos<T> {
    pub body: T,
    pub photos: Vec<Upload>,
    /// The digest of the body's content (`http::idempotency::BodyDigest`: the JSON, then each
    /// photo), for a request's fingerprint; only when it carries an `Idempotency-Key`, so that
    /// other requests do not hash their photos for nothing.
    pub digest: Option<[u8; 32]>,
}

impl<S, T> FromRequest<S> for WithPhotos<T>
where
    S: Send + Sync,
    Arc<PhotoStore>: FromRef<S>,
    T: DeserializeOwned + FormPart + Send,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        let mime = mime_of(req.headers());
        let keyed = req.headers().contains_key(KEY_HEADER);
        if mime == "multipart/form-data" {
            let store = Arc::<PhotoStore>::from_ref(state);
            let form = Multipart::from_request(req, state)
                .await
                .map_err(|e| AppError::BadRequest(e.body_text()))?;
            return read_form(form, &store, keyed).await;
        }
        if mime == "application/json" || mime.ends_with("+json") {
            let req =
                req.map(|body| Body::new(http_body_util::Limited::new(body, MAX_JSON_BODY_BYTES)));
            let bytes = extract::json_bytes(req, state).await?;
            let body = extract::parse_json(&bytes)?;
            return Ok(WithPhotos {
                body,
                photos: Vec::new(),
                digest: keyed.then(|| digest(&bytes, &[])),
            });
        }
        Err(AppError::UnsupportedMediaType(format!(
            "send the body as JSON with `Content-Type: application/json`, or with photos as \
             `multipart/form-data`: a part named `{}` holding the JSON and up to \
             {MAX_PHOTOS_PER_MOVE} parts named `photo`",
            T::PART
        )))
    }
}

/// The media type of a request, lowercased, without its parameters.
fn mime_of(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .unwrap_or_default()
}

/// The digest of a body's content: its JSON, then its photos in the order sent.
fn digest(json: &[u8], photos: &[Upload]) -> [u8; 32] {
    let mut digest = BodyDigest::default();
    digest.part("json", json);
    for photo in photos {
        digest.part("photo", &photo.bytes);
    }
    digest.finish()
}

async fn read_form<T: DeserializeOwned + FormPart + Send>(
    mut form: Multipart,
    store: &PhotoStore,
    keyed: bool,
) -> Result<WithPhotos<T>, AppError> {
    let body_limit = store.max_body_bytes();
    let broken = |err: MultipartError| multipart_error(err, body_limit);
    let mut body = None;
    let mut json = Bytes::new();
    let mut photos = Vec::new();
    while let Some(mut field) = form.next_field().await.map_err(broken)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == T::PART {
            if body.is_some() {
                return Err(AppError::invalid(
                    T::PART,
                    format!("the part `{}` was sent twice; send it once", T::PART),
                ));
            }
            let bytes = read_part(&mut field, MAX_JSON_PART_BYTES, body_limit, |_| Ok(()))
                .await
                .map_err(|e| {
                    e.answer(
                        T::PART,
                        &format!("the part `{}`", T::PART),
                        MAX_JSON_PART_BYTES,
                    )
                })?;
            body = Some(extract::parse_json::<T>(&bytes)?);
            json = bytes;
        } else if name == "photo" {
            let number = photos.len() + 1;
            if number > MAX_PHOTOS_PER_MOVE {
                return Err(AppError::invalid(
                    "photo",
                    format!("at most {MAX_PHOTOS_PER_MOVE} photos go with one report or move"),
                ));
            }
            let label = match field.file_name() {
                Some(file) => format!(
                    "photo {number} ({})",
                    file.chars().take(64).collect::<String>()
                ),
                None => format!("photo {number}"),
            };
            let declared = field.content_type().map(str::to_owned);
            let max = store.max_bytes();
            let bytes = read_part(&mut field, max, body_limit, |start| {
                recognised(start, &label).map(drop)
            })
            .await
            .map_err(|e| e.answer("photo", &label, max))?;
            let upload = Upload::recognise(bytes, label)?;
            if declared.as_deref() != Some(upload.kind.content_type()) {
                tracing::debug!(photo = %upload.label, declared = ?declared, recognised = upload.kind.content_type(), "a photo's declared type is not what its bytes say; the bytes win");
            }
            photos.push(upload);
        } else {
            let shown: String = name.chars().take(64).collect();
            return Err(AppError::invalid(
                if shown.is_empty() { "part" } else { &shown },
                format!(
                    "unknown part `{shown}`; send a part named `{}` holding the JSON and up to \
                     {MAX_PHOTOS_PER_MOVE} parts named `photo`",
                    T::PART
                ),
            ));
        }
    }
    let body = body.ok_or_else(|| {
        AppError::invalid(
            T::PART,
            format!(
                "missing: send {} as JSON in a part named `{}`",
                T::WHAT,
                T::PART
            ),
        )
    })?;
    let digest = keyed.then(|| digest(&json, &photos));
    Ok(WithPhotos {
        body,
        photos,
        digest,
    })
}

/// Why a part could not be read.
enum PartError {
    /// The part is larger than its limit.
    TooLarge,
    Refused(AppError),
}

impl PartError {
    /// The error to answer: `part` names the part in the error body, `label` in the message.
    fn answer(self, part: &str, label: &str, limit: usize) -> AppError {
        match self {
            PartError::TooLarge => AppError::TooLarge {
                part: part.to_owned(),
                message: format!("{label} is larger than the limit of {}", size(limit)),
            },
            PartError::Refused(err) => err,
        }
    }
}

/// Reads one part, refusing it as soon as it passes `limit` bytes. `check` sees the first
/// bytes once there are enough of them to recognise a format (or the whole part, if shorter),
/// so that a file of the wrong kind is refused before the rest of it is read.
async fn read_part(
    field: &mut Field<'_>,
    limit: usize,
    body_limit: usize,
    check: impl Fn(&[u8]) -> Result<(), AppError>,
) -> Result<Bytes, PartError> {
    let mut bytes = Vec::new();
    let mut checked = false;
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|err| PartError::Refused(multipart_error(err, body_limit)))?
    {
        if bytes.len() + chunk.len() > limit {
            return Err(PartError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
        if !checked && bytes.len() >= SNIFF_BYTES {
            check(&bytes).map_err(PartError::Refused)?;
            checked = true;
        }
    }
    if !checked {
        check(&bytes).map_err(PartError::Refused)?;
    }
    Ok(Bytes::from(bytes))
}

fn multipart_error(err: MultipartError, body_limit: usize) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge {
            part: "body".to_owned(),
            message: format!(
                "the request is larger than the limit of {} ({MAX_PHOTOS_PER_MOVE} photos at the \
                 largest and the JSON part)",
                size(body_limit)
            ),
        }
    } else {
        AppError::BadRequest(format!(
            "the multipart body is malformed: {}",
            err.body_text()
        ))
    }
}

/// A byte count as people read it: `8 MiB (8388608 bytes)`.
fn size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * KIB;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB ({bytes} bytes)", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB ({bytes} bytes)", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(size(8 * 1024 * 1024), "8 MiB (8388608 bytes)");
        assert_eq!(size(64 * 1024), "64 KiB (65536 bytes)");
        assert_eq!(size(1000), "1000 bytes");
    }
}
