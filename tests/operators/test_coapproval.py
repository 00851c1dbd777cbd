"""Upstream co-approval: a derived product is submitted for listing only once the holders of its sources
have approved it (asked on the first submission), unless the agreement pre-approves its type; a decline
blocks it; holders are reminded of what waits at most once a day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from factories import make_user
from listings import pricing
from listings import service as listings
from listings.tables import Listing
from market.context import Actor, acting_as
from market.errors import DomainError
from market.tables import Notification
from operators import service
from operators._agreements import today
from operators.tables import Coapproval
from pipeline_factories import as_operator, pipeline, run, world


async def _derived_draft(job_runtime, **agreement_overrides) -> dict:
    """A pipeline's output over the holder's table, as the operator's draft listing (file delivery)."""
    w = await world(job_runtime, **agreement_overrides)
    done = await run(w, (await pipeline(w))["id"], job_runtime)
    assert done["status"] == "done", done["error"]
    await job_runtime.drain(timeout=120)  # the output version is profiled
    op = w["operator"]
    with as_operator(w):
        listing = await listings.create_listing(
            asset_id=done["asset"], org_id=op["org"]["id"], tier="product", delivery_mode="file",
            title="门诊人次月度统计", summary="按地市和月份汇总的门诊人次", category_path="医疗卫生 > 诊疗服务 > 门诊人次",
            tags=["门诊"], update_cycle="monthly", sharing_type="unconditional", open_type="unconditional",
            plans=[pricing.PlanSpec(kind="one_time", name="按次购买", price_fen=100_000)])
    return {**w, "listing": listing}


async def _submit(w: dict) -> dict:
    with as_operator(w):
        return await listings.submit(listing_id=w["listing"]["id"], org_id=w["operator"]["org"]["id"])


async def _decide(w: dict, coapproval_id: int, approve: bool, note: str) -> dict:
    h = w["holder"]
    with acting_as(Actor(user_id=h["id"], org_id=h["org"]["id"], label=h["email"])):
        return await service.decide_coapproval(coapproval_id=coapproval_id, org_id=h["org"]["id"], user_id=h["id"],
                                               approve=approve, note=note)


async def _status(w: dict) -> str:
    return (await Listing.select(Listing.status).where(Listing.id == w["listing"]["id"]).first())["status"]


async def test_submission_waits_for_the_source_holder_and_passes_once_it_approves(job_runtime):
    w = await _derived_draft(job_runtime)
    with pytest.raises(DomainError) as exc:
        await _submit(w)
    assert exc.value.code == "coapproval.pending" and w["holder"]["org"]["name"] in exc.value.params["holders"]
    assert await _status(w) == "draft"
    [asked] = await service.list_coapprovals(org_id=w["holder"]["org"]["id"], roles=frozenset({"holder"}))
    assert asked["status"] == "pending" and asked["source_asset_ids"] == [w["visits"]["id"]]
    assert await Notification.count().where(Notification.kind == "coapproval.requested") == 1
    with pytest.raises(DomainError):
        await _submit(w)  # asking again asks nobody twice
    assert await Coapproval.count() == 1
    assert await Notification.count().where(Notification.kind == "coapproval.requested") == 1

    # only the holder asked may answer
    stranger = await make_user(["holder"])
    with pytest.raises(DomainError) as exc:
        await service.decide_coapproval(coapproval_id=asked["id"], org_id=stranger["org"]["id"],
                                        user_id=stranger["id"], approve=True, note="")
    assert exc.value.code == "coapproval.not_found"

    got = await _decide(w, asked["id"], True, "同意以汇总形式上架")
    assert got["status"] == "approved" and got["note"] == "同意以汇总形式上架"
    assert (await _submit(w))["status"] == "submitted"
    with pytest.raises(DomainError) as exc:
        await _decide(w, asked["id"], False, "改变主意")
    assert exc.value.code == "coapproval.decided"


async def test_a_decline_blocks_the_submission(job_runtime):
    w = await _derived_draft(job_runtime)
    with pytest.raises(DomainError):
        await _submit(w)
    [asked] = await service.list_coapprovals(org_id=w["holder"]["org"]["id"], roles=frozenset({"holder"}))
    with pytest.raises(DomainError) as exc:
        await _decide(w, asked["id"], False, "")
    assert exc.value.code == "coapproval.note_required"
    await _decide(w, asked["id"], False, "含个别小样本区县，存在重识别风险")
    with pytest.raises(DomainError) as exc:
        await _submit(w)
    assert exc.value.code == "coapproval.declined" and "重识别风险" in exc.value.params["note"]
    assert await _status(w) == "draft"


