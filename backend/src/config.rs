//! The server's configuration, read from flags and `GRIDWALL_*` environment variables.

use crate::demo::DemoCity;
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// gridwall: the real-time command wall of a city's grid-governance platform.
#[derive(Debug, Parser)]
#[command(name = "gridwall", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// How the log is written: `text`, a readable line per event (coloured only on a
    /// terminal), or `json`, one JSON object per line for a log shipper.
    #[arg(
        long,
        global = true,
        env = "GRIDWALL_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    pub log_format: LogFormat,
    /// Options of `serve`, which is also what runs when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the wall, the API and the live stream (the default).
    Serve(ServeArgs),
    /// Build the demo city into an empty database and exit (what the server does on first
    /// start), printing what was written and how long it took.
    Demo {
        #[arg(
            long,
            env = "GRIDWALL_DATABASE_URL",
            default_value = "sqlite:gridwall.db"
        )]
        database_url: String,
        /// What of the demo city to build.
        #[arg(long, value_enum, default_value = "full")]
        demo_city: DemoCity,
        /// The seed the demo city is generated from.
        #[arg(long, default_value_t = 2023)]
        demo_seed: u64,
        /// Cases of history (the seed's 75,000 by default; about 6.5 transitions each). A
        /// larger history is for benchmarks, such as a log of a million transitions.
        #[arg(long, default_value_t = crate::demo::Scale::FULL.cases)]
        cases: usize,
    },
    /// Compare a running server's live state with the state rebuilt from the database, field
    /// by field; exits with status 1 when they differ.
    Check {
        /// The running server.
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        #[arg(
            long,
            env = "GRIDWALL_DATABASE_URL",
            default_value = "sqlite:gridwall.db"
        )]
        database_url: String,
        #[arg(long, env = "GRIDWALL_UTC_OFFSET_MINUTES", default_value_t = shared::time::DEFAULT_UTC_OFFSET_MINUTES, allow_hyphen_values = true)]
        utc_offset_minutes: i32,
        /// The scope to check: `city`, `district:CODE`, `street:CODE`, or `all` for every one.
        #[arg(long, default_value = "all")]
        scope: String,
        /// A display token, when the server's walls need one (a city token checks all).
        #[arg(long, env = "GRIDWALL_TOKEN")]
        token: Option<String>,
    },
    /// Display tokens for walls: add, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Accounts of leaders, dispatchers, department staff and grid workers: add, list,
    /// disable, set a password.
    #[command(subcommand)]
    Account(AccountCommand),
    /// API keys of outside reporting apps: add, list, revoke.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Load a city's data into the database.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Write the city's data out.
    #[command(subcommand)]
    Export(ExportCommand),
}

/// The database a credential command works on.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArg {
    #[arg(
        long,
        env = "GRIDWALL_DATABASE_URL",
        default_value = "sqlite:gridwall.db"
    )]
    pub database_url: String,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Read-only display tokens for walls. `gridwall token display --scope …` (without `add`)
    /// still makes one, as it did before the tokens could be listed and revoked.
    Display(DisplayTokens),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct DisplayTokens {
    #[command(subcommand)]
    pub command: Option<DisplayCommand>,
    /// The old spelling of `add`.
    #[command(flatten)]
    pub add: DisplayAdd,
}

