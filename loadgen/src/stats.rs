//! Small measuring helpers: a compact latency histogram and the resident memory of a process.

use anyhow::{Context, bail};
use std::fmt;
use std::time::Duration;

/// Values below this many microseconds get one bucket each.
const LINEAR: u64 = 128;
/// Above `LINEAR`, each power of two is split into this many buckets (about 1.6% wide).
const SUB_BUCKETS: u64 = 64;
const SUB_BITS: u32 = SUB_BUCKETS.trailing_zeros();
/// Enough powers of two for any `u64`, so recording never has to clamp.
const BUCKETS: usize = (LINEAR + (64 - 7) * SUB_BUCKETS) as usize;

/// A log-linear histogram of microseconds: millions of samples in a few KiB, with every
/// quantile within 1.6% of the exact value, and the maximum kept exactly.
#[derive(Debug, Clone)]
pub(crate) struct Histogram {
    counts: Vec<u64>,
    count: u64,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram::new()
    }
}

impl Histogram {
    pub(crate) fn new() -> Histogram {
        Histogram {
            counts: vec![0; BUCKETS],
            count: 0,
            max: 0,
        }
    }

    fn bucket(us: u64) -> usize {
        if us < LINEAR {
            return us as usize;
        }
        let exp = 63 - us.leading_zeros();
        // The six bits under the leading one pick the sub-bucket within this power of two.
        let sub = (us >> (exp - SUB_BITS)) & (SUB_BUCKETS - 1);
        (LINEAR + u64::from(exp - 7) * SUB_BUCKETS + sub) as usize
    }

    /// The largest value that falls into bucket `index`.
    fn upper(index: usize) -> u64 {
        let index = index as u64;
        if index < LINEAR {
            return index;
        }
        let exp = (index - LINEAR) / SUB_BUCKETS + 7;
        let sub = (index - LINEAR) % SUB_BUCKETS;
        let base = 1u64 << exp;
        let width = base >> SUB_BITS;
        base + sub * width + (width - 1)
    }

    pub(crate) fn record(&mut self, us: u64) {
        self.counts[Histogram::bucket(us)] += 1;
        self.count += 1;
        self.max = self.max.max(us);
    }

    pub(crate) fn record_duration(&mut self, d: Duration) {
        self.record(u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
    }

    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.count += other.count;
        self.max = self.max.max(other.max);
    }

    /// The value at quantile `q` (0 to 1): the top of its bucket, never above the maximum,
    /// so that a reported p99 is never better than the truth.
    pub(crate) fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (index, n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Histogram::upper(index).min(self.max);
            }
        }
        self.max
    }
}

/// Microseconds shown in the unit that keeps them readable.
pub(crate) struct Micros(pub(crate) u64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us < 1_000 {
            write!(f, "{us} µs")
        } else if us < 1_000_000 {
            write!(f, "{:.2} ms", us as f64 / 1e3)
        } else {
            write!(f, "{:.3} s", us as f64 / 1e6)
        }
    }
}

impl fmt::Display for Histogram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {}  p90 {}  p99 {}  max {}  (n = {})",
            Micros(self.quantile(0.50)),
            Micros(self.quantile(0.90)),
            Micros(self.quantile(0.99)),
            Micros(self.max),
            self.count
        )
    }
}

/// The resident set of process `pid` (or of this process, for `None`) in KiB, from
/// `VmRSS` in `/proc/PID/status`.
pub(crate) fn rss_kib(pid: Option<u32>) -> anyhow::Result<u64> {
    let path = match pid {
        Some(pid) => format!("/proc/{pid}/status"),
        None => "/proc/self/status".to_owned(),
    };
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    parse_vm_rss(&status).with_context(|| format!("no VmRSS line in {path}"))
}

fn parse_vm_rss(status: &str) -> anyhow::Result<u64> {
    for line in status.lines() {
        if let Some(rest) = line.strip_prefix("VmRSS:") {
            let kib = rest.trim().trim_end_matches("kB").trim();
            return kib.parse().context("VmRSS is not a number of kB");
        }
    }
    bail!("VmRSS missing")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for us in [
            0,
            1,
            127,
            128,
            129,
            1_000,
            65_535,
            1_000_000,
            3_600_000_000,
            u64::MAX,
        ] {
            let b = Histogram::bucket(us);
            assert!(b >= last, "bucket of {us} went backwards");
            last = b;
            let upper = Histogram::upper(b);
            assert!(upper >= us, "{us} above its bucket's top {upper}");
            // Within 1/64 above the true value.
            assert!(upper - us <= us / 64 + 1, "{us} -> {upper}");
        }
    }

    #[test]
    fn quantiles_of_a_uniform_run() {
        let mut h = Histogram::new();
        for us in 1..=10_000 {
            h.record(us);
        }
        let p50 = h.quantile(0.5);
        assert!((5_000..=5_080).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99);
        assert!((9_900..=10_000).contains(&p99), "{p99}");
        assert_eq!(h.quantile(1.0), 10_000);
        assert_eq!(h.max, 10_000);
        let mut other = Histogram::new();
        other.record(20_000);
        h.merge(&other);
        assert_eq!(h.count, 10_001);
        assert_eq!(h.max, 20_000);
    }

    #[test]
    fn reads_vm_rss() {
        let status = "Name:\tgridwall\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\n";
        assert_eq!(parse_vm_rss(status).unwrap(), 12_345);
        assert!(rss_kib(None).unwrap() > 0);
    }
}
