//! Who may do what: accounts, logins, API keys, and the one place where a role and an area
//! are checked against a report or a move.
//!
//! A login with a password (argon2id hashes) gives a bearer token; outside reporting apps send
//! an API key. Both are 32 random bytes in hex and only their SHA-256 is stored, so a copy of
//! the database opens nothing. Every write names its caller ([`Principal`]); the writer asks
//! [`Principal::may_move`] against the case as it stands in the batch, so a check and the move
//! it allows cannot be split by another move.

use crate::clock::now_ms;
use crate::error::AppError;
use crate::store::Db;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use gridwall_core::policy::{AreaIndex, Principal};
use gridwall_core::throttle::{LoginThrottle, Throttled};
use sha2::{Digest, Sha256};
use shared::auth::{AccountView, LoginRequest, LoginResponse, Role};
use shared::wall::Scope;
use sqlx::Row;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a login's token works.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a checked token or key is trusted without asking the database again. A logout
/// in this process takes effect at once; one in another process within this time.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// The SHA-256 of a token or key in hex: all the database keeps of one.
pub fn hash_token(token: &str) -> String {
    Sha256::digest(token.trim().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A verified caller with the account it came from, for `GET /api/me`.
#[derive(Debug, Clone)]
struct Known {
    principal: Arc<Principal>,
    login: String,
    name: String,
    /// When the token stops working (Unix milliseconds); keys do not expire.
    expires_at_ms: Option<i64>,
    checked: Instant,
}

/// Logins, tokens and keys, with a short-lived cache so that a busy caller costs no database
/// read per request.
#[derive(Debug)]
pub struct Auth {
    db: Db,
    pub areas: Arc<AreaIndex>,
    /// Whether demo accounts and keys are honoured.
    demo: bool,
    known: Mutex<HashMap<String, Known>>,
    /// Password attempts by client address and failures by account.
    throttle: Mutex<LoginThrottle>,
    /// The password checks running at once: half the cores (at least one), so that a flood of
    /// logins waits here rather than filling the blocking pool that other work shares, and
    /// leaves the other half to the walls and the writer.
    hashing: tokio::sync::Semaphore,
    /// The password checks waiting for a permit; past [`MAX_WAITING_CHECKS`] a login is
    /// refused at once with 429 instead of queueing without end.
    waiting: std::sync::atomic::AtomicUsize,
    /// The log lines of refused sign-ins, a few a second.
    refusals_logged: LogBudget,
}

/// How many password checks may wait for a free core; more are a flood, answered 429 at once.
pub const MAX_WAITING_CHECKS: usize = 64;

/// How many refusal lines are logged in one second; the rest are counted into the next one
/// logged.
const REFUSALS_LOGGED_PER_SECOND: u64 = 10;

/// A budget of log lines per second, for events a flood repeats by the thousand.
#[derive(Debug, Default)]
struct LogBudget {
    /// The second being counted, the lines logged in it, and the lines left out since the
    /// last one logged.
    state: Mutex<(i64, u64, u64)>,
}

impl LogBudget {
    /// `Some(lines left out before this one)` when this line may be logged.
    fn admit(&self, now_ms: i64) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (second, logged, suppressed) = &mut *state;
        if *second != now_ms.div_euclid(1_000) {
            *second = now_ms.div_euclid(1_000);
            *logged = 0;
        }
        if *logged < REFUSALS_LOGGED_PER_SECOND {
            *logged += 1;
            Some(std::mem::take(suppressed))
        } else {
            *suppressed += 1;
            None
        }
    }
}

/// One place in a bounded count of waiters, given back when dropped.
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Waiting<'a> {
    /// A place, unless `max` already wait.
    fn enter(count: &'a std::sync::atomic::AtomicUsize, max: usize) -> Option<Waiting<'a>> {
        use std::sync::atomic::Ordering::Relaxed;
        count
            .fetch_update(Relaxed, Relaxed, |n| (n < max).then_some(n + 1))
            .ok()
            .map(|_| Waiting(count))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// How many password checks run at once on a machine with `cores` cores.
pub fn hashing_permits(cores: usize) -> usize {
    (cores / 2).max(1)
}

/// What a request presents.
#[derive(Debug, Clone, PartialEq)]
pub enum Credential {
    Bearer(String),
    ApiKey(String),
}

impl Credential {
    fn key(&self) -> String {
        match self {
            Credential::Bearer(t) => format!("t:{}", hash_token(t)),
            Credential::ApiKey(k) => format!("k:{}", hash_token(k)),
        }
    }
}

impl Auth {
    pub async fn load(db: &Db, demo: bool) -> Result<Auth, sqlx::Error> {
        Ok(Auth {
            db: db.clone(),
            areas: Arc::new(crate::store::city::load_area_index(db).await?),
            demo,
            known: Mutex::new(HashMap::new()),
            throttle: Mutex::new(LoginThrottle::default()),
            hashing: tokio::sync::Semaphore::new(hashing_permits(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            waiting: std::sync::atomic::AtomicUsize::new(0),
            refusals_logged: LogBudget::default(),
        })
    }

    /// Runs the password hash `work` on the blocking pool, on at most half the cores at a
    /// time; when [`MAX_WAITING_CHECKS`] already wait, refuses at once (429).
    async fn hashed<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = match self.hashing.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                // Counted while it waits, and uncounted however the wait ends (a client that
                // hangs up drops this future mid-wait).
                let Some(_waiting) = Waiting::enter(&self.waiting, MAX_WAITING_CHECKS) else {
                    if let Some(suppressed) = self.refusals_logged.admit(now_ms()) {
                        tracing::warn!(
                            waiting = MAX_WAITING_CHECKS,
                            suppressed_before = suppressed,
                            "refusing a sign-in: too many password checks waiting"
                        );
                    }
                    return Err(AppError::TooManyRequests {
                        retry_after_s: 1,
                        message: "too many sign-ins at once; try again in 1 s".to_owned(),
                    });
                };
                self.hashing
                    .acquire()
                    .await
                    .map_err(|_| AppError::Unavailable("the password check stopped".to_owned()))?
            }
        };
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| AppError::Unavailable("the password check stopped".to_owned()))
    }

    fn throttle(&self) -> std::sync::MutexGuard<'_, LoginThrottle> {
        self.throttle
            .lock()
            .expect("the login throttle is never poisoned")
    }

    /// Checks a password from client address `client` and opens a session. Attempts are
    /// throttled per address and an account is locked after repeated failures
    /// (`gridwall_core::throttle`): both answer 429 with the wait.
    pub async fn login(&self, req: &LoginRequest, client: &str) -> Result<LoginResponse, AppError> {
        let login = req.login.trim();
        let wrong = || AppError::Unauthorized("unknown login or wrong password".to_owned());
        if let Err(throttled) = self.throttle().attempt(client, login, now_ms()) {
            let retry_after_s = throttled.retry_after_s();
            let message = match throttled {
                Throttled::Address { .. } => format!(
                    "too many sign-in attempts from this address; try again in {retry_after_s} s"
                ),
                Throttled::Account { .. } => format!(
                    "this account is locked after repeated wrong passwords; try again in {retry_after_s} s"
                ),
            };
            // A flood is thousands of these a second: the first few of each second are
            // logged in full, the rest counted into one line, so that the log cannot become
            // the flood's way to fill the disk.
            if let Some(suppressed) = self.refusals_logged.admit(now_ms()) {
                tracing::warn!(
                    target: "audit",
                    event = "login_throttled",
                    login,
                    client,
                    retry_after_s,
                    ?throttled,
                    suppressed_before = suppressed,
                    "sign-in refused: throttled"
                );
            }
            return Err(AppError::TooManyRequests {
                retry_after_s,
                message,
            });
        }
        let row = sqlx::query(
            "SELECT id, password_hash, demo, disabled_at FROM accounts WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(&self.db)
        .await?;
        let Some(row) = row else {
            // Hash anyway, so that an unknown login takes as long as a wrong password; off
            // the async workers, like the check below.
            let password = req.password.clone();
            self.hashed(move || hash_password(&password)).await?;
            self.throttle().failed(login, now_ms());
            tracing::info!(target: "audit", event = "login_failed", login, client, "sign-in failed: unknown login");
            return Err(wrong());
        };
        let hash: String = row.try_get("password_hash")?;
        let password = req.password.clone();
        let ok = self
            .hashed(move || verify_password(&password, &hash))
            .await?;
        if !ok {
            if self.throttle().failed(login, now_ms()) {
                tracing::warn!(
                    target: "audit",
                    event = "account_locked",
                    login,
                    client,
                    "account locked after repeated wrong passwords"
                );
            } else {
                tracing::info!(target: "audit", event = "login_failed", login, client, "sign-in failed: wrong password");
            }
            return Err(wrong());
        }
        self.throttle().succeeded(login);
        tracing::info!(target: "audit", event = "login", login, client, "signed in");
        if row.try_get::<i64, _>("demo")? != 0 && !self.demo {
            return Err(AppError::Forbidden(
                "demo accounts work only in demo mode".to_owned(),
            ));
        }
        // Checked after the password, so that only its holder learns that it was disabled.
        if row.try_get::<Option<i64>, _>("disabled_at")?.is_some() {
            tracing::info!(login, client, "sign-in refused: the account is disabled");
            return Err(AppError::Forbidden(
                "this account is disabled; ask the command centre's administrator".to_owned(),
            ));
        }
        let (token, expires_at_ms) = issue_session(&self.db, row.try_get("id")?).await?;
        let known = self.principal(&Credential::Bearer(token.clone())).await?;
        Ok(LoginResponse {
            token,
            expires_at_ms,
            account: known.principal.view(&known.login, &known.name),
        })
    }

    /// Ends the session of `token`.
    pub async fn logout(&self, token: &str) -> Result<(), AppError> {
        let credential = Credential::Bearer(token.to_owned());
        self.known
            .lock()
            .expect("the auth cache is never poisoned")
            .remove(&credential.key());
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(hash_token(token))
            .execute(&self.db)
            .await?;
        Ok(())
    }

    /// Drops what the cache knows of `credential`, so that the next check asks the database:
    /// an open socket's periodic re-check does, and a revocation made by the command line in
    /// another process is then seen within the re-check's interval rather than the cache's.
    pub fn forget(&self, credential: &Credential) {
        self.known
            .lock()
            .expect("the auth cache is never poisoned")
            .remove(&credential.key());
    }

    /// [`Auth::account`] asked of the database, not the cache.
    pub async fn recheck(
        &self,
        credential: &Credential,
    ) -> Result<(Arc<Principal>, AccountView), AppError> {
        self.forget(credential);
        self.account(credential).await
    }

    /// The account behind a credential, for `GET /api/me`.
    pub async fn me(&self, credential: &Credential) -> Result<AccountView, AppError> {
        let known = self.principal(credential).await?;
        Ok(known.principal.view(&known.login, &known.name))
    }

    /// The verified caller behind a credential with its account's login and name, for
    /// connections that check a credential once and keep it (the seat's socket).
    pub async fn account(
        &self,
        credential: &Credential,
    ) -> Result<(Arc<Principal>, AccountView), AppError> {
        let known = self.principal(credential).await?;
        let view = known.principal.view(&known.login, &known.name);
        Ok((known.principal, view))
    }

    /// The reporting app behind a raw API key, for callers that receive the key outside the
    /// headers (Open311 sends it as the `api_key` form field). It goes through the same
    /// one-minute cache as a key in `X-Api-Key`.
    pub async fn api_key_principal(&self, key: &str) -> Result<Arc<Principal>, AppError> {
        let credential = Credential::ApiKey(key.trim().to_owned());
        Ok(self.principal(&credential).await?.principal)
    }

    /// The principal a credential belongs to: 401 when it is unknown or expired.
    pub async fn caller(&self, credential: &Credential) -> Result<Arc<Principal>, AppError> {
        self.principal(credential).await.map(|k| k.principal)
    }

    async fn principal(&self, credential: &Credential) -> Result<Known, AppError> {
        let key = credential.key();
        let now = now_ms();
        if let Some(known) = self
            .known
            .lock()
            .expect("the auth cache is never poisoned")
            .get(&key)
            && known.checked.elapsed() < CACHE_TTL
            && known.expires_at_ms.is_none_or(|at| at > now)
        {
            return Ok(known.clone());
        }
        let known = match credential {
            Credential::Bearer(token) => self.session(token, now).await?,
            Credential::ApiKey(k) => self.api_key(k).await?,
        };
        if matches!(credential, Credential::ApiKey(_)) {
            // Once a minute per key (as it leaves the cache), not per request: enough to say
            // which app used the server when, without a line per report.
            tracing::info!(target: "audit", event = "key_used", app = %known.login, "an API key was used");
        }
        let mut cache = self.known.lock().expect("the auth cache is never poisoned");
        // A bound on the cache, cleared whole: it refills from the database within a request.
        if cache.len() >= 10_000 {
            cache.clear();
        }
        cache.insert(key, known.clone());
        Ok(known)
    }

    async fn session(&self, token: &str, now: i64) -> Result<Known, AppError> {
        let row = sqlx::query(
            "SELECT a.id, a.login, a.name, a.role, a.area, a.department_code, a.member_id, a.demo, a.disabled_at, s.expires_at
             FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = $1",
        )
        .bind(hash_token(token))
        .fetch_optional(&self.db)
        .await?
        .ok_or_else(|| {
            AppError::Unauthorized("the token is not known; sign in again".to_owned())
        })?;
        let expires_at: i64 = row.try_get("expires_at")?;
        if expires_at <= now {
            return Err(AppError::Unauthorized(
                "the token has expired; sign in again".to_owned(),
            ));
        }
        if row.try_get::<i64, _>("demo")? != 0 && !self.demo {
            return Err(AppError::Forbidden(
                "demo accounts work only in demo mode".to_owned(),
            ));
        }
        // Disabling an account ends its sessions too; this holds should one be left.
        if row.try_get::<Option<i64>, _>("disabled_at")?.is_some() {
            return Err(AppError::Unauthorized(
                "this account is disabled".to_owned(),
            ));
        }
        let role_code: String = row.try_get("role")?;
        let role = Role::from_code(&role_code).ok_or_else(|| {
            AppError::Database(sqlx::Error::Decode(
                format!("unknown role `{role_code}` in accounts").into(),
            ))
        })?;
        let area = row
            .try_get::<Option<String>, _>("area")?
            .map(|a| Scope::parse(&a))
            .transpose()
            .map_err(|e| {
                AppError::Database(sqlx::Error::Decode(format!("account area: {e}").into()))
            })?;
        let id: i64 = row.try_get("id")?;
        let grids: Vec<String> =
            sqlx::query_scalar("SELECT grid_id FROM account_grids WHERE account_id = $1")
                .bind(id)
                .fetch_all(&self.db)
                .await?;
        let login: String = row.try_get("login")?;
        Ok(Known {
            principal: Arc::new(Principal {
                actor: login.clone(),
                identity: format!("account:{id}"),
                role,
                area,
                department: row.try_get("department_code")?,
                grids: grids.into_iter().collect(),
                member_id: row.try_get("member_id")?,
            }),
            login,
            name: row.try_get("name")?,
            expires_at_ms: Some(expires_at),
            checked: Instant::now(),
        })
    }

    async fn api_key(&self, key: &str) -> Result<Known, AppError> {
        let key_hash = hash_token(key);
        let row = sqlx::query("SELECT name, demo, revoked_at FROM api_keys WHERE key_hash = $1")
            .bind(&key_hash)
            .fetch_optional(&self.db)
            .await?
            .ok_or_else(|| AppError::Unauthorized("the API key is not known".to_owned()))?;
        if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
            return Err(AppError::Unauthorized("the API key was revoked".to_owned()));
        }
        if row.try_get::<i64, _>("demo")? != 0 && !self.demo {
            return Err(AppError::Forbidden(
                "demo API keys work only in demo mode".to_owned(),
            ));
        }
        let name: String = row.try_get("name")?;
        Ok(Known {
            principal: Arc::new(Principal {
                actor: format!("app:{name}"),
                identity: format!("api_key:{key_hash}"),
                role: Role::ReportingApp,
                area: Some(Scope::City),
                department: None,
                grids: HashSet::new(),
                member_id: None,
            }),
            login: format!("app:{name}"),
            name,
            expires_at_ms: None,
            checked: Instant::now(),
        })
    }
}

