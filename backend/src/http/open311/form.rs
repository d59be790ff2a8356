//! `POST requests` read without a server: the form's fields, and the report they ask for.
//! The handler runs these, and so do the fuzzers (`crate::fuzzing`), so that what is fuzzed is
//! what answers a client.

use super::document::Format;
use super::error::{Failure, echo};
use super::params::Params;
use super::requests::{MAX_MEDIA_URL_CHARS, MEDIA_LINE, is_media_url};
use super::services::service;
use crate::services::cases::MAX_DESCRIPTION_CHARS;
use shared::case::{Point, ReportCase};
use shared::taxonomy::SubItem;

/// The fields of a `POST requests`: the form's first, then the query string's, since a client
/// may put some of them there.
pub(crate) fn form_params(body: &[u8], query: &[u8], format: Format) -> Result<Params, Failure> {
    let mut params = Params::parse(body, format)?;
    params.0.extend(Params::parse(query, format)?.0);
    Ok(params)
}

/// The report a form asks for, with its service, once its `api_key` has been checked.
/// `inside` says whether a point lies in one of the city's grids.
pub(crate) fn report_of(
    params: &Params,
    format: Format,
    inside: impl Fn(Point) -> bool,
) -> Result<(&'static SubItem, ReportCase), Failure> {
    let Some(code) = params.get("service_code") else {
        return Err(Failure::bad(
            format,
            "service_code was not provided; services.xml lists them",
        ));
    };
    let item = service(code, format)?;
    let point = location(params, format)?;
    if !inside(point) {
        return Err(Failure::bad(
            format,
            format!(
                "lat/long: the point lat {}, long {} lies outside the city: none of its grids \
                 contains it",
                point.lat, point.lon
            ),
        ));
    }
    let mut description = params.get("description").unwrap_or(item.name_zh).to_owned();
    if let Some(url) = params.get("media_url") {
        if !is_media_url(url) {
            return Err(Failure::bad(
                format,
                format!(
                    "media_url must be an http or https address of at most \
                     {MAX_MEDIA_URL_CHARS} characters, without spaces"
                ),
            ));
        }
        description.push_str(MEDIA_LINE);
        description.push_str(url);
    }
    if description.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(Failure::bad(
            format,
            format!(
                "description: is longer than {MAX_DESCRIPTION_CHARS} characters (with the \
                 media_url, which is kept with it)"
            ),
        ));
    }
    let report = ReportCase {
        category: item.category.code().to_owned(),
        sub_item: Some(item.code.to_owned()),
        grid_id: None,
        point: Some(point),
        description,
    };
    Ok((item, report))
}

/// A request's place: `lat` and `long` both, in range. This server has no geocoder, so an
/// `address_string` or `address_id` alone cannot place it.
fn location(params: &Params, format: Format) -> Result<Point, Failure> {
    let coordinate = |name: &str, limit: f64| -> Result<Option<f64>, Failure> {
        let Some(text) = params.get(name) else {
            return Ok(None);
        };
        match text.parse::<f64>() {
            Ok(x) if x.is_finite() && (-limit..=limit).contains(&x) => Ok(Some(x)),
            _ => Err(Failure::bad(
                format,
                format!(
                    "{name} `{}` must be a number from -{limit} to {limit} (WGS84 degrees)",
                    echo(text)
                ),
            )),
        }
    };
    match (coordinate("lat", 90.0)?, coordinate("long", 180.0)?) {
        (Some(lat), Some(lon)) => Ok(Point { lon, lat }),
        (Some(_), None) => Err(Failure::bad(
            format,
            "long was not provided; send lat and long together",
        )),
        (None, Some(_)) => Err(Failure::bad(
            format,
            "lat was not provided; send lat and long together",
        )),
        (None, None) => Err(Failure::bad(
            format,
            if params.get("address_string").is_some() || params.get("address_id").is_some() {
                "lat and long are required: this server places a request in its grid by \
                 its point and cannot look up an address_string or address_id"
            } else {
                "a location was not provided: send lat and long"
            },
        )),
    }
}