async def test_a_pre_approved_product_type_passes_without_asking(job_runtime):
    w = await _derived_draft(job_runtime, preapproved_product_types=["file"])
    got = await service.get_agreement(agreement_id=w["agreement"]["id"], org_id=None, roles=frozenset({"admin"}))
    assert got["preapproved_product_types"] == ["file"]
    assert (await _submit(w))["status"] == "submitted"
    [row] = await Coapproval.select()
    assert row["status"] == "preapproved"
    assert await Notification.count().where(Notification.kind == "coapproval.requested") == 0


async def test_a_type_outside_the_products_permitted_cannot_be_pre_approved(job_runtime):
    from agreement_factories import draft, parties

    with pytest.raises(DomainError) as exc:
        await draft(await parties(), preapproved_product_types=["sandbox"])
    assert exc.value.code.endswith("invalid") or "preapproved" in str(exc.value.params)


async def test_a_waiting_holder_is_reminded_once_a_day(job_runtime):
    w = await _derived_draft(job_runtime)
    with pytest.raises(DomainError):
        await _submit(w)
    day = today()
    assert await service.remind_pending(on=day) == []  # asked today: the request was today's word
    tomorrow = day + timedelta(days=1)
    [sent] = await service.remind_pending(on=tomorrow)
    assert await service.remind_pending(on=tomorrow) == []
    reminders = Notification.count().where((Notification.kind == "coapproval.reminder")
                                           & (Notification.organization == w["holder"]["org"]["id"]))
    assert await reminders == 1
    assert len(await service.remind_pending(on=tomorrow + timedelta(days=1))) == 1
    [asked] = await service.list_coapprovals(org_id=w["holder"]["org"]["id"], roles=frozenset({"holder"}))
    await _decide(w, asked["id"], True, "")
    assert await service.remind_pending(on=tomorrow + timedelta(days=2)) == []  # answered: nothing waits


async def test_the_holder_answers_through_the_api_and_the_page_and_other_roles_are_refused(client, job_runtime):
    from factories import login

    async def as_(user) -> dict:
        client.cookies.clear()
        return {"X-CSRF-Token": await login(client, user)}

    w = await _derived_draft(job_runtime)
    with pytest.raises(DomainError):
        await _submit(w)
    [asked] = await service.list_coapprovals(org_id=w["holder"]["org"]["id"], roles=frozenset({"holder"}))
    cid = asked["id"]
    routes = [("get", "/api/v1/coapprovals", None, {"holder", "operator", "regulator", "admin"}),
              ("post", f"/api/v1/coapprovals/{cid}/decision", {"approve": True, "note": ""}, {"holder"}),
              ("get", "/coapprovals", None, {"holder", "operator", "regulator", "admin"}),
              ("post", f"/coapprovals/{cid}", {"action": "approve"}, {"holder"})]
    for role in ("buyer", "agency", "operator", "regulator", "admin"):
        h = await as_(await make_user([role]))
        for method, url, payload, allowed in routes:
            if role in allowed:
                continue
            if url.startswith("/api/"):
                resp = await getattr(client, method)(url, **({"json": payload, "headers": h} if method == "post" else {}))
            else:
                resp = await getattr(client, method)(url, **({"data": {**payload, "_csrf": h["X-CSRF-Token"]}}
                                                            if method == "post" else {}))
            assert resp.status_code == 403, (role, method, url, resp.status_code)
    assert (await Coapproval.select(Coapproval.status).where(Coapproval.id == cid).first())["status"] == "pending"

    # the operator sees what it asked for; another holder sees nothing and cannot answer
    await as_(w["operator"])
    assert [r["id"] for r in (await client.get("/api/v1/coapprovals")).json()["items"]] == [cid]
    h = await as_(await make_user(["holder"]))
    assert (await client.get("/api/v1/coapprovals")).json()["items"] == []
    resp = await client.post(f"/api/v1/coapprovals/{cid}/decision", json={"approve": True}, headers=h)
    assert resp.status_code == 404 and resp.json()["code"] == "coapproval.not_found"

    h = await as_(w["holder"])
    page = await client.get("/coapprovals")
    assert page.status_code == 200 and "门诊人次月度统计" in page.text and f'action="/coapprovals/{cid}"' in page.text
    resp = await client.post(f"/api/v1/coapprovals/{cid}/decision", json={"approve": False}, headers=h)
    assert resp.status_code == 400 and resp.json()["code"] == "coapproval.note_required"
    resp = await client.post(f"/coapprovals/{cid}", data={"_csrf": h["X-CSRF-Token"], "action": "approve",
                                                          "note": "同意"}, follow_redirects=False)
    assert resp.status_code in (302, 303)
    got = (await client.get("/api/v1/coapprovals")).json()["items"]
    assert [(r["status"], r["note"]) for r in got] == [("approved", "同意")]
    resp = await client.post(f"/api/v1/coapprovals/{cid}/decision", json={"approve": True}, headers=h)
    assert resp.status_code == 409 and resp.json()["code"] == "coapproval.decided"
    assert (await _submit(w))["status"] == "submitted"
