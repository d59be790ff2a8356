//! gridwall's server: the case commands, the live aggregator, the wall stream and the
//! embedded wall, assembled into one axum application.
//!
//! `main` reads the configuration and calls [`run`]; tests call [`run`] too, on port 0 with
//! a database of their own.

pub mod admin;
pub mod check;
pub mod clock;
pub mod config;
pub mod demo;
pub mod error;
// The fuzzers' entry points (`fuzz/`, and the property tests of every `cargo test`).
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod import;
pub mod metrics;
pub mod serve;
pub mod services;
pub mod store;
pub mod tls;

use crate::config::Config;
use crate::http::{
    assessment, assets, cases as case_routes, deadline, health, maps, open311, openapi, photos,
    seat, security, sessions, shed, team, wall, ws,
};
use crate::services::cases::Cases;
use crate::services::live::Hub;
use crate::services::{
    auth, control, credentials, deadlines, live, photo_store, tokens, write_health,
};
use crate::store::Db;
use crate::store::city;
use anyhow::Context;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, get, post};
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
    pub history: Arc<live::history::History>,
    pub maps: Arc<maps::Maps>,
    pub metrics: Arc<metrics::Metrics>,
    pub access: Arc<tokens::Access>,
    pub photos: Arc<photo_store::PhotoStore>,
    pub auth: Arc<auth::Auth>,
    pub open311: Arc<open311::Open311>,
    pub assessment: Arc<services::assessment::Assessment>,
    /// The control channels through which seats drive walls.
    pub controls: Arc<control::Controls>,
    /// Whether writes are stored (`/healthz` and the walls' heartbeats say when not).
    pub writes: Arc<write_health::WriteHealth>,
    /// How long a WebSocket may stay silent before it is closed.
    pub socket_idle: http::socket::SocketIdle,
    /// How often an open wall's or seat's socket checks its credential again.
    pub recheck: http::socket::Recheck,
    /// Cancelled when the server shuts down, so that upgraded connections close too.
    pub shutdown: CancellationToken,
}

/// The application's routes.
pub fn app(state: AppState) -> Router {
    // Reports and moves may carry photos: their bodies may be as large as the photo limits
    // allow, which `photos::WithPhotos` enforces part by part (a plain JSON body keeps 2 MB).
    let with_photos = DefaultBodyLimit::max(state.photos.max_body_bytes());
    routes(with_photos)
        .router
        .layer(axum::middleware::from_fn(security::headers))
        .with_state(state)
}

/// Every route of [`app`]: its method and its path as the router matches it (a `{name}`
/// capture takes one whole segment). The `openapi` integration test checks that the OpenAPI
/// document describes each of them, and describes nothing else.
pub fn route_table() -> Vec<Route> {
    routes(DefaultBodyLimit::disable()).table
}

/// One route of the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: Method,
    pub path: String,
}

/// A router that records what it routes, so that [`route_table`] lists exactly the routes
/// [`app`] serves: a route can only be added through it.
struct Routes {
    prefix: &'static str,
    router: Router<AppState>,
    table: Vec<Route>,
}

impl Routes {
    fn new(prefix: &'static str) -> Routes {
        Routes {
            prefix,
            router: Router::new(),
            table: Vec::new(),
        }
    }

    fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Routes {
        self.add(Method::GET, path, get(handler))
    }

    /// A GET that anyone may call, capped with the other anonymous routes (`http::shed`) and
    /// refused as `refuse` spells it past the cap.
    fn get_anonymous<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
        (cap, refuse): (&shed::Cap, shed::Refuse),
    ) -> Routes {
        self.add(Method::GET, path, shed::capped(get(handler), cap, refuse))
    }

    fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, handler: H) -> Routes {
        self.add(Method::POST, path, post(handler))
    }

    /// A POST whose body may be as large as `limit` allows: an upload, given the longer
    /// deadline.
    fn post_limited<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
        limit: DefaultBodyLimit,
    ) -> Routes {
        let route = deadline::within(post(handler).layer(limit), deadline::UPLOAD_DEADLINE);
        self.record(Method::POST, path, route)
    }

    /// Adds `route`, given up after the request deadline.
    fn add(self, method: Method, path: &'static str, route: MethodRouter<AppState>) -> Routes {
        self.record(
            method,
            path,
            deadline::within(route, deadline::REQUEST_DEADLINE),
        )
    }

    fn record(
        mut self,
        method: Method,
        path: &'static str,
        route: MethodRouter<AppState>,
    ) -> Routes {
        self.table.push(Route {
            method,
            path: format!("{}{path}", self.prefix),
        });
        // Two methods on one path merge into one method router.
        self.router = self.router.route(path, route);
        self
    }

    /// Nests `inner`, whose prefix is its mount point.
    fn nest(mut self, inner: Routes) -> Routes {
        self.table.extend(inner.table);
        self.router = self.router.nest(inner.prefix, inner.router);
        self
    }

    /// What answers a path that no route matches.
    fn fallback<H: Handler<T, AppState>, T: 'static>(mut self, handler: H) -> Routes {
        self.router = self.router.fallback(handler);
        self
    }

    /// What answers a known path with a method it does not take; after the routes, since it
    /// applies to those already added.
    fn method_not_allowed_fallback<H: Handler<T, AppState>, T: 'static>(
        mut self,
        handler: H,
    ) -> Routes {
        self.router = self.router.method_not_allowed_fallback(handler);
        self
    }
}

