//! Case taxonomy of the gridwall command wall: the fixed list of case sub-items (小项) under each of the fifteen categories, and the Daqing city and district departments (职能部门) that handle them by default.
//!
//! The data is static and dependency-free. Chinese names are what the command room reads; English names serve code and the English interface.

use crate::case::Category;

/// The administrative level at which a department sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DepartmentLevel {
    /// The department is a municipal bureau, centre or city-wide utility.
    City,
    /// The department belongs to one of Daqing's five districts or four counties.
    District,
}

/// A department (职能部门) that cases can be dispatched to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Department {
    /// The stable code, from "D01" to "D87".
    pub code: &'static str,
    /// The Chinese name shown on the command wall.
    pub name_zh: &'static str,
    /// The English name used in code and in the English interface.
    pub name_en: &'static str,
    /// Whether the department is city-level or district-level.
    pub level: DepartmentLevel,
}

/// A case sub-item (小项) within one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubItem {
    /// The four-digit code: the category's two-digit position (01 to 15) followed by a two-digit index.
    pub code: &'static str,
    /// The category the sub-item belongs to.
    pub category: Category,
    /// The Chinese name shown on the command wall.
    pub name_zh: &'static str,
    /// The English name used in code and in the English interface.
    pub name_en: &'static str,
    /// The default time limit for handling a case of this kind, in hours.
    pub time_limit_hours: u32,
    /// The code of the department that handles this sub-item by default.
    pub department: &'static str,
}

const fn city(code: &'static str, name_zh: &'static str, name_en: &'static str) -> Department {
    Department {
        code,
        name_zh,
        name_en,
        level: DepartmentLevel::City,
    }
}

const fn district(code: &'static str, name_zh: &'static str, name_en: &'static str) -> Department {
    Department {
        code,
        name_zh,
        name_en,
        level: DepartmentLevel::District,
    }
}

const fn item(
    code: &'static str,
    category: Category,
    name_zh: &'static str,
    name_en: &'static str,
    time_limit_hours: u32,
    department: &'static str,
) -> SubItem {
    SubItem {
        code,
        category,
        name_zh,
        name_en,
        time_limit_hours,
        department,
    }
}

/// All 87 handling departments.
///
/// Codes D01 to D60 are city-level units and D61 to D87 are district-level units.
/// A district-level unit stands in as the default for a few sub-items that are normally handled at district or county level; routing code should replace it with the matching unit of the district where the case occurred.
#[rustfmt::skip]
pub static DEPARTMENTS: [Department; 87] = [
    // City-level bureaus, centres and utilities follow.
    city("D01", "大庆市城市管理综合执法局", "Daqing Urban Management and Comprehensive Law Enforcement Bureau"),
    city("D02", "大庆市住房和城乡建设局", "Daqing Housing and Urban-Rural Development Bureau"),
    city("D03", "大庆市生态环境局", "Daqing Ecology and Environment Bureau"),
    city("D04", "大庆市公安局", "Daqing Public Security Bureau"),
    city("D05", "大庆市消防救援支队", "Daqing Fire and Rescue Detachment"),
    city("D06", "大庆市市场监督管理局", "Daqing Market Supervision and Administration Bureau"),
    city("D07", "大庆市交通运输局", "Daqing Transport Bureau"),
    city("D08", "大庆市卫生健康委员会", "Daqing Health Commission"),
    city("D09", "大庆市民政局", "Daqing Civil Affairs Bureau"),
    city("D10", "大庆市司法局", "Daqing Justice Bureau"),
    city("D11", "大庆市应急管理局", "Daqing Emergency Management Bureau"),
    city("D12", "大庆市水务局", "Daqing Water Affairs Bureau"),
    city("D13", "国网大庆供电公司", "State Grid Daqing Power Supply Company"),
    city("D14", "大庆市燃气公司", "Daqing Gas Company"),
    city("D15", "大庆市热力公司", "Daqing Heating Company"),
    city("D16", "大庆市自来水公司", "Daqing Water Supply Company"),
    city("D17", "大庆市通信运营商联合维护中心", "Daqing Telecom Operators Joint Maintenance Centre"),
    city("D18", "中国铁塔大庆市分公司", "China Tower Daqing Branch"),
    city("D19", "黑龙江广电网络大庆分公司", "Heilongjiang Cable Network Daqing Branch"),
    city("D20", "大庆市自然资源和规划局", "Daqing Natural Resources and Planning Bureau"),
    city("D21", "大庆市教育局", "Daqing Education Bureau"),
    city("D22", "大庆市人力资源和社会保障局", "Daqing Human Resources and Social Security Bureau"),
    city("D23", "大庆市医疗保障局", "Daqing Healthcare Security Bureau"),
    city("D24", "大庆市退役军人事务局", "Daqing Veterans Affairs Bureau"),
    city("D25", "大庆市农业农村局", "Daqing Agriculture and Rural Affairs Bureau"),
    city("D26", "大庆市文化广电和旅游局", "Daqing Culture, Radio, Television and Tourism Bureau"),
    city("D27", "大庆市商务局", "Daqing Commerce Bureau"),
    city("D28", "大庆市工业和信息化局", "Daqing Industry and Information Technology Bureau"),
    city("D29", "大庆市信访局", "Daqing Letters and Calls Bureau"),
    city("D30", "大庆市营商环境建设监督局", "Daqing Business Environment Supervision Bureau"),
    city("D31", "大庆市残疾人联合会", "Daqing Disabled Persons' Federation"),
    city("D32", "大庆市妇女联合会", "Daqing Women's Federation"),
    city("D33", "共青团大庆市委员会", "Communist Youth League Daqing Committee"),
    city("D34", "大庆市总工会", "Daqing Federation of Trade Unions"),
    city("D35", "大庆市公安局交通警察支队", "Daqing Traffic Police Detachment"),
    city("D36", "大庆市公安局禁毒支队", "Daqing Narcotics Control Detachment"),
    city("D37", "大庆市公安局反电信网络诈骗中心", "Daqing Anti-Telecom Fraud Centre"),
    city("D38", "大庆市环境卫生管理中心", "Daqing Environmental Sanitation Management Centre"),
    city("D39", "大庆市市政设施维护管理中心", "Daqing Municipal Facilities Maintenance Centre"),
    city("D40", "大庆市路灯管理处", "Daqing Street Lighting Management Office"),
    city("D41", "大庆市城市排水管理中心", "Daqing Urban Drainage Management Centre"),
    city("D42", "大庆市园林绿化管理中心", "Daqing Landscaping and Greening Management Centre"),
    city("D43", "大庆市公共交通有限公司", "Daqing Public Transport Company"),
    city("D44", "大庆市物业管理服务中心", "Daqing Property Management Service Centre"),
    city("D45", "大庆市住房公积金管理中心", "Daqing Housing Provident Fund Management Centre"),
    city("D46", "大庆市动物疫病预防控制中心", "Daqing Animal Disease Prevention and Control Centre"),
    city("D47", "大庆市疾病预防控制中心", "Daqing Centre for Disease Control and Prevention"),
    city("D48", "大庆市急救中心", "Daqing Emergency Medical Centre"),
    city("D49", "大庆市气象局", "Daqing Meteorological Bureau"),
    city("D50", "大庆市人民防空办公室", "Daqing Civil Air Defence Office"),
    city("D51", "大庆市交通运输综合行政执法支队", "Daqing Transport Law Enforcement Detachment"),
    city("D52", "大庆市公路事业发展中心", "Daqing Highway Development Centre"),
    city("D53", "大庆市救助管理站", "Daqing Relief Management Station"),
    city("D54", "大庆市法律援助中心", "Daqing Legal Aid Centre"),
    city("D55", "大庆市劳动保障监察支队", "Daqing Labour Security Inspection Detachment"),
    city("D56", "大庆市医疗纠纷人民调解委员会", "Daqing Medical Dispute People's Mediation Committee"),
    city("D57", "大庆油田有限责任公司", "Daqing Oilfield Company"),
    city("D58", "大庆市烟草专卖局", "Daqing Tobacco Monopoly Bureau"),
    city("D59", "大庆市邮政管理局", "Daqing Postal Administration"),
    city("D60", "大庆市殡葬管理处", "Daqing Funeral Administration Office"),
    // District-level units of the five districts and four counties follow.
    district("D61", "萨尔图区城管执法中队", "Sartu District Urban Management Squad"),
    district("D62", "萨尔图区社会治理综合服务中心", "Sartu District Social Governance Service Centre"),
    district("D63", "萨尔图区市场监督管理局", "Sartu District Market Supervision Bureau"),
    district("D64", "让胡路区城管执法中队", "Ranghulu District Urban Management Squad"),
    district("D65", "让胡路区住建局", "Ranghulu District Housing and Construction Bureau"),
    district("D66", "让胡路区民政局", "Ranghulu District Civil Affairs Bureau"),
    district("D67", "龙凤区城管执法中队", "Longfeng District Urban Management Squad"),
    district("D68", "龙凤区应急管理局", "Longfeng District Emergency Management Bureau"),
    district("D69", "龙凤区卫生健康局", "Longfeng District Health Bureau"),
    district("D70", "红岗区城管执法中队", "Honggang District Urban Management Squad"),
    district("D71", "红岗区应急管理局", "Honggang District Emergency Management Bureau"),
    district("D72", "红岗区司法局", "Honggang District Justice Bureau"),
    district("D73", "大同区农业农村局", "Datong District Agriculture and Rural Affairs Bureau"),
    district("D74", "大同区住建局", "Datong District Housing and Construction Bureau"),
    district("D75", "大同区综合行政执法局", "Datong District Comprehensive Law Enforcement Bureau"),
    district("D76", "肇州县农业农村局", "Zhaozhou County Agriculture and Rural Affairs Bureau"),
    district("D77", "肇州县住房和城乡建设局", "Zhaozhou County Housing and Urban-Rural Development Bureau"),
    district("D78", "肇州县水务局", "Zhaozhou County Water Affairs Bureau"),
    district("D79", "肇源县水务局", "Zhaoyuan County Water Affairs Bureau"),
    district("D80", "肇源县应急管理局", "Zhaoyuan County Emergency Management Bureau"),
    district("D81", "肇源县农业农村局", "Zhaoyuan County Agriculture and Rural Affairs Bureau"),
    district("D82", "林甸县林业和草原局", "Lindian County Forestry and Grassland Bureau"),
    district("D83", "林甸县住房和城乡建设局", "Lindian County Housing and Urban-Rural Development Bureau"),
    district("D84", "林甸县文化广电和旅游局", "Lindian County Culture, Radio, Television and Tourism Bureau"),
    district("D85", "杜尔伯特蒙古族自治县林业和草原局", "Dorbod Mongol Autonomous County Forestry and Grassland Bureau"),
    district("D86", "杜尔伯特蒙古族自治县农业农村局", "Dorbod Mongol Autonomous County Agriculture and Rural Affairs Bureau"),
    district("D87", "杜尔伯特蒙古族自治县民族宗教事务局", "Dorbod Mongol Autonomous County Ethnic and Religious Affairs Bureau"),
];

