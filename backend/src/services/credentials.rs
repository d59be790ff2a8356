//! The lifecycle of credentials, as the command line manages them (`gridwall account`, `key`,
//! `token display`): accounts are added, listed, disabled and given new passwords; API keys
//! and display tokens are added, listed and revoked; expired sessions are purged.
//!
//! Nothing here returns a hash or a secret but the one new key or token an `add` makes, which
//! is shown once. A disabled account or a revoked key or token is refused by `auth` and
//! `tokens` at once in this process, within a minute in a running server (its cache), and
//! within the re-check interval on an open socket.

use crate::clock::now_ms;
use crate::services::auth::{NewAccount, hash_token, put_account};
use crate::store::Db;
use shared::auth::Role;
use shared::wall::Scope;
use sqlx::Row;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The fewest characters a password may have.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// How often a running server deletes the sessions that expired.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Why a credential command did nothing.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The request itself is wrong (a missing field, an unknown login); the text says what.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Checks a password as typed: long enough, and not only spaces.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.trim().is_empty() {
        return Err("the password is empty".to_owned());
    }
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password has {chars} characters; it needs at least {MIN_PASSWORD_CHARS}"
        ));
    }
    Ok(())
}

/// Checks that an account has what its role acts with: a leader or dispatcher an area, department
/// staff a department, a grid worker grids. A reporting app is an API key, not an account.
pub fn check_account(account: &NewAccount) -> Result<(), String> {
    let login = account.login.trim();
    if login.is_empty() || login.chars().any(char::is_whitespace) {
        return Err(format!(
            "the login {:?} must be one word without spaces",
            account.login
        ));
    }
    if account.name.trim().is_empty() {
        return Err("the account needs a name (--name)".to_owned());
    }
    match account.role {
        Role::Leader | Role::Dispatcher if account.area.is_none() => Err(format!(
            "a {} acts over an area: give --area city, district:CODE or street:CODE",
            account.role
        )),
        Role::DepartmentStaff if account.department.is_none() => {
            Err("department staff act for a department: give --department CODE".to_owned())
        }
        Role::GridWorker if account.grids.is_empty() => {
            Err("a grid worker works in grids: give --grid ID (once per grid)".to_owned())
        }
        Role::ReportingApp => Err(
            "a reporting app signs in with an API key, not an account: use `gridwall key add`"
                .to_owned(),
        ),
        Role::System => Err("`system` is the server's own role, not an account's".to_owned()),
        _ => Ok(()),
    }
}

/// Adds an account after checking it and what it names (its area, department and grids exist);
/// an existing login is refused rather than replaced. Returns its id.
pub async fn add_account(db: &Db, account: &NewAccount) -> Result<i64, CredentialError> {
    check_account(account).map_err(CredentialError::Invalid)?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE login = $1")
        .bind(account.login.trim())
        .fetch_optional(db)
        .await?;
    if exists.is_some() {
        return Err(CredentialError::Invalid(format!(
            "there is already an account `{}`; `gridwall account password` gives it a new password",
            account.login.trim()
        )));
    }
    let known = |sql: &'static str, value: String| async move {
        let found: Option<String> = sqlx::query_scalar(sql)
            .bind(value)
            .fetch_optional(db)
            .await?;
        Ok::<bool, sqlx::Error>(found.is_some())
    };
    match &account.area {
        Some(Scope::District(code))
            if !known("SELECT code FROM districts WHERE code = $1", code.clone()).await? =>
        {
            return Err(CredentialError::Invalid(format!(
                "there is no district {code} in the city"
            )));
        }
        Some(Scope::Street(code))
            if !known("SELECT code FROM streets WHERE code = $1", code.clone()).await? =>
        {
            return Err(CredentialError::Invalid(format!(
                "there is no street {code} in the city"
            )));
        }
        _ => {}
    }
    if let Some(code) = &account.department
        && !known("SELECT code FROM departments WHERE code = $1", code.clone()).await?
    {
        return Err(CredentialError::Invalid(format!(
            "there is no department {code}"
        )));
    }
    for grid in &account.grids {
        if !known("SELECT id FROM grids WHERE id = $1", grid.clone()).await? {
            return Err(CredentialError::Invalid(format!(
                "there is no grid {grid} in the city"
            )));
        }
    }
    let account = NewAccount {
        login: account.login.trim().to_owned(),
        ..account.clone()
    };
    Ok(put_account(db, &account).await?)
}

/// One account as `gridwall account list` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: String,
    /// Its area, department or grids, in words.
    pub reach: String,
    pub demo: bool,
    pub created_at_ms: i64,
    pub disabled_at_ms: Option<i64>,
    /// Its sessions that have not expired.
    pub sessions: i64,
}

