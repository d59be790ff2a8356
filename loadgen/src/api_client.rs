//! The HTTP side of the load: finding grids to report in, reporting cases and moving them.

use crate::wire::{Answer, Conn};
use anyhow::{Context, bail, ensure};
use shared::case::{Action, MoveCase, ReportCase};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

/// The two fields of a `CaseView` the load generator needs; the rest is left unparsed so
/// that a change elsewhere in the view does not break the measurement.
#[derive(Debug, Clone, Copy, serde::Deserialize)]
pub(crate) struct Reported {
    pub(crate) id: i64,
    pub(crate) seq: u64,
}

/// A gridwall server's API, with one keep-alive connection pool shared by every task.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    client: reqwest::Client,
    base: Arc<str>,
    grids: Arc<[String]>,
    next_grid: Arc<AtomicUsize>,
    tokens: Arc<Tokens>,
}

/// The demo accounts the load acts as: each move is made by the role that makes it.
#[derive(Debug)]
struct Tokens {
    /// The city dispatcher: reports (as the hotline would) anywhere, dispatches and closes.
    dispatcher: String,
    /// Staff of department D01, which the load's sub-item 0801 is dispatched to.
    staff: String,
    /// The demo grid worker, who verifies; and its grids.
    worker: String,
    worker_grids: Vec<String>,
}

/// Where the demo accounts' password comes from.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Credentials {
    /// The demo accounts' password: the server's `--demo-password` (it prints its demo
    /// accounts at start).
    #[arg(long, env = "GRIDWALL_DEMO_PASSWORD")]
    pub(crate) password: String,
}

impl Api {
    /// Connects to the server at `base`, signs in as the demo accounts and fetches the grid
    /// ids, which every report needs.
    pub(crate) async fn connect(
        base: &str,
        pool: usize,
        credentials: &Credentials,
    ) -> anyhow::Result<Api> {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(pool)
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()
            .context("cannot build the HTTP client")?;
        let base: Arc<str> = base.trim_end_matches('/').into();
        let grids = fetch_grids(&client, &base).await?;
        let (dispatcher, _) = login(&client, &base, "dispatcher", &credentials.password).await?;
        let (staff, _) = login(&client, &base, "staff-d01", &credentials.password).await?;
        let (worker, worker_grids) = login(&client, &base, "worker", &credentials.password).await?;
        Ok(Api {
            client,
            base,
            grids: grids.into(),
            next_grid: Arc::new(AtomicUsize::new(0)),
            tokens: Arc::new(Tokens {
                dispatcher,
                staff,
                worker,
                worker_grids,
            }),
        })
    }

