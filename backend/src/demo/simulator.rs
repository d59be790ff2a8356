//! The live simulator: a client of the case commands that reports cases and walks open ones
//! around the closed loop at a steady rate of transitions, and records grid workers' house
//! visits, so a new wall moves from its first minute. At the default rate it makes a few
//! reports a minute; at 6,000 transitions a minute (100 a second) it is a load for demos.

use crate::services::cases::Cases;
use gridwall_core::geo::GridIndex;
use gridwall_core::policy::Principal;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use shared::case::{Action, CaseState, Category, Point, ReportCase};
use shared::taxonomy;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const ACTOR: &str = "simulator";

fn description(category: Category, rng: &mut StdRng) -> String {
    let options: &[&str] = match category {
        Category::Livelihood => &[
            "居民反映楼道照明损坏",
            "独居老人需要上门探访",
            "小区供暖温度不达标",
        ],
        Category::Environment => &["垃圾桶满溢未及时清运", "路边堆放建筑垃圾", "公共厕所卫生差"],
        Category::TrafficSafety => &["路口信号灯故障", "道路井盖缺失", "占用盲道停车"],
        Category::DisputeMediation => &["邻里因噪音发生纠纷", "物业费缴纳争议", "租房押金纠纷"],
        Category::PublicSecurity => &["小区监控探头损坏", "夜间有可疑人员徘徊", "单元门禁失灵"],
        Category::FireSafety => &["楼道堆放杂物堵塞消防通道", "电动车在楼内充电", "灭火器过期"],
        Category::WorkSafety => &["施工工地未设围挡", "加油站周边违规用火", "脚手架搭设不规范"],
        Category::MunicipalFacilities => {
            &["路灯杆倾斜，存在安全隐患", "人行道砖松动", "雨水箅子堵塞"]
        }
        Category::CityAppearance => &["店外经营占道", "违规张贴小广告", "流动摊贩占用人行道"],
        Category::FoodDrugSafety => &["无证餐饮摊点", "超市售卖过期食品", "药店无执业药师"],
        Category::Ecology => &["河道漂浮垃圾", "露天焚烧秸秆", "餐馆油烟扰民"],
        Category::HousingSafety => &["老旧楼房外墙脱落", "阳台违规搭建", "房屋出现裂缝"],
        Category::SpecialGroups => &[
            "社区矫正人员未按时报到",
            "困境儿童需要帮扶",
            "精神障碍患者需随访",
        ],
        Category::Emergency => &["积水路段影响通行", "大风刮倒广告牌", "树木倒伏压住电线"],
        Category::MarketOrder => &["商户价格标示不清", "无照经营", "虚假宣传广告"],
    };
    options
        .choose(rng)
        .copied()
        .unwrap_or("现场发现问题")
        .to_owned()
}

/// A report somewhere in the city: a random grid, a point near its middle, a sub-item.
fn random_report(rng: &mut StdRng, grids: &GridIndex) -> Option<ReportCase> {
    let (grid_id, shape) = grids.grid_at(rng.random_range(0..grids.len().max(1)))?;
    let category = *Category::ALL.choose(rng).unwrap_or(&Category::Livelihood);
    let sub_item = taxonomy::sub_items_of(category)
        .collect::<Vec<_>>()
        .choose(rng)
        .map(|s| s.code.to_owned());
    let p = shape.label_point();
    let b = shape.bbox();
    let jittered = [
        p[0] + (b[2] - b[0]) * rng.random_range(-0.1..0.1),
        p[1] + (b[3] - b[1]) * rng.random_range(-0.1..0.1),
    ];
    let p = if shape.contains(jittered) {
        jittered
    } else {
        p
    };
    Some(ReportCase {
        category: category.code().to_owned(),
        sub_item,
        grid_id: Some(grid_id.to_owned()),
        point: Some(Point {
            lon: p[0],
            lat: p[1],
        }),
        description: description(category, rng),
    })
}

/// The next move along the closed loop, with one failed check in ten.
fn next_move(state: CaseState, rng: &mut StdRng) -> Action {
    match state {
        CaseState::Reported | CaseState::Escalated => Action::Dispatch,
        CaseState::Dispatched | CaseState::Returned => Action::Accept,
        CaseState::Accepted => Action::Resolve,
        CaseState::Resolved if rng.random_bool(0.1) => Action::Return,
        CaseState::Resolved => Action::Verify,
        CaseState::Verified => Action::Close,
        CaseState::Closed | CaseState::Rejected => Action::Reopen,
    }
}

/// What the simulator knows of the city: the open cases it may move (newest first, refreshed
/// now and then) and the grid workers who can make house visits.
struct Picture {
    open: Vec<(i64, CaseState)>,
    workers: Vec<(i64, String)>,
    refreshed: tokio::time::Instant,
}

