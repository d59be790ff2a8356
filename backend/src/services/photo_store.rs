//! Evidence photos on disk: recognising an upload by its bytes, storing it by content hash,
//! and finding the cases that show a photo.
//!
//! A photo is named by the SHA-256 of its bytes and stored at `PHOTO_DIR/ab/cdef…`. Nothing a
//! client says about a photo (its file name, its declared type) decides anything: the first
//! bytes say what it is, and only JPEG, PNG and WebP are taken. The rows that tie a photo to a
//! move (`photos`, `transition_photos`) are written by the case writer in the transaction of
//! the move's transition; the file is on disk before the move is queued, and only once the
//! caller has been checked.

use crate::error::AppError;
use crate::store::Db;
use axum::body::Bytes;
use gridwall_core::photo::{ImageKind, Sniffed, StoredPhoto, sniff};
use sha2::{Digest, Sha256};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The largest photo taken by default: a phone's photo at full resolution fits.
pub const DEFAULT_MAX_PHOTO_BYTES: usize = 8 * 1024 * 1024;
/// Photos one report or move may carry: a before or after photo from a few angles.
pub const MAX_PHOTOS_PER_MOVE: usize = 6;
/// The JSON part of a multipart body (a report or a move); the largest valid one is a few KiB.
pub const MAX_JSON_PART_BYTES: usize = 64 * 1024;
/// Bytes enough to tell the three formats apart (WebP's tag sits at bytes 8 to 11).
pub const SNIFF_BYTES: usize = 12;

/// A photo as it arrived: recognised, not yet stored.
#[derive(Debug, Clone)]
pub struct Upload {
    pub kind: ImageKind,
    pub bytes: Bytes,
    /// How error messages and the log name it: `photo 2 (lamp.jpg)`.
    pub label: String,
}

impl Upload {
    /// An upload of `bytes`, recognised by them, or the reason it is not taken.
    pub fn recognise(bytes: Bytes, label: String) -> Result<Upload, AppError> {
        let kind = recognised(&bytes, &label)?;
        Ok(Upload { kind, bytes, label })
    }
}

pub fn recognised(bytes: &[u8], label: &str) -> Result<ImageKind, AppError> {
    let message = match sniff(bytes) {
        Sniffed::Image(kind) => return Ok(kind),
        Sniffed::Other(what) => format!("{label} is {what}, not a JPEG, PNG or WebP image"),
        Sniffed::Empty => format!("{label} is empty, not a JPEG, PNG or WebP image"),
        Sniffed::Unknown => format!("{label} is not a JPEG, PNG or WebP image"),
    };
    Err(AppError::UnsupportedPart {
        part: "photo".to_owned(),
        message,
    })
}

/// The photo directory and the limits of what goes into it.
#[derive(Debug)]
pub struct PhotoStore {
    dir: PathBuf,
    max_bytes: usize,
}

impl PhotoStore {
    /// The store at `dir`, created if it does not exist yet.
    pub fn open(dir: impl Into<PathBuf>, max_bytes: usize) -> std::io::Result<PhotoStore> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(PhotoStore { dir, max_bytes })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The largest photo taken, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// The largest request body the report and move routes take: every photo at the limit,
    /// the JSON part, and room for the multipart framing.
    pub fn max_body_bytes(&self) -> usize {
        MAX_PHOTOS_PER_MOVE * self.max_bytes + MAX_JSON_PART_BYTES + 64 * 1024
    }

    /// The file of the photo named `hash`; `None` when `hash` is not a SHA-256 in lowercase
    /// hex, so that nothing else ever becomes a path.
    pub fn path_of(&self, hash: &str) -> Option<PathBuf> {
        is_hash(hash).then(|| self.dir.join(&hash[..2]).join(&hash[2..]))
    }

