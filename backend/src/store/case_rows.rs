//! The rows of the case writer: the columns of `cases`, `transitions`, `photos`,
//! `transition_photos`, `house_visits` and `idempotency_keys`, reading a case and its photos,
//! reading and purging a batch's idempotency keys, taking a batch's numbers, and writing a
//! planned batch with one multi-row statement per table.

use crate::store::codes::{decode_category, decode_state, decode_supervision};
use gridwall_core::event::Facts;
use gridwall_core::idempotency::{KeyId, StoredKey};
use gridwall_core::photo::StoredPhoto;
use gridwall_core::plan::{CaseRecord, Numbers, Plan, WriteCommand};
use shared::case::{Action, CasePhoto, CaseState, CaseView, Point};
use sqlx::Row;
use std::collections::{HashMap, HashSet};

/// The columns of `cases` that the writer reads and writes, in the order the upsert binds them.
pub const CASE_COLUMNS: &str = "id, category, sub_item_code, grid_id, lon, lat, description, state, \
     reported_at, updated_at, last_seq, reporter_id, department_code, supervision, dispatched_at, \
     deadline_at, next_check_at";
const CASE_COLUMN_COUNT: usize = 17;

const TRANSITION_COLUMNS: &str = "seq, case_id, action, from_state, to_state, actor, role, at, \
     note, department_code, supervision, deadline_at";
const TRANSITION_COLUMN_COUNT: usize = 12;

const VISIT_COLUMNS: &str = "id, grid_id, member_id, at, household";
const VISIT_COLUMN_COUNT: usize = 5;

const PHOTO_COLUMNS: &str = "hash, content_type, bytes, stored_at";
const PHOTO_COLUMN_COUNT: usize = 4;

const PHOTO_LINK_COLUMNS: &str = "seq, position, hash";
const PHOTO_LINK_COLUMN_COUNT: usize = 3;

const KEY_COLUMNS: &str = "caller, route, key, fingerprint, case_id, answer, created_at";
const KEY_COLUMN_COUNT: usize = 7;

/// Reads a row selected with [`CASE_COLUMNS`].
pub fn case_from_row(row: &sqlx::any::AnyRow) -> Result<CaseRecord, sqlx::Error> {
    let lon: Option<f64> = row.try_get("lon")?;
    let lat: Option<f64> = row.try_get("lat")?;
    Ok(CaseRecord {
        id: row.try_get("id")?,
        category: decode_category(&row.try_get::<String, _>("category")?)?,
        sub_item: row.try_get("sub_item_code")?,
        grid_id: row.try_get("grid_id")?,
        point: lon.zip(lat).map(|(lon, lat)| Point { lon, lat }),
        description: row.try_get("description")?,
        reported_at_ms: row.try_get("reported_at")?,
        updated_at_ms: row.try_get("updated_at")?,
        last_seq: row.try_get::<i64, _>("last_seq")? as u64,
        reporter_id: row.try_get("reporter_id")?,
        facts: Facts {
            state: decode_state(&row.try_get::<String, _>("state")?)?,
            department: row.try_get("department_code")?,
            supervision: decode_supervision(&row.try_get::<String, _>("supervision")?)?,
            deadline_ms: row.try_get("deadline_at")?,
        },
        dispatched_ms: row.try_get("dispatched_at")?,
        photos: Vec::new(),
    })
}

/// The numbers a batch needs, taken under the batch's transaction: on SQLite the largest ids
/// in the tables plus one (the batch holds the write lock), on PostgreSQL from the tables'
/// identity sequences, as a default value would.
pub async fn take_numbers(
    conn: &mut sqlx::AnyConnection,
    sqlite: bool,
    transitions: usize,
    cases: usize,
    visits: usize,
) -> Result<Numbers, sqlx::Error> {
    if sqlite {
        let row = sqlx::query(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM transitions) AS seq,
                    (SELECT COALESCE(MAX(id), 0) FROM cases) AS case_id,
                    (SELECT COALESCE(MAX(id), 0) FROM house_visits) AS visit_id",
        )
        .fetch_one(&mut *conn)
        .await?;
        let run = |last: i64, n: usize| (1..=n as i64).map(|i| last + i).rev().collect();
        return Ok(Numbers {
            seqs: run(row.try_get("seq")?, transitions),
            case_ids: run(row.try_get("case_id")?, cases),
            visit_ids: run(row.try_get("visit_id")?, visits),
        });
    }
    async fn from_sequence(
        conn: &mut sqlx::AnyConnection,
        table: &str,
        column: &str,
        n: usize,
    ) -> Result<Vec<i64>, sqlx::Error> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', '{column}')) AS n FROM generate_series(1, $1)"
        );
        let mut taken: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(n as i64)
            .fetch_all(&mut *conn)
            .await?;
        // Handed out from the back, so that numbers are used in ascending order.
        taken.sort_unstable_by(|a, b| b.cmp(a));
        Ok(taken)
    }
    Ok(Numbers {
        seqs: from_sequence(conn, "transitions", "seq", transitions).await?,
        case_ids: from_sequence(conn, "cases", "id", cases).await?,
        visit_ids: from_sequence(conn, "house_visits", "id", visits).await?,
    })
}

