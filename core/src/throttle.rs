//! The login throttle: how many password attempts an account and a client address may make,
//! and when an account is locked out after repeated failures. Pure: the caller says what
//! time it is and what happened.
//!
//! Two limits, each with its own reason:
//! - a client address may try [`ADDRESS_ATTEMPTS`] passwords a minute, right or wrong, so that
//!   one machine cannot flood the password check (argon2 takes tens of milliseconds of a core);
//! - an account that fails [`ACCOUNT_FAILURES`] times within [`ACCOUNT_WINDOW_MS`] is locked for
//!   [`LOCKOUT_MS`], whoever tries, so that a password cannot be guessed from many addresses.
//!
//! The table is bounded: past [`MAX_TRACKED`] entries the ones whose window has passed are
//! dropped, and if that is not enough, the oldest.

use std::collections::HashMap;

/// Password attempts a client address may make in one [`ADDRESS_WINDOW_MS`].
pub const ADDRESS_ATTEMPTS: u32 = 30;
/// The window of [`ADDRESS_ATTEMPTS`]: one minute.
pub const ADDRESS_WINDOW_MS: i64 = 60_000;
/// Failures after which an account is locked.
pub const ACCOUNT_FAILURES: u32 = 5;
/// The window in which [`ACCOUNT_FAILURES`] lock an account: fifteen minutes.
pub const ACCOUNT_WINDOW_MS: i64 = 15 * 60_000;
/// How long a locked account stays locked: fifteen minutes.
pub const LOCKOUT_MS: i64 = 15 * 60_000;
/// Accounts and addresses remembered at most, each.
pub const MAX_TRACKED: usize = 100_000;

/// Why an attempt is refused before its password is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Throttled {
    /// The client address made too many attempts this minute.
    Address { retry_after_ms: i64 },
    /// The account is locked after repeated failures.
    Account { retry_after_ms: i64 },
}

impl Throttled {
    /// How long to wait before trying again, in whole seconds (at least one), for
    /// `Retry-After`.
    pub fn retry_after_s(&self) -> i64 {
        let ms = match self {
            Throttled::Address { retry_after_ms } | Throttled::Account { retry_after_ms } => {
                *retry_after_ms
            }
        };
        ((ms + 999) / 1000).max(1)
    }
}

/// Attempts or failures counted from the start of a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    start_ms: i64,
    count: u32,
    /// For an account: locked until then.
    locked_until_ms: Option<i64>,
}

/// The attempts of every client address and the failures of every account.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    addresses: HashMap<String, Window>,
    accounts: HashMap<String, Window>,
}

impl LoginThrottle {
    /// Counts an attempt from `address` on `login` at `now_ms`, or says why it must wait. An
    /// attempt that is counted must be reported back with [`LoginThrottle::failed`] or
    /// [`LoginThrottle::succeeded`] once its password was checked.
    pub fn attempt(&mut self, address: &str, login: &str, now_ms: i64) -> Result<(), Throttled> {
        if let Some(w) = self.accounts.get(login)
            && let Some(until) = w.locked_until_ms
            && until > now_ms
        {
            return Err(Throttled::Account {
                retry_after_ms: until - now_ms,
            });
        }
        let w = self.addresses.entry(address.to_owned()).or_insert(Window {
            start_ms: now_ms,
            count: 0,
            locked_until_ms: None,
        });
        if now_ms - w.start_ms >= ADDRESS_WINDOW_MS {
            *w = Window {
                start_ms: now_ms,
                count: 0,
                locked_until_ms: None,
            };
        }
        if w.count >= ADDRESS_ATTEMPTS {
            return Err(Throttled::Address {
                retry_after_ms: w.start_ms + ADDRESS_WINDOW_MS - now_ms,
            });
        }
        w.count += 1;
        Self::bound(&mut self.addresses, now_ms, ADDRESS_WINDOW_MS);
        Ok(())
    }

    /// A wrong password for `login` at `now_ms`; true when it locked the account.
    pub fn failed(&mut self, login: &str, now_ms: i64) -> bool {
        let w = self.accounts.entry(login.to_owned()).or_insert(Window {
            start_ms: now_ms,
            count: 0,
            locked_until_ms: None,
        });
        if now_ms - w.start_ms >= ACCOUNT_WINDOW_MS {
            *w = Window {
                start_ms: now_ms,
                count: 0,
                locked_until_ms: None,
            };
        }
        w.count += 1;
        let locked = w.count >= ACCOUNT_FAILURES;
        if locked {
            w.locked_until_ms = Some(now_ms + LOCKOUT_MS);
        }
        Self::bound(
            &mut self.accounts,
            now_ms,
            ACCOUNT_WINDOW_MS.max(LOCKOUT_MS),
        );
        locked
    }