#[derive(Debug, Subcommand)]
pub enum DisplayCommand {
    /// A display token for a wall of one scope; printed once.
    Add(DisplayAdd),
    /// Every display token: number, scope, label, made, revoked (never the token).
    List(DatabaseArg),
    /// Revokes a display token by its number (`list` shows it): its walls close within 30 s.
    Revoke {
        id: i64,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

#[derive(Debug, Clone, Args)]
pub struct DisplayAdd {
    /// `city`, `district:CODE` or `street:CODE`.
    #[arg(long, required = true)]
    pub scope: Option<String>,
    /// Whose wall it is, for the record (for example 萨尔图区指挥中心).
    #[arg(long, default_value = "")]
    pub label: String,
    #[command(flatten)]
    pub db: DatabaseArg,
}

#[derive(Debug, Subcommand)]
pub enum AccountCommand {
    /// Adds an account; its password is typed at a prompt or read from standard input
    /// (`--password-stdin`), never given as an argument.
    Add {
        /// The login it signs in with.
        login: String,
        /// The person's name, as the team list shows it.
        #[arg(long)]
        name: String,
        /// leader, dispatcher, department_staff or grid_worker.
        #[arg(long, value_parser = parse_role)]
        role: shared::auth::Role,
        /// A leader's or dispatcher's area: `city`, `district:CODE` or `street:CODE`.
        #[arg(long, value_parser = parse_area)]
        area: Option<shared::wall::Scope>,
        /// Department staff's department code (for example D01).
        #[arg(long)]
        department: Option<String>,
        /// A grid worker's grid; once per grid.
        #[arg(long = "grid")]
        grids: Vec<String>,
        /// A grid worker's place on the team (`members.id`), for the team panel.
        #[arg(long)]
        member_id: Option<i64>,
        /// Read the password from the first line of standard input, without a prompt.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Every account: login, name, role, reach, state and open sessions (never a hash).
    List(DatabaseArg),
    /// Disables an account and ends its sessions: its sign-ins are refused, its open seats
    /// close within 30 s. Its moves stay in the log under its login.
    Disable {
        login: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Sets an account's password (prompted, or `--password-stdin`) and ends its sessions.
    Password {
        login: String,
        /// Read the password from the first line of standard input, without a prompt.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// An API key for an outside reporting app (`X-Api-Key`); printed once.
    Add {
        /// The app's name, for the record and the log (its moves are by `app:NAME`).
        name: String,
        #[command(flatten)]
        db: DatabaseArg,
    },
    /// Every API key: number, app, made, revoked (never the key).
    List(DatabaseArg),
    /// Revokes an API key by its number (`list` shows it); refused within a minute by a
    /// running server.
    Revoke {
        id: i64,
        #[command(flatten)]
        db: DatabaseArg,
    },
}

fn parse_role(code: &str) -> Result<shared::auth::Role, String> {
    shared::auth::Role::from_code(code).ok_or_else(|| {
        format!("{code:?} is not a role: use leader, dispatcher, department_staff or grid_worker")
    })
}

fn parse_area(text: &str) -> Result<shared::wall::Scope, String> {
    shared::wall::Scope::parse(text).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Grids from a GeoJSON FeatureCollection of Polygons and MultiPolygons. The whole file is
    /// checked first; any error names the feature and writes nothing.
    Grids {
        /// The GeoJSON file.
        file: PathBuf,
        #[command(flatten)]
        mapping: crate::import::Mapping,
        #[arg(
            long,
            env = "GRIDWALL_DATABASE_URL",
            default_value = "sqlite:gridwall.db"
        )]
        database_url: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Every grid as a GeoJSON FeatureCollection (id, name, street, district, kind).
    Grids {
        /// Where to write; standard output when absent.
        #[arg(long, short)]
        output: Option<PathBuf>,
        #[arg(
            long,
            env = "GRIDWALL_DATABASE_URL",
            default_value = "sqlite:gridwall.db"
        )]
        database_url: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "GRIDWALL_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Database URL; an SQLite file is created on first start.
    #[arg(
        long,
        env = "GRIDWALL_DATABASE_URL",
        default_value = "sqlite:gridwall.db"
    )]
    pub database_url: String,
    /// The live simulator's transitions per minute (about one in six a new report); 0 turns
    /// it off, 6000 is a busy 100 a second. 30 by default on the demo city; refused on a real
    /// city, whose cases it would move.
    #[arg(long, env = "GRIDWALL_SIMULATOR_RATE")]
    pub simulator_rate: Option<f64>,
    /// What of the demo city (Daqing) to build into an empty database on first start.
    #[arg(long, env = "GRIDWALL_DEMO_CITY", value_enum, default_value = "full")]
    pub demo_city: DemoCity,
    /// The seed the demo city is generated from.
    #[arg(long, env = "GRIDWALL_DEMO_SEED", default_value_t = 2023)]
    pub demo_seed: u64,
    /// The command centre's offset from UTC in minutes; "today" starts at its midnight.
    #[arg(long, env = "GRIDWALL_UTC_OFFSET_MINUTES", default_value_t = shared::time::DEFAULT_UTC_OFFSET_MINUTES, allow_hyphen_values = true)]
    pub utc_offset_minutes: i32,
    /// Whether walls may watch without a display token; by default they may on the demo
    /// city and need one otherwise (`gridwall token display add`). `true` is refused on a
    /// real city.
    #[arg(long, env = "GRIDWALL_OPEN_WALLS")]
    pub open_walls: Option<bool>,
    /// Where evidence photos are stored, by content hash; `photos` beside the SQLite file by
    /// default, or `./photos` with PostgreSQL.
    #[arg(long, env = "GRIDWALL_PHOTO_DIR")]
    pub photo_dir: Option<PathBuf>,
    /// The largest photo taken, in bytes; a larger one is refused with 413.
    #[arg(long, env = "GRIDWALL_MAX_PHOTO_BYTES", default_value_t = crate::services::photo_store::DEFAULT_MAX_PHOTO_BYTES)]
    pub max_photo_bytes: usize,
    /// The demo accounts' password (demo mode creates them at start and prints them); a
    /// random one when not given.
    #[arg(long, env = "GRIDWALL_DEMO_PASSWORD")]
    pub demo_password: Option<String>,
    /// Each scope's look-back checkpoint comes after this many of its own events: the longest
    /// tail of the log that showing a past moment folds.
    #[arg(long, env = "GRIDWALL_CHECKPOINT_EVERY", default_value_t = crate::services::live::history::CHECKPOINT_EVERY, value_parser = clap::value_parser!(u64).range(1..))]
    pub checkpoint_every: u64,
    /// The font the PNG briefing (`/api/briefing.png`) sets its Chinese text in: a .ttf, .otf
    /// or .ttc (from a collection, its Simplified Chinese face). Read on the first PNG; when
    /// it cannot be read the PNG answers 503 (the SVG needs no font file).
    #[arg(long, env = "GRIDWALL_BRIEFING_FONT", default_value = DEFAULT_BRIEFING_FONT)]
    pub briefing_font: PathBuf,
    /// How long a wall keeps what a seat showed after the seat let go of it or its link
    /// dropped, in milliseconds; then it returns to its live overview.
    #[arg(long, env = "GRIDWALL_CONTROL_RETURN_MS", default_value_t = 5_000)]
    pub control_return_ms: u64,
    /// SQLite's durability: `normal` (the default) loses nothing acknowledged when the
    /// process is killed, but may lose the last commits on a power failure; `full` syncs
    /// every commit to disk and loses nothing acknowledged on a power failure either, at a
    /// cost in ingest (BENCHMARKS.md). PostgreSQL has its own setting, `synchronous_commit`.
    #[arg(long, env = "GRIDWALL_SYNCHRONOUS", value_enum)]
    pub synchronous: Option<crate::store::Synchronous>,
    /// Serve HTTPS with this certificate chain (PEM); with `--tls-key`.
    #[arg(long, env = "GRIDWALL_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of `--tls-cert` (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "GRIDWALL_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Noto Sans CJK as Debian's `fonts-noto-cjk` installs it (`scripts/setup` does).
pub const DEFAULT_BRIEFING_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

/// The settings `run` needs, independent of how they were read.
#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: String,
    /// Time between the simulator's transitions; `None` runs without the simulator. Resolved
    /// against the database by the command line, like `walls_open`.
    pub simulator_every: Option<Duration>,
    /// What of the demo city to build when the database has no grids yet.
    pub demo_city: DemoCity,
    pub demo_seed: u64,
    pub utc_offset_minutes: i32,
    /// How often the time-limit watcher looks for due cases.
    pub watch_every: Duration,
    /// Whether walls may watch any scope without a display token. The command line resolves
    /// it against the database (`ServeArgs::config`); `run` takes it as given.
    pub walls_open: bool,
    /// Where evidence photos are stored.
    pub photo_dir: PathBuf,
    /// The largest photo taken, in bytes.
    pub max_photo_bytes: usize,
    /// The demo accounts' password in demo mode; random when `None`.
    pub demo_password: Option<String>,
    /// Each scope's look-back checkpoint comes after this many of its own events.
    pub checkpoint_every: u64,
    /// Whether a start over a log without checkpoints folds the log in the background to
    /// write them. Look back answers without them, only more slowly.
    pub backfill_history: bool,
    /// The font of the PNG briefing's text.
    pub briefing_font: PathBuf,
    /// How long a wall keeps what a seat showed after the seat let go of it.
    pub control_return: Duration,
    /// How long a client may take to send its headers and between parts of a body, and how
    /// long a shutdown waits for requests in flight.
    pub timeouts: crate::serve::Timeouts,
    /// SQLite's durability; `None` is the default (`normal`). Refused with PostgreSQL.
    pub synchronous: Option<crate::store::Synchronous>,
    /// The certificate chain and private key to serve HTTPS with; plain HTTP when `None`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// How often an open wall's or seat's socket checks its credential again.
    pub recheck_every: Duration,
}

/// The simulator's rate on the demo city when `--simulator-rate` is not given.
pub const DEMO_SIMULATOR_RATE: f64 = 30.0;

/// What the database holds at start: the server's mode follows from it, not from flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CityKind {
    /// No grids yet: the demo city is built into it unless `--demo-city off`.
    Empty,
    /// The demo city, as `city_meta` records it (`store::meta`).
    Demo,
    /// A real city: imported grids, or any city not built as the demo.
    Real,
}

