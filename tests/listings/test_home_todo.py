"""The holder's home (工作台) shows what needs it, each with a count: tables to confirm and draft
listings, listings in review or 公示, overdue updates, demand-board matches and recent downloads of its
data (orders waiting for its approval are billing's). Only its own: another holder sees its own counts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from factories import login, make_asset, make_listing, make_user
from listings import pricing, service
from market.context import Actor, acting_as
from order_steps import buy

EXPECTED = {"unconfirmed": 1, "drafts": 1, "confirm": 2, "review": 1, "overdue": 1, "demands": 1, "downloads": 2}


async def _holder_with_work(client, job_runtime) -> dict:
    """A holder with one of each thing waiting (and a second holder with one table of its own)."""
    holder = await make_user(["holder"])
    org_id = holder["org"]["id"]
    plans = [pricing.PlanSpec(kind="free", name="免费下载"),
             pricing.PlanSpec(kind="subscription", name="年度订阅", price_fen=120_000, months=12)]
    on_sale = await make_listing(holder, job_runtime, delivery="file", plans=plans, title="杭州市区县常住人口")
    listing, (free, _paid) = on_sale["listing"], on_sale["plans"]
    in_review = await make_listing(holder, job_runtime, listed=False, title="杭州市区县户籍人口")
    with acting_as(Actor(user_id=holder["id"], org_id=org_id, label=holder["email"])):
        await service.submit(listing_id=in_review["id"], org_id=org_id)
    await make_listing(holder, job_runtime, listed=False, title="杭州市区县出生人口")  # a draft
    await make_asset(holder, job_runtime, filename="区县面积.csv")  # profiled, never confirmed

    user = await make_user(["buyer"])
    taken = await buy(client, job_runtime, buyer=user, holder=holder, listing_id=listing["id"], plan_id=free["id"])
    with acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label=user["email"])):
        for _ in range(2):
            await service.open_download(entitlement_id=taken["entitlement_id"], version=1, org_id=user["org"]["id"],
                                        user_id=user["id"])
    waiting = await make_user(["buyer"])
    with acting_as(Actor(user_id=waiting["id"], org_id=waiting["org"]["id"], label=waiting["email"])):
        await service.post_demand(org_id=waiting["org"]["id"], user_id=waiting["id"], title="区县常住人口数据")
    # the yearly data falls behind its cycle
    await service.check_freshness(now=datetime.now(timezone.utc) + timedelta(days=400))

    other = await make_user(["holder"])
    await make_asset(other, job_runtime, filename="其他机构的表.csv")
    return {"holder": holder, "other": other, "listing": listing, "in_review": in_review}


async def test_holder_counts_each_kind_of_waiting_work(client, job_runtime):
    state = await _holder_with_work(client, job_runtime)
    todo = await service.holder_todo(org_id=state["holder"]["org"]["id"])
    assert {k: todo[k] for k in EXPECTED} == EXPECTED
    assert [r["id"] for r in todo["examples"]["review"]] == [state["in_review"]["id"]]
    assert [r["id"] for r in todo["examples"]["overdue"]] == [state["listing"]["id"]]
    assert [r["title"] for r in todo["examples"]["unconfirmed"]] == ["区县面积"]
    # downloads count only the recent window
    later = await service.holder_todo(org_id=state["holder"]["org"]["id"],
                                      now=datetime.now(timezone.utc) + timedelta(days=31))
    assert later["downloads"] == 0 and "requests" not in later
    # the other holder has its own table to confirm, and nothing of the first holder's
    other = await service.holder_todo(org_id=state["other"]["org"]["id"])
    assert {k: other[k] for k in EXPECTED} == {**{k: 0 for k in EXPECTED}, "unconfirmed": 1, "confirm": 1}


def _counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-testid="todo-(\w+)" data-count="(\d+)"', html)}


async def test_home_page_shows_the_holder_its_own_counts(client, job_runtime):
    state = await _holder_with_work(client, job_runtime)
    await login(client, state["holder"])
    html = (await client.get("/")).text
    shown = _counts(html)
    assert {k: shown[k] for k in ("confirm", "review", "overdue", "demands", "downloads")} == \
        {k: EXPECTED[k] for k in ("confirm", "review", "overdue", "demands", "downloads")}
    assert "todo-requests" not in html  # use requests are orders now: nothing here points to a removed route
    assert 'href="/my/requests"' in html and f'href="/listings/{state["in_review"]["id"]}"' in html
    assert "区县面积" in html  # the table to confirm, linked straight to its confirmation

    client.cookies.clear()
    await login(client, state["other"])
    html = (await client.get("/")).text
    assert _counts(html) == {"confirm": 1, "review": 0, "overdue": 0, "demands": 0, "downloads": 0}
    assert "杭州市区县户籍人口" not in html and "区县面积" not in html


async def test_other_roles_see_their_own_panels_not_the_holders(client, job_runtime):
    state = await _holder_with_work(client, job_runtime)
    buyer = await make_user(["buyer"])
    await login(client, buyer)
    shown = _counts((await client.get("/")).text)
    assert set(shown) == {"active", "my_demands"} and not any(shown.values())
    client.cookies.clear()
    admin = await make_user(["admin"])
    await login(client, admin)
    shown = _counts((await client.get("/")).text)
    assert shown["submitted"] == 1 and "requests" not in shown and "orgs_pending" in shown
    client.cookies.clear()
    agency = await make_user(["agency"])
    await login(client, agency)
    assert set(_counts((await client.get("/")).text)) == {"uncapped"}
    assert state["holder"]  # the holder's work exists, yet none of it shows to these roles
