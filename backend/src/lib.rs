//! gridwall's server: the case commands, the live aggregator, the wall stream and the
//! embedded wall, assembled into one axum application.
//!
//! `main` reads the configuration and calls [`run`]; tests call [`run`] too, on port 0 with
//! a database of their own.

pub mod api;
pub mod assets;
pub mod auth;
pub mod bulk;
pub mod cases;
pub mod check;
pub mod city;
pub mod config;
pub mod deadlines;
pub mod demo;
pub mod error;
pub mod geo;
pub mod import;
pub mod live;
pub mod maps;
pub mod metrics;
pub mod open311;
pub mod photos;
pub mod store;
pub mod tokens;
pub mod ws;

use crate::cases::Cases;
use crate::config::Config;
use crate::live::Hub;
use crate::store::Db;
use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::handler::Handler;
use axum::routing::{get, post};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Everything a handler may need; handlers take only their part through `FromRef`.
#[derive(Debug, Clone, FromRef)]
pub struct AppState {
    pub db: Db,
    pub cases: Cases,
    pub hub: Hub,
    pub maps: Arc<maps::Maps>,
    pub metrics: Arc<metrics::Metrics>,
    pub access: Arc<tokens::Access>,
    pub photos: Arc<photos::PhotoStore>,
    pub auth: Arc<auth::Auth>,
    pub open311: Arc<open311::Open311>,
    /// Cancelled when the server shuts down, so that upgraded connections close too.
    pub shutdown: CancellationToken,
}

