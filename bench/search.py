"""Search over 100,000 listed listings: `GET /api/v1/search` under wrk against a bare Litestar ceiling.

    cd /work/main && .venv/bin/python bench/search.py [--listings 100000] [--duration 10] [--connections 16]
                                                      [--rounds 5] [--ratio-rounds 3] [--no-http]
                                                      [--no-relevance] [--keep]

What it does, all on 127.0.0.1 with free ports, in a throw-away MARKET_VAR_DIR:

1. `market migrate` against a fresh database: SQLite under the temporary directory, or, when
   MARKET_DATABASE_URL is a PostgreSQL URL, a temporary database created on that server (and dropped
   at the end), so the configured database is never touched.
2. Seeds --listings listed listings in bulk (batched multi-row INSERTs inside transactions) through the
   project's engine binding (`market.db.bind`): titles, summaries, columns, tags, holders and categories
   generated combinatorially from government-data domains × regions × data kinds × years, with ~1,000
   holder organizations (deterministic, seed 2026). Then `listings.search.reindex_all()` builds the
   index (bulk writes) and, on PostgreSQL, ANALYZE runs as after any bulk load.
3. In-process, without HTTP: `search.warm_up()`, then every query of QUERIES through `search.search()`
   with the answer cache emptied before each call (the scenario bundles, recomputed at most once a
   minute, stay warm and are timed on their own), --rounds times: p50/p95.
4. `market serve` (with MARKET_EMBEDDED_WORKER=false: no periodic jobs mutate the data under load) and
   `bench/_bare_app.py` (`GET /bare`), both uvicorn with one worker. wrk with a Lua script cycling
   through QUERIES (words, pinyin, initials, synonyms, filters, sorts, pages, scenarios) — for /bare a
   script with its one path, so both pay the same client cost: a warm-up, then --duration seconds each;
   p95 from the script's done() summary (latency:percentile(95)). And a "cold" run whose URLs are all
   different (QUERIES × 40 pages, a page one item longer each round), so nearly every request misses the
   per-process answer cache. The three runs are interleaved, --ratio-rounds times with the order
   alternating (bench/_rounds.py): the ratios are the median of the per-round ratios, with their spread.
5. The relevance set (bench/search_relevance.json, via bench/_relevance.py): `market demo` builds the demo
   catalogue (29 tables, 71 listings) in its own directory / database, and every query a person would
   type is asked: the top-3 hit rate (floor 0.9) and the zero-result rate (floor ≤ 0.05); the exit
   status is 1 below a floor.
6. Stops everything it started and removes the temporary directory (and database), even on error.

stderr: progress. Last stdout line: JSON {"bench":"search","listings","db","p50_ms","p95_ms","rps",
"bare_rps","ratio" (median per-round rps / bare_rps),"ratio_spread","ratios","rounds","goal_p95_ms":50,
"goal_ratio":0.25,"inproc_p50_ms","inproc_p95_ms","inproc_scenario_bundle_p50_ms","cold_rps","cold_p95_ms",
"cold_ratio","top3_hit_rate","zero_result_rate","relevance_queries",...}. The machine is shared by wrk and both
servers (2 cores here), so rps move by ±30% between runs; compare within one run.
"""

from __future__ import annotations

import os
import sys

