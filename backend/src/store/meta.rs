//! Facts about the database as a whole (`city_meta`): above all whether it holds the demo
//! city, which decides whether the server may run the simulator, make demo accounts and open
//! its walls.

use crate::store::Db;
use sqlx::AnyConnection;

/// The `city_meta` key whose row marks a demo database; its value says what was built.
const DEMO: &str = "demo";

/// Marks the database as holding the demo city (`what` is what of it was built), inside the
/// transaction that builds it, so that a demo city is never left unmarked.
pub async fn mark_demo(conn: &mut AnyConnection, what: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM city_meta WHERE key = $1")
        .bind(DEMO)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO city_meta (key, value) VALUES ($1, $2)")
        .bind(DEMO)
        .bind(what)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether the database holds the demo city.
pub async fn is_demo(db: &Db) -> Result<bool, sqlx::Error> {
    let row: Option<String> = sqlx::query_scalar("SELECT value FROM city_meta WHERE key = $1")
        .bind(DEMO)
        .fetch_optional(db)
        .await?;
    Ok(row.is_some())
}
