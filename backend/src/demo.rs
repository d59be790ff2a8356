//! The live simulator: a client of the case commands that reports cases every few seconds and
//! walks open ones around the closed loop, so a new wall moves from its first minute.

use crate::cases::Cases;
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use shared::case::{Action, CaseState, Category, Point, ReportCase};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const ACTOR: &str = "simulator";

/// Daqing's nine districts and counties with the rough centres of their built-up areas.
const CENTRES: [(&str, f64, f64); 9] = [
    ("萨尔图区", 125.03, 46.60),
    ("让胡路区", 124.87, 46.65),
    ("龙凤区", 125.12, 46.55),
    ("红岗区", 124.89, 46.40),
    ("大同区", 124.81, 46.04),
    ("肇州县", 125.27, 45.70),
    ("肇源县", 125.08, 45.52),
    ("林甸县", 124.86, 47.18),
    ("杜尔伯特蒙古族自治县", 124.44, 46.86),
];

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

fn random_report(rng: &mut StdRng) -> ReportCase {
    let category = *Category::ALL.choose(rng).unwrap_or(&Category::Livelihood);
    let (_, lon, lat) = *CENTRES.choose(rng).unwrap_or(&CENTRES[0]);
    // Most cases fall near a district's centre; a few kilometres of spread.
    let lon = lon + rng.random_range(-0.06..0.06);
    let lat = lat + rng.random_range(-0.04..0.04);
    ReportCase {
        category: category.code().to_owned(),
        grid_id: None,
        point: Some(Point { lon, lat }),
        description: description(category, rng),
    }
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

/// Runs until `shutdown`: each round reports one case and advances a few open ones.
pub async fn run_simulator(cases: Cases, every: Duration, shutdown: CancellationToken) {
    let mut rng = StdRng::from_os_rng();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::info!(
        every_ms = every.as_millis() as u64,
        "live simulator started"
    );
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            _ = tick.tick() => {
                if let Err(err) = round(&cases, &mut rng).await {
                    tracing::warn!(error = %err, "simulator round failed");
                }
            }
        }
    }
}

async fn round(cases: &Cases, rng: &mut StdRng) -> Result<(), crate::error::AppError> {
    cases.report(random_report(rng), ACTOR).await?;
    // A case needs five moves to close; five or so moves a round keeps the open count level.
    let open = cases.open_cases(500).await?;
    let moves = rng.random_range(3..=7);
    for &(id, state) in open.choose_multiple(rng, moves) {
        // One report in fifty is not a matter for the platform.
        let action = if state == CaseState::Reported && rng.random_bool(0.02) {
            Action::Reject
        } else {
            next_move(state, rng)
        };
        cases.apply(id, action, ACTOR, None).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_valid_and_inside_the_city() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..1_000 {
            let r = random_report(&mut rng);
            let p = r.point.expect("a point");
            assert!(crate::cases::Extent::DAQING.contains(p), "{p:?}");
            assert!(Category::from_code(&r.category).is_some());
            assert!(!r.description.is_empty());
        }
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
