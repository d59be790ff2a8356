//! What a failed write says about the database: a full disk, a read-only database, or
//! something else, so that callers get a 503 naming it and the wall can show it; and the
//! probe write that finds out when writes are stored again.

use shared::wall::WriteTrouble;

/// SQLite's primary result codes (the low byte of an extended code).
const SQLITE_READONLY: i64 = 8;
const SQLITE_FULL: i64 = 13;
/// PostgreSQL's SQLSTATEs: `disk_full`, and `read_only_sql_transaction` (a standby, or a
/// database set read-only).
const PG_DISK_FULL: &str = "53100";
const PG_READ_ONLY: &str = "25006";

/// What a database error says about the database's ability to take writes.
pub fn trouble_of(err: &sqlx::Error) -> WriteTrouble {
    match err {
        sqlx::Error::Database(db) => db
            .code()
            .and_then(|code| trouble_of_code(&code))
            .or_else(|| trouble_of_message(db.message()))
            .unwrap_or(WriteTrouble::Database),
        sqlx::Error::Io(io) => trouble_of_io(io).unwrap_or(WriteTrouble::Database),
        _ => WriteTrouble::Database,
    }
}

/// What a file-system error says: a full disk or quota, or a read-only file system.
pub fn trouble_of_io(err: &std::io::Error) -> Option<WriteTrouble> {
    match err.raw_os_error() {
        // ENOSPC and EDQUOT.
        Some(28 | 122) => Some(WriteTrouble::DiskFull),
        // EROFS.
        Some(30) => Some(WriteTrouble::ReadOnly),
        _ => match err.kind() {
            std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
                Some(WriteTrouble::DiskFull)
            }
            std::io::ErrorKind::ReadOnlyFilesystem => Some(WriteTrouble::ReadOnly),
            _ => None,
        },
    }
}

/// SQLite gives its (extended) result code as a number, PostgreSQL its SQLSTATE.
fn trouble_of_code(code: &str) -> Option<WriteTrouble> {
    match code {
        PG_DISK_FULL => return Some(WriteTrouble::DiskFull),
        PG_READ_ONLY => return Some(WriteTrouble::ReadOnly),
        _ => {}
    }
    let number: i64 = code.parse().ok()?;
    match number & 0xff {
        SQLITE_FULL => Some(WriteTrouble::DiskFull),
        SQLITE_READONLY => Some(WriteTrouble::ReadOnly),
        _ => None,
    }
}

/// The words both databases use, for errors that come without a code.
fn trouble_of_message(message: &str) -> Option<WriteTrouble> {
    let message = message.to_ascii_lowercase();
    if message.contains("disk is full") || message.contains("no space left") {
        Some(WriteTrouble::DiskFull)
    } else if message.contains("readonly") || message.contains("read-only") {
        Some(WriteTrouble::ReadOnly)
    } else {
        None
    }
}

/// One small write in a transaction of its own, committed: it needs the same room in the
/// log as a report, so it is stored exactly when reports would be.
pub async fn probe_write(conn: &mut sqlx::AnyConnection, now_ms: i64) -> Result<(), sqlx::Error> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    sqlx::query(
        "INSERT INTO write_probe (id, at_ms) VALUES (1, $1) \
         ON CONFLICT (id) DO UPDATE SET at_ms = excluded.at_ms",
    )
    .bind(now_ms)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_name_the_trouble() {
        assert_eq!(trouble_of_code("13"), Some(WriteTrouble::DiskFull));
        assert_eq!(trouble_of_code("8"), Some(WriteTrouble::ReadOnly));
        // SQLITE_READONLY_DBMOVED, an extended code.
        assert_eq!(trouble_of_code("1032"), Some(WriteTrouble::ReadOnly));
        assert_eq!(trouble_of_code("53100"), Some(WriteTrouble::DiskFull));
        assert_eq!(trouble_of_code("25006"), Some(WriteTrouble::ReadOnly));
        // SQLITE_BUSY and a unique violation say nothing about the disk.
        assert_eq!(trouble_of_code("5"), None);
        assert_eq!(trouble_of_code("23505"), None);
    }

    #[test]
    fn messages_and_io_errors_name_the_trouble() {
        assert_eq!(
            trouble_of_message("database or disk is full"),
            Some(WriteTrouble::DiskFull)
        );
        assert_eq!(
            trouble_of_message("attempt to write a readonly database"),
            Some(WriteTrouble::ReadOnly)
        );
        assert_eq!(trouble_of_message("no such table: x"), None);
        let full = std::io::Error::from_raw_os_error(28);
        assert_eq!(trouble_of_io(&full), Some(WriteTrouble::DiskFull));
        let ro = std::io::Error::from_raw_os_error(30);
        assert_eq!(trouble_of_io(&ro), Some(WriteTrouble::ReadOnly));
        let other = std::io::Error::other("x");
        assert_eq!(trouble_of_io(&other), None);
        assert_eq!(trouble_of(&sqlx::Error::Io(full)), WriteTrouble::DiskFull);
        assert_eq!(
            trouble_of(&sqlx::Error::PoolTimedOut),
            WriteTrouble::Database
        );
    }
}
