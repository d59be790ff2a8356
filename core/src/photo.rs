//! Evidence photos as the domain knows them: the formats taken, recognised by their first
//! bytes, and a photo stored under its content hash.

/// The image formats taken as evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

impl ImageKind {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
        }
    }
}

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Image(ImageKind),
    /// A format recognised but not taken, named for the error message ("a GIF image").
    Other(&'static str),
    Empty,
    Unknown,
}

/// Recognises a file by its magic bytes: JPEG `FF D8 FF`, PNG `89 50 4E 47 0D 0A 1A 0A`,
/// WebP `RIFF` + length + `WEBP`. A few formats a phone or a careless client may send are
/// named, so that the error says what was sent rather than only what was not.
pub fn sniff(bytes: &[u8]) -> Sniffed {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"\xff\xd8\xff") {
        return Sniffed::Image(ImageKind::Jpeg);
    }
    if at(0, PNG) {
        return Sniffed::Image(ImageKind::Png);
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Sniffed::Image(ImageKind::Webp);
    }
    if bytes.is_empty() {
        return Sniffed::Empty;
    }
    let other = if at(0, b"GIF87a") || at(0, b"GIF89a") {
        "a GIF image"
    } else if at(0, b"BM") {
        "a BMP image"
    } else if at(0, b"II*\0") || at(0, b"MM\0*") {
        "a TIFF image"
    } else if at(4, b"ftypheic") || at(4, b"ftypheix") || at(4, b"ftypmif1") {
        "a HEIF/HEIC image"
    } else if at(4, b"ftypavif") {
        "an AVIF image"
    } else if at(4, b"ftyp") {
        "a video or other ISO media file"
    } else if at(0, b"RIFF") {
        "a RIFF file that is not WebP"
    } else if at(0, b"%PDF") {
        "a PDF document"
    } else if at(0, b"PK\x03\x04") {
        "a ZIP archive"
    } else if looks_like_text(bytes) {
        "text"
    } else {
        return Sniffed::Unknown;
    };
    Sniffed::Other(other)
}

/// True when the first bytes are UTF-8 without control characters other than whitespace (a
/// multi-byte character cut at the end of the sample still counts).
fn looks_like_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(512)];
    let text = match std::str::from_utf8(sample) {
        Ok(text) => text,
        Err(err) if err.error_len().is_none() => {
            std::str::from_utf8(&sample[..err.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !text.is_empty()
        && text
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
}

/// A photo on disk, as the case writer records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPhoto {
    /// SHA-256 of the bytes, lowercase hex.
    pub hash: String,
    pub kind: ImageKind,
    pub bytes: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01";
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    const WEBP: &[u8] = b"RIFF\x24\0\0\0WEBPVP8 ";

    #[test]
    fn the_three_formats_are_recognised_by_their_first_bytes() {
        assert_eq!(sniff(JPEG), Sniffed::Image(ImageKind::Jpeg));
        assert_eq!(sniff(PNG), Sniffed::Image(ImageKind::Png));
        assert_eq!(sniff(WEBP), Sniffed::Image(ImageKind::Webp));
        // The magic alone is enough: the rest is the client's business.
        assert_eq!(sniff(b"\xff\xd8\xff"), Sniffed::Image(ImageKind::Jpeg));
    }

    #[test]
    fn near_misses_are_not_images() {
        // A truncated PNG signature, a JPEG without its third byte, a RIFF of another kind.
        assert_ne!(sniff(&PNG[..7]), Sniffed::Image(ImageKind::Png));
        assert_ne!(sniff(b"\xff\xd8\x00\x00"), Sniffed::Image(ImageKind::Jpeg));
        assert_eq!(
            sniff(b"RIFF\x24\0\0\0WAVEfmt "),
            Sniffed::Other("a RIFF file that is not WebP")
        );
        assert_eq!(
            sniff(b"RIFF"),
            Sniffed::Other("a RIFF file that is not WebP")
        );
    }

    #[test]
    fn other_formats_are_named() {
        assert_eq!(sniff(b"GIF89a\x01\0\x01\0"), Sniffed::Other("a GIF image"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Other("a PDF document"));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Sniffed::Other("a HEIF/HEIC image")
        );
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), Sniffed::Other("a ZIP archive"));
        assert_eq!(sniff("路灯杆倾斜\n".as_bytes()), Sniffed::Other("text"));
        assert_eq!(sniff(b"<svg xmlns=\"x\"/>"), Sniffed::Other("text"));
        assert_eq!(sniff(b""), Sniffed::Empty);
        assert_eq!(sniff(b"\0\x01\x02\x03\xfe"), Sniffed::Unknown);
    }
}