impl CityKind {
    /// What the database at `db` holds.
    pub async fn of(db: &crate::store::Db) -> Result<CityKind, sqlx::Error> {
        Ok(if crate::store::meta::is_demo(db).await? {
            CityKind::Demo
        } else if crate::store::city::has_grids(db).await? {
            CityKind::Real
        } else {
            CityKind::Empty
        })
    }
}

/// Opens the database the flags name, reads what it holds and resolves the flags against it:
/// what the server's start does before [`crate::run`].
pub async fn resolve(args: &ServeArgs) -> anyhow::Result<Config> {
    let db = crate::store::connect(&args.database_url).await?;
    let city = CityKind::of(&db).await;
    db.close().await;
    let city = city?;
    let config = args.config(city).map_err(anyhow::Error::msg)?;
    if config.demo_password.is_some() && !args.serves_demo(city) {
        tracing::warn!(
            "--demo-password is ignored: this database holds no demo city, so no demo accounts are made"
        );
    }
    Ok(config)
}

impl ServeArgs {
    /// Whether a server with these flags on a database holding `city` serves the demo city.
    pub fn serves_demo(&self, city: CityKind) -> bool {
        match city {
            CityKind::Empty => self.demo_city != DemoCity::Off,
            CityKind::Demo => true,
            CityKind::Real => false,
        }
    }

