"""Sources, an agreement over them and pipelines for the pipeline tests, made through the services."""

from __future__ import annotations

from agreement_factories import HEALTH, active, catalogued_asset, parties
from market.context import Actor, acting_as

# 24 visits over two districts of one city and two months: every (city, month) class has 6 rows
VISITS = ("身份证号,手机号,区划代码,就诊日期,次数\n" + "".join(
    f"33010{2 + i % 2}19900101{1000 + i:04d},135{12340000 + i:08d},33010{2 + i % 2},2024-0{5 + i // 12}-{10 + i % 12:02d},{i % 5 + 1}\n"
    for i in range(24))).encode()
CLINICS = ("区划代码,机构数\n330102,12\n330105,7\n").encode()

MASKING_SQL = ("SELECT mask_id(身份证号) AS 证件, mask_phone(手机号) AS 电话, region_city(区划代码) AS 地市, "
               "date_month(就诊日期) AS 月份, 次数 FROM visits")
AGGREGATE_SQL = ("SELECT region_city(v.区划代码) AS 地市, date_month(v.就诊日期) AS 月份, count(*) AS 人次, "
                 "sum(v.次数) AS 总次数 FROM visits v GROUP BY ALL ORDER BY ALL")


async def world(job_runtime, **agreement_overrides) -> dict:
    """Parties, two health sources held by the holder, and an active agreement over health data."""
    p = await parties()
    visits = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊就诊明细", content=VISITS)
    clinics = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="医疗机构数", content=CLINICS)
    agreement = await active(p, job_runtime, **agreement_overrides)
    return {**p, "visits": visits, "clinics": clinics, "agreement": agreement}


def as_operator(w: dict):
    op = w["operator"]
    return acting_as(Actor(user_id=op["id"], org_id=op["org"]["id"], label=op["email"],
                           roles=frozenset({"operator", "holder"})))


async def pipeline(w: dict, *, sql: str = AGGREGATE_SQL, sources: dict | None = None, **kwargs) -> dict:
    from operators import service

    op = w["operator"]
    with as_operator(w):
        return await service.create_pipeline(
            operator_org_id=op["org"]["id"], user_id=op["id"], agreement_id=w["agreement"]["id"],
            title=kwargs.pop("title", "门诊人次月度统计"), sources=sources or {"visits": w["visits"]["id"]}, sql=sql,
            **kwargs)


async def run(w: dict, pipeline_id: int, job_runtime) -> dict:
    from operators import service

    op = w["operator"]
    who = {"org_id": op["org"]["id"], "roles": frozenset({"operator", "holder"})}
    with as_operator(w):
        queued = await service.start_run(pipeline_id=pipeline_id, user_id=op["id"], **who)
    await job_runtime.drain(timeout=180)
    return await service.get_run(run_id=queued["id"], **who)