/// The current rows of the cases the batch moves, in one query.
pub async fn read_moved(
    tx: &mut sqlx::AnyConnection,
    sqlite: bool,
    batch: &[WriteCommand],
) -> Result<HashMap<i64, CaseRecord>, sqlx::Error> {
    let mut ids: Vec<i64> = batch.iter().filter_map(WriteCommand::moved_case).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(rows);
    }
    let sql = format!(
        "SELECT {CASE_COLUMNS} FROM cases WHERE id IN ({})",
        placeholders(sqlite, ids.len(), 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in &ids {
        query = query.bind(*id);
    }
    for row in query.fetch_all(&mut *tx).await? {
        // A row the writer cannot read is a database failure, as it would be in a query.
        let case = case_from_row(&row)?;
        rows.insert(case.id, case);
    }
    // A moved case's answer shows all its photos, so the batch reads those it has already.
    for (case_id, photos) in read_photos(tx, sqlite, &ids).await? {
        if let Some(case) = rows.get_mut(&case_id) {
            case.photos = photos;
        }
    }
    Ok(rows)
}

/// The photos of the cases `ids`, each case's in the order they were attached (by move, then
/// as sent), in one query.
pub async fn read_photos(
    conn: &mut sqlx::AnyConnection,
    sqlite: bool,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<CasePhoto>>, sqlx::Error> {
    let mut photos: HashMap<i64, Vec<CasePhoto>> = HashMap::new();
    if ids.is_empty() {
        return Ok(photos);
    }
    let sql = format!(
        "SELECT t.case_id, tp.seq, tp.hash, t.action, p.content_type
         FROM transitions t
         JOIN transition_photos tp ON tp.seq = t.seq
         JOIN photos p ON p.hash = tp.hash
         WHERE t.case_id IN ({})
         ORDER BY tp.seq, tp.position",
        placeholders(sqlite, ids.len(), 1)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(*id);
    }
    for row in query.fetch_all(&mut *conn).await? {
        let action: String = row.try_get("action")?;
        let action = Action::from_code(&action).ok_or_else(|| {
            sqlx::Error::Decode(
                format!("unknown action `{action}` in the transitions table").into(),
            )
        })?;
        photos
            .entry(row.try_get("case_id")?)
            .or_default()
            .push(CasePhoto {
                hash: row.try_get("hash")?,
                content_type: row.try_get("content_type")?,
                action,
                seq: row.try_get::<i64, _>("seq")? as u64,
            });
    }
    Ok(photos)
}

/// Deletes the idempotency keys made before `before_ms`, which are free again. The writer runs
/// it in a batch that carries a key, before it reads the batch's keys: an expired key is then
/// never answered from, and its row is gone before the batch stores the key anew. The index on
/// `created_at` keeps it to the rows it deletes.
pub async fn purge_keys(tx: &mut sqlx::AnyConnection, before_ms: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(before_ms)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The stored idempotency keys of the batch's keyed commands, in one query; nothing is sent
/// when no command carries a key, so that unkeyed ingest costs nothing more.
pub async fn read_keys(
    tx: &mut sqlx::AnyConnection,
    sqlite: bool,
    batch: &[WriteCommand],
) -> Result<HashMap<KeyId, StoredKey>, sqlx::Error> {
    let mut ids: Vec<&KeyId> = batch
        .iter()
        .filter_map(|c| c.claim())
        .map(|c| &c.id)
        .collect();
    ids.sort_unstable_by(|a, b| (&a.caller, &a.route, &a.key).cmp(&(&b.caller, &b.route, &b.key)));
    ids.dedup();
    let mut keys = HashMap::with_capacity(ids.len());
    if ids.is_empty() {
        return Ok(keys);
    }
    // The keys as a `VALUES` list joined to the table: both databases then look each one up
    // by the primary key (SQLite scans the whole table for a row value `IN (VALUES …)`), and
    // both name a `VALUES` list's columns `column1`, `column2`, ….
    let sql = format!(
        "SELECT k.caller, k.route, k.key, k.fingerprint, k.answer
         FROM (VALUES {}) AS v
         JOIN idempotency_keys k
           ON k.caller = v.column1 AND k.route = v.column2 AND k.key = v.column3",
        placeholders(sqlite, ids.len(), 3)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for id in &ids {
        query = query
            .bind(id.caller.clone())
            .bind(id.route.clone())
            .bind(id.key.clone());
    }
    for row in query.fetch_all(&mut *tx).await? {
        let answer: String = row.try_get("answer")?;
        // An answer the writer cannot read is a database failure, as a bad code would be.
        let answer: CaseView = serde_json::from_str(&answer).map_err(|err| {
            sqlx::Error::Decode(format!("an idempotency key's answer: {err}").into())
        })?;
        let id = KeyId {
            caller: row.try_get("caller")?,
            route: row.try_get("route")?,
            key: row.try_get("key")?,
        };
        let fingerprint = row.try_get("fingerprint")?;
        keys.insert(
            id,
            StoredKey {
                fingerprint,
                answer,
            },
        );
    }
    Ok(keys)
}

/// Whether idempotency key `id` is stored and was made at or after `since_ms`: asked before a
/// keyed move's photos are stored, outside the writer's transaction, so only a hint (the
/// writer decides).
pub async fn key_is_stored(
    conn: &mut sqlx::AnyConnection,
    id: &KeyId,
    since_ms: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT case_id FROM idempotency_keys
         WHERE caller = $1 AND route = $2 AND key = $3 AND created_at >= $4",
    )
    .bind(&id.caller)
    .bind(&id.route)
    .bind(&id.key)
    .bind(since_ms)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(found.is_some())
}

/// `rows` groups of `cols` placeholders: `(?, ?), (?, ?)` on SQLite, `($1, $2), ($3, $4)` on
/// PostgreSQL. SQLite gets anonymous ones because sqlx looks each numbered one up by name, and
/// SQLite finds a name by a linear search: numbered placeholders made binding a batch of 512
/// rows quadratic, and the writer spent most of its time in `strncmp`.
///
/// The writer builds its SQL only from constants and these, never from input, which is why
/// its dynamic statements are marked safe.
pub fn placeholders(sqlite: bool, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 6);
    let mut n = 1;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        if cols > 1 {
            sql.push('(');
        }
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            if sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
            n += 1;
        }
        if cols > 1 {
            sql.push(')');
        }
    }
    sql
}

