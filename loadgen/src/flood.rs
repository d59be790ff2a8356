//! A flood of wrong passwords on `POST /api/login`, from many client addresses at once (the
//! loopback network's 127.0.0.2, 127.0.0.3, …), beside another measurement: what the login
//! throttle and the bounded password checks leave of the server for its walls.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FloodArgs {
    /// Wrong-password logins a second sent while cases are reported (0: none).
    #[arg(long, default_value_t = 0.0)]
    pub login_flood: f64,
    /// How many client addresses the flood comes from (127.0.0.2 onwards), so that the
    /// per-address limit alone does not stop it and the password checks are reached.
    #[arg(long, default_value_t = 200)]
    pub flood_addresses: u8,
}

/// What the flood's requests were answered.
#[derive(Debug, Default)]
pub(crate) struct FloodTally {
    pub sent: AtomicU64,
    pub unauthorized: AtomicU64,
    pub too_many: AtomicU64,
    pub other: AtomicU64,
    pub failed: AtomicU64,
}

/// Logins in flight at once, at most: the flood's own memory stays bounded if the server
/// answers slowly, and the rate falls short rather than queueing without end.
const IN_FLIGHT: usize = 2_000;

/// Sends wrong-password logins at `rate` a second until `stop` turns true; returns the tally
/// and how long it ran.
pub(crate) async fn run(
    base: String,
    args: FloodArgs,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<(Arc<FloodTally>, Duration)> {
    let tally = Arc::new(FloodTally::default());
    let started = Instant::now();
    if args.login_flood <= 0.0 {
        return Ok((tally, Duration::ZERO));
    }
    let clients: Vec<reqwest::Client> = (0..args.flood_addresses.max(1))
        .map(|i| {
            reqwest::Client::builder()
                .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, i.saturating_add(2))))
                .timeout(Duration::from_secs(10))
                .build()
        })
        .collect::<Result<_, _>>()?;
    let url = format!("{}/api/login", base.trim_end_matches('/'));
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.login_flood));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = tick.tick() => {}
        }
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            continue;
        };
        let client = clients[(n % clients.len() as u64) as usize].clone();
        let (url, tally) = (url.clone(), tally.clone());
        n += 1;
        let body = serde_json::json!({"login": format!("flood-{}", n % 997), "password": "wrong"});
        tokio::spawn(async move {
            tally.sent.fetch_add(1, Relaxed);
            match client.post(&url).json(&body).send().await {
                Ok(res) => match res.status().as_u16() {
                    401 => tally.unauthorized.fetch_add(1, Relaxed),
                    429 => tally.too_many.fetch_add(1, Relaxed),
                    _ => tally.other.fetch_add(1, Relaxed),
                },
                Err(_) => tally.failed.fetch_add(1, Relaxed),
            };
            drop(permit);
        });
    }
    Ok((tally, started.elapsed()))
}

/// One line on what the flood was answered.
pub(crate) fn summary(tally: &FloodTally, ran: Duration) -> String {
    let sent = tally.sent.load(Relaxed);
    format!(
        "login flood: {sent} wrong-password logins in {:.1} s ({:.0} a second): {} answered 401 \
         (the password was checked), {} answered 429 (throttled), {} other, {} failed",
        ran.as_secs_f64(),
        sent as f64 / ran.as_secs_f64().max(1e-9),
        tally.unauthorized.load(Relaxed),
        tally.too_many.load(Relaxed),
        tally.other.load(Relaxed),
        tally.failed.load(Relaxed),
    )
}