    /// The configuration for a database holding `city`. The demo city gets the simulator and
    /// open walls unless told otherwise; a real city gets neither, and a flag that asks for
    /// one of them there is refused with the reason, since starting anyway would move real
    /// cases or show the city to anyone.
    pub fn config(&self, city: CityKind) -> Result<Config, String> {
        let demo = self.serves_demo(city);
        if !demo {
            let why = if city == CityKind::Empty {
                "`--demo-city off` starts a real city"
            } else {
                "this database holds a real city (it was not built by `gridwall demo`)"
            };
            if let Some(rate) = self.simulator_rate.filter(|r| *r > 0.0) {
                return Err(format!(
                    "refusing --simulator-rate {rate} (GRIDWALL_SIMULATOR_RATE): the simulator \
                     moves open cases every few seconds as `system:simulator`, and {why}, \
                     whose cases it must not touch. Leave the flag out or set it to 0."
                ));
            }
            if self.open_walls == Some(true) {
                return Err(format!(
                    "refusing --open-walls true (GRIDWALL_OPEN_WALLS): it lets anyone watch \
                     every wall without a display token, and {why}, whose walls need one \
                     (`gridwall token display add --scope city`). Leave the flag out or set \
                     it to false."
                ));
            }
        }
        let rate = self
            .simulator_rate
            .unwrap_or(if demo { DEMO_SIMULATOR_RATE } else { 0.0 });
        Ok(Config {
            database_url: self.database_url.clone(),
            simulator_every: (rate > 0.0 && rate.is_finite())
                .then(|| Duration::from_secs_f64(60.0 / rate)),
            demo_city: self.demo_city,
            demo_seed: self.demo_seed,
            utc_offset_minutes: self.utc_offset_minutes,
            watch_every: crate::services::deadlines::INTERVAL,
            walls_open: self.open_walls.unwrap_or(demo),
            photo_dir: self
                .photo_dir
                .clone()
                .unwrap_or_else(|| default_photo_dir(&self.database_url)),
            max_photo_bytes: self.max_photo_bytes,
            demo_password: self.demo_password.clone(),
            checkpoint_every: self.checkpoint_every,
            backfill_history: true,
            briefing_font: self.briefing_font.clone(),
            control_return: Duration::from_millis(self.control_return_ms),
            timeouts: crate::serve::Timeouts::default(),
            synchronous: self.synchronous,
            tls: self.tls_cert.clone().zip(self.tls_key.clone()),
            recheck_every: RECHECK_EVERY,
        })
    }
}

/// How often an open socket's credential is checked again, so that a revoked or expired one
/// stops working within a minute on sockets too.
pub const RECHECK_EVERY: Duration = Duration::from_secs(30);

