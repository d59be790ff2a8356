//! The demo city's people: the "1+N" grid team with its history of joins, leaves and
//! transfers, people and housing per grid, the places on the map, and house visits.

use crate::store::bulk::{Bulk, Val};
use crate::store::city::{Areas, Housing};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::time::{DAY_MS, local_day, local_day_start_ms};
use sqlx::AnyConnection;

/// Full-time grid workers, the "1" of "1+N" (the seed's figure).
pub const GRID_WORKERS: usize = 5_226;
/// People covered by the platform (the seed's figure).
pub const RESIDENTS: i64 = 1_450_000;

/// The "N": co-governance members by kind, with the demo city's headcounts.
pub const CO_GOVERNANCE: [(&str, &str, usize); 6] = [
    ("community_police", "社区民警", 620),
    ("medical_worker", "医务人员", 980),
    ("sent_down_cadre", "下沉干部", 1_150),
    ("building_head", "楼栋长/单元长", 8_600),
    ("volunteer", "志愿者", 12_400),
    ("utility_staff", "水电气热人员", 540),
];

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林",
    "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹",
    "袁", "邓", "许", "傅",
];
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "建", "国", "红", "海", "晨", "宇",
    "欣", "佳", "志", "鹏",
];

fn person_name(rng: &mut StdRng) -> String {
    let mut name = SURNAMES[rng.random_range(0..SURNAMES.len())].to_owned();
    for _ in 0..rng.random_range(1..=2) {
        name.push_str(GIVEN[rng.random_range(0..GIVEN.len())]);
    }
    name
}

/// People and housing for every grid: urban grids are dense, rural ones sparse, and the city
/// covers exactly [`RESIDENTS`] people.
pub fn assign_housing(areas: &mut Areas, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x4855_5349_4e47);
    for g in &mut areas.grids {
        let urban = g.kind == "urban";
        let residents = if urban {
            rng.random_range(300..=560)
        } else {
            rng.random_range(100..=220)
        };
        g.housing = Housing {
            residents,
            ..Housing::default()
        };
    }
    // Scale to the seed's figure, then put the rounding remainder on the first grid.
    let total: i64 = areas.grids.iter().map(|g| g.housing.residents).sum();
    if total > 0 {
        for g in &mut areas.grids {
            g.housing.residents = g.housing.residents * RESIDENTS / total;
        }
        let scaled: i64 = areas.grids.iter().map(|g| g.housing.residents).sum();
        if let Some(first) = areas.grids.first_mut() {
            first.housing.residents += RESIDENTS - scaled;
        }
    }
    for g in &mut areas.grids {
        let urban = g.kind == "urban";
        let r = g.housing.residents;
        let households = (r * 10 / if urban { 26 } else { 29 }).max(1);
        g.housing.households = households;
        g.housing.houses = if urban {
            households * 96 / 100
        } else {
            households
        };
        g.housing.organisations = if urban {
            rng.random_range(3..=20)
        } else {
            rng.random_range(0..=4)
        };
        g.housing.key_places = if urban {
            rng.random_range(0..=3)
        } else {
            rng.random_range(0..=1)
        };
    }
}

/// One row of `members`.
fn member_row(
    id: i64,
    name: String,
    kind: &str,
    street_code: &str,
    grid_id: Option<&str>,
    active: bool,
) -> Vec<Val> {
    vec![
        id.into(),
        name.into(),
        kind.into(),
        street_code.into(),
        grid_id.map(str::to_owned).into(),
        i64::from(active).into(),
    ]
}

/// The grid team as generated: who works in which grid, for house visits and reporting.
#[derive(Debug, Clone, Default)]
pub struct Team {
    /// `(member id, grid index)` of every active full-time grid worker.
    pub workers: Vec<(i64, usize)>,
    /// The first worker of each grid, by grid index.
    pub worker_of_grid: Vec<i64>,
}

