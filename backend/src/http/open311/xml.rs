//! The hand-written XML writer: a [`Doc`] as elements, with the escaping that keeps any
//! stored text from making the document ill-formed.
//!
//! Element names come from the standard, never from a caller, so only character data needs
//! escaping.

use super::document::{Doc, Format};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

/// `doc` as an XML document whose root element is `root`.
pub(super) fn to_xml(root: &str, doc: &Doc) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    write_element(&mut out, root, doc);
    out.push('\n');
    out
}

/// Writes `doc` as the element `name`: one child element per list item or field, and an
/// empty element for `Null`, which is how the standard spells a missing value.
fn write_element(out: &mut String, name: &str, doc: &Doc) {
    let open = |out: &mut String| {
        out.push('<');
        out.push_str(name);
        out.push('>');
    };
    let close = |out: &mut String| {
        out.push_str("</");
        out.push_str(name);
        out.push('>');
    };
    match doc {
        Doc::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Doc::List(item, items) => {
            open(out);
            for i in items {
                write_element(out, item, i);
            }
            close(out);
        }
        Doc::Fields(fields) => {
            open(out);
            for (child, value) in fields {
                write_element(out, child, value);
            }
            close(out);
        }
        Doc::Bool(b) => {
            open(out);
            out.push_str(if *b { "true" } else { "false" });
            close(out);
        }
        Doc::Int(n) => {
            open(out);
            out.push_str(&n.to_string());
            close(out);
        }
        Doc::Num(x) => {
            open(out);
            out.push_str(&x.to_string());
            close(out);
        }
        Doc::Text(t) => {
            open(out);
            escape_xml_into(out, t);
            close(out);
        }
    }
}

/// Writes `text` as XML character data: the five markup characters as entities, and the
/// characters XML 1.0 cannot carry at all (control characters other than tab, line feed and
/// carriage return, U+FFFE and U+FFFF) as U+FFFD, so that no description a JSON report
/// carried can make the document ill-formed.
fn escape_xml_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

/// `text` as XML character data.
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_xml_into(&mut out, text);
    out
}

/// A document as a response in `format`, with `root` as the XML root element.
pub(super) fn render(format: Format, status: StatusCode, root: &str, doc: &Doc) -> Response {
    let body = match format {
        Format::Xml => to_xml(root, doc),
        Format::Json => serde_json::to_string(doc).expect("a document always serialises"),
    };
    (status, [(CONTENT_TYPE, format.content_type())], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_keeps_chinese() {
        assert_eq!(
            escape_xml(r#"路灯 & <杆> "倾斜" 'x'"#),
            "路灯 &amp; &lt;杆&gt; &quot;倾斜&quot; &apos;x&apos;"
        );
        assert_eq!(
            escape_xml("a\u{1}b\u{FFFF}\tc\n"),
            "a\u{FFFD}b\u{FFFD}\tc\n"
        );
    }
}
