//! The response documents: a small tree kept apart from its two spellings, and the choice
//! between XML and JSON that a path's extension makes.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// The two spellings of every resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xml,
    Json,
}

impl Format {
    pub(super) fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "text/xml; charset=utf-8",
            Format::Json => "application/json; charset=utf-8",
        }
    }

    /// The format a path asks for by its extension; XML, the standard's own, when it asks
    /// for none that is known, so that even an error about the format comes in a standard
    /// shape.
    pub(super) fn of_path(path: &str) -> Format {
        match path.rsplit_once('.') {
            Some((_, ext)) if ext.eq_ignore_ascii_case("json") => Format::Json,
            _ => Format::Xml,
        }
    }
}

/// A response document, kept apart from its two spellings: XML elements, and the same tree
/// as JSON by the standard's Spark convention (a list is an array, an element with children
/// an object, an empty element `null`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Doc {
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    Text(String),
    /// A list; in XML each item is an element of the given name.
    List(&'static str, Vec<Doc>),
    /// Named children, in the order the standard lists them.
    Fields(Vec<(&'static str, Doc)>),
}

impl Doc {
    pub(super) fn text(text: &str) -> Doc {
        Doc::Text(text.to_owned())
    }

    pub(super) fn optional(text: Option<String>) -> Doc {
        text.map_or(Doc::Null, Doc::Text)
    }
}

impl Serialize for Doc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Doc::Null => serializer.serialize_none(),
            Doc::Bool(b) => serializer.serialize_bool(*b),
            Doc::Int(n) => serializer.serialize_i64(*n),
            Doc::Num(x) => serializer.serialize_f64(*x),
            Doc::Text(t) => serializer.serialize_str(t),
            Doc::List(_, items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Doc::Fields(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (name, value) in fields {
                    map.serialize_entry(name, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::open311::xml::to_xml;

    #[test]
    fn documents_spell_the_same_tree_in_xml_and_json() {
        let doc = Doc::List(
            "request",
            vec![Doc::Fields(vec![
                ("service_request_id", Doc::Int(7)),
                ("description", Doc::text("<b>&</b>")),
                ("account_id", Doc::Null),
                ("lat", Doc::Num(46.585)),
            ])],
        );
        assert_eq!(
            to_xml("service_requests", &doc),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<service_requests><request>\
             <service_request_id>7</service_request_id>\
             <description>&lt;b&gt;&amp;&lt;/b&gt;</description><account_id/>\
             <lat>46.585</lat></request></service_requests>\n"
        );
        assert_eq!(
            serde_json::to_string(&doc).expect("JSON"),
            r#"[{"service_request_id":7,"description":"<b>&</b>","account_id":null,"lat":46.585}]"#
        );
    }
}