# Run as a script, bench/ is sys.path[0] and bench/http.py would shadow the standard library's `http`
# package for everything imported below (uvicorn, asyncpg...). Drop it, and import the project instead.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote, urlencode, urlparse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _load_http_bench():
    """bench/http.py's helpers (Server, free_port, fetch, parse_wrk, ...), imported under another name."""
    spec = importlib.util.spec_from_file_location("bench_http", Path(__file__).resolve().parent / "http.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hb = _load_http_bench()
from bench import _relevance  # noqa: E402
from bench._pg import pg_admin as _pg_admin  # noqa: E402
from bench._pg import pg_url as _pg_url  # noqa: E402
from bench._rounds import interleave, median_of, summarize  # noqa: E402
log, HOST = hb.log, hb.HOST
BARE_APP = hb.BARE_APP
SEARCH = "/api/v1/search"

# ~30 queries a buyer would type: words, pinyin, initials, synonyms, filters, sorts, scenarios.
QUERIES: list[dict] = [
    {"q": "医保"}, {"q": "yibao"}, {"q": "yb"}, {"q": "社保"}, {"q": "公积金", "sort": "freshness"},
    {"q": "公交 站点"}, {"q": "空气质量"}, {"q": "企业信用"}, {"q": "市场主体", "tier": "cleaned"},
    {"q": "不动产登记"}, {"q": "天气"}, {"q": "学校", "price": "free"}, {"q": "人口", "category": "人口与户籍"},
    {"q": "交通事故", "sort": "quality"}, {"q": "食品经营许可"}, {"q": "hangzhou 医保"}, {"q": "西湖区 常住人口"},
    {"q": "门诊", "quality_min": "80"}, {"q": "gongjiao"}, {"q": "gjj"}, {"q": "我要开小卖部"},
    {"q": "我要开餐馆"}, {"q": "我要做保险核保"}, {"q": "我要选址开药店"}, {"q": "2023 税收"},
    {"sort": "quality"}, {"tier": "product", "sort": "price_asc"}, {"q": "信用", "price": "paid", "sort": "price_desc"},
    {"q": "宁波 公交 客流", "page": "2"}, {"q": "医保 结算", "delivery_mode": "api", "grade": "general"},
    {"q": "民宿"}, {"q": "物流配送"},
]


def query_path(params: dict, **extra) -> str:
    return SEARCH + "?" + urlencode({**params, **extra}, quote_via=quote)


# ---- the catalogue generator -------------------------------------------------------------

# (domain, agency, category path, title stems, columns, tags, uses)
DOMAINS = [
    ("医疗保障", "医疗保障局", "卫生健康 > 医疗保障",
     ["医保定点医药机构名录", "医疗保障待遇结算", "医保基金收支", "门诊慢特病备案", "医保药品目录", "定点药店医保结算"],
     ["机构编码", "机构名称", "结算日期", "统筹支付金额", "个人自付金额", "参保类型", "就诊类型"], ["医保", "民生", "医疗"],
     ["商业健康保险核保", "医药零售选址", "医保基金监管"]),
    ("社会保险", "人力资源和社会保障局", "社会保障 > 社会保险",
     ["社会保险参保登记", "养老保险缴费", "失业保险金发放", "工伤认定", "社保缴纳明细"],
     ["单位名称", "参保人数", "缴费基数", "缴费月份", "险种"], ["社保", "就业"], ["企业用工评估", "信贷风控"]),
    ("住房公积金", "住房公积金管理中心", "住房城乡建设 > 住房公积金",
     ["住房公积金缴存", "公积金贷款发放", "公积金提取"], ["缴存单位", "缴存人数", "缴存金额", "贷款笔数", "月份"],
     ["公积金", "住房"], ["个人信贷评估", "住房市场研究"]),
    ("公共交通", "交通运输局", "交通运输 > 公共交通",
     ["公交线路站点", "公交刷卡客流", "地铁站点客流", "公交车辆实时位置", "公交站点客流"],
     ["线路编号", "站点名称", "经度", "纬度", "客流量", "时段"], ["公交", "出行", "交通"], ["商业选址", "出行服务"]),
    ("道路交通", "公安局交通警察支队", "公共安全 > 交通管理",
     ["交通事故统计", "交通违法记录", "路况拥堵指数", "货车限行区域", "机动车登记", "驾驶证状态核验"],
     ["路段名称", "发生时间", "事故类型", "车辆类型", "号牌种类"], ["交通", "路况"], ["车险定价", "物流路径规划"]),
    ("生态环境", "生态环境局", "生态环境 > 环境监测",
     ["空气质量监测小时", "大气污染源排放", "地表水水质监测", "重点排污单位", "油烟在线监测"],
     ["监测点名称", "PM2.5", "PM10", "臭氧", "AQI", "监测时间"], ["环保", "空气"], ["环境评估", "民宿选址"]),
    ("市场主体", "市场监督管理局", "市场监管 > 企业登记",
     ["市场主体登记", "企业年报", "个体工商户名录", "行政处罚信息", "食品经营许可证", "药品经营许可证", "食品安全抽检"],
     ["统一社会信用代码", "企业名称", "法定代表人", "注册资本", "成立日期", "经营范围", "登记机关"], ["企业", "工商"],
     ["企业征信", "供应链风控", "开店竞品分析"]),
    ("自然资源", "自然资源和规划局", "自然资源 > 不动产与规划",
     ["不动产登记", "房屋租赁备案", "国土空间规划", "建设用地审批", "宅基地农房登记", "商铺租金监测"],
     ["不动产单元号", "坐落", "用途", "面积", "登记时间"], ["房产", "规划"], ["房地产评估", "商业选址"]),
    ("气象", "气象局", "气象 > 气象观测", ["逐小时天气观测", "降水量统计", "气象灾害预警", "台风路径"],
     ["站点", "气温", "降水量", "风速", "观测时间"], ["天气", "气象"], ["农业保险", "物流调度", "旅游服务"]),
    ("教育", "教育局", "教育 > 学校", ["中小学学校名录", "学籍统计", "民办学校办学许可", "校外培训机构"],
     ["学校名称", "学段", "在校生数", "教职工数", "地址"], ["学校", "教育"], ["教育培训选址", "学区研究"]),
    ("人口", "统计局", "人口与户籍 > 人口统计", ["常住人口统计", "户籍人口变动", "人口年龄结构", "出生登记", "死亡登记"],
     ["区划代码", "区县", "常住人口", "户籍人口", "年份"], ["人口"], ["商业选址", "公共服务规划"]),
    ("信用", "发展和改革委员会", "信用 > 公共信用", ["公共信用评价", "失信被执行人名单", "纳税信用等级", "信用承诺"],
     ["统一社会信用代码", "主体名称", "信用等级", "评价日期"], ["信用"], ["信贷风控", "招投标审查"]),
    ("商务", "商务局", "商贸流通 > 商圈", ["商圈客流监测", "社会消费品零售总额", "重点商业街客流", "便利店网点分布"],
     ["商圈名称", "日期", "客流量", "消费额"], ["消费", "商圈"], ["零售选址", "商业规划"]),
    ("烟草", "烟草专卖局", "市场监管 > 烟草专卖", ["烟草专卖零售许可证", "卷烟零售网点"],
     ["许可证号", "经营者", "经营地址", "有效期"], ["烟草"], ["便利店开业准备"]),
    ("文旅", "文化广电旅游局", "文化旅游 > 旅游", ["景区游客接待", "民宿登记", "旅行社名录", "乡村旅游客流"],
     ["景区名称", "日期", "游客人数", "等级"], ["旅游", "民宿"], ["民宿经营", "文旅规划"]),
    ("治安", "公安局", "公共安全 > 社会治安", ["治安警情统计", "特种行业许可", "旅馆业住宿登记"],
     ["派出所", "警情类别", "发生时间", "辖区"], ["治安"], ["商铺安全评估"]),
    ("消防", "消防救援支队", "公共安全 > 消防", ["消防安全重点单位", "火灾事故统计", "消防检查记录"],
     ["单位名称", "检查日期", "隐患数量", "整改状态"], ["消防"], ["财产保险核保"]),
    ("卫生健康", "卫生健康委员会", "卫生健康 > 医疗服务",
     ["医疗机构名录", "门诊诊疗人次", "住院病案首页", "预防接种统计", "法定传染病报告", "公共场所卫生许可"],
     ["机构名称", "科室", "诊疗人次", "日期"], ["医疗", "卫生"], ["健康险核保", "医药零售选址"]),
    ("税务", "税务局", "财政税务 > 税收", ["纳税人登记", "税收收入统计", "发票开具统计"],
     ["纳税人识别号", "税种", "税额", "所属期"], ["税务"], ["企业经营分析"]),
    ("就业", "人力资源和社会保障局", "就业创业 > 招聘", ["招聘岗位信息", "失业登记", "职业技能培训"],
     ["岗位名称", "招聘人数", "薪资范围", "发布日期"], ["就业"], ["人力资源服务"]),
    ("民政", "民政局", "民政 > 社会服务", ["养老机构名录", "婚姻登记统计", "标准地名地址", "行政区划代码"],
     ["名称", "地址", "床位数", "登记日期"], ["养老", "地址"], ["养老服务", "物流地址校验"]),
    ("公用事业", "供电公司", "能源 > 公用事业", ["居民用电量", "企业用电量", "供水用户用水量", "管道燃气用户"],
     ["户号", "月份", "用量", "行业分类"], ["用电", "用水"], ["企业经营监测", "信贷风控"]),
    ("物流", "邮政管理局", "交通运输 > 物流", ["快递业务量", "物流园区名录", "货运车辆轨迹"],
     ["企业名称", "月份", "业务量", "区县"], ["物流", "快递"], ["物流配送规划"]),
    ("城市管理", "城市管理局", "城市管理 > 停车", ["公共停车场泊位", "路内停车收费", "共享单车停放"],
     ["停车场名称", "泊位数", "收费标准", "经度", "纬度"], ["停车"], ["出行服务", "商业选址"]),
    ("农业农村", "农业农村局", "农业农村 > 农业生产", ["农产品价格监测", "农业经营主体", "耕地保护"],
     ["品种", "价格", "市场", "日期"], ["农业"], ["农业保险", "农产品流通"]),
    ("知识产权", "市场监督管理局", "市场监管 > 知识产权", ["专利授权", "商标注册"],
     ["申请号", "名称", "权利人", "授权日期"], ["专利", "商标"], ["科技企业评估"]),
    ("经济统计", "统计局", "经济 > 统计", ["居民人均可支配收入", "地区生产总值", "规模以上工业企业"],
     ["指标", "地区", "数值", "年份"], ["统计", "收入"], ["市场研究", "消费水平分析"]),
    ("司法", "中级人民法院", "司法 > 审判执行", ["被执行人信息", "裁判文书统计"],
     ["案号", "被执行人", "执行标的", "立案日期"], ["司法", "信用"], ["信贷风控"]),
]
REGIONS = ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "舟山市", "台州市", "丽水市",
           "上城区", "拱墅区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区", "钱塘区", "富阳区", "临安区", "桐庐县",
           "淳安县", "建德市", "鄞州区", "海曙区", "北仑区", "慈溪市", "余姚市", "瑞安市", "乐清市", "义乌市", "诸暨市",
           "海宁市", "温岭市"]