/// Every account, by login.
pub async fn list_accounts(db: &Db) -> Result<Vec<AccountRow>, sqlx::Error> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT a.id, a.login, a.name, a.role, a.area, a.department_code, a.demo, a.created_at,
                a.disabled_at,
                (SELECT COUNT(*) FROM sessions s WHERE s.account_id = a.id AND s.expires_at > $1) AS sessions
         FROM accounts a ORDER BY a.login",
    )
    .bind(now)
    .fetch_all(db)
    .await?;
    let mut accounts = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let grids: Vec<String> = sqlx::query_scalar(
            "SELECT grid_id FROM account_grids WHERE account_id = $1 ORDER BY grid_id",
        )
        .bind(id)
        .fetch_all(db)
        .await?;
        let area: Option<String> = row.try_get("area")?;
        let department: Option<String> = row.try_get("department_code")?;
        let reach = match (area, department) {
            (Some(area), _) => area,
            (None, Some(d)) => format!("department {d}"),
            (None, None) if grids.is_empty() => "-".to_owned(),
            (None, None) => format!("grids {}", grids.join(",")),
        };
        accounts.push(AccountRow {
            id,
            login: row.try_get("login")?,
            name: row.try_get("name")?,
            role: row.try_get("role")?,
            reach,
            demo: row.try_get::<i64, _>("demo")? != 0,
            created_at_ms: row.try_get("created_at")?,
            disabled_at_ms: row.try_get("disabled_at")?,
            sessions: row.try_get("sessions")?,
        });
    }
    Ok(accounts)
}

/// The id of the account `login`, or an error naming it.
async fn account_id(db: &Db, login: &str) -> Result<i64, CredentialError> {
    sqlx::query_scalar("SELECT id FROM accounts WHERE login = $1")
        .bind(login.trim())
        .fetch_optional(db)
        .await?
        .ok_or_else(|| CredentialError::Invalid(format!("there is no account `{}`", login.trim())))
}

/// Ends every session of account `id`; returns how many there were.
async fn end_sessions(db: &Db, id: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE account_id = $1")
        .bind(id)
        .execute(db)
        .await?
        .rows_affected())
}

/// Disables account `login` and ends its sessions; returns how many sessions ended. Its rows
/// stay, since the log names it as the actor of its moves.
pub async fn disable_account(db: &Db, login: &str) -> Result<u64, CredentialError> {
    let id = account_id(db, login).await?;
    sqlx::query("UPDATE accounts SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
        .bind(now_ms())
        .bind(id)
        .execute(db)
        .await?;
    Ok(end_sessions(db, id).await?)
}

/// Gives account `login` a new password (an argon2id PHC string) and ends its sessions, since
/// a password is changed when the old one may be known; returns how many sessions ended.
pub async fn set_password(
    db: &Db,
    login: &str,
    password_hash: &str,
) -> Result<u64, CredentialError> {
    let id = account_id(db, login).await?;
    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id)
        .execute(db)
        .await?;
    Ok(end_sessions(db, id).await?)
}

/// Makes an API key for the reporting app `name`; returns its number and the key, which
/// cannot be shown again.
pub async fn add_api_key(db: &Db, name: &str) -> Result<(i64, String), CredentialError> {
    if name.trim().is_empty() {
        return Err(CredentialError::Invalid(
            "an API key needs the name of its app".to_owned(),
        ));
    }
    let key = crate::services::auth::create_api_key(db, name.trim(), false).await?;
    let id = sqlx::query_scalar("SELECT id FROM api_keys WHERE key_hash = $1")
        .bind(hash_token(&key))
        .fetch_one(db)
        .await?;
    Ok((id, key))
}

/// An API key or a display token as the `list` commands show them.
#[derive(Debug, Clone, PartialEq)]
pub struct IssuedRow {
    pub id: i64,
    /// The app's name (a key) or the scope (a display token).
    pub what: String,
    /// Whether demo mode made it (keys), or the wall's label (display tokens).
    pub note: String,
    pub created_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
}