/// Writes the grid team and its changes; returns who works where.
pub async fn insert_team(
    conn: &mut AnyConnection,
    areas: &Areas,
    seed: u64,
    now_ms: i64,
) -> Result<Team, sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5445_414d);
    let launch = now_ms - 730 * DAY_MS;
    let history_start = now_ms - 273 * DAY_MS;
    let mut members = Bulk::new(
        "members",
        &["id", "name", "kind", "street_code", "grid_id", "active"],
    );
    // Changes refer to members, so they are written after all the members.
    let mut changes: Vec<Vec<Val>> = Vec::new();
    let grids = &areas.grids;
    let mut team = Team {
        workers: Vec::with_capacity(GRID_WORKERS),
        worker_of_grid: vec![0; grids.len()],
    };
    if grids.is_empty() {
        return Ok(team);
    }
    // Every grid gets one full-time worker; the busiest urban grids get a second.
    let mut by_residents: Vec<usize> = (0..grids.len()).collect();
    by_residents.sort_by_key(|&i| std::cmp::Reverse(grids[i].housing.residents));
    let assignments: Vec<usize> = (0..grids.len())
        .chain(
            by_residents
                .iter()
                .copied()
                .cycle()
                .take(GRID_WORKERS.saturating_sub(grids.len())),
        )
        .take(GRID_WORKERS)
        .collect();
    let mut id: i64 = 0;
    for (n, &gi) in assignments.iter().enumerate() {
        id += 1;
        let g = &grids[gi];
        let name = person_name(&mut rng);
        members
            .push(
                conn,
                member_row(id, name, "grid_worker", &g.street_code, Some(&g.id), true),
            )
            .await?;
        // Most of the team joined when the platform launched; the rest over the years since.
        let joined = if rng.random_bool(0.7) {
            launch
        } else {
            rng.random_range(launch..now_ms)
        };
        let transferred = joined < history_start && rng.random_bool(0.03);
        let from = if transferred {
            Some(grids[(gi + 1 + n % 7) % grids.len()].id.clone())
        } else {
            None
        };
        changes.push(vec![
            id.into(),
            "join".into(),
            joined.into(),
            Val::OptText(None),
            from.clone().or(Some(g.id.clone())).into(),
        ]);
        if let Some(from) = from {
            let at = rng.random_range(history_start..now_ms);
            changes.push(vec![
                id.into(),
                "transfer".into(),
                at.into(),
                Some(from).into(),
                Some(g.id.clone()).into(),
            ]);
        }
        if team.worker_of_grid[gi] == 0 {
            team.worker_of_grid[gi] = id;
        }
        team.workers.push((id, gi));
    }
    // Workers who left during the last nine months: on record, no longer counted.
    for _ in 0..GRID_WORKERS / 40 {
        id += 1;
        let gi = rng.random_range(0..grids.len());
        let g = &grids[gi];
        let name = person_name(&mut rng);
        members
            .push(
                conn,
                member_row(id, name, "grid_worker", &g.street_code, None, false),
            )
            .await?;
        changes.push(vec![
            id.into(),
            "join".into(),
            launch.into(),
            Val::OptText(None),
            Some(g.id.clone()).into(),
        ]);
        let left = rng.random_range(history_start..now_ms);
        changes.push(vec![
            id.into(),
            "leave".into(),
            left.into(),
            Some(g.id.clone()).into(),
            Val::OptText(None),
        ]);
    }
    for (kind, _, count) in CO_GOVERNANCE {
        for _ in 0..count {
            id += 1;
            let g = &grids[rng.random_range(0..grids.len())];
            let name = person_name(&mut rng);
            members
                .push(
                    conn,
                    member_row(id, name, kind, &g.street_code, Some(&g.id), true),
                )
                .await?;
            let joined = rng.random_range(launch..now_ms);
            changes.push(vec![
                id.into(),
                "join".into(),
                joined.into(),
                Val::OptText(None),
                Some(g.id.clone()).into(),
            ]);
        }
    }
    members.finish(conn).await?;
    let mut bulk = Bulk::new(
        "team_changes",
        &["member_id", "kind", "at", "from_grid", "to_grid"],
    );
    for row in changes {
        bulk.push(conn, row).await?;
    }
    bulk.finish(conn).await?;
    Ok(team)
}

const KEY_PLACE_KINDS: &[&str] = &[
    "加油站",
    "学校",
    "医院",
    "农贸市场",
    "养老院",
    "幼儿园",
    "商场",
    "燃气站",
];

