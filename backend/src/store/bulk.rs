//! Many rows into one table in few statements: multi-row `INSERT`s with numbered
//! placeholders for PostgreSQL (`$1`, `$2`, ...) and anonymous ones for SQLite (`?`).
//! SQLite keeps the names of `$N` and `?N` parameters in a list that both its parser and
//! `sqlite3_bind_parameter_name` (which sqlx calls for every parameter) search linearly, so a
//! statement with thirty thousand of them is quadratic: seconds per statement, measured here.
//! Anonymous `?` parameters have no names to search.

use sqlx::AnyConnection;

/// One value of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Real(f64),
    Text(String),
    OptInt(Option<i64>),
    OptReal(Option<f64>),
    OptText(Option<String>),
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<f64> for Val {
    fn from(v: f64) -> Val {
        Val::Real(v)
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_owned())
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        Val::OptInt(v)
    }
}
impl From<Option<f64>> for Val {
    fn from(v: Option<f64>) -> Val {
        Val::OptReal(v)
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        Val::OptText(v)
    }
}

/// Bound parameters per statement: under SQLite's limit of 32,766 and PostgreSQL's 65,535.
const MAX_PARAMS: usize = 30_000;

/// Buffers rows for one table and writes them in large multi-row statements.
#[derive(Debug)]
pub struct Bulk {
    table: &'static str,
    columns: &'static [&'static str],
    rows_per_statement: usize,
    pending: Vec<Val>,
    written: u64,
}

impl Bulk {
    pub fn new(table: &'static str, columns: &'static [&'static str]) -> Bulk {
        Bulk {
            table,
            columns,
            rows_per_statement: (MAX_PARAMS / columns.len()).clamp(1, 2_000),
            pending: Vec::new(),
            written: 0,
        }
    }

    /// Adds a row; writes a statement's worth when enough rows are waiting.
    pub async fn push(
        &mut self,
        conn: &mut AnyConnection,
        row: Vec<Val>,
    ) -> Result<(), sqlx::Error> {
        debug_assert_eq!(row.len(), self.columns.len(), "a row of {}", self.table);
        self.pending.extend(row);
        if self.pending.len() >= self.rows_per_statement * self.columns.len() {
            self.flush(conn).await?;
        }
        Ok(())
    }

    /// Writes every waiting row and returns how many rows this `Bulk` wrote in all.
    pub async fn finish(mut self, conn: &mut AnyConnection) -> Result<u64, sqlx::Error> {
        self.flush(conn).await?;
        Ok(self.written)
    }

    async fn flush(&mut self, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let width = self.columns.len();
        let rows = self.pending.len() / width;
        let numbered = conn.backend_name() != "SQLite";
        let mut sql = format!(
            "INSERT INTO {} ({}) VALUES ",
            self.table,
            self.columns.join(", ")
        );
        let mut n = 0;
        for r in 0..rows {
            sql.push_str(if r == 0 { "(" } else { ", (" });
            for c in 0..width {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                if numbered {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        // The SQL is built from the static table and column names and numbered placeholders
        // only; every value is bound.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in self.pending.drain(..) {
            query = match v {
                Val::Int(x) => query.bind(x),
                Val::Real(x) => query.bind(x),
                Val::Text(x) => query.bind(x),
                Val::OptInt(x) => query.bind(x),
                Val::OptReal(x) => query.bind(x),
                Val::OptText(x) => query.bind(x),
            };
        }
        query.execute(&mut *conn).await?;
        self.written += rows as u64;
        Ok(())
    }
}
