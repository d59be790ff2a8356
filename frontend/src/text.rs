//! Every string the wall shows, in one place, so that a translation touches one file.

pub const TITLE: &str = "大庆市“一网统管”指挥中心";
pub const SUBTITLE: &str = "网格化服务管理 · 实时态势";

pub const REPORTED_TODAY: &str = "今日上报";
pub const REPORTED_TOTAL: &str = "累计上报";
pub const OPEN: &str = "办理中";
pub const CLOSED: &str = "已办结";
pub const CLOSURE_RATE: &str = "办结率";
pub const CASES_UNIT: &str = "件";
pub const CATEGORIES: &str = "事件分类统计";
pub const CATEGORY: &str = "类别";

pub const LINK_LIVE: &str = "实时";
pub const LINK_RECONNECTING: &str = "重新连接中";
pub const LINK_STALE: &str = "数据已停止更新";
pub const LINK_NO_DATA: &str = "尚无数据";

/// "data N s old", shown beside the link indicator whenever the wall is not live.
pub fn data_age(age_ms: f64) -> String {
    let secs = (age_ms / 1000.0).floor() as u64;
    if secs < 120 {
        format!("数据 {secs} 秒前")
    } else if secs < 7200 {
        format!("数据 {} 分钟前", secs / 60)
    } else {
        format!("数据 {} 小时前", secs / 3600)
    }
}