# (data kind, tier, delivery modes)
KINDS = [("明细数据", "raw", ("sandbox",)), ("原始记录", "raw", ("sandbox",)), ("统计数据", "cleaned", ("file", "api")),
         ("月度汇总", "cleaned", ("file", "api")), ("年度报表", "cleaned", ("file",)), ("专题库", "cleaned", ("api",)),
         ("接口服务", "product", ("api",)), ("核验服务", "product", ("verification",)), ("分析报告", "product", ("file",)),
         ("指数", "product", ("api",))]
YEARS = list(range(2019, 2026))
CYCLES = [("realtime", 5), ("daily", 20), ("weekly", 8), ("monthly", 30), ("quarterly", 12), ("half_yearly", 5),
          ("yearly", 15), ("other", 5)]
CYCLE_WORDS = {"realtime": "实时", "daily": "每日", "weekly": "每周", "monthly": "每月", "quarterly": "每季度",
               "half_yearly": "每半年", "yearly": "每年", "other": "不定期"}
COLUMN_TYPES = ("text", "integer", "decimal", "date", "category")


def generate(n: int, seed: int = 2026) -> tuple[list[tuple[int, int]], list[dict]]:
    """(holders as (domain index, region index)), listings — deterministic for a seed."""
    rng = random.Random(seed)
    combos = [(d, s, r, k, y) for d, dom in enumerate(DOMAINS) for s in range(len(dom[3])) for r in range(len(REGIONS))
              for k in range(len(KINDS)) for y in YEARS]
    picked = rng.sample(combos, n) if n <= len(combos) else [rng.choice(combos) for _ in range(n)]
    cycles, cycle_w = [c for c, _ in CYCLES], [w for _, w in CYCLES]
    start = datetime(2026, 11, 1, tzinfo=timezone.utc)
    holders: dict[tuple[int, int], None] = {}
    listings = []
    for i, (d, s, r, k, y) in enumerate(picked):
        domain, agency, category, stems, columns, tags, uses = DOMAINS[d]
        stem, region, (kind, tier, deliveries) = stems[s], REGIONS[r], KINDS[k]
        holders.setdefault((d, r), None)
        cycle = rng.choices(cycles, cycle_w)[0]
        cols = rng.sample(columns, min(len(columns), rng.randint(4, 7)))
        price = (0 if tier == "raw" and rng.random() < 0.8 else
                 rng.choice((100_00, 500_00, 1_000_00, 2_000_00, 5_000_00)) if tier == "raw" else
                 rng.randint(10, 5_000) * 100 if tier == "cleaned" else rng.randint(100, 50_000) * 100)
        if tier == "cleaned" and rng.random() < 0.1:
            price = 0
        listings.append({
            "domain": d, "region": r, "stem": s, "tier": tier, "delivery_mode": rng.choice(deliveries),
            "title": f"{region}{y}年{stem}{kind}",
            "summary": (f"{region}{agency}提供的{stem}{kind}，覆盖{y}年，{CYCLE_WORDS[cycle]}更新，含"
                        f"{'、'.join(cols[:3])}等{len(cols)}项信息，可用于{rng.choice(uses)}。"),
            "category_path": f"{category} > {stem}",
            "tags": json.dumps(tags + [region, str(y)], ensure_ascii=False),
            "columns": json.dumps([{"name": c, "type": rng.choice(COLUMN_TYPES)} for c in cols], ensure_ascii=False),
            "update_cycle": cycle, "grade": rng.choices(("general", "important", "core"), (70, 25, 5))[0],
            "quality_score": rng.randint(40, 85) if tier == "raw" else rng.randint(55, 99),
            "min_price_fen": price, "row_count": rng.randint(100, 5_000_000),
            "data_updated_at": None if rng.random() < 0.02 else start - timedelta(minutes=rng.randint(0, 730 * 24 * 60)),
            "registration_code": f"ZJSJ-{y}-{i + 1:06d}",
        })
    return list(holders), listings