/// All 332 case sub-items, grouped by category in the order of the `Category` enum.
#[rustfmt::skip]
pub static SUB_ITEMS: [SubItem; 332] = [
    // Category 01, 民生服务 (Livelihood), has 30 sub-items.
    item("0101", Category::Livelihood, "供暖不热", "Insufficient indoor heating", 24, "D15"),
    item("0102", Category::Livelihood, "暖气管道跑水", "Leaking radiator or indoor heating pipe", 6, "D15"),
    item("0103", Category::Livelihood, "停水或水压不足", "Water outage or low water pressure", 12, "D16"),
    item("0104", Category::Livelihood, "自来水水质异常", "Abnormal tap water quality", 8, "D16"),
    item("0105", Category::Livelihood, "居民用电故障", "Residential power failure", 6, "D13"),
    item("0106", Category::Livelihood, "燃气供应中断", "Gas supply interruption", 8, "D14"),
    item("0107", Category::Livelihood, "物业服务不到位", "Inadequate property management service", 72, "D44"),
    item("0108", Category::Livelihood, "小区电梯长期停运", "Residential lift out of service for a long time", 48, "D06"),
    item("0109", Category::Livelihood, "有线电视信号故障", "Cable TV signal failure", 48, "D19"),
    item("0110", Category::Livelihood, "宽带及手机信号差", "Poor broadband or mobile signal", 72, "D17"),
    item("0111", Category::Livelihood, "居家养老服务需求", "Home-based elderly care request", 72, "D09"),
    item("0112", Category::Livelihood, "高龄津贴发放问题", "Old-age allowance payment problem", 120, "D66"),
    item("0113", Category::Livelihood, "最低生活保障申请", "Minimum living allowance application", 168, "D09"),
    item("0114", Category::Livelihood, "养老保险待遇问题", "Pension insurance benefit problem", 168, "D22"),
    item("0115", Category::Livelihood, "医保报销问题", "Medical insurance reimbursement problem", 168, "D23"),
    item("0116", Category::Livelihood, "住房公积金提取问题", "Housing provident fund withdrawal problem", 120, "D45"),
    item("0117", Category::Livelihood, "就业援助需求", "Employment assistance request", 120, "D22"),
    item("0118", Category::Livelihood, "适龄儿童入学问题", "School enrolment problem", 168, "D21"),
    item("0119", Category::Livelihood, "校外培训机构投诉", "Off-campus tutoring institution complaint", 120, "D21"),
    item("0120", Category::Livelihood, "社区医疗服务问题", "Community health service problem", 72, "D08"),
    item("0121", Category::Livelihood, "公交线路及站点设置诉求", "Bus route or stop request", 168, "D43"),
    item("0122", Category::Livelihood, "公交车辆服务投诉", "Bus service complaint", 72, "D43"),
    item("0123", Category::Livelihood, "退役军人优抚问题", "Veterans' entitlement problem", 168, "D24"),
    item("0124", Category::Livelihood, "残疾人补贴及康复需求", "Disability subsidy or rehabilitation request", 168, "D31"),
    item("0125", Category::Livelihood, "妇女儿童权益求助", "Women's and children's rights assistance", 72, "D32"),
    item("0126", Category::Livelihood, "不动产登记办证问题", "Property title registration problem", 240, "D20"),
    item("0127", Category::Livelihood, "农村饮水安全问题", "Rural drinking water safety problem", 48, "D78"),
    item("0128", Category::Livelihood, "政务服务办事难", "Difficulty obtaining government services", 72, "D30"),
    item("0129", Category::Livelihood, "殡葬服务问题", "Funeral service problem", 72, "D60"),
    item("0130", Category::Livelihood, "困难职工帮扶需求", "Assistance request from a worker in hardship", 120, "D34"),
    // Category 02, 环境卫生 (Environment), has 25 sub-items.
    item("0201", Category::Environment, "生活垃圾未及时清运", "Household waste not collected on time", 12, "D38"),
    item("0202", Category::Environment, "垃圾桶破损或缺失", "Damaged or missing waste bin", 48, "D38"),
    item("0203", Category::Environment, "道路清扫不及时", "Road not swept on time", 24, "D38"),
    item("0204", Category::Environment, "积雪未及时清除", "Snow not cleared on time", 24, "D38"),
    item("0205", Category::Environment, "道路结冰未处理", "Icy road left untreated", 12, "D38"),
    item("0206", Category::Environment, "公共厕所脏乱", "Dirty public toilet", 24, "D38"),
    item("0207", Category::Environment, "楼道堆物", "Clutter piled in stairwells", 48, "D44"),
    item("0208", Category::Environment, "小区环境卫生脏乱", "Poor sanitation in a residential compound", 48, "D44"),
    item("0209", Category::Environment, "建筑垃圾乱倒", "Illegal dumping of construction waste", 24, "D67"),
    item("0210", Category::Environment, "大件垃圾随意丢弃", "Bulky waste dumped at random", 48, "D38"),
    item("0211", Category::Environment, "垃圾分类不规范", "Improper waste sorting", 72, "D38"),
    item("0212", Category::Environment, "病死畜禽随意丢弃", "Dead livestock or poultry dumped", 12, "D46"),
    item("0213", Category::Environment, "路面动物尸体", "Animal carcass on the road", 6, "D38"),
    item("0214", Category::Environment, "化粪池满溢", "Overflowing septic tank", 12, "D44"),
    item("0215", Category::Environment, "蚊蝇鼠蟑滋生", "Mosquito, fly, rat or cockroach infestation", 72, "D47"),
    item("0216", Category::Environment, "垃圾中转站异味", "Odour from a waste transfer station", 48, "D38"),
    item("0217", Category::Environment, "露天焚烧垃圾", "Open burning of waste", 6, "D01"),
    item("0218", Category::Environment, "畜禽粪污乱堆", "Livestock manure piled in the open", 72, "D73"),
    item("0219", Category::Environment, "农村垃圾堆积", "Rural waste accumulation", 72, "D25"),
    item("0220", Category::Environment, "水面漂浮垃圾", "Floating rubbish on water", 48, "D12"),
    item("0221", Category::Environment, "绿地内垃圾杂物", "Litter in green spaces", 24, "D42"),
    item("0222", Category::Environment, "公共场所宠物粪便", "Pet waste in public places", 48, "D38"),
    item("0223", Category::Environment, "餐厨垃圾乱倒", "Illegal dumping of kitchen waste", 24, "D01"),
    item("0224", Category::Environment, "医疗废物混入生活垃圾", "Medical waste mixed into household waste", 12, "D08"),
    item("0225", Category::Environment, "垃圾桶渗滤液外溢", "Leachate spilling from waste bins", 24, "D38"),
    // Category 03, 交通安全 (TrafficSafety), has 22 sub-items.
    item("0301", Category::TrafficSafety, "交通信号灯故障", "Traffic signal failure", 4, "D35"),
    item("0302", Category::TrafficSafety, "交通标志标线缺失", "Missing traffic signs or road markings", 72, "D35"),
    item("0303", Category::TrafficSafety, "机动车违规停放", "Illegally parked motor vehicle", 12, "D35"),
    item("0304", Category::TrafficSafety, "非机动车乱停放", "Disorderly parking of bicycles and e-bikes", 24, "D01"),
    item("0305", Category::TrafficSafety, "共享单车堆积", "Piled-up shared bicycles", 24, "D07"),
    item("0306", Category::TrafficSafety, "学校周边交通拥堵", "Traffic congestion near a school", 24, "D35"),
    item("0307", Category::TrafficSafety, "电动自行车违规载人", "E-bike carrying passengers illegally", 24, "D35"),
    item("0308", Category::TrafficSafety, "非法营运车辆", "Unlicensed passenger transport vehicle", 72, "D51"),
    item("0309", Category::TrafficSafety, "出租车拒载绕路", "Taxi refusing fares or taking detours", 72, "D51"),
    item("0310", Category::TrafficSafety, "农用车违规载人", "Farm vehicle carrying passengers", 24, "D81"),
    item("0311", Category::TrafficSafety, "道路护栏损坏", "Damaged road guardrail", 24, "D39"),
    item("0312", Category::TrafficSafety, "国省干线路面损毁", "Damaged national or provincial trunk road", 48, "D52"),
    item("0313", Category::TrafficSafety, "农村公路安全隐患", "Rural road safety hazard", 72, "D07"),
    item("0314", Category::TrafficSafety, "事故车辆滞留路面", "Crashed vehicle left on the road", 2, "D35"),
    item("0315", Category::TrafficSafety, "道路遗撒", "Spilled load on the road", 6, "D01"),
    item("0316", Category::TrafficSafety, "渣土车违规行驶", "Muck truck driving violation", 24, "D35"),
    item("0317", Category::TrafficSafety, "公交站台设施损坏", "Damaged bus shelter", 72, "D43"),
    item("0318", Category::TrafficSafety, "减速带缺失或损坏", "Missing or damaged speed bump", 72, "D35"),
    item("0319", Category::TrafficSafety, "树木遮挡道路视线", "Trees obstructing road sightlines", 48, "D42"),
    item("0320", Category::TrafficSafety, "桥梁限高限重设施损坏", "Damaged bridge height or weight limit barrier", 24, "D39"),
    item("0321", Category::TrafficSafety, "违规占道施工", "Unpermitted roadworks", 24, "D01"),
    item("0322", Category::TrafficSafety, "危化品运输车辆违停", "Hazardous-goods vehicle parked illegally", 4, "D68"),
    // Category 04, 矛盾纠纷 (DisputeMediation), has 20 sub-items.
    item("0401", Category::DisputeMediation, "邻里纠纷", "Neighbour dispute", 168, "D62"),
    item("0402", Category::DisputeMediation, "婚姻家庭纠纷", "Marriage and family dispute", 168, "D10"),
    item("0403", Category::DisputeMediation, "物业服务纠纷", "Property management dispute", 240, "D44"),
    item("0404", Category::DisputeMediation, "拖欠农民工工资", "Unpaid migrant workers' wages", 120, "D55"),
    item("0405", Category::DisputeMediation, "劳动合同纠纷", "Labour contract dispute", 240, "D22"),
    item("0406", Category::DisputeMediation, "房屋租赁纠纷", "Housing rental dispute", 168, "D62"),
    item("0407", Category::DisputeMediation, "医疗纠纷", "Medical dispute", 240, "D56"),
    item("0408", Category::DisputeMediation, "消费纠纷", "Consumer dispute", 168, "D06"),
    item("0409", Category::DisputeMediation, "土地承包纠纷", "Land contract dispute", 360, "D25"),
    item("0410", Category::DisputeMediation, "征收拆迁补偿纠纷", "Expropriation compensation dispute", 360, "D02"),
    item("0411", Category::DisputeMediation, "商品房交付纠纷", "New home handover dispute", 360, "D02"),
    item("0412", Category::DisputeMediation, "老旧小区改造施工纠纷", "Old compound renovation works dispute", 240, "D65"),
    item("0413", Category::DisputeMediation, "民间借贷纠纷", "Private lending dispute", 360, "D54"),
    item("0414", Category::DisputeMediation, "交通事故赔偿纠纷", "Traffic accident compensation dispute", 240, "D35"),
    item("0415", Category::DisputeMediation, "宅基地及相邻权纠纷", "Homestead or adjoining-rights dispute", 360, "D25"),
    item("0416", Category::DisputeMediation, "信访积案化解", "Resolution of a long-standing petition case", 360, "D29"),
    item("0417", Category::DisputeMediation, "涉民族宗教矛盾纠纷", "Ethnic or religious dispute", 240, "D87"),
    item("0418", Category::DisputeMediation, "养犬引发纠纷", "Dispute caused by dog keeping", 120, "D62"),
    item("0419", Category::DisputeMediation, "装修扰邻纠纷", "Home renovation disturbance dispute", 72, "D44"),
    item("0420", Category::DisputeMediation, "校园矛盾纠纷", "School-related dispute", 168, "D21"),
    // Category 05, 治安防控 (PublicSecurity), has 22 sub-items.
    item("0501", Category::PublicSecurity, "可疑人员活动", "Suspicious persons", 2, "D04"),
    item("0502", Category::PublicSecurity, "打架斗殴", "Fighting", 2, "D04"),
    item("0503", Category::PublicSecurity, "盗窃案件线索", "Theft lead", 12, "D04"),
    item("0504", Category::PublicSecurity, "电信网络诈骗线索", "Telecom or online fraud lead", 6, "D37"),
    item("0505", Category::PublicSecurity, "涉黄涉赌线索", "Prostitution or gambling lead", 24, "D04"),
    item("0506", Category::PublicSecurity, "涉毒线索", "Drug-related lead", 12, "D36"),
    item("0507", Category::PublicSecurity, "夜间噪音扰民", "Night-time noise nuisance", 12, "D04"),
    item("0508", Category::PublicSecurity, "违规养犬", "Irregular dog keeping", 48, "D04"),
    item("0509", Category::PublicSecurity, "犬只伤人", "Dog bite", 4, "D04"),
    item("0510", Category::PublicSecurity, "治安监控探头损坏", "Damaged public security camera", 72, "D04"),
    item("0511", Category::PublicSecurity, "群租房安全隐患", "Overcrowded rental flat hazard", 72, "D04"),
    item("0512", Category::PublicSecurity, "流动人口未登记", "Unregistered migrant residents", 120, "D04"),
    item("0513", Category::PublicSecurity, "非法集资线索", "Illegal fundraising lead", 72, "D04"),
    item("0514", Category::PublicSecurity, "寄递物流违禁品隐患", "Prohibited items in parcel delivery", 24, "D59"),
    item("0515", Category::PublicSecurity, "校园周边治安隐患", "Security hazard around a school", 12, "D21"),
    item("0516", Category::PublicSecurity, "酒后滋事", "Drunken disorder", 2, "D04"),
    item("0517", Category::PublicSecurity, "非法燃放烟花爆竹", "Illegal setting off of fireworks", 4, "D04"),
    item("0518", Category::PublicSecurity, "管制刀具及危险物品", "Controlled knives or dangerous articles", 6, "D04"),
    item("0519", Category::PublicSecurity, "网吧接纳未成年人", "Internet café admitting minors", 24, "D26"),
    item("0520", Category::PublicSecurity, "高空抛物", "Objects thrown from height", 12, "D04"),
    item("0521", Category::PublicSecurity, "油田设施盗窃破坏", "Theft or sabotage of oilfield equipment", 12, "D57"),
    item("0522", Category::PublicSecurity, "伪基站及非法无线电干扰", "Fake base station or illegal radio interference", 24, "D28"),
    // Category 06, 消防安全 (FireSafety), has 20 sub-items.
    item("0601", Category::FireSafety, "消防通道堵塞", "Blocked fire lane", 6, "D05"),
    item("0602", Category::FireSafety, "电动车楼内充电", "E-bike charging inside a building", 12, "D05"),
    item("0603", Category::FireSafety, "飞线充电", "Charging through dangling extension leads", 12, "D44"),
    item("0604", Category::FireSafety, "消防设施损坏或缺失", "Damaged or missing firefighting equipment", 24, "D05"),
    item("0605", Category::FireSafety, "市政消火栓损坏", "Damaged municipal fire hydrant", 24, "D16"),
    item("0606", Category::FireSafety, "安全出口堵塞或锁闭", "Blocked or locked emergency exit", 6, "D05"),
    item("0607", Category::FireSafety, "人员密集场所消防隐患", "Fire hazard in a crowded venue", 12, "D05"),
    item("0608", Category::FireSafety, "三合一场所违规住人", "People living in combined shop, store and dwelling premises", 12, "D05"),
    item("0609", Category::FireSafety, "电气线路老化", "Ageing electrical wiring", 24, "D05"),
    item("0610", Category::FireSafety, "违规使用明火", "Illegal use of open flame", 6, "D05"),
    item("0611", Category::FireSafety, "餐饮场所燃气使用隐患", "Gas use hazard in a restaurant", 12, "D14"),
    item("0612", Category::FireSafety, "高层建筑消防隐患", "Fire hazard in a high-rise building", 24, "D05"),
    item("0613", Category::FireSafety, "枯草荒火隐患", "Dry grass fire risk", 4, "D05"),
    item("0614", Category::FireSafety, "草原防火隐患", "Grassland fire risk", 12, "D85"),
    item("0615", Category::FireSafety, "烟花爆竹违规储存", "Illegal storage of fireworks", 6, "D11"),
    item("0616", Category::FireSafety, "消防控制室无人值守", "Unattended fire control room", 24, "D05"),
    item("0617", Category::FireSafety, "人防工程违规住人或堆物", "People living or goods stored in a civil defence shelter", 48, "D50"),
    item("0618", Category::FireSafety, "彩钢板房消防隐患", "Fire hazard in a steel sandwich-panel building", 48, "D05"),
    item("0619", Category::FireSafety, "九小场所消防隐患", "Fire hazard in small premises", 24, "D05"),
    item("0620", Category::FireSafety, "养老机构消防隐患", "Fire hazard in a care home", 24, "D09"),
    // Category 07, 安全生产 (WorkSafety), has 20 sub-items.
    item("0701", Category::WorkSafety, "建筑工地安全隐患", "Construction site safety hazard", 24, "D02"),
    item("0702", Category::WorkSafety, "建筑起重机械隐患", "Construction crane hazard", 12, "D02"),
    item("0703", Category::WorkSafety, "脚手架搭设不规范", "Non-compliant scaffolding", 24, "D02"),
    item("0704", Category::WorkSafety, "深基坑安全隐患", "Deep excavation hazard", 12, "D02"),
    item("0705", Category::WorkSafety, "危险化学品储存不规范", "Improper storage of hazardous chemicals", 12, "D68"),
    item("0706", Category::WorkSafety, "非法加油点", "Illegal fuel selling point", 24, "D71"),
    item("0707", Category::WorkSafety, "油气管道占压", "Structures built over oil or gas pipelines", 72, "D57"),
    item("0708", Category::WorkSafety, "油井井场安全隐患", "Oil well site hazard", 24, "D57"),
    item("0709", Category::WorkSafety, "锅炉压力容器隐患", "Boiler or pressure vessel hazard", 24, "D06"),
    item("0710", Category::WorkSafety, "电梯安全隐患", "Lift safety hazard", 12, "D06"),
    item("0711", Category::WorkSafety, "工贸企业安全隐患", "Industrial or trading enterprise hazard", 48, "D11"),
    item("0712", Category::WorkSafety, "有限空间作业隐患", "Confined-space work hazard", 12, "D11"),
    item("0713", Category::WorkSafety, "非法违法生产经营", "Illegal production or operation", 48, "D11"),
    item("0714", Category::WorkSafety, "游乐设施安全隐患", "Amusement ride hazard", 24, "D06"),
    item("0715", Category::WorkSafety, "农机作业安全隐患", "Farm machinery operation hazard", 48, "D25"),
    item("0716", Category::WorkSafety, "燃气管道周边违规施工", "Unsafe works near gas pipelines", 12, "D14"),
    item("0717", Category::WorkSafety, "电力设施保护区违规作业", "Unsafe works in a power line protection zone", 12, "D13"),
    item("0718", Category::WorkSafety, "户外广告牌安全隐患", "Outdoor billboard safety hazard", 24, "D01"),
    item("0719", Category::WorkSafety, "校车安全隐患", "School bus safety hazard", 24, "D21"),
    item("0720", Category::WorkSafety, "职业病危害隐患", "Occupational disease hazard", 72, "D08"),
    // Category 08, 市政设施 (MunicipalFacilities), has 32 sub-items.
    item("0801", Category::MunicipalFacilities, "路灯杆倾斜", "Tilted street-lamp pole", 24, "D01"),
    item("0802", Category::MunicipalFacilities, "路灯不亮", "Street lamp out", 48, "D40"),
    item("0803", Category::MunicipalFacilities, "井盖缺失或破损", "Missing or broken manhole cover", 4, "D39"),
    item("0804", Category::MunicipalFacilities, "道路坑洼破损", "Potholed or damaged road", 48, "D39"),
    item("0805", Category::MunicipalFacilities, "人行道板松动破损", "Loose or broken pavement slabs", 72, "D39"),
    item("0806", Category::MunicipalFacilities, "雨水口堵塞", "Blocked storm drain inlet", 24, "D41"),
    item("0807", Category::MunicipalFacilities, "排水管网堵塞外溢", "Blocked or overflowing sewer", 12, "D41"),
    item("0808", Category::MunicipalFacilities, "道路积水", "Waterlogged road", 12, "D41"),
    item("0809", Category::MunicipalFacilities, "供水管道破裂", "Burst water main", 4, "D16"),
    item("0810", Category::MunicipalFacilities, "供热管网泄漏", "District heating pipe leak", 4, "D15"),
    item("0811", Category::MunicipalFacilities, "燃气管线设施损坏", "Damaged gas pipeline facility", 4, "D14"),
    item("0812", Category::MunicipalFacilities, "电力线路垂落", "Sagging power line", 4, "D13"),
    item("0813", Category::MunicipalFacilities, "变压器箱体损坏", "Damaged transformer box", 12, "D13"),
    item("0814", Category::MunicipalFacilities, "通信线缆垂落杂乱", "Sagging or tangled telecom cables", 48, "D17"),
    item("0815", Category::MunicipalFacilities, "通信基站设施损坏", "Damaged telecom tower facility", 72, "D18"),
    item("0816", Category::MunicipalFacilities, "桥梁设施损坏", "Damaged bridge facility", 24, "D39"),
    item("0817", Category::MunicipalFacilities, "地下通道设施损坏", "Damaged pedestrian underpass", 48, "D39"),
    item("0818", Category::MunicipalFacilities, "城市道路塌陷", "Road surface collapse", 2, "D39"),
    item("0819", Category::MunicipalFacilities, "行道树倒伏或枯死", "Fallen or dead street tree", 12, "D42"),
    item("0820", Category::MunicipalFacilities, "绿地设施损坏", "Damaged green space facilities", 72, "D42"),
    item("0821", Category::MunicipalFacilities, "公园设施损坏", "Damaged park facilities", 72, "D42"),
    item("0822", Category::MunicipalFacilities, "景观照明故障", "Decorative lighting failure", 72, "D40"),
    item("0823", Category::MunicipalFacilities, "公共座椅损坏", "Damaged public bench", 72, "D39"),
    item("0824", Category::MunicipalFacilities, "盲道被占或损坏", "Blocked or damaged tactile paving", 72, "D39"),
    item("0825", Category::MunicipalFacilities, "检查井异响或沉降", "Rattling or sunken manhole", 72, "D39"),
    item("0826", Category::MunicipalFacilities, "室外健身器材损坏", "Damaged outdoor fitness equipment", 72, "D39"),
    item("0827", Category::MunicipalFacilities, "乡镇污水处理设施运行异常", "Township sewage plant malfunction", 72, "D83"),
    item("0828", Category::MunicipalFacilities, "供水阀门井漏水", "Leaking water valve chamber", 12, "D16"),
    item("0829", Category::MunicipalFacilities, "二次供水设施故障", "Secondary water supply failure", 12, "D16"),
    item("0830", Category::MunicipalFacilities, "路名牌门牌缺损", "Missing or damaged street or house number sign", 120, "D09"),
    item("0831", Category::MunicipalFacilities, "防洪排涝泵站故障", "Flood drainage pumping station failure", 6, "D12"),
    item("0832", Category::MunicipalFacilities, "人防工程设施损坏", "Damaged civil defence shelter facility", 120, "D50"),
    // Category 09, 市容秩序 (CityAppearance), has 28 sub-items.
    item("0901", Category::CityAppearance, "占道经营", "Street vending that blocks the road", 12, "D61"),
    item("0902", Category::CityAppearance, "店外经营", "Shop business spilling onto the pavement", 24, "D01"),
    item("0903", Category::CityAppearance, "流动摊贩", "Mobile street vendors", 12, "D64"),
    item("0904", Category::CityAppearance, "露天烧烤", "Open-air barbecue", 12, "D70"),
    item("0905", Category::CityAppearance, "私搭乱建", "Unauthorised structures", 72, "D01"),
    item("0906", Category::CityAppearance, "违规户外广告", "Unauthorised outdoor advertising", 72, "D01"),
    item("0907", Category::CityAppearance, "小广告乱贴乱画", "Illegal flyers and graffiti", 24, "D01"),
    item("0908", Category::CityAppearance, "乱拉乱挂", "Illegal banners and hanging items", 24, "D01"),
    item("0909", Category::CityAppearance, "沿街晾晒", "Laundry hung out along the street", 24, "D01"),
    item("0910", Category::CityAppearance, "店招牌匾破损", "Damaged shop signboard", 48, "D01"),
    item("0911", Category::CityAppearance, "乡镇集市占道经营", "Rural market blocking the road", 24, "D75"),
    item("0912", Category::CityAppearance, "工地围挡破损", "Damaged construction site hoarding", 48, "D02"),
    item("0913", Category::CityAppearance, "工地车辆带泥上路", "Mud tracked onto roads by site vehicles", 24, "D01"),
    item("0914", Category::CityAppearance, "废弃车辆占道", "Abandoned vehicle occupying the road", 72, "D35"),
    item("0915", Category::CityAppearance, "违规设置地锁", "Unauthorised parking lock", 48, "D01"),
    item("0916", Category::CityAppearance, "门前三包落实不到位", "Frontage responsibility not fulfilled", 48, "D01"),
    item("0917", Category::CityAppearance, "建筑外立面破损污损", "Damaged or stained building facade", 120, "D02"),
    item("0918", Category::CityAppearance, "空调外机安装不规范", "Improperly installed air-conditioner unit", 72, "D01"),
    item("0919", Category::CityAppearance, "毁绿占绿", "Encroachment on green space", 72, "D42"),
    item("0920", Category::CityAppearance, "擅自砍伐树木", "Unauthorised tree felling", 24, "D42"),
    item("0921", Category::CityAppearance, "公益广告设施破损", "Damaged public-service advertising installation", 72, "D01"),
    item("0922", Category::CityAppearance, "街头散发传单", "Flyer handing on the street", 24, "D01"),
    item("0923", Category::CityAppearance, "违规占道洗车", "Car washing on the road", 24, "D01"),
    item("0924", Category::CityAppearance, "夜市秩序混乱", "Disorderly night market", 24, "D01"),
    item("0925", Category::CityAppearance, "沿街门店高音喇叭", "Shop loudspeaker noise on the street", 12, "D01"),
    item("0926", Category::CityAppearance, "城市家具污损", "Dirty or defaced street furniture", 72, "D38"),
    item("0927", Category::CityAppearance, "杂物乱堆占道", "Debris piled on the road", 24, "D01"),
    item("0928", Category::CityAppearance, "违规设置户外促销摊点", "Unauthorised outdoor promotion stand", 24, "D61"),
    // Category 10, 食品药品 (FoodDrugSafety), has 18 sub-items.
    item("1001", Category::FoodDrugSafety, "无证无照食品经营", "Unlicensed food business", 72, "D06"),
    item("1002", Category::FoodDrugSafety, "过期变质食品销售", "Sale of expired or spoiled food", 24, "D06"),
    item("1003", Category::FoodDrugSafety, "餐饮后厨卫生差", "Poor restaurant kitchen hygiene", 48, "D06"),
    item("1004", Category::FoodDrugSafety, "校园食品安全隐患", "School food safety hazard", 24, "D06"),
    item("1005", Category::FoodDrugSafety, "食物中毒", "Food poisoning", 2, "D08"),
    item("1006", Category::FoodDrugSafety, "三无食品", "Food without name, address or production date", 48, "D63"),
    item("1007", Category::FoodDrugSafety, "私屠滥宰", "Illegal slaughtering", 24, "D25"),
    item("1008", Category::FoodDrugSafety, "注水肉及病死畜禽肉", "Water-injected or diseased meat", 24, "D06"),
    item("1009", Category::FoodDrugSafety, "假劣药品", "Counterfeit or substandard medicine", 24, "D06"),
    item("1010", Category::FoodDrugSafety, "药店无处方售卖处方药", "Prescription drugs sold without a prescription", 72, "D06"),
    item("1011", Category::FoodDrugSafety, "保健食品虚假宣传", "False health-food claims", 120, "D06"),
    item("1012", Category::FoodDrugSafety, "医疗器械违规经营", "Illegal medical device sales", 72, "D06"),
    item("1013", Category::FoodDrugSafety, "无证诊所非法行医", "Unlicensed clinic practising medicine", 48, "D69"),
    item("1014", Category::FoodDrugSafety, "网络订餐食品安全", "Online food delivery safety", 72, "D06"),
    item("1015", Category::FoodDrugSafety, "食品小作坊卫生问题", "Hygiene problem at a small food workshop", 72, "D06"),
    item("1016", Category::FoodDrugSafety, "农药残留超标", "Excessive pesticide residue", 72, "D25"),
    item("1017", Category::FoodDrugSafety, "农村集体聚餐食品安全", "Rural banquet food safety", 24, "D06"),
    item("1018", Category::FoodDrugSafety, "倒卖医保药品", "Resale of medical-insurance drugs", 120, "D23"),
    // Category 11, 生态环保 (Ecology), has 22 sub-items.
    item("1101", Category::Ecology, "黑臭水体", "Black and odorous water body", 168, "D03"),
    item("1102", Category::Ecology, "油烟扰民", "Restaurant cooking fume nuisance", 72, "D01"),
    item("1103", Category::Ecology, "工业废气排放", "Industrial air emissions", 24, "D03"),
    item("1104", Category::Ecology, "污水直排", "Direct discharge of sewage", 24, "D03"),
    item("1105", Category::Ecology, "施工扬尘", "Construction dust", 24, "D02"),
    item("1106", Category::Ecology, "施工噪音扰民", "Construction noise nuisance", 12, "D03"),
    item("1107", Category::Ecology, "秸秆露天焚烧", "Open burning of crop straw", 4, "D76"),
    item("1108", Category::Ecology, "工业固废违规倾倒", "Illegal dumping of industrial solid waste", 24, "D03"),
    item("1109", Category::Ecology, "危险废物非法处置", "Illegal disposal of hazardous waste", 12, "D03"),
    item("1110", Category::Ecology, "石化企业异味", "Odour from petrochemical plants", 24, "D03"),
    item("1111", Category::Ecology, "落地原油污染", "Crude oil spilled on the ground", 48, "D57"),
    item("1112", Category::Ecology, "湿地违规开垦", "Illegal reclamation of wetland", 240, "D82"),
    item("1113", Category::Ecology, "超载放牧及草原破坏", "Overgrazing and grassland damage", 240, "D85"),
    item("1114", Category::Ecology, "禁渔期非法捕捞", "Illegal fishing in the closed season", 24, "D86"),
    item("1115", Category::Ecology, "非法猎捕野生动物", "Illegal hunting of wild animals", 24, "D82"),
    item("1116", Category::Ecology, "非法采砂取土", "Illegal sand or soil extraction", 48, "D20"),
    item("1117", Category::Ecology, "违法占用耕地", "Illegal occupation of farmland", 168, "D20"),
    item("1118", Category::Ecology, "河湖四乱问题", "River or lake encroachment", 168, "D12"),
    item("1119", Category::Ecology, "违规开采地下水", "Illegal groundwater extraction", 168, "D12"),
    item("1120", Category::Ecology, "燃煤小锅炉冒黑烟", "Black smoke from a small coal boiler", 24, "D03"),
    item("1121", Category::Ecology, "机动车尾气冒黑烟", "Black smoke from vehicle exhaust", 48, "D03"),
    item("1122", Category::Ecology, "放射源安全隐患", "Radioactive source safety hazard", 12, "D03"),
    // Category 12, 房屋安全 (HousingSafety), has 18 sub-items.
    item("1201", Category::HousingSafety, "房屋墙体开裂", "Cracked building wall", 48, "D02"),
    item("1202", Category::HousingSafety, "危险房屋隐患", "Dangerous building", 24, "D02"),
    item("1203", Category::HousingSafety, "农村危房", "Dilapidated rural house", 72, "D74"),
    item("1204", Category::HousingSafety, "农村自建房安全隐患", "Rural self-built house hazard", 72, "D77"),
    item("1205", Category::HousingSafety, "外墙保温层脱落", "Falling external wall insulation", 12, "D02"),
    item("1206", Category::HousingSafety, "屋面漏雨", "Leaking roof", 72, "D44"),
    item("1207", Category::HousingSafety, "擅自改变房屋承重结构", "Unauthorised alteration of load-bearing structure", 24, "D02"),
    item("1208", Category::HousingSafety, "楼梯及公共部位破损", "Damaged stairs or common parts", 72, "D44"),
    item("1209", Category::HousingSafety, "老旧小区改造问题", "Old residential compound renovation problem", 168, "D65"),
    item("1210", Category::HousingSafety, "阳台及附属物坠落隐患", "Balcony or attachment at risk of falling", 12, "D02"),
    item("1211", Category::HousingSafety, "地下室渗水", "Basement water seepage", 72, "D44"),
    item("1212", Category::HousingSafety, "经营性自建房安全隐患", "Self-built commercial building hazard", 48, "D02"),
    item("1213", Category::HousingSafety, "房屋不均匀沉降", "Uneven building settlement", 48, "D02"),
    item("1214", Category::HousingSafety, "违规隔断出租", "Illegal partitioning of flats for rent", 72, "D02"),
    item("1215", Category::HousingSafety, "烟道破损串味", "Damaged flue leaking odours", 72, "D44"),
    item("1216", Category::HousingSafety, "屋檐冰溜子", "Icicles hanging from roof edges", 12, "D44"),
    item("1217", Category::HousingSafety, "弃管小区房屋维护", "Maintenance of a compound without property management", 168, "D02"),
    item("1218", Category::HousingSafety, "商品房质量问题", "New-build housing quality problem", 240, "D02"),
    // Category 13, 特殊人群 (SpecialGroups), has 17 sub-items.
    item("1301", Category::SpecialGroups, "独居老人关爱", "Care for elderly people living alone", 48, "D09"),
    item("1302", Category::SpecialGroups, "困境儿童帮扶", "Support for children in difficulty", 72, "D09"),
    item("1303", Category::SpecialGroups, "留守儿童关爱", "Care for left-behind children", 72, "D32"),
    item("1304", Category::SpecialGroups, "严重精神障碍患者管理", "Management of patients with severe mental disorders", 24, "D08"),
    item("1305", Category::SpecialGroups, "社区矫正对象监管", "Supervision of community corrections subjects", 24, "D72"),
    item("1306", Category::SpecialGroups, "刑满释放人员安置帮教", "Resettlement of released prisoners", 120, "D10"),
    item("1307", Category::SpecialGroups, "社区戒毒人员管控", "Supervision of persons in community drug rehabilitation", 48, "D36"),
    item("1308", Category::SpecialGroups, "流浪乞讨人员救助", "Aid for homeless people and beggars", 6, "D53"),
    item("1309", Category::SpecialGroups, "困难残疾人帮扶", "Support for disabled people in hardship", 120, "D31"),
    item("1310", Category::SpecialGroups, "失能老人照护", "Care for disabled elderly people", 72, "D09"),
    item("1311", Category::SpecialGroups, "重点青少年帮扶", "Support for at-risk young people", 120, "D33"),
    item("1312", Category::SpecialGroups, "特困人员供养", "Support for persons in extreme poverty", 120, "D09"),
    item("1313", Category::SpecialGroups, "退役军人帮扶援助", "Assistance for veterans in difficulty", 120, "D24"),
    item("1314", Category::SpecialGroups, "艾滋病患者随访", "Follow-up of people living with HIV", 72, "D47"),
    item("1315", Category::SpecialGroups, "家庭暴力受害者救助", "Aid for domestic violence victims", 12, "D32"),
    item("1316", Category::SpecialGroups, "低收入家庭临时救助", "Temporary assistance for low-income families", 72, "D09"),
    item("1317", Category::SpecialGroups, "孤儿及事实无人抚养儿童", "Orphans and de facto unsupported children", 120, "D09"),
    // Category 14, 应急处置 (Emergency), has 20 sub-items.
    item("1401", Category::Emergency, "燃气泄漏", "Gas leak", 2, "D14"),
    item("1402", Category::Emergency, "电梯困人", "People trapped in a lift", 2, "D05"),
    item("1403", Category::Emergency, "火灾险情", "Fire", 2, "D05"),
    item("1404", Category::Emergency, "大面积停电", "Large-scale power outage", 2, "D13"),
    item("1405", Category::Emergency, "突发公共卫生事件线索", "Public health emergency lead", 4, "D47"),
    item("1406", Category::Emergency, "危化品泄漏", "Hazardous chemical leak", 2, "D11"),
    item("1407", Category::Emergency, "城市内涝", "Urban flooding", 4, "D12"),
    item("1408", Category::Emergency, "江堤管涌渗漏", "Piping or seepage in a river levee", 2, "D79"),
    item("1409", Category::Emergency, "野泳溺水隐患", "Wild-swimming drowning risk", 12, "D80"),
    item("1410", Category::Emergency, "冰面活动安全隐患", "Unsafe activity on ice", 6, "D11"),
    item("1411", Category::Emergency, "暴雪冰冻灾害", "Blizzard or freezing disaster", 6, "D11"),
    item("1412", Category::Emergency, "气象灾害预警核实", "Verification of a severe weather warning", 2, "D49"),
    item("1413", Category::Emergency, "大风致高空坠物", "Wind-blown objects falling from height", 4, "D01"),
    item("1414", Category::Emergency, "树木倒伏阻断道路", "Fallen tree blocking a road", 4, "D42"),
    item("1415", Category::Emergency, "油气管道泄漏", "Oil or gas pipeline leak", 2, "D57"),
    item("1416", Category::Emergency, "重大交通事故", "Major traffic accident", 2, "D35"),
    item("1417", Category::Emergency, "人员突发疾病", "Sudden illness in a public place", 2, "D48"),
    item("1418", Category::Emergency, "一氧化碳中毒", "Carbon monoxide poisoning", 2, "D48"),
    item("1419", Category::Emergency, "动物疫情", "Animal epidemic", 6, "D46"),
    item("1420", Category::Emergency, "集中供热大面积停热", "Large-area district heating outage", 4, "D15"),
    // Category 15, 市场监管 (MarketOrder), has 18 sub-items.
    item("1501", Category::MarketOrder, "价格欺诈", "Price fraud", 72, "D06"),
    item("1502", Category::MarketOrder, "明码标价不规范", "Non-compliant price labelling", 72, "D63"),
    item("1503", Category::MarketOrder, "缺斤短两", "Short weight", 48, "D06"),
    item("1504", Category::MarketOrder, "无照经营", "Unlicensed business", 120, "D06"),
    item("1505", Category::MarketOrder, "虚假广告", "False advertising", 120, "D06"),
    item("1506", Category::MarketOrder, "预付卡经营者跑路", "Prepaid card operator absconding", 72, "D27"),
    item("1507", Category::MarketOrder, "假冒伪劣商品", "Counterfeit or shoddy goods", 72, "D06"),
    item("1508", Category::MarketOrder, "商品房销售违规", "Irregular sale of new homes", 168, "D02"),
    item("1509", Category::MarketOrder, "快递服务投诉", "Courier service complaint", 72, "D59"),
    item("1510", Category::MarketOrder, "向未成年人售烟", "Selling tobacco to minors", 48, "D58"),
    item("1511", Category::MarketOrder, "无证经营烟草", "Unlicensed tobacco retail", 72, "D58"),
    item("1512", Category::MarketOrder, "成品油经营不规范", "Irregular retail of refined oil products", 72, "D27"),
    item("1513", Category::MarketOrder, "旅游景区服务投诉", "Tourist attraction service complaint", 72, "D84"),
    item("1514", Category::MarketOrder, "电信资费争议", "Telecom charge dispute", 120, "D17"),
    item("1515", Category::MarketOrder, "停车收费不规范", "Irregular parking charges", 72, "D06"),
    item("1516", Category::MarketOrder, "网络交易投诉", "Online transaction complaint", 120, "D06"),
    item("1517", Category::MarketOrder, "企业营商环境投诉", "Business environment complaint from an enterprise", 120, "D30"),
    item("1518", Category::MarketOrder, "非法销售烟花爆竹", "Illegal sale of fireworks", 24, "D11"),
];

