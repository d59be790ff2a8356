//! The `gridwall` binary: reads its configuration and runs the server until Ctrl-C.

/// mimalloc rather than the system allocator: thousands of walls each allocate and free small
/// buffers while a snapshot goes out in parts, and glibc's allocator keeps the fragments as
/// resident memory long after (measured in BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use backend::config::{Cli, Command, ExportCommand, ImportCommand, LogFormat};
use clap::Parser;
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;

/// The log on standard output: readable lines, coloured only when they go to a terminal (a
/// file or a journal gets no escape codes), or one JSON object per line.
fn init_log(format: LogFormat) {
    use std::io::IsTerminal;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=error"));
    let log = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => log.with_ansi(std::io::stdout().is_terminal()).init(),
        LogFormat::Json => log.json().with_current_span(false).init(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    init_log(cli.log_format);
    let args = match cli.command {
        Some(Command::Serve(args)) => args,
        None => cli.serve,
        Some(Command::Import(ImportCommand::Grids {
            file,
            mapping,
            database_url,
        })) => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let grids = backend::import::parse_grids(&text, &mapping)
                .with_context(|| format!("{} was not imported", file.display()))?;
            let db = backend::store::connect(&database_url).await?;
            let done = backend::import::import_grids(&db, &grids).await?;
            tracing::info!(
                added = done.grids_added,
                updated = done.grids_updated,
                streets_added = done.streets_added,
                districts_added = done.districts_added,
                "imported {} grids from {}",
                grids.len(),
                file.display()
            );
            return Ok(());
        }
        Some(Command::Demo {
            database_url,
            demo_city,
            demo_seed,
            cases,
        }) => {
            let db = backend::store::connect(&database_url).await?;
            if backend::store::city::has_grids(&db).await? {
                anyhow::bail!(
                    "{database_url} already holds a city; the demo city goes into an empty database"
                );
            }
            let now = backend::clock::now_ms();
            let scale = backend::demo::Scale {
                cases,
                ..backend::demo::Scale::FULL
            };
            let built = backend::demo::build_scaled(
                &db,
                demo_city,
                scale,
                demo_seed,
                now,
                shared::time::DEFAULT_UTC_OFFSET_MINUTES,
            )
            .await?;
            let rate = if built.cases == 0 {
                0.0
            } else {
                built.closed as f64 / built.cases as f64
            };
            eprintln!(
                "demo city built in {:.2} s: {} grids, {} cases ({:.1}% closed), {} transitions, {} house visits",
                built.elapsed.as_secs_f64(),
                built.grids,
                built.cases,
                rate * 100.0,
                built.transitions,
                built.house_visits
            );
            return Ok(());
        }
        Some(Command::Check {
            url,
            database_url,
            utc_offset_minutes,
            scope,
            token,
        }) => {
            let db = backend::store::connect(&database_url).await?;
            let scopes = if scope.trim() == "all" {
                backend::check::all_scopes(&db).await?
            } else {
                vec![shared::wall::Scope::parse(&scope).map_err(anyhow::Error::msg)?]
            };
            let mut differ = false;
            let results = backend::check::check_scopes(
                &db,
                &url,
                token.as_deref(),
                &scopes,
                utc_offset_minutes,
            )
            .await?;
            for (scope, seq, diffs) in &results {
                if !diffs.is_empty() {
                    differ = true;
                    eprintln!(
                        "{scope}: the live state differs from the tables at log sequence {seq}:"
                    );
                    for d in diffs {
                        eprintln!("  {d}");
                    }
                }
            }
            if differ {
                std::process::exit(1);
            }
            eprintln!(
                "the live state at {url} equals the tables in all {} scopes checked",
                scopes.len()
            );
            return Ok(());
        }
        Some(Command::Token(command)) => return backend::admin::token(command).await,
        Some(Command::Account(command)) => return backend::admin::account(command).await,
        Some(Command::Key(command)) => return backend::admin::key(command).await,
        Some(Command::Export(ExportCommand::Grids {
            output,
            database_url,
        })) => {
            let db = backend::store::connect(&database_url).await?;
            let text = backend::store::city::grids_geojson(&db).await?;
            match output {
                Some(path) => std::fs::write(&path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(text.as_bytes())?;
                }
            }
            return Ok(());
        }
    };
    // The flags are resolved against what the database holds, before listening: a real city
    // refuses the demo's simulator and open walls.
    let config = backend::config::resolve(&args).await?;
    let listener = listen(args.addr).with_context(|| format!("cannot listen on {}", args.addr))?;
    backend::run(listener, config, shutdown_signal()).await
}

/// Connections the kernel may hold for us before we accept them. When a server restarts,
/// every wall of the city reconnects within a second or two; tokio's default of 128 would
/// overflow and leave walls waiting for their SYN to be retried.
const LISTEN_BACKLOG: u32 = 4_096;

fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