    /// The right password for `login`: its failures are forgotten.
    pub fn succeeded(&mut self, login: &str) {
        self.accounts.remove(login);
    }

    /// Keeps `table` within [`MAX_TRACKED`]: first by dropping what is older than `keep_ms`,
    /// then the oldest entries, down to nine tenths of the bound, so that a table kept full
    /// by a flood is pruned once per tenth of its size rather than at every attempt.
    fn bound(table: &mut HashMap<String, Window>, now_ms: i64, keep_ms: i64) {
        if table.len() <= MAX_TRACKED {
            return;
        }
        table.retain(|_, w| {
            now_ms - w.start_ms < keep_ms || w.locked_until_ms.is_some_and(|u| u > now_ms)
        });
        let target = MAX_TRACKED / 10 * 9;
        if table.len() > target {
            let mut starts: Vec<i64> = table.values().map(|w| w.start_ms).collect();
            starts.sort_unstable();
            let cut = starts[table.len() - target];
            table.retain(|_, w| w.start_ms >= cut);
        }
    }

    /// How many addresses and accounts are remembered.
    pub fn tracked(&self) -> (usize, usize) {
        (self.addresses.len(), self.accounts.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_its_attempts_a_minute_then_waits_for_the_next() {
        let mut t = LoginThrottle::default();
        for i in 0..ADDRESS_ATTEMPTS {
            assert_eq!(t.attempt("10.0.0.1", &format!("u{i}"), 1_000), Ok(()));
        }
        assert_eq!(
            t.attempt("10.0.0.1", "other", 31_000),
            Err(Throttled::Address {
                retry_after_ms: 30_000
            })
        );
        // Another address is not held back, and the first is free again after its minute.
        assert_eq!(t.attempt("10.0.0.2", "other", 31_000), Ok(()));
        assert_eq!(t.attempt("10.0.0.1", "other", 61_000), Ok(()));
    }

    #[test]
    fn repeated_failures_lock_the_account_from_every_address() {
        let mut t = LoginThrottle::default();
        for i in 0..ACCOUNT_FAILURES {
            let address = format!("10.0.0.{i}");
            assert_eq!(t.attempt(&address, "leader", 1_000), Ok(()));
            let locked = t.failed("leader", 1_000);
            assert_eq!(locked, i + 1 == ACCOUNT_FAILURES);
        }
        let refused = t.attempt("10.9.9.9", "leader", 2_000).expect_err("locked");
        assert_eq!(
            refused,
            Throttled::Account {
                retry_after_ms: LOCKOUT_MS - 1_000
            }
        );
        assert_eq!(refused.retry_after_s(), (LOCKOUT_MS - 1_000) / 1_000);
        // Other accounts are untouched; the lock ends after its time.
        assert_eq!(t.attempt("10.9.9.9", "dispatcher", 2_000), Ok(()));
        assert_eq!(t.attempt("10.9.9.9", "leader", 1_000 + LOCKOUT_MS), Ok(()));
    }

    #[test]
    fn a_success_forgets_the_failures_and_old_failures_expire() {
        let mut t = LoginThrottle::default();
        for _ in 0..ACCOUNT_FAILURES - 1 {
            t.failed("leader", 0);
        }
        t.succeeded("leader");
        assert!(!t.failed("leader", 0), "the count started again");
        for _ in 0..ACCOUNT_FAILURES - 2 {
            t.failed("leader", 0);
        }
        // The window has passed: the next failure is the first of a new one.
        assert!(!t.failed("leader", ACCOUNT_WINDOW_MS));
        assert_eq!(t.attempt("a", "leader", ACCOUNT_WINDOW_MS), Ok(()));
    }

    #[test]
    fn the_tables_stay_bounded() {
        let mut t = LoginThrottle::default();
        for i in 0..MAX_TRACKED + 50 {
            let _ = t.attempt(&format!("a{i}"), "x", i as i64);
            t.failed(&format!("l{i}"), i as i64);
        }
        let (addresses, accounts) = t.tracked();
        assert!(addresses <= MAX_TRACKED, "{addresses}");
        assert!(accounts <= MAX_TRACKED, "{accounts}");
    }

    #[test]
    fn a_retry_is_never_asked_for_in_less_than_a_second() {
        assert_eq!(Throttled::Address { retry_after_ms: 1 }.retry_after_s(), 1);
        assert_eq!(
            Throttled::Account {
                retry_after_ms: 1_001
            }
            .retry_after_s(),
            2
        );
    }
}