/// Writes grid stations (one per community), mediation centres (one per street, one per
/// district) and the key places counted in each grid.
pub async fn insert_places(
    conn: &mut AnyConnection,
    areas: &Areas,
    seed: u64,
) -> Result<u64, sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x504c_4143);
    let mut places = Bulk::new("places", &["id", "kind", "name", "grid_id", "lon", "lat"]);
    let community_names: std::collections::BTreeMap<&str, &str> = areas
        .communities
        .iter()
        .map(|c| (c.code.as_str(), c.name_zh.as_str()))
        .collect();
    let mut seen_communities = std::collections::BTreeSet::new();
    for g in &areas.grids {
        let p = g.shape.label_point();
        if let Some(c) = &g.community_code
            && seen_communities.insert(c.clone())
        {
            let name = format!(
                "{}网格驿站",
                community_names.get(c.as_str()).copied().unwrap_or(&g.name)
            );
            places
                .push(
                    conn,
                    vec![
                        format!("S-{c}").into(),
                        "grid_station".into(),
                        name.into(),
                        Some(g.id.clone()).into(),
                        p[0].into(),
                        p[1].into(),
                    ],
                )
                .await?;
        }
        let ring = g.shape.polygons.first().and_then(|rings| rings.first());
        for k in 0..g.housing.key_places {
            let kind = KEY_PLACE_KINDS[rng.random_range(0..KEY_PLACE_KINDS.len())];
            // Part of the way from the label point towards a vertex: inside a convex grid.
            let q = match ring {
                Some(ring) if ring.len() > 1 => {
                    let v = ring[(k as usize * 3 + 1) % (ring.len() - 1)];
                    [p[0] + (v[0] - p[0]) * 0.4, p[1] + (v[1] - p[1]) * 0.4]
                }
                _ => p,
            };
            places
                .push(
                    conn,
                    vec![
                        format!("K-{}-{k}", g.id).into(),
                        "key_place".into(),
                        format!("{}{}", g.name, kind).into(),
                        Some(g.id.clone()).into(),
                        q[0].into(),
                        q[1].into(),
                    ],
                )
                .await?;
        }
    }
    // A mediation centre in every street and a comprehensive service centre in every district.
    let centres = areas
        .streets
        .iter()
        .map(|s| (&s.code, format!("{}矛盾纠纷调解中心", s.name_zh), &s.shape))
        .chain(areas.districts.iter().map(|d| {
            (
                &d.code,
                format!("{}社会治理综合服务中心", d.name_zh),
                &d.shape,
            )
        }));
    for (code, name, shape) in centres {
        let p = shape.label_point();
        places
            .push(
                conn,
                vec![
                    format!("M-{code}").into(),
                    "mediation_centre".into(),
                    name.into(),
                    Val::OptText(None),
                    p[0].into(),
                    p[1].into(),
                ],
            )
            .await?;
    }
    places.finish(conn).await
}

/// Writes house visits over the last `days` days up to now: each full-time worker visits a
/// few households on working days, during working hours.
#[allow(clippy::too_many_arguments)]
pub async fn insert_house_visits(
    conn: &mut AnyConnection,
    areas: &Areas,
    team: &Team,
    days: i64,
    seed: u64,
    now_ms: i64,
    utc_offset_minutes: i32,
) -> Result<u64, sqlx::Error> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5649_5349);
    let mut visits = Bulk::new("house_visits", &["grid_id", "member_id", "at", "household"]);
    let today = local_day(now_ms, utc_offset_minutes);
    for day in today - days..=today {
        // 1970-01-01 was a Thursday: day 0 is weekday 3 counting from Monday = 0.
        let weekday = (day + 3).rem_euclid(7);
        let rate = if weekday >= 5 { 0.3 } else { 1.0 };
        let start = local_day_start_ms(day, utc_offset_minutes);
        // A day's visits are drawn worker by worker but written in time order, as the
        // server numbers the visits it records: look back cuts the visits by number.
        let mut day_visits = Vec::new();
        for &(member, gi) in &team.workers {
            if !rng.random_bool(rate * 0.8) {
                continue;
            }
            for _ in 0..rng.random_range(1..=4) {
                // Between 08:30 and 17:30 local time.
                let at = start + rng.random_range(30_600_000..63_000_000);
                if at > now_ms {
                    continue;
                }
                let g = &areas.grids[gi];
                let household = if g.kind == "urban" {
                    format!(
                        "{}栋{}单元{}室",
                        rng.random_range(1..=30),
                        rng.random_range(1..=6),
                        rng.random_range(101..=1802)
                    )
                } else {
                    format!(
                        "{}组{}号",
                        rng.random_range(1..=12),
                        rng.random_range(1..=80)
                    )
                };
                day_visits.push((at, g.id.clone(), member, household));
            }
        }
        day_visits.sort_by_key(|v| v.0);
        for (at, grid, member, household) in day_visits {
            visits
                .push(
                    conn,
                    vec![grid.into(), member.into(), at.into(), household.into()],
                )
                .await?;
        }
    }
    visits.finish(conn).await
}