    /// Stores a photo under the hash of its bytes (once: the same bytes again find the file
    /// there) and says what the writer must record.
    pub async fn put(&self, upload: &Upload) -> Result<StoredPhoto, AppError> {
        let dir = self.dir.clone();
        let bytes = upload.bytes.clone();
        let hash = tokio::task::spawn_blocking(move || write_photo(&dir, &bytes))
            .await
            .map_err(|err| AppError::Storage(std::io::Error::other(err)))?
            // A full or read-only disk is a 503 that says so, like the database's.
            .map_err(|err| match crate::store::trouble::trouble_of_io(&err) {
                Some(trouble) => AppError::WritesFailing(trouble),
                None => AppError::Storage(err),
            })?;
        tracing::debug!(photo = %upload.label, hash = %hash, bytes = upload.bytes.len(), kind = upload.kind.content_type(), "photo stored");
        Ok(StoredPhoto {
            hash,
            kind: upload.kind,
            bytes: upload.bytes.len() as u64,
        })
    }

    /// The bytes of a stored photo.
    pub async fn read(&self, hash: &str) -> std::io::Result<Vec<u8>> {
        let path = self
            .path_of(hash)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        tokio::fs::read(path).await
    }
}

/// True for a SHA-256 in lowercase hex: the only names the store knows.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Writes `bytes` to `dir/ab/cdef…` unless a complete copy is there already, and returns the
/// hash. The bytes go to a temporary file in the same directory first, are synced, and are then
/// renamed into place: a reader (or a crash) sees the whole photo or none of it, and two
/// uploads of the same photo at once both end with the same complete file.
fn write_photo(dir: &Path, bytes: &[u8]) -> std::io::Result<String> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let hash = hex(&Sha256::digest(bytes));
    let folder = dir.join(&hash[..2]);
    let path = folder.join(&hash[2..]);
    if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64) {
        return Ok(hash);
    }
    std::fs::create_dir_all(&folder)?;
    let temporary = folder.join(format!(
        ".{}.{}.{}.tmp",
        &hash[2..],
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let written = (|| {
        let mut file = std::fs::File::create_new(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    })();
    if let Err(err) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(err);
    }
    // The rename is durable once the directory is synced; not every platform can open a
    // directory for that, and the photo is complete either way.
    if let Ok(folder) = std::fs::File::open(&folder) {
        let _ = folder.sync_all();
    }
    Ok(hash)
}

/// The cases whose transitions reference the photo `hash`: whoever may see one of them may see
/// the photo.
pub async fn cases_showing(db: &Db, hash: &str) -> Result<Vec<i64>, AppError> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT t.case_id FROM transition_photos tp JOIN transitions t ON t.seq = tp.seq
         WHERE tp.hash = $1 ORDER BY t.case_id",
    )
    .bind(hash)
    .fetch_all(db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    #[test]
    fn a_refusal_names_the_photo_and_what_it_is() {
        let err = Upload::recognise(Bytes::from_static(b"hello"), "photo 1 (x.jpg)".to_owned())
            .expect_err("text is no photo");
        match err {
            AppError::UnsupportedPart { part, message } => {
                assert_eq!(part, "photo");
                assert_eq!(
                    message,
                    "photo 1 (x.jpg) is text, not a JPEG, PNG or WebP image"
                );
            }
            other => panic!("expected an unsupported part, got {other:?}"),
        }
    }

    #[test]
    fn only_lowercase_sha256_names_become_paths() {
        let store = PhotoStore {
            dir: PathBuf::from("/photos"),
            max_bytes: 10,
        };
        let hash = "ab".to_owned() + &"0".repeat(62);
        assert_eq!(
            store.path_of(&hash),
            Some(PathBuf::from("/photos/ab").join("0".repeat(62)))
        );
        for bad in [
            "../../etc/passwd".to_owned(),
            hash.to_uppercase(),
            hash[..63].to_owned(),
            format!("{hash}0"),
            "g".repeat(64),
        ] {
            assert_eq!(store.path_of(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_photo_is_stored_once_under_its_hash() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let first = write_photo(dir.path(), PNG).expect("stored");
        let again = write_photo(dir.path(), PNG).expect("stored again");
        assert_eq!(first, again);
        // The SHA-256 of the bytes, as `sha256sum` prints it.
        assert_eq!(first, hex(&Sha256::digest(PNG)));
        let folder = dir.path().join(&first[..2]);
        let files: Vec<_> = std::fs::read_dir(&folder)
            .expect("the hash's folder")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(files, [std::ffi::OsString::from(&first[2..])]);
        assert_eq!(
            std::fs::read(folder.join(&first[2..])).expect("the file"),
            PNG
        );
    }
}