/// Every API key, by number.
pub async fn list_api_keys(db: &Db) -> Result<Vec<IssuedRow>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id, name, demo, created_at, revoked_at FROM api_keys ORDER BY id")
            .fetch_all(db)
            .await?;
    rows.into_iter()
        .map(|row| {
            Ok(IssuedRow {
                id: row.try_get("id")?,
                what: row.try_get("name")?,
                note: if row.try_get::<i64, _>("demo")? != 0 {
                    "demo".to_owned()
                } else {
                    String::new()
                },
                created_at_ms: row.try_get("created_at")?,
                revoked_at_ms: row.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// Revokes API key number `id`; false when it was revoked already.
pub async fn revoke_api_key(db: &Db, id: i64) -> Result<bool, CredentialError> {
    revoke(db, "api_keys", "API key", id).await
}

/// Every display token, by number.
pub async fn list_display_tokens(db: &Db) -> Result<Vec<IssuedRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, scope, label, created_at, revoked_at FROM display_tokens ORDER BY id",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|row| {
            Ok(IssuedRow {
                id: row.try_get("id")?,
                what: row.try_get("scope")?,
                note: row.try_get("label")?,
                created_at_ms: row.try_get("created_at")?,
                revoked_at_ms: row.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// Makes a display token for `scope`; returns its number and the token, shown once.
pub async fn add_display_token(
    db: &Db,
    scope: &Scope,
    label: &str,
) -> Result<(i64, String), CredentialError> {
    let token = crate::services::tokens::create(db, scope, label)
        .await
        .map_err(|e| match e.downcast::<sqlx::Error>() {
            Ok(e) => CredentialError::Database(e),
            Err(e) => CredentialError::Invalid(format!("{e:#}")),
        })?;
    let id = sqlx::query_scalar("SELECT id FROM display_tokens WHERE token_hash = $1")
        .bind(hash_token(&token))
        .fetch_one(db)
        .await?;
    Ok((id, token))
}

/// Revokes display token number `id`; false when it was revoked already.
pub async fn revoke_display_token(db: &Db, id: i64) -> Result<bool, CredentialError> {
    revoke(db, "display_tokens", "display token", id).await
}

/// Marks row `id` of `table` revoked; the row stays, so that the list shows when.
async fn revoke(db: &Db, table: &str, what: &str, id: i64) -> Result<bool, CredentialError> {
    // The table's name is one of two constants above; nothing comes from outside.
    let known: Option<Option<i64>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT revoked_at FROM {table} WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?;
    match known {
        None => Err(CredentialError::Invalid(format!(
            "there is no {what} number {id}"
        ))),
        Some(Some(_)) => Ok(false),
        Some(None) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE {table} SET revoked_at = $1 WHERE id = $2"
            )))
            .bind(now_ms())
            .bind(id)
            .execute(db)
            .await?;
            Ok(true)
        }
    }
}

/// Deletes the sessions that expired by `now_ms`; returns how many.
pub async fn purge_expired_sessions(db: &Db, now_ms: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now_ms)
        .execute(db)
        .await?
        .rows_affected())
}

/// Purges expired sessions every `every` until `stop`; the server runs it beside the writer.
pub async fn run_purger(db: Db, every: Duration, stop: CancellationToken) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = tick.tick() => match purge_expired_sessions(&db, now_ms()).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "expired sessions purged"),
                Err(err) => tracing::warn!(error = %err, "cannot purge expired sessions; trying again later"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(role: Role) -> NewAccount {
        NewAccount {
            login: "wang".to_owned(),
            name: "王".to_owned(),
            role,
            area: None,
            department: None,
            grids: Vec::new(),
            member_id: None,
            password_hash: String::new(),
            demo: false,
        }
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(check_password("").is_err());
        assert!(check_password("        ").is_err());
        assert!(check_password("short").is_err());
        // Characters, not bytes: eight Chinese characters are enough.
        assert!(check_password("八个汉字的密码啊").is_ok());
        assert!(check_password("correct horse").is_ok());
    }

    #[test]
    fn each_role_needs_what_it_acts_with() {
        assert!(check_account(&account(Role::Leader)).is_err());
        assert!(
            check_account(&NewAccount {
                area: Some(Scope::City),
                ..account(Role::Leader)
            })
            .is_ok()
        );
        assert!(check_account(&account(Role::Dispatcher)).is_err());
        assert!(check_account(&account(Role::DepartmentStaff)).is_err());
        assert!(
            check_account(&NewAccount {
                department: Some("D01".to_owned()),
                ..account(Role::DepartmentStaff)
            })
            .is_ok()
        );
        assert!(check_account(&account(Role::GridWorker)).is_err());
        assert!(
            check_account(&NewAccount {
                grids: vec!["SR-01-001".to_owned()],
                ..account(Role::GridWorker)
            })
            .is_ok()
        );
        assert!(check_account(&account(Role::ReportingApp)).is_err());
        assert!(check_account(&account(Role::System)).is_err());
        let spaced = NewAccount {
            login: "wang wu".to_owned(),
            area: Some(Scope::City),
            ..account(Role::Leader)
        };
        assert!(check_account(&spaced).is_err());
    }
}