/// Runs until `shutdown`, making one transition every `every`.
pub async fn run_simulator(
    cases: Cases,
    grids: Arc<GridIndex>,
    every: Duration,
    shutdown: CancellationToken,
) {
    if grids.is_empty() {
        tracing::warn!("the city has no grids; the simulator has nowhere to report from");
        return;
    }
    let mut rng = StdRng::from_os_rng();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut picture = Picture {
        open: Vec::new(),
        workers: cases.grid_workers().await.unwrap_or_default(),
        refreshed: tokio::time::Instant::now(),
    };
    tracing::info!(
        per_minute = (60_000.0 / every.as_millis().max(1) as f64).round(),
        "live simulator started"
    );
    let mut first = true;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {
                if let Err(err) = step(&cases, &grids, &mut picture, &mut rng, std::mem::take(&mut first)).await {
                    tracing::warn!(error = %err, "simulator step failed");
                }
            }
        }
    }
}

/// One transition: a new report about one time in six (always the first time), otherwise the
/// next move of an open case; now and then a house visit as well.
async fn step(
    cases: &Cases,
    grids: &GridIndex,
    picture: &mut Picture,
    rng: &mut StdRng,
    first: bool,
) -> Result<(), crate::error::AppError> {
    if picture.open.is_empty() || picture.refreshed.elapsed() > Duration::from_secs(30) {
        picture.open = cases.open_cases(500).await?;
        picture.refreshed = tokio::time::Instant::now();
    }
    // A case takes about five moves to close; one report in six keeps the open count level.
    if first || picture.open.is_empty() || rng.random_bool(1.0 / 6.0) {
        if let Some(report) = random_report(rng, grids) {
            // The grid's own worker reports it, when the grid has one.
            let reporter = picture
                .workers
                .iter()
                .find(|(_, grid)| Some(grid) == report.grid_id.as_ref())
                .map(|(id, _)| *id);
            let who = Principal {
                member_id: reporter,
                ..Principal::system(ACTOR)
            };
            let case = cases.report(report, Arc::new(who), Vec::new()).await?;
            picture.open.insert(0, (case.id, case.state));
        }
    } else {
        // Recent cases move more often than old ones.
        let i = (rng.random::<f64>().powi(2) * picture.open.len() as f64) as usize;
        let (id, state) = picture.open[i.min(picture.open.len() - 1)];
        // One report in fifty is not a matter for the platform.
        let action = if state == CaseState::Reported && rng.random_bool(0.02) {
            Action::Reject
        } else {
            next_move(state, rng)
        };
        match cases
            .apply(
                id,
                action,
                Arc::new(Principal::system(ACTOR)),
                None,
                None,
                Vec::new(),
            )
            .await
        {
            Ok(case) if matches!(case.state, CaseState::Closed | CaseState::Rejected) => {
                picture.open.retain(|(open_id, _)| *open_id != id);
            }
            Ok(case) => {
                if let Some(slot) = picture.open.iter_mut().find(|(open_id, _)| *open_id == id) {
                    slot.1 = case.state;
                }
            }
            // Someone else moved the case meanwhile: look again next time.
            Err(
                crate::error::AppError::MoveNotAllowed(_)
                | crate::error::AppError::FlagNotAllowed(_),
            ) => picture.open.clear(),
            Err(err) => return Err(err),
        }
    }
    if !picture.workers.is_empty() && rng.random_bool(0.25) {
        let (member, grid) = &picture.workers[rng.random_range(0..picture.workers.len())];
        let household = format!(
            "{}栋{}单元{}室",
            rng.random_range(1..=30),
            rng.random_range(1..=6),
            rng.random_range(101..=1802)
        );
        cases.record_house_visit(grid, *member, &household).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_valid_and_inside_their_grid() {
        let mut rng = StdRng::seed_from_u64(7);
        let areas = crate::demo::areas(7);
        let grids = GridIndex::new(
            areas
                .grids
                .iter()
                .map(|g| (g.id.clone(), g.shape.clone()))
                .collect(),
        );
        for _ in 0..1_000 {
            let r = random_report(&mut rng, &grids).expect("a report");
            let p = r.point.expect("a point");
            assert_eq!(grids.locate([p.lon, p.lat]), r.grid_id.as_deref(), "{p:?}");
            let category = Category::from_code(&r.category).expect("a category");
            let item =
                taxonomy::sub_item(r.sub_item.as_deref().expect("a sub-item")).expect("known");
            assert_eq!(item.category, category);
            assert!(!r.description.is_empty());
        }
        assert!(random_report(&mut rng, &GridIndex::default()).is_none());
    }

    #[test]
    fn every_simulated_move_is_allowed() {
        let mut rng = StdRng::seed_from_u64(7);
        for state in CaseState::ALL {
            for _ in 0..20 {
                let action = next_move(state, &mut rng);
                assert!(state.next(action).is_ok(), "{state} cannot {action}");
            }
        }
    }
}