/// An argon2id hash of `password`, as a PHC string.
pub fn hash_password(password: &str) -> String {
    let salt_bytes: [u8; 16] = rand::random();
    let Ok(salt) = SaltString::encode_b64(&salt_bytes) else {
        return String::new();
    };
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

fn random_token() -> String {
    (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// Opens a session for account `id`; returns its token and when it expires.
pub async fn issue_session(db: &Db, id: i64) -> Result<(String, i64), sqlx::Error> {
    let token = random_token();
    let now = now_ms();
    let expires = now + SESSION_TTL.as_millis() as i64;
    sqlx::query(
        "INSERT INTO sessions (token_hash, account_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash_token(&token))
    .bind(id)
    .bind(now)
    .bind(expires)
    .execute(db)
    .await?;
    Ok((token, expires))
}

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub area: Option<Scope>,
    pub department: Option<String>,
    pub grids: Vec<String>,
    pub member_id: Option<i64>,
    /// An argon2id PHC string (see [`hash_password`]).
    pub password_hash: String,
    pub demo: bool,
}

/// Creates an account, or replaces the one with the same login; returns its id.
pub async fn put_account(db: &Db, account: &NewAccount) -> Result<i64, sqlx::Error> {
    // It reads, then writes: on SQLite the transaction takes the write lock at once, since a
    // deferred one fails at once ("database is locked") when the running server's writer
    // committed in between, and no busy timeout retries that.
    let mut conn = db.acquire().await?;
    let mut tx = if conn.backend_name() == "SQLite" {
        sqlx::Connection::begin_with(&mut *conn, "BEGIN IMMEDIATE").await?
    } else {
        sqlx::Connection::begin(&mut *conn).await?
    };
    let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE login = $1")
        .bind(&account.login)
        .fetch_optional(&mut *tx)
        .await?;
    let id = match existing {
        Some(id) => {
            sqlx::query(
                "UPDATE accounts SET name = $1, role = $2, area = $3, department_code = $4,
                        member_id = $5, password_hash = $6, demo = $7 WHERE id = $8",
            )
            .bind(&account.name)
            .bind(account.role.code())
            .bind(account.area.as_ref().map(Scope::to_string))
            .bind(&account.department)
            .bind(account.member_id)
            .bind(&account.password_hash)
            .bind(i64::from(account.demo))
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM account_grids WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            id
        }
        None => {
            sqlx::query_scalar(
                "INSERT INTO accounts (login, name, role, area, department_code, member_id, password_hash, demo, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            )
            .bind(&account.login)
            .bind(&account.name)
            .bind(account.role.code())
            .bind(account.area.as_ref().map(Scope::to_string))
            .bind(&account.department)
            .bind(account.member_id)
            .bind(&account.password_hash)
            .bind(i64::from(account.demo))
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await?
        }
    };
    for grid in &account.grids {
        sqlx::query("INSERT INTO account_grids (account_id, grid_id) VALUES ($1, $2)")
            .bind(id)
            .bind(grid)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// Makes an API key for an outside reporting app and returns it; it cannot be shown again.
pub async fn create_api_key(db: &Db, name: &str, demo: bool) -> Result<String, sqlx::Error> {
    let key = random_token();
    sqlx::query("INSERT INTO api_keys (key_hash, name, demo, created_at) VALUES ($1, $2, $3, $4)")
        .bind(hash_token(&key))
        .bind(name)
        .bind(i64::from(demo))
        .bind(now_ms())
        .execute(db)
        .await?;
    Ok(key)
}

/// One demo account, as the server prints it at start.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoAccount {
    pub login: String,
    pub role: Role,
    /// Where it acts: an area, a department or a grid.
    pub reach: String,
}

/// Creates (or resets) the demo accounts, all with `password`, and a demo API key, and
/// returns them. The grid worker is the first active full-time grid worker of the city,
/// with its grid; the street and district dispatchers are those of that grid.
pub async fn demo_accounts(db: &Db, password: &str) -> anyhow::Result<(Vec<DemoAccount>, String)> {
    let worker = sqlx::query(
        "SELECT m.id, m.name, m.grid_id, g.street_code, s.district_code
         FROM members m JOIN grids g ON g.id = m.grid_id JOIN streets s ON s.code = g.street_code
         WHERE m.kind = 'grid_worker' AND m.active = 1 ORDER BY m.id LIMIT 1",
    )
    .fetch_optional(db)
    .await?;
    let hash = {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_password(&password)).await?
    };
    let account = |login: &str, name: &str, role: Role| NewAccount {
        login: login.to_owned(),
        name: name.to_owned(),
        role,
        area: None,
        department: None,
        grids: Vec::new(),
        member_id: None,
        password_hash: hash.clone(),
        demo: true,
    };
    let mut accounts = vec![
        NewAccount {
            area: Some(Scope::City),
            ..account("leader", "市领导", Role::Leader)
        },
        NewAccount {
            area: Some(Scope::City),
            ..account("dispatcher", "市指挥中心调度员", Role::Dispatcher)
        },
        NewAccount {
            department: Some("D01".to_owned()),
            ..account("staff-d01", "城市管理部门工作人员", Role::DepartmentStaff)
        },
    ];
    if let Some(w) = worker {
        let grid: String = w.try_get("grid_id")?;
        let street: String = w.try_get("street_code")?;
        let district: String = w.try_get("district_code")?;
        accounts.push(NewAccount {
            grids: vec![grid],
            member_id: Some(w.try_get("id")?),
            ..account("worker", &w.try_get::<String, _>("name")?, Role::GridWorker)
        });
        accounts.push(NewAccount {
            area: Some(Scope::District(district)),
            ..account("dispatcher-district", "区指挥中心调度员", Role::Dispatcher)
        });
        accounts.push(NewAccount {
            area: Some(Scope::Street(street)),
            ..account("dispatcher-street", "街道指挥中心调度员", Role::Dispatcher)
        });
    }
    let mut shown = Vec::with_capacity(accounts.len());
    for a in &accounts {
        put_account(db, a).await?;
        let reach = match (&a.area, &a.department) {
            (Some(scope), _) => scope.to_string(),
            (None, Some(d)) => format!("department {d}"),
            (None, None) => format!("grid {}", a.grids.join(", ")),
        };
        shown.push(DemoAccount {
            login: a.login.clone(),
            role: a.role,
            reach,
        });
    }
    // One demo key at a time: the key printed at this start replaces the last one.
    sqlx::query("DELETE FROM api_keys WHERE demo = 1")
        .execute(db)
        .await?;
    let key = create_api_key(db, "demo-app", true).await?;
    Ok((shown, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_against_their_hash_only() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
    }

    #[test]
    fn a_flood_of_refusals_logs_a_few_lines_a_second_and_counts_the_rest() {
        let budget = LogBudget::default();
        let logged = (0..1_000)
            .filter(|i| budget.admit(5_000 + i % 1_000).is_some())
            .count();
        assert_eq!(logged as u64, REFUSALS_LOGGED_PER_SECOND);
        // The next second's first line says how many were left out.
        assert_eq!(
            budget.admit(6_000),
            Some(1_000 - REFUSALS_LOGGED_PER_SECOND)
        );
        assert_eq!(budget.admit(6_001), Some(0));
    }

    #[test]
    fn password_checks_take_half_the_cores_and_a_bounded_queue() {
        assert_eq!([1, 2, 3, 4, 16].map(hashing_permits), [1, 1, 1, 2, 8]);
        let count = std::sync::atomic::AtomicUsize::new(0);
        let first = Waiting::enter(&count, 2).expect("a first place");
        let second = Waiting::enter(&count, 2).expect("a second place");
        assert!(Waiting::enter(&count, 2).is_none(), "a third is refused");
        drop(first);
        let third = Waiting::enter(&count, 2).expect("a place given back is taken again");
        drop((second, third));
        assert_eq!(count.load(std::sync::atomic::Ordering::Relaxed), 0);
    }
}