/// The name of the department with `code`, in English or Chinese; a dash for an unknown code.
pub fn department_name(code: &str, english: bool) -> &'static str {
    match department(code) {
        Some(d) if english => d.name_en,
        Some(d) => d.name_zh,
        None => "—",
    }
}

/// The name of the sub-item with `code`, in English or Chinese; a dash for an unknown code.
pub fn sub_item_name(code: &str, english: bool) -> &'static str {
    match sub_item(code) {
        Some(s) if english => s.name_en,
        Some(s) => s.name_zh,
        None => "—",
    }
}

/// Returns the department with the given code, such as "D01".
pub fn department(code: &str) -> Option<&'static Department> {
    DEPARTMENTS.iter().find(|d| d.code == code)
}

/// Returns the sub-item with the given code, such as "0801".
pub fn sub_item(code: &str) -> Option<&'static SubItem> {
    // The table is in code order (a test holds it there): every report looks its sub-item
    // up, so a binary search rather than a scan of 332 codes.
    SUB_ITEMS
        .binary_search_by(|s| s.code.cmp(code))
        .ok()
        .map(|i| &SUB_ITEMS[i])
}

/// Why a sub-item's cases are sensitive: what about a person they reveal. Such cases never
/// appear in public reads (Open311 without a key), and a wall shared into a video call masks
/// their descriptions, places and photos.
///
/// Chosen by the Personal Information Protection Law's "sensitive personal information"
/// (art. 28: health, religious belief, financial accounts, criminal records, the information
/// of minors, and whatever may harm a person's dignity when known): the whole 特殊人群 group,
/// and the disputes that turn on family, health, debt, belief, petitions or children.
pub fn sensitivity(code: &str) -> Option<&'static str> {
    let item = sub_item(code)?;
    if item.category == Category::SpecialGroups {
        return Some(
            "a case about a person in a special group: health, criminal record, welfare or family \
             circumstances",
        );
    }
    match item.code {
        "0402" => Some("a marriage or family dispute: the parties' family life"),
        "0407" => Some("a medical dispute: a patient's health"),
        "0413" => Some("a private lending dispute: the parties' finances"),
        "0416" => Some("a long-standing petition: the petitioner and their grievance"),
        "0417" => Some("an ethnic or religious dispute: the parties' belief"),
        "0420" => Some("a school dispute: the children involved"),
        "1417" | "1418" => Some("a person's sudden illness or poisoning: their health"),
        _ => None,
    }
}

