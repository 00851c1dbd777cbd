"""The demand board: a buyer posts what it needs, matching listings are suggested and their holders
told, a holder answers with a listing."""

from __future__ import annotations

import pytest

from factories import login, make_listing, make_user
from listings import service
from listings.tables import Demand, DemandResponse
from market.errors import DomainError
from market.tables import AuditEvent, Notification


async def test_demand_is_matched_and_holders_told(client, job_runtime):
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime, title="杭州市区县常住人口")
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    resp = await client.post("/api/v1/demands", json={"title": "需要杭州各区县常住人口数据", "purpose": "industry",
                                                      "budget_fen": 300_000}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201, resp.text
    body = resp.json()
    assert [r["listing_id"] for r in body["responses"]] == [data["listing"]["id"]]
    assert await Notification.exists().where((Notification.kind == "demand.match")
                                             & (Notification.organization == holder["org"]["id"]))
    assert await AuditEvent.exists().where(AuditEvent.action == "demand.posted")


async def test_holder_answers_with_its_own_listing_only(client, job_runtime):
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime, title="杭州市区县常住人口")
    buyer = await make_user(["buyer"])
    demand = await service.post_demand(org_id=buyer["org"]["id"], user_id=buyer["id"], title="企业用电量月度数据")
    assert demand["responses"] == []  # nothing matches yet
    stranger = await make_user(["holder"])
    with pytest.raises(DomainError) as err:
        await service.answer_demand(demand_id=demand["demand"]["id"], org_id=stranger["org"]["id"],
                                    listing_id=data["listing"]["id"])
    assert err.value.code == "listing.not_yours"
    csrf = await login(client, holder)
    resp = await client.post(f"/api/v1/demands/{demand['demand']['id']}/answers",
                             json={"listing_id": data["listing"]["id"], "note": "可按需加工"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201 and resp.json()["status"] == "answered"
    assert resp.json()["responses"][0]["source"] == "holder"
    assert await Notification.exists().where((Notification.kind == "demand.answered")
                                             & (Notification.organization == buyer["org"]["id"]))


async def test_demand_input_checked_and_roles_enforced(client):
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    resp = await client.post("/api/v1/demands", json={"title": "x"}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 400 and resp.json()["code"] == "demand.title_invalid"
    resp = await client.post("/api/v1/demands", json={"title": "人口数据", "purpose": "gossip"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 400 and resp.json()["code"] == "price.purpose_invalid"
    assert await Demand.count() == 0 and await DemandResponse.count() == 0
    client.cookies.clear()
    holder = await make_user(["holder"])
    csrf = await login(client, holder)
    resp = await client.post("/api/v1/demands", json={"title": "人口数据"}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    # the board page lists demands for any logged-in user
    await service.post_demand(org_id=buyer["org"]["id"], user_id=buyer["id"], title="公交线路客流数据")
    assert "公交线路客流数据" in (await client.get("/demands")).text
