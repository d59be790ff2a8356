//! Display tokens: read-only keys that open one scope's live stream to a wall.
//!
//! A token is 32 random bytes in hex, shown once when it is made; the database keeps only its
//! SHA-256, so a copy of the database opens no walls. A city token opens every scope, a
//! district token its district and the district's streets, a street token its street. A
//! leader's or dispatcher's login token opens the walls of its area the same way.

use crate::error::AppError;
use crate::services::auth::{Auth, Credential, hash_token};
use crate::store::Db;
use shared::auth::Role;
use shared::wall::Scope;
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;

/// Makes a token for `scope` and returns it; it cannot be shown again.
pub async fn create(db: &Db, scope: &Scope, label: &str) -> anyhow::Result<String> {
    let token: String = (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect();
    sqlx::query(
        "INSERT INTO display_tokens (token_hash, scope, label, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_token(&token))
    .bind(scope.to_string())
    .bind(label)
    .bind(crate::clock::now_ms())
    .execute(db)
    .await?;
    Ok(token)
}

/// Who may watch what.
#[derive(Debug, Clone)]
pub struct Access {
    /// Walls open to anyone, as in demo mode.
    pub open: bool,
    db: Db,
    /// Signed-in leaders and dispatchers may watch their own area with their bearer token.
    auth: Option<Arc<Auth>>,
    /// Each street's district, to let a district token open its streets.
    street_district: HashMap<String, String>,
}

impl Access {
    /// Walls may also be opened by a leader's or dispatcher's login when `auth` is given.
    pub async fn load(db: &Db, open: bool, auth: Option<Arc<Auth>>) -> Result<Access, sqlx::Error> {
        let mut street_district = HashMap::new();
        for row in sqlx::query("SELECT code, district_code FROM streets")
            .fetch_all(db)
            .await?
        {
            street_district.insert(row.try_get("code")?, row.try_get("district_code")?);
        }
        Ok(Access {
            open,
            db: db.clone(),
            auth,
            street_district,
        })
    }

    /// A wall opened by login: a leader or dispatcher watches the scopes inside its area.
    async fn check_login(&self, token: &str, scope: &Scope) -> Result<(), AppError> {
        let unknown = || {
            AppError::Unauthorized(
                "the token is neither a display token nor a login; ask for a new one".to_owned(),
            )
        };
        let Some(auth) = &self.auth else {
            return Err(unknown());
        };
        let account = auth
            .me(&Credential::Bearer(token.to_owned()))
            .await
            .map_err(|_| unknown())?;
        let area = match account.role {
            Role::Leader | Role::Dispatcher => account.area.as_deref().map(Scope::parse),
            _ => None,
        };
        match area {
            Some(Ok(area)) if self.covers(&area, scope) => Ok(()),
            Some(Ok(area)) => Err(AppError::Forbidden(format!(
                "your login opens walls of {area}, not {scope}"
            ))),
            _ => Err(AppError::Forbidden(format!(
                "a {} does not open walls; use a display token",
                account.role
            ))),
        }
    }

    fn covers(&self, granted: &Scope, wanted: &Scope) -> bool {
        match (granted, wanted) {
            (Scope::City, _) => true,
            (Scope::District(d), Scope::District(w)) => d == w,
            (Scope::District(d), Scope::Street(s)) => self.street_district.get(s) == Some(d),
            (Scope::Street(s), Scope::Street(w)) => s == w,
            _ => false,
        }
    }

    /// [`Access::check`] asked of the database, not the login cache: an open wall's periodic
    /// re-check, so that a revoked token or an ended login closes it within the interval.
    pub async fn recheck(&self, token: Option<&str>, scope: &Scope) -> Result<(), AppError> {
        if let (Some(auth), Some(token)) = (&self.auth, token) {
            auth.forget(&Credential::Bearer(token.to_owned()));
        }
        self.check(token, scope).await
    }

    /// Checks that `token` may watch `scope`: 401 without a token, 403 for a token that does
    /// not open the scope.
    pub async fn check(&self, token: Option<&str>, scope: &Scope) -> Result<(), AppError> {
        if self.open {
            return Ok(());
        }
        let Some(token) = token.filter(|t| !t.trim().is_empty()) else {
            return Err(AppError::Unauthorized(
                "this wall needs a display token: add `?token=…` to its address".to_owned(),
            ));
        };
        let row = sqlx::query("SELECT scope, revoked_at FROM display_tokens WHERE token_hash = $1")
            .bind(hash_token(token))
            .fetch_optional(&self.db)
            .await?;
        let Some(row) = row else {
            return self.check_login(token, scope).await;
        };
        if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
            return Err(AppError::Unauthorized(
                "this display token was revoked; ask for a new one".to_owned(),
            ));
        }
        let granted: String = row.try_get("scope")?;
        let granted = Scope::parse(&granted).map_err(|e| {
            AppError::Database(sqlx::Error::Decode(
                format!("display token scope: {e}").into(),
            ))
        })?;
        if self.covers(&granted, scope) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "the display token opens {granted}, not {scope}"
            )))
        }
    }
}