/// The categories whose cases anyone may read (Open311 without a key), as the things on a
/// street that every passer-by sees anyway: the state of roads, facilities, streets and the
/// environment. Cases of other categories are public only when filed through Open311.
pub const PUBLIC_CATEGORIES: [Category; 5] = [
    Category::Environment,
    Category::TrafficSafety,
    Category::MunicipalFacilities,
    Category::CityAppearance,
    Category::Ecology,
];

/// Returns the sub-items of one category, in code order.
pub fn sub_items_of(category: Category) -> impl Iterator<Item = &'static SubItem> {
    SUB_ITEMS.iter().filter(move |s| s.category == category)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn special_groups_and_personal_disputes_are_sensitive_and_never_public() {
        for item in sub_items_of(Category::SpecialGroups) {
            assert!(sensitivity(item.code).is_some(), "{}", item.code);
        }
        // The cases the issue names.
        assert!(sensitivity("1304").is_some_and(|r| r.contains("health")));
        assert!(sensitivity("1305").is_some());
        assert!(sensitivity("0402").is_some());
        assert_eq!(
            sensitivity("0801"),
            None,
            "a tilted lamp post is nobody's secret"
        );
        assert_eq!(sensitivity("9999"), None);
        for item in SUB_ITEMS {
            if sensitivity(item.code).is_some() {
                assert!(
                    !PUBLIC_CATEGORIES.contains(&item.category),
                    "{} is sensitive in a public category",
                    item.code
                );
            }
        }
    }

    /// The categories in enum order, so that index + 1 is the code prefix.
    const ALL_CATEGORIES: [Category; 15] = Category::ALL;

    fn position(category: Category) -> usize {
        ALL_CATEGORIES
            .iter()
            .position(|c| *c == category)
            .expect("every category is listed")
            + 1
    }

    #[test]
    fn counts_are_exact() {
        assert_eq!(DEPARTMENTS.len(), 87);
        assert_eq!(SUB_ITEMS.len(), 332);
    }

    #[test]
    fn department_codes_and_names_are_unique() {
        let codes: HashSet<_> = DEPARTMENTS.iter().map(|d| d.code).collect();
        let names_zh: HashSet<_> = DEPARTMENTS.iter().map(|d| d.name_zh).collect();
        let names_en: HashSet<_> = DEPARTMENTS.iter().map(|d| d.name_en).collect();
        assert_eq!(codes.len(), DEPARTMENTS.len());
        assert_eq!(names_zh.len(), DEPARTMENTS.len());
        assert_eq!(names_en.len(), DEPARTMENTS.len());
    }

    #[test]
    fn department_codes_are_sequential() {
        for (i, d) in DEPARTMENTS.iter().enumerate() {
            assert_eq!(d.code, format!("D{:02}", i + 1));
        }
    }

    #[test]
    fn both_levels_are_present() {
        assert!(DEPARTMENTS.iter().any(|d| d.level == DepartmentLevel::City));
        assert!(
            DEPARTMENTS
                .iter()
                .any(|d| d.level == DepartmentLevel::District)
        );
    }

    #[test]
    fn sub_item_codes_are_unique() {
        let codes: HashSet<_> = SUB_ITEMS.iter().map(|s| s.code).collect();
        assert_eq!(codes.len(), SUB_ITEMS.len());
    }

    #[test]
    fn names_come_in_both_languages_and_a_dash_for_an_unknown_code() {
        assert_eq!(sub_item_name("0801", false), "路灯杆倾斜");
        assert_eq!(
            sub_item_name("0801", true),
            sub_item("0801").map_or("", |s| s.name_en)
        );
        assert_eq!(
            department_name("D01", false),
            department("D01").map_or("", |d| d.name_zh)
        );
        assert_eq!(
            department_name("D01", true),
            department("D01").map_or("", |d| d.name_en)
        );
        assert_eq!(
            (sub_item_name("9999", true), department_name("D99", false)),
            ("—", "—")
        );
    }

    #[test]
    fn sub_items_are_in_code_order_and_each_is_found() {
        assert!(SUB_ITEMS.windows(2).all(|w| w[0].code < w[1].code));
        for s in &SUB_ITEMS {
            assert_eq!(sub_item(s.code).map(|f| f.code), Some(s.code));
        }
        assert!(sub_item("0100").is_none() && sub_item("9999").is_none() && sub_item("").is_none());
    }

    #[test]
    fn sub_item_names_are_unique_within_category() {
        for category in ALL_CATEGORIES {
            let items: Vec<_> = sub_items_of(category).collect();
            let zh: HashSet<_> = items.iter().map(|s| s.name_zh).collect();
            let en: HashSet<_> = items.iter().map(|s| s.name_en).collect();
            assert_eq!(
                zh.len(),
                items.len(),
                "{category:?} has duplicate Chinese names"
            );
            assert_eq!(
                en.len(),
                items.len(),
                "{category:?} has duplicate English names"
            );
        }
    }

    #[test]
    fn every_category_has_between_12_and_35_sub_items() {
        let mut total = 0;
        for category in ALL_CATEGORIES {
            let n = sub_items_of(category).count();
            assert!((12..=35).contains(&n), "{category:?} has {n} sub-items");
            total += n;
        }
        assert_eq!(total, 332);
    }

    #[test]
    fn sub_item_codes_match_category_position() {
        let mut next_index = [0usize; 15];
        for s in SUB_ITEMS.iter() {
            let pos = position(s.category);
            assert_eq!(s.code.len(), 4, "{} is not four digits", s.code);
            assert!(s.code.bytes().all(|b| b.is_ascii_digit()), "{}", s.code);
            assert_eq!(
                &s.code[..2],
                format!("{pos:02}"),
                "{} is in {:?}",
                s.code,
                s.category
            );
            next_index[pos - 1] += 1;
            assert_eq!(
                &s.code[2..],
                format!("{:02}", next_index[pos - 1]),
                "{}",
                s.code
            );
        }
    }

    #[test]
    fn every_sub_item_department_exists() {
        for s in SUB_ITEMS.iter() {
            assert!(
                department(s.department).is_some(),
                "{} points to {}",
                s.code,
                s.department
            );
        }
    }

    #[test]
    fn every_department_is_used() {
        let used: HashSet<_> = SUB_ITEMS.iter().map(|s| s.department).collect();
        for d in DEPARTMENTS.iter() {
            assert!(
                used.contains(d.code),
                "{} {} is never a default",
                d.code,
                d.name_zh
            );
        }
    }

    #[test]
    fn time_limits_are_in_range() {
        for s in SUB_ITEMS.iter() {
            assert!((1..=720).contains(&s.time_limit_hours), "{}", s.code);
        }
    }

    #[test]
    fn lamp_post_item_exists() {
        let s = SUB_ITEMS
            .iter()
            .find(|s| s.name_zh == "路灯杆倾斜")
            .expect("the lamp-post item exists");
        assert_eq!(s.category, Category::MunicipalFacilities);
        assert!(
            department(s.department)
                .unwrap()
                .name_zh
                .contains("城市管理")
        );
    }

    #[test]
    fn lookups_work() {
        assert_eq!(
            department("D01").unwrap().name_zh,
            "大庆市城市管理综合执法局"
        );
        assert_eq!(department("D87").unwrap().level, DepartmentLevel::District);
        assert!(department("D00").is_none());
        assert!(department("D88").is_none());
        assert_eq!(sub_item("0801").unwrap().name_zh, "路灯杆倾斜");
        assert!(sub_item("0000").is_none());
        assert!(sub_item("1699").is_none());
        let first = sub_items_of(Category::Livelihood).next().unwrap();
        assert_eq!(first.code, "0101");
        assert!(sub_items_of(Category::MarketOrder).all(|s| s.code.starts_with("15")));
    }
}
