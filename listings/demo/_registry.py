"""The registry of demo tables: title, file name, holder, category, cycle and tiers of each."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from listings.demo._city import ALL, RC, _bike_stations, _bus_ridership, _bus_stops, _enterprise_credit, _parking, _scenic, _schools, _traffic, _universities
from listings.demo._common import DemoTable
from listings.demo._environment import _air_quality, _monitoring_stations, _water_quality
from listings.demo._health import _family_doctor, _health_records, _health_resources, _infectious, _institutions_table, _outpatient, _vaccination_monthly, _vaccination_sites
from listings.demo._market import _enterprise_registry, _food_licenses, _individual_businesses
from listings.demo._statistics import _gdp, _housing_fund, _medical_insurance, _population_table, _real_estate, _weather


def _writer(fn: Callable[[Path], int], filename: str) -> Callable[[Path], int]:
    def write(path: Path) -> int:
        path = Path(path)
        if path.is_dir():
            path = path / filename
        return fn(path)
    return write


def _t(key, title, filename, holder, category, cycle, tiers, delivery, tags, summary, fn, **extra) -> DemoTable:
    return DemoTable(key=key, title=title, filename=filename, holder=holder, category_hint=category,
                     update_cycle=cycle, tiers=tiers, delivery=delivery, tags=tuple(tags), summary=summary,
                     write=_writer(fn, filename), **extra)


def demo_tables() -> list[DemoTable]:
    """Every table the demo lists, in a stable order."""
    return [
        # 杭州市卫生健康委员会
        _t("outpatient_monthly", "杭州市医疗卫生机构门诊服务情况（月度）", "门诊服务情况_2019-2025.csv", "holder",
           "医疗卫生 > 诊疗服务 > 门诊人次", "monthly", ALL, "api", ("门诊", "诊疗人次", "住院", "病床使用率", "医疗服务"),
           "全市13个区县2019年以来每月的诊疗人次、门急诊人次、住院人次和病床使用率。可用于医疗资源规划与就医需求预测。",
           _outpatient),
        _t("medical_institutions", "杭州市医疗卫生机构名录", "医疗机构名录.csv", "holder",
           "医疗卫生 > 医疗机构 > 机构名录", "quarterly", ALL, "file", ("医院", "卫生院", "社区卫生服务中心", "诊所", "床位"),
           "全市医院、社区卫生服务中心、卫生院、门诊部和诊所的名称、统一社会信用代码、等级、地址、坐标与床位数。",
           _institutions_table, encoding="utf-8-sig"),
        _t("health_resources_yearly", "杭州市各区县卫生资源情况（年度）", "卫生资源_2019-2025.csv", "holder",
           "医疗卫生 > 卫生资源 > 床位与人员", "yearly", RC, "file", ("床位", "卫生技术人员", "医师", "护士"),
           "各区县医疗卫生机构数、床位数、卫生技术人员、执业（助理）医师和注册护士数量及每千人口床位数。",
           _health_resources),
        _t("family_doctor_monthly", "杭州市家庭医生签约服务情况（月度）", "家庭医生签约_2023-2025.csv", "holder",
           "医疗卫生 > 基层卫生 > 家庭医生签约", "monthly", RC, "file", ("家庭医生", "签约", "基层医疗", "重点人群"),
           "各区县家庭医生签约人数、重点人群签约率和团队数的月度汇总。", _family_doctor),
        # 杭州市疾病预防控制中心
        _t("infectious_weekly", "杭州市法定传染病疫情周报", "法定传染病周报_2024-2025.csv", "institution",
           "医疗卫生 > 疾病预防控制 > 传染病疫情", "weekly", ALL, "api", ("传染病", "流感", "手足口病", "疫情", "周报"),
           "全市14种法定传染病每周的发病数和死亡数。可用于流行趋势研判和药品、保险需求预测。", _infectious),
        _t("vaccination_sites", "杭州市预防接种门诊名录", "预防接种门诊.csv", "institution",
           "医疗卫生 > 疾病预防控制 > 预防接种", "quarterly", ALL, "api", ("疫苗", "接种点", "狂犬病", "HPV", "便民服务"),
           "全市儿童、成人预防接种门诊和狂犬病暴露预防处置门诊的地址、坐标、服务时间与可接种疫苗。", _vaccination_sites),
        _t("vaccination_monthly", "杭州市疫苗接种剂次统计（月度）", "疫苗接种剂次_2024-2025.csv", "institution",
           "医疗卫生 > 疾病预防控制 > 预防接种", "monthly", RC, "file", ("疫苗", "接种", "免疫规划", "流感疫苗"),
           "各区县免疫规划疫苗和流感、HPV等非免疫规划疫苗的月度接种剂次。", _vaccination_monthly),
        _t("health_records_sample", "社区居民健康档案样本", "居民健康档案样本.csv", "institution",
           "医疗卫生 > 基层卫生 > 居民健康档案", "half_yearly", ("product",), "sandbox",
           ("健康档案", "慢性病", "高血压", "糖尿病", "个人信息"),
           "社区卫生服务中心建立的居民健康档案样本，含姓名、身份证号、手机号和慢性病信息。仅在沙箱内使用，数据可用不可见。",
           _health_records),
        # 杭州市数据资源管理局
        _t("enterprise_registry", "杭州市企业登记信息", "企业登记信息.csv", "agency",
           "市场监管 > 市场主体 > 企业登记", "daily", ALL, "verification",
           ("企业", "工商登记", "统一社会信用代码", "法定代表人", "注册资本"),
           "全市企业的统一社会信用代码、名称、类型、法定代表人、注册资本、成立日期、登记状态与住所。产品形态为企业身份核验服务。",
           _enterprise_registry),
        _t("individual_businesses", "杭州市个体工商户登记信息", "个体工商户登记信息.csv", "agency",
           "市场监管 > 市场主体 > 个体工商户", "daily", RC, "file", ("个体工商户", "小店", "登记", "经营场所"),
           "全市个体工商户的名称、经营者、行业、注册日期、登记状态与经营场所（原系统导出，GBK编码）。",
           _individual_businesses, encoding="gbk"),
        _t("food_licenses", "杭州市食品经营许可信息", "食品经营许可.csv", "agency",
           "市场监管 > 行政许可 > 食品经营许可", "daily", ALL, "file", ("食品经营许可", "餐饮", "食品安全", "许可证"),
           "食品经营许可证编号、经营者、主体业态、经营项目、发证日期与有效期。开小卖部、餐馆前可据此了解周边竞争。",
           _food_licenses),
        _t("air_quality_daily", "杭州市环境空气质量日报", "空气质量日报_2025.csv", "agency",
           "生态环境 > 监测数据 > 大气监测", "daily", ALL, "api", ("空气质量", "AQI", "PM2.5", "臭氧", "环境监测"),
           "11个国控空气质量监测点2025年每日AQI、六项污染物浓度、首要污染物和质量等级。", _air_quality),
        _t("monitoring_stations", "杭州市生态环境监测站点", "环境监测站点.csv", "agency",
           "生态环境 > 监测数据 > 监测站点", "yearly", RC, "file", ("监测站点", "空气", "水质断面", "噪声"),
           "空气质量监测点、地表水监测断面和声环境监测点的编码、类型、区县与坐标。", _monitoring_stations),
        _t("water_quality_monthly", "杭州市地表水水质监测月报", "地表水水质月报_2024-2025.csv", "agency",
           "生态环境 > 监测数据 > 水环境监测", "monthly", ALL, "file", ("水质", "钱塘江", "千岛湖", "地表水", "断面"),
           "40个地表水断面每月的水温、pH、溶解氧、高锰酸盐指数、氨氮、总磷和水质类别，并与目标水质比对。",
           _water_quality),
        _t("population_yearly", "杭州市各区县人口主要指标", "人口主要指标_2016-2025.csv", "agency",
           "综合统计 > 人口 > 常住人口", "yearly", ALL, "file", ("人口", "常住人口", "户籍人口", "城镇化率", "统计"),
           "各区县常住人口、户籍人口、城镇人口和城镇化率（统计局报表格式，表头上方有标题行和单位行）。",
           _population_table, preamble_rows=2),
        _t("gdp_yearly", "杭州市各区县地区生产总值", "地区生产总值_2016-2025.csv", "agency",
           "综合统计 > 国民经济核算 > 地区生产总值", "yearly", ALL, "file", ("GDP", "地区生产总值", "三次产业", "经济"),
           "各区县地区生产总值、三次产业增加值、增速和人均地区生产总值。", _gdp),
        _t("housing_fund_monthly", "杭州住房公积金缴存使用情况（月度）", "住房公积金月报_2019-2025.csv", "agency",
           "社会保障 > 住房公积金 > 缴存与使用", "monthly", RC, "file", ("住房公积金", "缴存", "提取", "贷款"),
           "全市住房公积金缴存单位、实缴职工、缴存额、提取额、个人住房贷款和缴存余额的月度汇总。", _housing_fund),
        _t("medical_insurance_monthly", "杭州市医疗保障基金结算月度汇总", "医保结算月度汇总_2024-2025.csv", "agency",
           "社会保障 > 医疗保障 > 基金结算", "monthly", ALL, "file", ("医保", "结算", "基金支付", "门诊", "住院"),
           "按区县、险种和门诊/住院汇总的结算人次、医疗总费用和统筹基金支付，仅含汇总数，不含个人。", _medical_insurance),
        _t("weather_daily", "杭州市气象观测日值数据", "气象观测日值_2024-2025.csv", "agency",
           "生态环境 > 气象 > 地面观测", "daily", ALL, "api", ("气象", "气温", "降水", "湿度", "日照"),
           "杭州、萧山、淳安三个国家气象站每日的气温、降水、湿度、风速和日照时数。", _weather),
        _t("real_estate_monthly", "杭州市商品住宅成交情况（月度）", "商品住宅成交_2023-2025.csv", "agency",
           "城乡建设 > 房地产 > 住宅成交", "monthly", ALL, "file", ("房地产", "新房", "二手房", "成交", "房价"),
           "各区县新建商品住宅成交套数、面积、均价和二手住宅成交套数的月度数据。", _real_estate),
        _t("universities", "杭州市普通高等学校名录", "普通高等学校名录.xlsx", "agency",
           "教育 > 高等教育 > 学校名录", "yearly", RC, "file", ("高校", "大学", "职业院校", "在校生"),
           "在杭普通高等学校的名称、主管部门、办学层次、办学性质、所在区县和在校生、专任教师规模（Excel格式）。",
           _universities, encoding="xlsx"),
        _t("schools", "杭州市中小学校名录", "中小学校名录.csv", "agency", "教育 > 基础教育 > 学校名录", "yearly", ALL,
           "file", ("中小学", "小学", "初中", "高中", "学区"),
           "全市中小学校的名称、学段、办学性质、街道、地址、班级数、在校生数和坐标。可用于学区房和教育资源分析。", _schools),
        # 杭州城市大数据运营有限公司
        _t("bus_stops", "杭州市公交站点信息", "公交站点.csv", "operator", "交通出行 > 公共交通 > 公交站点", "monthly", ALL,
           "api", ("公交", "站点", "线路", "坐标", "出行"), "公交站点的编号、名称、所在区县、经纬度和途经线路。", _bus_stops),
        _t("bus_ridership_monthly", "杭州市公交线路客流（月度）", "公交线路客流_2024-2025.csv", "operator",
           "交通出行 > 公共交通 > 客流统计", "monthly", ALL, "file", ("公交", "客流", "客运量", "线路"),
           "各公交线路每月的运营班次、客运量和日均客运量，以及线路类型、长度和配车数。", _bus_ridership),
        _t("bike_stations", "杭州市公共自行车站点", "公共自行车站点.csv", "operator", "交通出行 > 慢行交通 > 公共自行车",
           "quarterly", RC, "file", ("公共自行车", "慢行", "站点", "锁止器"),
           "公共自行车租赁站点的编号、名称、坐标、锁止器数量、服务时间和运营状态。", _bike_stations),
        _t("traffic_congestion_hourly", "杭州市道路交通拥堵指数", "道路拥堵指数_202512.csv", "operator",
           "交通出行 > 道路交通 > 拥堵指数", "realtime", ALL, "api", ("拥堵指数", "实时", "交通", "车速", "高峰"),
           "主城区、各区和快速路网逐小时的交通指数、平均车速和拥堵等级，接口实时更新。", _traffic),
        _t("parking_realtime", "杭州市停车场泊位实时信息", "停车场泊位.csv", "operator", "交通出行 > 静态交通 > 停车泊位",
           "realtime", ("raw", "product"), "api", ("停车", "泊位", "实时", "停车场", "收费标准"),
           "公共停车场、配建停车库和路内泊位的位置、总泊位、空余泊位和收费标准，每5分钟更新。", _parking),
        _t("scenic_visitors_monthly", "杭州市A级旅游景区客流（月度）", "景区客流_2023-2025.csv", "operator",
           "文化旅游 > 旅游 > 景区客流", "monthly", ALL, "file", ("旅游", "景区", "客流", "西湖", "千岛湖"),
           "主要A级旅游景区每月的接待游客人次和门票收入。", _scenic),
        _t("enterprise_credit", "杭州市企业公共信用评价", "企业公共信用评价_2025.csv", "operator",
           "信用服务 > 企业信用 > 公共信用评价", "yearly", ("product",), "api", ("信用", "企业", "信用等级", "风控"),
           "基于企业登记、许可和失信记录加工的企业公共信用评价得分与等级，按统一社会信用代码查询。", _enterprise_credit),
    ]