/// Every route with its table; `with_photos` is the body limit of the routes that take photos.
fn routes(with_photos: DefaultBodyLimit) -> Routes {
    let cap = shed::Cap::new(shed::ANONYMOUS_AT_ONCE);
    let api_cap = (&cap, shed::api_refusal as shed::Refuse);
    let open311_cap = (&cap, open311::refusal as shed::Refuse);
    let api = Routes::new("/api")
        .post("/login", sessions::login)
        .post("/logout", sessions::logout)
        .get("/me", sessions::me)
        .post_limited("/cases", case_routes::report_case, with_photos)
        .get("/cases", case_routes::list_cases)
        .get("/cases/{id}", case_routes::get_case)
        .post_limited("/cases/{id}/moves", case_routes::move_case, with_photos)
        .get("/cases/{id}/moves", case_routes::case_moves)
        .get("/photos/{hash}", photos::serve)
        .get("/wall", wall::wall_state)
        .get("/wall/at", wall::wall_at)
        .get_anonymous("/team", team::team, api_cap)
        .get("/rankings", assessment::rankings)
        .get("/rankings.csv", assessment::rankings_csv)
        .get("/compare", assessment::compare)
        .get("/briefing.svg", assessment::briefing_svg)
        .get("/briefing.png", assessment::briefing_png)
        .get_anonymous("/grids.geojson", maps::grids, api_cap)
        .get_anonymous("/districts.geojson", maps::districts, api_cap)
        .get_anonymous("/streets.geojson", maps::streets, api_cap)
        .get_anonymous("/places.geojson", maps::places, api_cap)
        .get("/openapi.json", openapi::serve)
        .fallback(health::not_found);
    // Open311 GeoReport v2: every path names its format (`services.xml`), so each route
    // takes the whole last segment and the handler splits it.
    let open311 = Routes::new("/open311/v2")
        .get_anonymous("/{file}", open311::get_resource, open311_cap)
        .post("/{file}", open311::post_resource)
        .get_anonymous("/services/{file}", open311::service_definition, open311_cap)
        .get_anonymous("/requests/{file}", open311::get_request, open311_cap)
        .get_anonymous("/tokens/{file}", open311::get_token, open311_cap)
        .fallback(open311::not_found)
        .method_not_allowed_fallback(open311::method_not_allowed);
    Routes::new("")
        .get("/", assets::index)
        .get("/field", assets::field)
        .get("/assets/style.css", assets::style)
        .get("/assets/start.js", assets::start)
        .get("/pkg/frontend.js", assets::script)
        .get("/pkg/frontend_bg.wasm", assets::wasm)
        .get("/pkg/field.js", assets::field_script)
        .get("/pkg/field_bg.wasm", assets::field_wasm)
        .get("/seat", assets::seat)
        .get("/pkg/seat.js", assets::seat_script)
        .get("/pkg/seat_bg.wasm", assets::seat_wasm)
        .get("/healthz", health::healthz)
        .get_anonymous("/metrics", metrics::metrics, api_cap)
        .get("/ws", ws::upgrade)
        .get("/ws/seat", seat::upgrade)
        .nest(api)
        .nest(open311)
}

/// Opens the database with the configured durability; `--synchronous` is SQLite's and is
/// refused with PostgreSQL, rather than silently meaning nothing there.
async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let backend = store::Backend::of_url(&config.database_url)?;
    if backend == store::Backend::Postgres && config.synchronous.is_some() {
        anyhow::bail!(
            "--synchronous is SQLite's setting; with PostgreSQL set `synchronous_commit` in PostgreSQL itself"
        );
    }
    let synchronous = config.synchronous.unwrap_or_default();
    let db = store::connect_with(&config.database_url, synchronous).await?;
    if backend == store::Backend::Sqlite {
        tracing::info!(synchronous = ?synchronous, "SQLite syncs {}", match synchronous {
            store::Synchronous::Full => "every commit (nothing acknowledged is lost on a power failure)",
            store::Synchronous::Normal => "at checkpoints (a power failure may lose the last commits; `--synchronous full` does not)",
        });
    }
    Ok(db)
}

