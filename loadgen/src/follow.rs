//! `gridwall-load follow`: many walls follow one control channel while a seat drives it, and
//! the time from each `show` leaving the seat to its `control` message reaching each wall is
//! measured: the "every wall changes within 200 ms" goal.

use crate::stats::Histogram;
use anyhow::{Context, bail};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use shared::control::{Display, SeatEvent, SeatMsg};
use shared::wall::Scope;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[derive(Debug, Args)]
pub(crate) struct FollowArgs {
    /// Walls following the channel.
    #[arg(long, default_value_t = 200)]
    walls: usize,
    /// Changes the seat makes.
    #[arg(long, default_value_t = 40)]
    changes: usize,
    /// Time between changes, in milliseconds: a person clicking through a drill-down.
    #[arg(long, default_value_t = 1_000)]
    every_ms: u64,
    /// The channel's name.
    #[arg(long, default_value = "main")]
    wall: String,
    /// The scopes shown in turn (comma-separated).
    #[arg(long, default_value = "city,district:230602,street:230602001")]
    scopes: String,
    /// A leader's or dispatcher's bearer token (from POST /api/login).
    #[arg(long, env = "GRIDWALL_TOKEN")]
    token: String,
}

/// One wall: connects, then reports the `rev` of every control message it reads and when.
async fn wall(url: String, seen: mpsc::UnboundedSender<(u64, Instant)>) -> anyhow::Result<()> {
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let (mut ws, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .context("a wall cannot connect")?;
    while let Some(msg) = ws.next().await {
        let Message::Text(text) = msg.context("a wall's stream broke")? else {
            continue;
        };
        // Only control messages are read whole; snapshots are large and are only received.
        if text.starts_with(r#"{"type":"control""#) {
            let at = Instant::now();
            let value: serde_json::Value = serde_json::from_str(&text)?;
            let rev = value["control"]["rev"].as_u64().unwrap_or(0);
            if seen.send((rev, at)).is_err() {
                break;
            }
        }
    }
    Ok(())
}

type SeatWs =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn send(seat: &mut SeatWs, msg: &SeatMsg) -> anyhow::Result<()> {
    let text = serde_json::to_string(msg)?;
    Ok(seat.send(Message::text(text)).await?)
}

/// The seat's answer to a request: the channel's new rev.
async fn answer(seat: &mut SeatWs) -> anyhow::Result<u64> {
    loop {
        let Some(msg) = seat.next().await else {
            bail!("the seat's connection closed");
        };
        let Message::Text(text) = msg? else { continue };
        match serde_json::from_str::<SeatEvent>(&text)? {
            SeatEvent::Control { control } => return Ok(control.rev),
            SeatEvent::Refused { error, .. } => bail!("refused: {}", error.message),
            _ => continue,
        }
    }
}

pub(crate) async fn run(url: &str, args: FollowArgs) -> anyhow::Result<()> {
    let scopes: Vec<Scope> = args
        .scopes
        .split(',')
        .map(|s| Scope::parse(s.trim()).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<_>>()?;
    let ws_base = url.replacen("http", "ws", 1);
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    for _ in 0..args.walls {
        let url = format!("{ws_base}/ws?follow={}", args.wall);
        let seen = seen_tx.clone();
        tokio::spawn(async move {
            if let Err(err) = wall(url, seen).await {
                eprintln!("{err:#}");
            }
        });
    }
    drop(seen_tx);
    // Every wall's first control message says it is following.
    let mut following = 0;
    while following < args.walls {
        seen.recv()
            .await
            .context("walls went away while connecting")?;
        following += 1;
    }
    let (mut seat, _) =
        tokio_tungstenite::connect_async(format!("{ws_base}/ws/seat?token={}", args.token))
            .await
            .context("the seat cannot connect (is the token a leader's or dispatcher's?)")?;
    send(
        &mut seat,
        &SeatMsg::Take {
            wall: args.wall.clone(),
        },
    )
    .await?;
    answer(&mut seat).await?;
    let mut latency = Histogram::new();
    let metrics = ["open", "overdue", "per_1000", "coverage"];
    for i in 0..args.changes {
        tokio::time::sleep(Duration::from_millis(args.every_ms)).await;
        // Drain what walls saw of the take and earlier changes.
        while seen.try_recv().is_ok() {}
        let display = Display {
            metric: Some(metrics[i % metrics.len()].to_owned()),
            ..Display::live(scopes[i % scopes.len()].clone())
        };
        let sent = Instant::now();
        send(
            &mut seat,
            &SeatMsg::Show {
                wall: args.wall.clone(),
                display: Some(display),
            },
        )
        .await?;
        let rev = answer(&mut seat).await?;
        let mut reached = 0;
        while reached < args.walls {
            let (got, at) = tokio::time::timeout(Duration::from_secs(30), seen.recv())
                .await
                .context("walls stopped hearing the channel for 30 s")?
                .context("walls went away")?;
            if got >= rev {
                latency.record_duration(at.duration_since(sent));
                reached += 1;
            }
        }
    }
    send(
        &mut seat,
        &SeatMsg::Release {
            wall: args.wall.clone(),
        },
    )
    .await?;
    let ms = |q: f64| latency.quantile(q) as f64 / 1_000.0;
    println!(
        "follow: {} walls, {} changes; show to control on every wall: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        args.walls,
        args.changes,
        ms(0.5),
        ms(0.99),
        ms(1.0),
    );
    Ok(())
}