async def seed(settings, n: int, batch: int = 500) -> dict:
    """Organizations, one user, assets and n listed listings, in bulk; then the search index."""
    from listings import search
    from listings.tables import Listing
    from market import db

    t0 = time.monotonic()
    holders, listings = generate(n)
    log(f"[search] generated {len(listings)} listings for {len(holders)} holders in {time.monotonic() - t0:.1f}s")
    t0 = time.monotonic()
    now = datetime.now(timezone.utc)

    async def insert(table: str, columns: list[str], rows: list[tuple], returning: bool = False) -> list[int]:
        ids: list[int] = []
        per = max(1, min(batch, 30_000 // len(columns)))
        for i in range(0, len(rows), per):
            chunk = rows[i:i + per]
            values = ", ".join("(" + ", ".join("{}" for _ in columns) + ")" for _ in chunk)
            sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}" + (" RETURNING id" if returning else "")
            result = await Listing.raw(sql, *(v for row in chunk for v in row))
            ids.extend(r["id"] for r in result or [])
        return ids

    async with db.atomic():
        org_ids = await insert("organization", ["name", "credit_code", "credit_code_override", "kind", "region_code",
                                                "verification", "created_at"],
                               [(f"{REGIONS[r]}{DOMAINS[d][1]}", f"11330000B{i:08d}X"[:18], False,
                                 "enterprise" if DOMAINS[d][0] == "公用事业" else "government", "330100", "verified", now)
                                for i, (d, r) in enumerate(holders)], returning=True)
        holder_of = {key: (org_id, f"{REGIONS[key[1]]}{DOMAINS[key[0]][1]}") for key, org_id in zip(holders, org_ids)}
        user_id = (await insert("market_user", ["email", "display_name", "password_hash", "organization", "locale",
                                                "is_active", "failed_logins", "created_at"],
                                [("bench@search.cn", "bench", "-", org_ids[0], "zh", True, 0, now)], returning=True))[0]
        asset_keys = list(dict.fromkeys((x["domain"], x["stem"], x["region"]) for x in listings))
        asset_ids = await insert("data_asset", ["holder", "created_by", "title", "summary", "category_path", "tags",
                                                "created_at", "updated_at"],
                                 [(holder_of[(d, r)][0], user_id, f"{REGIONS[r]}{DOMAINS[d][3][s]}", "", DOMAINS[d][2],
                                   "[]", now, now) for d, s, r in asset_keys], returning=True)
    asset_of = dict(zip(asset_keys, asset_ids))
    log(f"[search] {len(org_ids)} organizations, {len(asset_ids)} assets in {time.monotonic() - t0:.1f}s")

    t0 = time.monotonic()
    cols = ["asset", "holder", "holder_name", "tier", "delivery_mode", "status", "title", "summary", "category_path",
            "tags", "columns", "update_cycle", "sharing_type", "open_type", "grade", "public_data", "registration_code",
            "quality_score", "row_count", "data_version", "data_updated_at", "min_price_fen", "sample", "review_note",
            "created_at", "updated_at", "listed_at"]
    rows = []
    for x in listings:
        org_id, org_name = holder_of[(x["domain"], x["region"])]
        rows.append((asset_of[(x["domain"], x["stem"], x["region"])], org_id, org_name, x["tier"], x["delivery_mode"],
                     "listed", x["title"], x["summary"], x["category_path"], x["tags"], x["columns"],
                     x["update_cycle"], "conditional", "conditional", x["grade"], True, x["registration_code"],
                     x["quality_score"], x["row_count"], 1, x["data_updated_at"], x["min_price_fen"], "[]", "",
                     now, now, now))
    for i in range(0, len(rows), 10_000):
        async with db.atomic():
            await insert("listing", cols, rows[i:i + 10_000])
    log(f"[search] {len(rows)} listings inserted in {time.monotonic() - t0:.1f}s")

    t0 = time.monotonic()
    indexed = await search.reindex_all()
    seconds = time.monotonic() - t0
    log(f"[search] indexed {indexed} listings in {seconds:.1f}s ({indexed / seconds:.0f}/s)")
    if not db.is_sqlite():
        await db.engine().run_ddl("ANALYZE")  # as after any bulk load: the planner needs statistics
    return {"holders": len(org_ids), "assets": len(asset_ids), "index_s": round(seconds, 1)}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def in_process(rounds: int) -> dict:
    """search() over QUERIES without HTTP. Each call misses the answer cache (emptied before it); the
    scenario bundles (recomputed at most once a minute) are warm, and timed on their own."""
    from listings import search

    def kwargs_of(params: dict) -> dict:
        return {k: (int(v) if k in ("quality_min", "page") else v) for k, v in params.items()}

    bundle_ms: list[float] = []
    for params in QUERIES:
        if search.match_scenario(params.get("q", "")):
            for _ in range(3):
                search.forget_answers(bundles=True)
                t0 = time.perf_counter()
                await search.scenario(params["q"])
                bundle_ms.append((time.perf_counter() - t0) * 1e3)
    per_query: dict[str, list[float]] = {}
    totals: dict[str, int] = {}
    samples: list[float] = []
    for _ in range(rounds):
        for params in QUERIES:
            search.forget_answers()
            t0 = time.perf_counter()
            result = await search.search(**kwargs_of(params))
            ms = (time.perf_counter() - t0) * 1e3
            samples.append(ms)
            label = "&".join(f"{k}={v}" for k, v in params.items())
            per_query.setdefault(label, []).append(ms)
            totals[label] = result["total"]
    for ms, label in sorted(((statistics.median(v), k) for k, v in per_query.items()), reverse=True)[:8]:
        log(f"[search]   in-process median {ms:6.1f} ms  total {totals[label]:6d}  {label}")
    cached: list[float] = []  # the same, answered from the cache (what a repeated query costs)
    for params in QUERIES:
        await search.search(**kwargs_of(params))
        t0 = time.perf_counter()
        await search.search(**kwargs_of(params))
        cached.append((time.perf_counter() - t0) * 1e3)
    return {"inproc_p50_ms": round(pct(samples, 50), 2), "inproc_p95_ms": round(pct(samples, 95), 2),
            "inproc_max_ms": round(max(samples), 2), "inproc_cached_p50_ms": round(pct(cached, 50), 3),
            "inproc_scenario_bundle_p50_ms": round(pct(bundle_ms, 50), 2),
            "inproc_scenario_bundle_max_ms": round(max(bundle_ms), 2),
            "inproc_queries": len(QUERIES), "inproc_rounds": rounds}


# ---- wrk with a Lua script ---------------------------------------------------------------

LUA = r"""
local paths = {%s}
local counter = 0
local offset = 0
local threads = {}
function setup(thread)
  thread:set("offset", #threads * 7)
  table.insert(threads, thread)
end
function init(args)
  counter = offset
end
function request()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
function done(summary, latency, requests)
  io.write(string.format("LUA_P50_US %%d\nLUA_P95_US %%d\nLUA_P99_US %%d\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def lua_script(paths: list[str], where: Path) -> Path:
    where.write_text(LUA % ", ".join(json.dumps(p) for p in paths), encoding="utf-8")
    return where


def run_wrk(wrk: str, port: int, script: Path | None, path: str, duration: float, connections: int,
            threads: int) -> dict:
    cmd = [wrk, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
           "--timeout", "10s"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(f"http://{HOST}:{port}{path}")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    res = hb.parse_wrk(done.stdout)
    for name in ("P50", "P95", "P99"):
        m = re.search(rf"LUA_{name}_US (\d+)", done.stdout)
        if m:
            res[f"{name.lower()}_ms"] = int(m.group(1)) / 1e3
    return res


# ---- the run -----------------------------------------------------------------------------


def measure_http(args, env: dict, market: list[str], tmp: Path, servers: list, wrk: str, result: dict) -> int:
    """Start `market serve` and the bare app, check every query, then load both with wrk."""
    exit_code = 0
    market_port, bare_port = hb.free_port(), hb.free_port()
    env["MARKET_PORT"] = str(market_port)
    servers.append(hb.Server("market", [*market, "serve"], env, market_port, tmp))
    bare_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    servers.append(hb.Server("bare", [sys.executable, str(BARE_APP), "--host", HOST, "--port", str(bare_port)],
                             bare_env, bare_port, tmp))
    market_srv, bare_srv = servers
    market_srv.wait_ready(query_path({"q": "医保"}), timeout=180)
    bare_srv.wait_ready("/bare")

    # correctness before load: every query answers 200 with the documented shape
    paths = [query_path(p) for p in QUERIES]
    for params, path in zip(QUERIES, paths):
        status, _h, raw = hb.fetch(market_port, "GET", path)
        body = json.loads(raw) if status == 200 else {}
        if status != 200 or not {"items", "total", "facets", "query", "scenario"} <= set(body):
            raise RuntimeError(f"GET {path} → {status}: {raw[:300]!r}")
        if params.get("q") == "我要开小卖部" and len((body.get("scenario") or {}).get("needs", [])) != 12:
            raise RuntimeError(f"GET {path}: no 12-need scenario bundle")
    body = json.loads(hb.fetch(market_port, "GET", query_path({"q": "yb"}))[2])
    result["yb_total"] = body["total"]
    log(f"[search] verified {len(paths)} queries; q=yb → {body['total']} listings, first "
        f"{body['items'][0]['title'] if body['items'] else None!r}")

    script = lua_script(paths, tmp / "queries.lua")
    bare_script = lua_script(["/bare"], tmp / "bare.lua")
    cold_scripts = iter(range(1_000))

    def cold_script() -> Path:
        """URLs no earlier run asked, so nearly every request misses the per-process answer cache, round
        after round: the same 40 pages, one more item a page each round (deeper pages would cost more)."""
        n = next(cold_scripts)
        return lua_script([query_path({**p, "page": str(k), "page_size": str(20 + n)}) for k in range(1, 41)
                           for p in QUERIES if "page" not in p], tmp / f"cold{n}.lua")

    def load(name: str, srv, lua: Path, path: str) -> dict:
        cpu0 = srv.cpu_seconds()
        r = run_wrk(wrk, srv.port, lua, path, args.duration, args.connections, args.threads)
        cpu1 = srv.cpu_seconds()
        if cpu0 is not None and cpu1 is not None and r.get("requests"):
            r["server_cpu_us_per_req"] = round(1e6 * (cpu1 - cpu0) / r["requests"])
        log(f"[search] {name:6s} {r['rps']:9.1f} req/s  p50 {r.get('p50_ms', float('nan')):7.2f} ms  "
            f"p95 {r.get('p95_ms', float('nan')):7.2f} ms  p99 {r.get('p99_ms', float('nan')):7.2f} ms  "
            f"non-2xx {r['non_2xx']}  socket errors {r['socket_errors']}")
        if srv.proc.poll() is not None:
            raise RuntimeError(f"{srv.name} died during the load:\n{srv.log_tail()}")
        return r

    if args.warmup > 0:
        run_wrk(wrk, bare_srv.port, bare_script, "/bare", args.warmup, args.connections, args.threads)
        run_wrk(wrk, market_srv.port, script, SEARCH, args.warmup, args.connections, args.threads)
    # interleaved rounds: the ceiling and our two sides back to back, the order alternating (bench/_rounds.py)
    rounds = interleave(args.ratio_rounds, bare=lambda: load("bare", bare_srv, bare_script, "/bare"),
                        search=lambda: load("search", market_srv, script, SEARCH),
                        cold=lambda: load("cold", market_srv, cold_script(), SEARCH))
    total = {k: sum(r[side][k] for r in rounds for side in ("bare", "search", "cold"))
             for k in ("non_2xx", "socket_errors")}
    result.update({"p50_ms": median_of(rounds, "search", "p50_ms"), "p95_ms": median_of(rounds, "search", "p95_ms"),
                   "p99_ms": median_of(rounds, "search", "p99_ms"), "rps": median_of(rounds, "search", "rps"),
                   "bare_rps": median_of(rounds, "bare", "rps"), "bare_p95_ms": median_of(rounds, "bare", "p95_ms"),
                   **summarize(rounds, ours="search", bare="bare", key="rps"),
                   "cold_rps": median_of(rounds, "cold", "rps"), "cold_p50_ms": median_of(rounds, "cold", "p50_ms"),
                   "cold_p95_ms": median_of(rounds, "cold", "p95_ms"),
                   **summarize(rounds, ours="cold", bare="bare", key="rps", prefix="cold_"),
                   "server_cpu_us_per_req": median_of(rounds, "search", "server_cpu_us_per_req"),
                   "cold_server_cpu_us_per_req": median_of(rounds, "cold", "server_cpu_us_per_req"),
                   **total})
    if result["non_2xx"]:
        log(f"[search] WARNING: {result['non_2xx']} non-2xx responses under load")
        exit_code = 1
    log(f"[search] p95 {result['p95_ms']} ms (goal ≤ 50), ratio {result['ratio']} ± {result['ratio_spread']} "
        f"(median of {result['rounds']} interleaved rounds, goal ≥ 0.25); cold p95 {result['cold_p95_ms']} ms, "
        f"cold ratio {result['cold_ratio']} ± {result['cold_ratio_spread']}")
    return exit_code


def relevance(env: dict, tmp: Path, market: list[str], engine: str, db_url: str) -> dict:
    """The relevance set (bench/search_relevance.json) over the demo catalogue, built by `market demo`
    in its own directory (and, on PostgreSQL, its own temporary database), measured in a child process
    (this one's search module holds the 100,000-listing snapshot)."""
    renv = {**env, "MARKET_VAR_DIR": str(tmp / "demo-var")}
    pg_db = None
    t0 = time.monotonic()
    try:
        if engine == "postgres":
            pg_db = f"market_bench_relevance_{secrets.token_hex(4)}"
            asyncio.run(_pg_admin(db_url, f'CREATE DATABASE "{pg_db}"'))
            renv["MARKET_DATABASE_URL"] = _pg_url(db_url, pg_db)
        for command in ("migrate", "demo"):
            done = subprocess.run([*market, command], cwd=ROOT, env=renv, stdin=subprocess.DEVNULL,
                                  capture_output=True, text=True, timeout=1200)
            if done.returncode != 0:
                raise RuntimeError(f"`market {command}` failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")
        log(f"[search] demo catalogue built in {time.monotonic() - t0:.1f}s; running the relevance set")
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--relevance-only"], cwd=ROOT, env=renv,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"relevance run failed ({done.returncode}):\n{done.stderr[-2000:]}")
        figures = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        if pg_db:
            try:
                asyncio.run(_pg_admin(db_url, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
            except Exception as exc:  # noqa: BLE001 - report, the figures stand
                log(f"[search] could not drop database {pg_db}: {exc}")
    for miss in figures.pop("misses"):
        log(f"[search]   relevance miss: {json.dumps(miss, ensure_ascii=False)}")
    floors = _relevance.floors()
    log(f"[search] relevance: top-3 hit rate {figures['top3_hit_rate']} (floor {floors['top3_hit_rate']}), "
        f"zero-result rate {figures['zero_result_rate']} (floor ≤ {floors['zero_result_rate']}) over "
        f"{figures['relevance_queries']} queries; {figures['absent_said_so']}/{figures['absent_queries']} "
        f"queries for absent data answered 'nearest'")
    return {**figures, "goal_top3_hit_rate": floors["top3_hit_rate"],
            "goal_zero_result_rate": floors["zero_result_rate"]}


def relevance_only() -> int:
    """Child process of relevance(): evaluate every case against the configured (demo) database."""
    from listings import search
    from market import db
    from market.config import Settings

    settings = Settings.from_env(dict(os.environ), env_file=None)

    async def run() -> dict:
        db.bind(settings)
        await db.start(settings)
        try:
            await search.warm_up()
            return await _relevance.evaluate(_relevance.load_cases())
        finally:
            await db.stop()

    print(json.dumps(asyncio.run(run()), ensure_ascii=False), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=100_000, help="listed listings to seed (default 100000)")
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (default 16)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per target (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="in-process rounds over the query set (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (and PostgreSQL database)")
    parser.add_argument("--no-http", action="store_true", help="stop after the in-process timings (profiling)")
    parser.add_argument("--ratio-rounds", type=int, default=3,
                        help="interleaved rounds of bare / search / cold under wrk (default 3, at least 3)")
    parser.add_argument("--no-relevance", action="store_true", help="skip the relevance set over the demo catalogue")
    parser.add_argument("--relevance-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.relevance_only:
        return relevance_only()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, hb._terminate)

    wrk = shutil.which("wrk") or ("/usr/bin/wrk" if os.access("/usr/bin/wrk", os.X_OK) else None)
    env = dict(os.environ)
    db_url = env.get("MARKET_DATABASE_URL", "").strip()
    engine = "postgres" if urlparse(db_url).scheme in ("postgres", "postgresql") else "sqlite"
    result: dict = {"bench": "search", "listings": args.listings, "db": engine, "connections": args.connections,
                    "duration_s": args.duration, "goal_p95_ms": 50, "goal_ratio": 0.25, "cpus": os.cpu_count()}
    tmp = Path(tempfile.mkdtemp(prefix="market-bench-search-"))
    servers: list = []
    pg_db = None
    exit_code = 0
    try:
        if not wrk:
            raise RuntimeError("wrk is not installed (apt-get install wrk)")
        # no job threads in `market serve`: periodic jobs (freshness checks would suspend the seeded listings,
        # which have no data files) must not run during a read benchmark
        env.update({"MARKET_VAR_DIR": str(tmp / "var"), "MARKET_HOST": HOST, "MARKET_LOG_LEVEL": "WARNING",
                    "MARKET_EMBEDDED_WORKER": "false"})
        env.pop("MARKET_BASE_URL", None)
        if engine == "postgres":
            pg_db = f"market_bench_search_{secrets.token_hex(4)}"
            asyncio.run(_pg_admin(db_url, f'CREATE DATABASE "{pg_db}"'))
            env["MARKET_DATABASE_URL"] = _pg_url(db_url, pg_db)
            if len(env.get("MARKET_SECRET_KEY", "").strip()) < 32:
                env["MARKET_SECRET_KEY"] = secrets.token_urlsafe(48)
            log(f"[search] PostgreSQL database {pg_db} created for this run")
        else:
            env.pop("MARKET_DATABASE_URL", None)
        market = hb.market_command()
        log(f"[search] {engine}, var dir {tmp / 'var'}; market migrate…")
        done = subprocess.run([*market, "migrate"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"`market migrate` failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")

        from listings import search
        from market import db
        from market.config import Settings

        settings = Settings.from_env(env, env_file=None)

        async def prepare() -> dict:
            db.bind(settings)
            await db.start(settings)
            try:
                info = await seed(settings, args.listings)
                t0 = time.monotonic()
                await search.warm_up()
                info["warm_up_s"] = round(time.monotonic() - t0, 2)
                log(f"[search] warm_up() (segmenter, snapshot of {args.listings} listings) in {info['warm_up_s']} s")
                log(f"[search] in-process: {len(QUERIES)} queries × {args.rounds} rounds, answer cache emptied before each")
                info.update(await in_process(args.rounds))
                return info
            finally:
                await db.stop()

        result.update(asyncio.run(prepare()))
        log(f"[search] in-process search(): p50 {result['inproc_p50_ms']} ms, p95 {result['inproc_p95_ms']} ms, "
            f"max {result['inproc_max_ms']} ms; from the cache p50 {result['inproc_cached_p50_ms']} ms; "
            f"a scenario bundle p50 {result['inproc_scenario_bundle_p50_ms']} ms")

        if not args.no_http:
            exit_code = measure_http(args, env, market, tmp, servers, wrk, result)
        if not args.no_relevance:
            result.update(relevance(env, tmp, market, engine, db_url))
            if (result["top3_hit_rate"] < result["goal_top3_hit_rate"]
                    or result["zero_result_rate"] > result["goal_zero_result_rate"]):
                exit_code = exit_code or 1
    except (Exception, KeyboardInterrupt) as exc:
        exit_code = 130 if isinstance(exc, KeyboardInterrupt) else 1
        log(f"[search] ERROR: {type(exc).__name__}: {exc}")
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        result.setdefault("ratio", None)
    finally:
        for srv in reversed(servers):
            srv.stop()
        if args.keep:
            log(f"[search] kept {tmp}" + (f" and database {pg_db}" if pg_db else ""))
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if pg_db:
                try:
                    asyncio.run(_pg_admin(db_url, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)'))
                except Exception as exc:  # noqa: BLE001 - report, the run's figures stand
                    log(f"[search] could not drop database {pg_db}: {exc}")
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