    /// The grids of the demo grid worker, the only ones whose cases the load can verify.
    pub(crate) fn worker_grids(&self) -> &[String] {
        &self.tokens.worker_grids
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    pub(crate) fn grid_count(&self) -> usize {
        self.grids.len()
    }

    pub(crate) fn grids(&self) -> &[String] {
        &self.grids
    }

    /// Reports one case of `sub_item` (a sub-item of `category`) in `grid`.
    pub(crate) async fn report_in(
        &self,
        grid: &str,
        category: &str,
        sub_item: &str,
    ) -> anyhow::Result<Reported> {
        let body = report_body(grid, category, sub_item, "storm");
        let url = format!("{}/api/cases", self.base);
        let response = self
            .client
            .post(&url)
            .bearer_auth(&self.tokens.dispatcher)
            .json(&body)
            .send()
            .await?;
        read_case(response).await
    }

    /// The next grid, round robin, so that the load is spread over the city the way real
    /// reports are rather than piling onto one grid's counters.
    fn next_grid(&self) -> &str {
        &self.grids[self.next_grid.fetch_add(1, Relaxed) % self.grids.len()]
    }

    /// Reports one case in the next grid.
    pub(crate) async fn report(&self) -> anyhow::Result<Reported> {
        let body = report_body(
            self.next_grid(),
            "municipal_facilities",
            "0801",
            "load test",
        );
        let url = format!("{}/api/cases", self.base);
        let response = self
            .client
            .post(&url)
            .bearer_auth(&self.tokens.dispatcher)
            .json(&body)
            .send()
            .await?;
        read_case(response).await
    }

    /// Reports one case over `conn`: in `grid` when given (as the load's closed loop does,
    /// in the grid worker's grid), in the next grid otherwise.
    pub(crate) async fn report_over(
        &self,
        conn: &mut Conn,
        grid: Option<&str>,
    ) -> anyhow::Result<Reported> {
        let grid = grid.unwrap_or_else(|| self.next_grid());
        let body = serde_json::to_vec(&report_body(
            grid,
            "municipal_facilities",
            "0801",
            "load test",
        ))?;
        let answer = conn
            .post_json("/api/cases", &self.tokens.dispatcher, &body)
            .await?;
        parse_case(answer)
    }

    /// Moves case `id` by `action`; the server answers with the moved case.
    pub(crate) async fn move_case(&self, id: i64, action: Action) -> anyhow::Result<Reported> {
        let url = format!("{}/api/cases/{id}/moves", self.base);
        let response = self
            .client
            .post(&url)
            .bearer_auth(self.token_for(action))
            .json(&move_body(action))
            .send()
            .await?;
        read_case(response).await
    }

    /// Moves case `id` by `action` over `conn`.
    pub(crate) async fn move_over(
        &self,
        conn: &mut Conn,
        id: i64,
        action: Action,
    ) -> anyhow::Result<Reported> {
        let body = serde_json::to_vec(&move_body(action))?;
        let answer = conn
            .post_json(
                &format!("/api/cases/{id}/moves"),
                self.token_for(action),
                &body,
            )
            .await?;
        parse_case(answer)
    }

    /// Each move is made by the role that makes it.
    fn token_for(&self, action: Action) -> &str {
        match action {
            Action::Accept | Action::Resolve => &self.tokens.staff,
            Action::Verify | Action::Return => &self.tokens.worker,
            _ => &self.tokens.dispatcher,
        }
    }
}

fn report_body(grid: &str, category: &str, sub_item: &str, description: &str) -> ReportCase {
    ReportCase {
        category: category.to_owned(),
        sub_item: Some(sub_item.to_owned()),
        grid_id: Some(grid.to_owned()),
        point: None,
        description: description.to_owned(),
    }
}

fn move_body(action: Action) -> MoveCase {
    MoveCase {
        action: action.code().to_owned(),
        note: None,
        department: None,
    }
}

fn parse_case(answer: Answer<'_>) -> anyhow::Result<Reported> {
    if !(200..300).contains(&answer.status) {
        bail!(
            "the server answered {}: {}",
            answer.status,
            String::from_utf8_lossy(answer.body)
        );
    }
    serde_json::from_slice(answer.body).context("the server's answer is not a case")
}

/// Signs in as `login`; returns the bearer token and the account's grids.
async fn login(
    client: &reqwest::Client,
    base: &str,
    login: &str,
    password: &str,
) -> anyhow::Result<(String, Vec<String>)> {
    let url = format!("{base}/api/login");
    let response = client
        .post(&url)
        .json(&serde_json::json!({ "login": login, "password": password }))
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        bail!(
            "signing in as the demo account `{login}` failed ({status}: {text}); pass the server's --demo-password as --password"
        );
    }
    let session: shared::auth::LoginResponse = response
        .json()
        .await
        .context("the login answer is not a session")?;
    Ok((session.token, session.account.grids))
}

async fn read_case(response: reqwest::Response) -> anyhow::Result<Reported> {
    let status = response.status();
    if !status.is_success() {
        let text = response.text().await.unwrap_or_default();
        bail!("the server answered {status}: {text}");
    }
    response
        .json::<Reported>()
        .await
        .context("the server's answer is not a case")
}

async fn fetch_grids(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<String>> {
    let url = format!("{base}/api/grids.geojson");
    let response = client
        .get(&url)
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    ensure!(
        response.status().is_success(),
        "{url} answered {}",
        response.status()
    );
    let collection: serde_json::Value = response.json().await.context("grids are not JSON")?;
    let features = collection["features"]
        .as_array()
        .context("grids.geojson has no features array")?;
    let grids: Vec<String> = features
        .iter()
        .filter_map(|f| f["properties"]["id"].as_str().map(str::to_owned))
        .collect();
    ensure!(
        !grids.is_empty(),
        "the server has no grids to report in (start it with --demo-city full or bare)"
    );
    Ok(grids)
}
