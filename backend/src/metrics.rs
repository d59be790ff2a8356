//! `/metrics`: the server's operating figures in the Prometheus text format: walls connected,
//! frames and bytes sent, walls resynchronised or dropped, transitions committed and folded,
//! and the latency from a transition's commit to its frame leaving for a wall.

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use shared::wall::Scope;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5,
];

#[derive(Debug, Default)]
pub struct Metrics {
    /// Walls connected, by scope kind: city, district, street.
    pub walls_connected: [AtomicI64; 3],
    pub frames_sent: AtomicU64,
    pub bytes_sent: AtomicU64,
    pub resyncs_lag: AtomicU64,
    pub resyncs_requested: AtomicU64,
    pub walls_dropped: AtomicU64,
    /// Control messages sent to walls that follow a channel.
    pub control_sent: AtomicU64,
    pub transitions_committed: AtomicU64,
    pub transitions_folded: AtomicU64,
    latency_buckets: [AtomicU64; 12],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
}

impl Metrics {
    pub fn new() -> Arc<Metrics> {
        Arc::new(Metrics::default())
    }

    /// Records one commit-to-send latency.
    pub fn observe_latency(&self, latency: Duration) {
        let secs = latency.as_secs_f64();
        for (bound, bucket) in LATENCY_BUCKETS.iter().zip(&self.latency_buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_micros
            .fetch_add(latency.as_micros() as u64, Relaxed);
    }

    /// The Prometheus text exposition of every figure.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(String, String)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in lines {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let one = |v: String| vec![(String::new(), v)];
        metric(
            "gridwall_ws_clients",
            "gauge",
            "Walls connected to /ws, by scope.",
            &SCOPE_KINDS
                .iter()
                .zip(&self.walls_connected)
                .map(|(kind, n)| (format!("{{scope=\"{kind}\"}}"), n.load(Relaxed).to_string()))
                .collect::<Vec<_>>(),
        );
        metric(
            "gridwall_ws_frames_sent_total",
            "counter",
            "Frames written to walls.",
            &one(self.frames_sent.load(Relaxed).to_string()),
        );
        metric(
            "gridwall_ws_bytes_sent_total",
            "counter",
            "Bytes of frames written to walls.",
            &one(self.bytes_sent.load(Relaxed).to_string()),
        );
        metric(
            "gridwall_ws_resyncs_total",
            "counter",
            "Fresh snapshots sent to walls that fell behind or asked for one.",
            &[
                (
                    "{reason=\"lag\"}".to_owned(),
                    self.resyncs_lag.load(Relaxed).to_string(),
                ),
                (
                    "{reason=\"request\"}".to_owned(),
                    self.resyncs_requested.load(Relaxed).to_string(),
                ),
            ],
        );
        metric(
            "gridwall_ws_dropped_total",
            "counter",
            "Walls dropped because they stopped taking frames.",
            &one(self.walls_dropped.load(Relaxed).to_string()),
        );
        metric(
            "gridwall_control_messages_total",
            "counter",
            "Control messages sent to walls following a seat's control channel.",
            &one(self.control_sent.load(Relaxed).to_string()),
        );
        metric(
            "gridwall_transitions_committed_total",
            "counter",
            "Case transitions committed (the ingest rate is its rate()).",
            &one(self.transitions_committed.load(Relaxed).to_string()),
        );
        metric(
            "gridwall_transitions_folded_total",
            "counter",
            "Case transitions folded into the live state.",
            &one(self.transitions_folded.load(Relaxed).to_string()),
        );
        let mut lines: Vec<(String, String)> = LATENCY_BUCKETS
            .iter()
            .zip(&self.latency_buckets)
            .map(|(bound, n)| {
                (
                    format!("_bucket{{le=\"{bound}\"}}"),
                    n.load(Relaxed).to_string(),
                )
            })
            .collect();
        let count = self.latency_count.load(Relaxed);
        lines.push(("_bucket{le=\"+Inf\"}".to_owned(), count.to_string()));
        lines.push((
            "_sum".to_owned(),
            format!("{}", self.latency_sum_micros.load(Relaxed) as f64 / 1e6),
        ));
        lines.push(("_count".to_owned(), count.to_string()));
        metric(
            "gridwall_commit_to_send_seconds",
            "histogram",
            "From a transition's commit to its frame being written to a wall.",
            &lines,
        );
        out
    }
}

/// The scope kinds `gridwall_ws_clients` is labelled by.
const SCOPE_KINDS: [&str; 3] = ["city", "district", "street"];

fn scope_index(scope: &Scope) -> usize {
    match scope {
        Scope::City => 0,
        Scope::District(_) => 1,
        Scope::Street(_) => 2,
    }
}

/// A wall's place in `gridwall_ws_clients`, given back when the connection ends.
#[derive(Debug)]
pub struct Connected(Arc<Metrics>, usize);

impl Connected {
    pub fn new(metrics: Arc<Metrics>, scope: &Scope) -> Connected {
        let i = scope_index(scope);
        metrics.walls_connected[i].fetch_add(1, Relaxed);
        Connected(metrics, i)
    }
}

impl Drop for Connected {
    fn drop(&mut self) {
        self.0.walls_connected[self.1].fetch_sub(1, Relaxed);
    }
}

/// `GET /metrics`: the counters and histograms in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses(
        (status = 200, description = "Walls connected, frames and bytes sent, resyncs, walls dropped, transitions committed and folded, and the commit-to-send latency histogram.",
            body = String, content_type = "text/plain; version=0.0.4"),
        (status = 429, description = "Too many anonymous requests at once (32 per server, with the maps, Open311's reads, `/api/team` and `/metrics`); `Retry-After` says when to try again.", body = shared::case::ApiError),
    ),
    security(())
)]
pub async fn metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_histogram_is_cumulative() {
        let m = Metrics::default();
        m.observe_latency(Duration::from_millis(3));
        m.observe_latency(Duration::from_millis(120));
        let text = m.render();
        assert!(
            text.contains("gridwall_commit_to_send_seconds_bucket{le=\"0.0025\"} 0"),
            "{text}"
        );
        assert!(
            text.contains("gridwall_commit_to_send_seconds_bucket{le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("gridwall_commit_to_send_seconds_bucket{le=\"0.15\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("gridwall_commit_to_send_seconds_bucket{le=\"+Inf\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("gridwall_commit_to_send_seconds_count 2"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE gridwall_commit_to_send_seconds histogram"),
            "{text}"
        );
    }

    #[test]
    fn connections_are_counted_while_they_last() {
        let m = Metrics::new();
        let a = Connected::new(m.clone(), &Scope::City);
        let b = Connected::new(m.clone(), &Scope::City);
        let c = Connected::new(m.clone(), &Scope::Street("230602001".into()));
        drop(a);
        assert_eq!(m.walls_connected[0].load(Relaxed), 1);
        let text = m.render();
        assert!(
            text.contains("gridwall_ws_clients{scope=\"street\"} 1"),
            "{text}"
        );
        drop(b);
        drop(c);
        assert!(m.render().contains("gridwall_ws_clients{scope=\"city\"} 0"));
    }
}
