"""Factories call services, as the app would; nothing here writes tables directly."""

from __future__ import annotations

import itertools
import random

from stdnum.cn import uscc

from market import identity
from market.context import Actor, acting_as

PASSWORD = "correct-horse-42"
_seq = itertools.count(1)


def org_code(base8: str) -> str:
    """GB 11714 organization code: 8 characters and a check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(base8, weights))
    check = 11 - total % 11
    return base8 + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(prefix: str = "91", region: str = "330100", rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    body = prefix + region + org_code(f"{rng.randrange(10**8):08d}")
    return body + uscc.calc_check_digit(body)


async def make_org(name: str | None = None, kind: str = "enterprise", verified: bool = True) -> dict:
    n = next(_seq)
    with acting_as(Actor(label="factory")):
        return await identity.create_organization(name=name or f"测试机构{n}有限公司", credit_code=credit_code(),
                                                  kind=kind, verified=verified)


async def make_user(roles: list[str], org: dict | None = None, email: str | None = None,
                    password: str = PASSWORD) -> dict:
    org = org or await make_org()
    n = next(_seq)
    with acting_as(Actor(label="factory")):
        user = await identity.create_user(email=email or f"user{n}@example.cn", password=password,
                                          display_name=f"用户{n}", organization_id=org["id"], roles=roles)
    return {**user, "password": password, "org": org}


async def login(client, user: dict) -> str:
    """Start a cookie session through the API; returns the CSRF token for writes."""
    resp = await client.post("/api/v1/session", json={"email": user["email"], "password": user["password"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["csrf_token"]


async def make_asset(user: dict, job_runtime, *, content: bytes | None = None, filename: str = "区县人口.csv") -> dict:
    """Upload a table through the service and run its profiling job; returns the asset row."""
    import io

    from listings import service
    from market import runtime

    content = content or "区划代码,区县,常住人口,年份\n330102,上城区,135,2024\n330105,拱墅区,118,2024\n330106,西湖区,113,2024\n".encode()
    with acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label=user["email"])):
        result = await service.upload(storage=runtime.storage(), holder_org_id=user["org"]["id"], user_id=user["id"],
                                      stream=io.BytesIO(content), filename=filename)
    await job_runtime.drain(timeout=120)
    data = await service.get_asset(asset_id=result["id"])
    assert data["version"]["profile_status"] == "done", data["version"]["error"]
    return data["asset"]


async def make_listing(user: dict, job_runtime, *, tier: str = "product", price_fen: int = 50_000,
                       listed: bool = True, content: bytes | None = None, title: str = "杭州市区县常住人口",
                       cap_fen: int | None = None, delivery: str | None = None, sharing: str = "unconditional",
                       plans: list | None = None, category: str = "人口与户籍 > 人口统计 > 常住人口") -> dict:
    """A listing through the real path: upload, profile, create, submit, approve, close the notice."""
    from datetime import datetime, timedelta, timezone

    from listings import pricing, service

    asset = await make_asset(user, job_runtime, content=content)
    plan = (pricing.PlanSpec(kind="free", name="免费") if tier == "raw" or not price_fen else
            pricing.PlanSpec(kind="one_time", name="按次购买", price_fen=price_fen))
    delivery = delivery or ("sandbox" if tier == "raw" else "api")
    with acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label=user["email"])):
        listing = await service.create_listing(
            asset_id=asset["id"], org_id=user["org"]["id"], tier=tier, delivery_mode=delivery, title=title,
            summary="各区县常住人口年度统计", category_path=category, tags=["人口"],
            update_cycle="yearly", sharing_type=sharing, open_type="unconditional", plans=plans or [plan])
        if not listed:
            return listing
        if cap_fen is not None:
            await service.set_cap(listing_id=listing["id"], agency_org_id=user["org"]["id"], cap_fen=cap_fen,
                                  basis="测试依据")
        await service.submit(listing_id=listing["id"], org_id=user["org"]["id"])
        await service.approve(listing_id=listing["id"], notice_days=0)
        await service.close_notices(now=datetime.now(timezone.utc) + timedelta(seconds=1))
    return await service.get_listing(listing_id=listing["id"], viewer_org_id=None, viewer_roles=frozenset({"admin"}))