impl Config {
    /// A configuration for tests and tools: the given database, no demo city, no simulator,
    /// UTC+8, and no look-back backfill at start.
    pub fn new(database_url: impl Into<String>) -> Config {
        let database_url = database_url.into();
        Config {
            photo_dir: default_photo_dir(&database_url),
            max_photo_bytes: crate::services::photo_store::DEFAULT_MAX_PHOTO_BYTES,
            database_url,
            simulator_every: None,
            demo_city: DemoCity::Off,
            demo_seed: 2023,
            utc_offset_minutes: shared::time::DEFAULT_UTC_OFFSET_MINUTES,
            watch_every: crate::services::deadlines::INTERVAL,
            walls_open: true,
            demo_password: None,
            checkpoint_every: crate::services::live::history::CHECKPOINT_EVERY,
            backfill_history: false,
            briefing_font: PathBuf::from(DEFAULT_BRIEFING_FONT),
            control_return: Duration::from_secs(5),
            timeouts: crate::serve::Timeouts::default(),
            synchronous: None,
            tls: None,
            recheck_every: RECHECK_EVERY,
        }
    }
}

/// `photos` beside an SQLite file, so that the database and its photos move together; `photos`
/// in the working directory for PostgreSQL or an in-memory SQLite database.
pub fn default_photo_dir(database_url: &str) -> PathBuf {
    let beside = database_url
        .strip_prefix("sqlite:")
        .map(|rest| rest.split('?').next().unwrap_or_default())
        // `sqlite://a.db` names `a.db`, `sqlite:///srv/a.db` names `/srv/a.db`.
        .map(|file| file.strip_prefix("//").unwrap_or(file))
        .filter(|file| !file.is_empty() && !file.starts_with(":memory:"))
        .and_then(|file| Path::new(file).parent());
    match beside {
        Some(dir) => dir.join("photos"),
        None => PathBuf::from("photos"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(flags: &[&str]) -> ServeArgs {
        Cli::try_parse_from(std::iter::once("gridwall").chain(flags.iter().copied()))
            .expect("the flags parse")
            .serve
    }

    #[test]
    fn the_demo_city_runs_the_simulator_with_open_walls() {
        for city in [CityKind::Empty, CityKind::Demo] {
            let config = flags(&[]).config(city).expect("the demo starts");
            assert_eq!(config.simulator_every, Some(Duration::from_secs(2)));
            assert!(config.walls_open);
        }
        let config = flags(&["--simulator-rate", "0", "--open-walls", "false"])
            .config(CityKind::Demo)
            .expect("the demo may be closed");
        assert_eq!(config.simulator_every, None);
        assert!(!config.walls_open);
    }

    #[test]
    fn a_real_city_starts_closed_and_refuses_the_demo_flags() {
        let config = flags(&[])
            .config(CityKind::Real)
            .expect("a real city starts");
        assert_eq!(config.simulator_every, None);
        assert!(!config.walls_open);
        let config = flags(&["--demo-city", "off"])
            .config(CityKind::Empty)
            .expect("an empty real city starts");
        assert_eq!(config.simulator_every, None);
        assert!(!config.walls_open);
        // Asking for nothing explicitly is fine.
        flags(&["--simulator-rate", "0", "--open-walls", "false"])
            .config(CityKind::Real)
            .expect("flags that ask for nothing");
        let refused = flags(&["--simulator-rate", "30"])
            .config(CityKind::Real)
            .expect_err("the simulator on a real city");
        assert!(refused.contains("--simulator-rate 30"), "{refused}");
        assert!(refused.contains("real city"), "{refused}");
        let refused = flags(&["--open-walls", "true"])
            .config(CityKind::Real)
            .expect_err("open walls on a real city");
        assert!(refused.contains("--open-walls true"), "{refused}");
        assert!(refused.contains("display token"), "{refused}");
        let refused = flags(&["--demo-city", "off", "--simulator-rate", "6000"])
            .config(CityKind::Empty)
            .expect_err("the simulator with --demo-city off");
        assert!(refused.contains("--demo-city off"), "{refused}");
        // The demo city is what the database holds: `--demo-city off` does not turn it off.
        assert!(flags(&["--demo-city", "off"]).serves_demo(CityKind::Demo));
    }

    #[test]
    fn photos_live_beside_the_sqlite_file() {
        for (url, dir) in [
            ("sqlite:gridwall.db", "photos"),
            ("sqlite:data/gridwall.db?mode=rwc", "data/photos"),
            ("sqlite:///srv/gridwall/g.db", "/srv/gridwall/photos"),
            ("sqlite://g.db", "photos"),
            ("sqlite::memory:", "photos"),
            ("postgres://u@h/db", "photos"),
        ] {
            assert_eq!(default_photo_dir(url), PathBuf::from(dir), "{url}");
        }
    }
}