/// Opens the database, rebuilds the wall's state, starts the live hub (and the simulator if
/// configured), and serves on `listener` until `shutdown` completes.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let db = open_database(&config).await?;
    if config.demo_city != demo::DemoCity::Off && !city::has_grids(&db).await? {
        tracing::info!(what = ?config.demo_city, seed = config.demo_seed, "building the demo city (first start)");
        let built = demo::build(
            &db,
            config.demo_city,
            config.demo_seed,
            clock::now_ms(),
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
    // Demo mode is what the database says it is, whatever the flags: only the demo city gets
    // the demo accounts and key (the simulator and open walls were resolved against it before).
    let demo = store::meta::is_demo(&db)
        .await
        .context("cannot read whether the database holds the demo city")?;
    let purged = credentials::purge_expired_sessions(&db, clock::now_ms())
        .await
        .context("cannot purge the expired sessions")?;
    if purged > 0 {
        tracing::info!(purged, "expired sessions purged");
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
    let (sink, checkpoints, checkpoint_writer) =
        live::history::start_writer(db.clone(), config.checkpoint_every);
    let history = Arc::new(live::history::History::new(
        db.clone(),
        city.clone(),
        config.utc_offset_minutes,
    ));
    // The start the backfill folds up to, taken before the hub owns the aggregates.
    let backfill_start = config.backfill_history.then(|| scopes.clone());
    let history_city = city.clone();
    let writes = Arc::new(write_health::WriteHealth::default());
    let (hub, feed, hub_task) = live::spawn(
        scopes,
        city,
        metrics.clone(),
        Some(sink),
        writes.clone(),
        token.clone(),
    );
    let photos = Arc::new(
        photo_store::PhotoStore::open(&config.photo_dir, config.max_photo_bytes).with_context(
            || {
                format!(
                    "cannot create the photo directory {}",
                    config.photo_dir.display()
                )
            },
        )?,
    );
    tracing::info!(dir = %photos.dir().display(), max_photo_bytes = photos.max_bytes(), "evidence photos are stored in {}", photos.dir().display());
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
    // A first start over a log without checkpoints writes them in the background; until then
    // look back folds longer tails. It starts after the demo accounts are written, so that
    // its first writes never meet theirs.
    let preparing = backfill_start.map(|start| {
        let (db, city) = (db.clone(), history_city.clone());
        let (every, offset) = (config.checkpoint_every, config.utc_offset_minutes);
        tokio::spawn(async move {
            let prepared = live::history::prepare(db, city, every, offset, start, checkpoints);
            if let Err(err) = prepared.await {
                tracing::warn!(
                    error = format!("{err:#}"),
                    "cannot prepare the look-back checkpoints; looking back folds from the log's start"
                );
            }
        })
    });
    let (cases, writer) = Cases::new(
        db.clone(),
        grids.clone(),
        auth.areas.clone(),
        photos.clone(),
        feed,
        metrics.clone(),
        writes.clone(),
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
    let purger = tokio::spawn(credentials::run_purger(
        db.clone(),
        credentials::PURGE_EVERY,
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
    } else {
        tracing::info!(
            "walls need a display token (`gridwall token display add`) or a leader's or dispatcher's login"
        );
    }
    let open311 = Arc::new(
        open311::Open311::new(config.utc_offset_minutes, demo, clock::now_ms()).with_labels(&grids),
    );
    let assessment = Arc::new(services::assessment::Assessment::new(
        db.clone(),
        auth.areas.clone(),
        config.utc_offset_minutes,
        config.briefing_font.clone(),
    ));
    let state = AppState {
        assessment,
        access,
        auth,
        open311,
        db: db.clone(),
        cases,
        hub,
        history,
        maps,
        metrics,
        photos,
        controls: Arc::new(control::Controls::new(config.control_return)),
        writes,
        socket_idle: config.timeouts.socket_idle,
        recheck: http::socket::Recheck(config.recheck_every),
        shutdown: token.clone(),
    };
    let addr = listener
        .local_addr()
        .context("the listener has no local address")?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(url = %format!("{scheme}://{addr}/"), "gridwall is serving the wall at {scheme}://{addr}/");
    let stop = token.clone();
    // Each request knows the address it came from (for the login throttle), and slow
    // clients are timed out (`serve`).
    let tls = match &config.tls {
        Some((cert, key)) => Some(tls::acceptor(cert, key)?),
        None => None,
    };
    serve::serve(listener, app(state), config.timeouts, tls, async move {
        shutdown.await;
        tracing::info!("shutting down");
        stop.cancel();
    })
    .await;
    // Whatever ended the server, stop the background tasks before closing the database.
    token.cancel();
    if let Some(simulator) = simulator {
        let _ = simulator.await;
    }
    let _ = watcher.await;
    let _ = purger.await;
    let _ = saver.await;
    // Every holder of the case commands is gone now; the writer hands the feed what it
    // committed and stops.
    let _ = writer.await;
    if let Some(preparing) = preparing {
        preparing.abort();
        let _ = preparing.await;
    }
    // The hub hands back its state when it stops; saving it makes the next start quick.
    let stopped = hub_task.await;
    // The hub's checkpoint sink went with it: the writer writes what it was given and stops.
    let _ = checkpoint_writer.await;
    if let Ok(scopes) = stopped {
        match live::saved::save(&db, scopes).await {
            Ok(bytes) => tracing::info!(bytes, "wall state saved for the next start"),
            Err(err) => tracing::warn!(
                error = format!("{err:#}"),
                "cannot save the wall state; the next start rebuilds it"
            ),
        }
    }
    db.close().await;
    Ok(())
}
