//! Whether the server can store writes: set by the case writer when a batch fails on a full
//! disk or a read-only database, cleared by its next commit, and read by the walls' heartbeats
//! and `/healthz`, so that the command room sees at once that new reports are not arriving.

use shared::wall::{WriteTrouble, WritesFailing};
use std::sync::Mutex;

/// The writer's last word on whether writes are stored.
#[derive(Debug, Default)]
pub struct WriteHealth {
    failing: Mutex<Option<WritesFailing>>,
}

impl WriteHealth {
    /// Writes are failing because of `trouble`; the first failure's time is kept.
    pub fn fail(&self, trouble: WriteTrouble, now_ms: i64) {
        let mut failing = self.lock();
        match failing.as_mut() {
            Some(f) if f.trouble == trouble => {}
            Some(f) => f.trouble = trouble,
            None => {
                tracing::error!(
                    trouble = ?trouble,
                    "writes are failing: {}; reports and moves get 503 until it is fixed",
                    trouble.explain()
                );
                *failing = Some(WritesFailing {
                    trouble,
                    since_ms: now_ms,
                });
            }
        }
    }

    /// A write was stored; true when writes had been failing until now.
    pub fn recover(&self, now_ms: i64) -> bool {
        let was = self.lock().take();
        if let Some(f) = was {
            tracing::warn!(
                trouble = ?f.trouble,
                failed_for_s = (now_ms - f.since_ms) / 1_000,
                "writes are stored again"
            );
        }
        was.is_some()
    }

    /// Whether writes are failing now, and why.
    pub fn current(&self) -> Option<WritesFailing> {
        *self.lock()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<WritesFailing>> {
        // The value is plain data, valid whatever a panicking holder left.
        self.failing.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_kept_until_a_write_is_stored() {
        let health = WriteHealth::default();
        assert_eq!(health.current(), None);
        assert!(!health.recover(1));
        health.fail(WriteTrouble::DiskFull, 10);
        health.fail(WriteTrouble::DiskFull, 20);
        assert_eq!(
            health.current(),
            Some(WritesFailing {
                trouble: WriteTrouble::DiskFull,
                since_ms: 10
            })
        );
        health.fail(WriteTrouble::ReadOnly, 30);
        assert_eq!(
            health.current().map(|f| (f.trouble, f.since_ms)),
            Some((WriteTrouble::ReadOnly, 10))
        );
        assert!(health.recover(40));
        assert_eq!(health.current(), None);
    }
}
