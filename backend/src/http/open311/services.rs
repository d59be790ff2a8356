//! The services: the taxonomy's sub-items as the standard lists them.

use super::document::{Doc, Format};
use super::error::{Failure, echo};
use axum::http::StatusCode;
use shared::taxonomy::{self, SubItem};

/// What a centre does with a case of this sub-item: who handles it and how long they have.
pub(super) fn service_notice(item: &SubItem) -> String {
    let department = taxonomy::department(item.department).map_or_else(
        || item.department.to_owned(),
        |d| format!("{} {}", d.code, d.name_zh),
    );
    format!(
        "The centre dispatches it to {department}, which has {} hours to handle it.",
        item.time_limit_hours
    )
}

/// One service as `services` lists it. Its keywords are comma delimited, so the English
/// name gives up its own commas.
fn service_doc(item: &SubItem) -> Doc {
    let keywords = [
        item.name_en.replace(',', ""),
        item.category.code().replace('_', " "),
        item.category.name_zh().to_owned(),
    ]
    .join(", ");
    Doc::Fields(vec![
        ("service_code", Doc::text(item.code)),
        ("service_name", Doc::text(item.name_zh)),
        (
            "description",
            Doc::Text(format!("{}. {}", item.name_en, service_notice(item))),
        ),
        ("metadata", Doc::Bool(false)),
        ("type", Doc::text("realtime")),
        ("keywords", Doc::Text(keywords)),
        ("group", Doc::text(item.category.name_zh())),
    ])
}

/// Every service, in the taxonomy's order, which groups them by category.
pub(super) fn services_doc() -> Doc {
    Doc::List(
        "service",
        taxonomy::SUB_ITEMS.iter().map(service_doc).collect(),
    )
}

/// A sub-item by its code, or the standard's 404 naming the code.
pub(super) fn service(code: &str, format: Format) -> Result<&'static SubItem, Failure> {
    taxonomy::sub_item(code).ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            format,
            format!(
                "service_code `{}` was not found; services.{} lists the {} services",
                echo(code),
                match format {
                    Format::Xml => "xml",
                    Format::Json => "json",
                },
                taxonomy::SUB_ITEMS.len()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sub_item_is_a_service() {
        let Doc::List(_, services) = services_doc() else {
            panic!("a list");
        };
        assert_eq!(services.len(), 332);
    }
}