/// Writes a planned batch: one statement per table, however many rows. A batch's largest
/// statement binds 512 moves × 6 photos × 4 columns = 12,288 values, within SQLite's limit of
/// 32,766 and PostgreSQL's of 65,535.
/// A statement being built, with the values bound so far.
type Query<'a> = sqlx::query::Query<'a, sqlx::Any, sqlx::any::AnyArguments>;

/// Inserts `rows` with one multi-row statement: `head` names the table and its `columns`
/// columns, `tail` follows the values, and `bind` binds one row's values in column order.
/// Nothing is sent for no rows.
async fn insert_rows<'a, R>(
    tx: &mut sqlx::AnyConnection,
    sqlite: bool,
    (head, columns, tail): (&str, usize, &str),
    rows: &[R],
    bind: impl Fn(Query<'a>, &R) -> Query<'a>,
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "{head} VALUES {} {tail}",
        placeholders(sqlite, rows.len(), columns)
    );
    let query = rows
        .iter()
        .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), bind);
    query.execute(&mut *tx).await?;
    Ok(())
}

/// Writes a planned batch: one statement per table that has rows.
pub async fn write_plan(
    tx: &mut sqlx::AnyConnection,
    sqlite: bool,
    plan: &Plan,
) -> Result<(), sqlx::Error> {
    // New cases are inserted and moved ones updated by the same statement: the batch has
    // every column of each, read or made by the plan.
    let cases_head = format!("INSERT INTO cases ({CASE_COLUMNS})");
    let cases_tail =
        "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at,
         last_seq = excluded.last_seq, department_code = excluded.department_code,
         supervision = excluded.supervision, dispatched_at = excluded.dispatched_at,
         deadline_at = excluded.deadline_at, next_check_at = excluded.next_check_at";
    insert_rows(
        tx,
        sqlite,
        (&cases_head, CASE_COLUMN_COUNT, cases_tail),
        &plan.cases,
        |q, c| {
            q.bind(c.id)
                .bind(c.category.code())
                .bind(c.sub_item.clone())
                .bind(c.grid_id.clone())
                .bind(c.point.map(|p| p.lon))
                .bind(c.point.map(|p| p.lat))
                .bind(c.description.clone())
                .bind(c.facts.state.code())
                .bind(c.reported_at_ms)
                .bind(c.updated_at_ms)
                .bind(c.last_seq as i64)
                .bind(c.reporter_id)
                .bind(c.facts.department.clone())
                .bind(c.facts.supervision.code())
                .bind(c.dispatched_ms)
                .bind(c.facts.deadline_ms)
                .bind(c.next_check_ms())
        },
    )
    .await?;
    // A photo's row before the links that name it. A photo already recorded (sent again, with
    // another move or case) keeps its first row.
    let mut seen = HashSet::new();
    let photos: Vec<&(StoredPhoto, i64)> = plan
        .photos
        .iter()
        .filter(|(p, _)| seen.insert(p.hash.as_str()))
        .collect();
    let photos_head = format!("INSERT INTO photos ({PHOTO_COLUMNS})");
    let photos_tail = "ON CONFLICT (hash) DO NOTHING";
    insert_rows(
        tx,
        sqlite,
        (&photos_head, PHOTO_COLUMN_COUNT, photos_tail),
        &photos,
        |q, (p, at_ms)| {
            q.bind(p.hash.clone())
                .bind(p.kind.content_type())
                .bind(p.bytes as i64)
                .bind(*at_ms)
        },
    )
    .await?;
    let transitions_head = format!("INSERT INTO transitions ({TRANSITION_COLUMNS})");
    insert_rows(
        tx,
        sqlite,
        (&transitions_head, TRANSITION_COLUMN_COUNT, ""),
        &plan.transitions,
        |q, t| {
            q.bind(t.seq as i64)
                .bind(t.case_id)
                .bind(t.action.code())
                .bind(t.from.map(CaseState::code))
                .bind(t.after.state.code())
                .bind(t.actor.clone())
                .bind(t.role.code())
                .bind(t.at_ms)
                .bind(t.note.clone())
                .bind(t.after.department.clone())
                .bind(t.after.supervision.code())
                .bind(t.after.deadline_ms)
        },
    )
    .await?;
    let links_head = format!("INSERT INTO transition_photos ({PHOTO_LINK_COLUMNS})");
    insert_rows(
        tx,
        sqlite,
        (&links_head, PHOTO_LINK_COLUMN_COUNT, ""),
        &plan.photo_links,
        |q, link| {
            q.bind(link.seq as i64)
                .bind(link.position as i64)
                .bind(link.hash.clone())
        },
    )
    .await?;
    let visits_head = format!("INSERT INTO house_visits ({VISIT_COLUMNS})");
    insert_rows(
        tx,
        sqlite,
        (&visits_head, VISIT_COLUMN_COUNT, ""),
        &plan.visits,
        |q, v| {
            q.bind(v.id)
                .bind(v.grid_id.clone())
                .bind(v.member_id)
                .bind(v.at_ms)
                .bind(v.household.clone())
        },
    )
    .await?;
    // The keys of the batch's keyed writes, in the writes' transaction: a key is stored if and
    // only if its write is. A plain insert: the writer read every row that could conflict, so a
    // conflict means another writer stored the key meanwhile, and the batch is rolled back
    // rather than writing the request twice.
    let answers = plan
        .keys
        .iter()
        .map(|k| serde_json::to_string(&k.answer))
        .collect::<Result<Vec<String>, _>>()
        .map_err(|err| sqlx::Error::Encode(err.into()))?;
    let keys: Vec<_> = plan.keys.iter().zip(answers).collect();
    let keys_head = format!("INSERT INTO idempotency_keys ({KEY_COLUMNS})");
    insert_rows(
        tx,
        sqlite,
        (&keys_head, KEY_COLUMN_COUNT, ""),
        &keys,
        |q, (k, answer)| {
            q.bind(k.id.caller.clone())
                .bind(k.id.route.clone())
                .bind(k.id.key.clone())
                .bind(k.fingerprint.clone())
                .bind(k.answer.id)
                .bind(answer.clone())
                .bind(k.created_ms)
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_anonymous_on_sqlite_and_numbered_on_postgres() {
        assert_eq!(placeholders(true, 2, 2), "(?, ?), (?, ?)");
        assert_eq!(placeholders(false, 2, 2), "($1, $2), ($3, $4)");
        assert_eq!(placeholders(false, 3, 1), "$1, $2, $3");
    }
}