/// The application's routes.
pub fn app(state: AppState) -> Router {
    // Reports and moves may carry photos: their bodies may be as large as the photo limits
    // allow, which `photos::WithPhotos` enforces part by part (a plain JSON body keeps 2 MB).
    let with_photos = DefaultBodyLimit::max(state.photos.max_body_bytes());
    let api = Router::new()
        .route("/login", post(api::login))
        .route("/logout", post(api::logout))
        .route("/me", get(api::me))
        .route(
            "/cases",
            get(api::list_cases).post(api::report_case.layer(with_photos)),
        )
        .route("/cases/{id}", get(api::get_case))
        .route("/cases/{id}/moves", post(api::move_case).layer(with_photos))
        .route("/photos/{hash}", get(photos::serve))
        .route("/wall", get(api::wall_state))
        .route("/team", get(api::team))
        .route("/grids.geojson", get(maps::grids))
        .route("/districts.geojson", get(maps::districts))
        .route("/streets.geojson", get(maps::streets))
        .route("/places.geojson", get(maps::places))
        .fallback(api::not_found);
    // Open311 GeoReport v2: every path names its format (`services.xml`), so each route
    // takes the whole last segment and the handler splits it.
    let open311 = Router::new()
        .route(
            "/{file}",
            get(open311::get_resource).post(open311::post_resource),
        )
        .route("/services/{file}", get(open311::service_definition))
        .route("/requests/{file}", get(open311::get_request))
        .route("/tokens/{file}", get(open311::get_token))
        .fallback(open311::not_found)
        .method_not_allowed_fallback(open311::method_not_allowed);
    Router::new()
        .route("/", get(assets::index))
        // The field page is the same page and bundle; the app mounts it by the path.
        .route("/field", get(assets::index))
        .route("/assets/style.css", get(assets::style))
        .route("/pkg/frontend.js", get(assets::script))
        .route("/pkg/frontend_bg.wasm", get(assets::wasm))
        .route("/healthz", get(api::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/ws", get(ws::upgrade))
        .nest("/api", api)
        .nest("/open311/v2", open311)
        .with_state(state)
}

/// Opens the database, rebuilds the wall's state, starts the live hub (and the simulator if
/// configured), and serves on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = store::connect(&config.database_url).await?;
    if config.demo_city != demo::DemoCity::Off && !city::has_grids(&db).await? {
        tracing::info!(what = ?config.demo_city, seed = config.demo_seed, "building the demo city (first start)");
        let built = demo::build(
            &db,
            config.demo_city,
            config.demo_seed,
            cases::now_ms(),
            config.utc_offset_minutes,
        )
        .await
        .context("cannot build the demo city")?;
        tracing::info!(
            grids = built.grids,
            cases = built.cases,
            transitions = built.transitions,
            closed = built.closed,
            house_visits = built.house_visits,
            elapsed_ms = built.elapsed.as_millis() as u64,
            "demo city built in {:.1} s",
            built.elapsed.as_secs_f64()
        );
    }
    let grids = Arc::new(
        city::grid_index(&db)
            .await
            .context("cannot read the city's grids")?,
    );
    let maps = Arc::new(
        maps::Maps::load(&db)
            .await
            .context("cannot read the city's map")?,
    );
    let city = Arc::new(
        live::city_facts(&db)
            .await
            .context("cannot read the city's grids and team")?,
    );
    let (scopes, _) = live::saved::restore(&db, &city, config.utc_offset_minutes).await?;
    if let Some(agg) = scopes.city() {
        tracing::info!(
            log_seq = scopes.log_seq,
            reported_total = agg.state.counters.reported_total,
            open = agg.state.counters.open,
            overdue = agg.state.counters.overdue,
            "wall state ready"
        );
    }
    let token = CancellationToken::new();
    let metrics = metrics::Metrics::new();
    let (hub, feed, hub_task) = live::spawn(scopes, city, metrics.clone(), token.clone());
    let photos = Arc::new(
        photos::PhotoStore::open(&config.photo_dir, config.max_photo_bytes).with_context(|| {
            format!(
                "cannot create the photo directory {}",
                config.photo_dir.display()
            )
        })?,
    );
    tracing::info!(dir = %photos.dir().display(), max_photo_bytes = photos.max_bytes(), "evidence photos are stored in {}", photos.dir().display());
    let demo = config.demo_city != demo::DemoCity::Off;
    let auth = Arc::new(
        auth::Auth::load(&db, demo)
            .await
            .context("cannot read the city's areas")?,
    );
    if demo {
        let password = config
            .demo_password
            .clone()
            .unwrap_or_else(|| format!("demo-{:06}", rand::random::<u32>() % 1_000_000));
        let (accounts, key) = auth::demo_accounts(&db, &password)
            .await
            .context("cannot create the demo accounts")?;
        for a in &accounts {
            tracing::info!(login = %a.login, role = %a.role, reach = %a.reach, "demo account `{}` ({}, {}), password `{password}`", a.login, a.role, a.reach);
        }
        tracing::info!(key = %key, "demo API key for reporting apps (X-Api-Key): {key}");
    }
    let (cases, writer) = Cases::new(
        db.clone(),
        grids.clone(),
        auth.areas.clone(),
        photos.clone(),
        feed,
        metrics.clone(),
    );
    let simulator = config.simulator_every.map(|every| {
        tokio::spawn(demo::run_simulator(
            cases.clone(),
            grids.clone(),
            every,
            token.clone(),
        ))
    });
    let watcher = tokio::spawn(deadlines::run_watcher(
        cases.clone(),
        config.watch_every,
        token.clone(),
    ));
    let saver = tokio::spawn(live::saved::run_saver(
        db.clone(),
        hub.clone(),
        token.clone(),
    ));
    let access = Arc::new(
        tokens::Access::load(&db, config.walls_open, Some(auth.clone()))
            .await
            .context("cannot read the city's streets")?,
    );
    if config.walls_open {
        tracing::info!(
            "walls are open to anyone (demo mode); `--open-walls false` asks for display tokens"
        );
    }
    let open311 = Arc::new(open311::Open311::new(
        config.utc_offset_minutes,
        demo,
        cases::now_ms(),
    ));
    let state = AppState {
        access,
        auth,
        open311,
        db: db.clone(),
        cases,
        hub,
        maps,
        metrics,
        photos,
        shutdown: token.clone(),
    };
    let addr = listener
        .local_addr()
        .context("the listener has no local address")?;
    tracing::info!(url = %format!("http://{addr}/"), "gridwall is serving the wall at http://{addr}/");
    let stop = token.clone();
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down");
            stop.cancel();
        })
        .await
        .context("the HTTP server failed");
    // Whatever ended the server, stop the background tasks before closing the database.
    token.cancel();
    if let Some(simulator) = simulator {
        let _ = simulator.await;
    }
    let _ = watcher.await;
    let _ = saver.await;
    // Every holder of the case commands is gone now; the writer hands the feed what it
    // committed and stops.
    let _ = writer.await;
    // The hub hands back its state when it stops; saving it makes the next start quick.
    if let Ok(scopes) = hub_task.await {
        match live::saved::save(&db, scopes).await {
            Ok(bytes) => tracing::info!(bytes, "wall state saved for the next start"),
            Err(err) => tracing::warn!(
                error = format!("{err:#}"),
                "cannot save the wall state; the next start rebuilds it"
            ),
        }
    }
    db.close().await;
    served
}
