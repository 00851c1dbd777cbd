"""Entitlements: taken by ordering (free plans too: one path from a listing to data), the holder's vetting
on the order, versions reached, delivery of new versions, downloads of old ones with a signed mark,
tracing a leaked file back to its recipient; entitlements of the free claims of earlier releases keep
working."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from factories import login, make_listing, make_user
from listings import pricing, service
from order_steps import buy
from listings.entitlements import marks
from listings.tables import DeliveryMark, Entitlement, VersionDelivery
from market import runtime
from market.audit import verify
from market.errors import Conflict, DomainError, Forbidden, NotFound
from market.tables import AuditEvent, Notification

V2 = "区划代码,区县,常住人口,年份,面积\n330102,上城区,136,2025,26.1\n330105,拱墅区,119,2025,69.3\n".encode()
V3 = "区划代码,区县,常住人口,年份,面积\n330102,上城区,137,2026,26.1\n".encode()


async def _new_version(holder: dict, asset_id: int, content: bytes, job_runtime) -> None:
    await service.upload(storage=runtime.storage(), holder_org_id=holder["org"]["id"], user_id=holder["id"],
                         stream=io.BytesIO(content), filename="区县人口.csv", asset_id=asset_id)
    await job_runtime.drain(timeout=120)


async def _file_listing(job_runtime, *, plans=None, sharing="unconditional"):
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime, delivery="file", sharing=sharing,
                              plans=plans or [pricing.PlanSpec(kind="free", name="免费下载")])
    return holder, data["listing"], data["plans"]


async def _entitlement(order: dict) -> dict:
    return await Entitlement.select().where(Entitlement.id == order["entitlement_id"]).first()


async def _legacy_claim(listing: dict, plan: dict, buyer: dict) -> dict:
    """An entitlement as the free claims of earlier releases left it (active, source "claim")."""
    now = datetime.now(timezone.utc)
    rows = await Entitlement.insert(Entitlement(
        listing=listing["id"], plan=plan["id"], buyer=buyer["org"]["id"], user=buyer["id"], kind=plan["kind"],
        purpose="industry", purpose_note="旧版免费申请", amount_fen=0, source="claim", status="active",
        revision_access=plan["revision_access"], start_version=1, starts_at=now,
    )).returning(*Entitlement.all_columns())
    await VersionDelivery.insert(VersionDelivery(entitlement=rows[0]["id"], version=1, key=f"{rows[0]['id']}:1"))
    return rows[0]


async def test_free_order_is_delivered_at_once_and_new_versions_reach_it(client, job_runtime):
    holder, listing, plans = await _file_listing(job_runtime)
    buyer = await make_user(["buyer"])
    order = await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=listing["id"],
                      plan_id=plans[0]["id"])
    assert order["total_fen"] == 0 and order["payments"] == []  # a contract, no payment
    row = await _entitlement(order)
    assert (row["status"], row["start_version"], row["ends_at"], row["source"], row["amount_fen"]) == \
        ("active", 1, None, "order", 0)
    assert await VersionDelivery.exists().where(VersionDelivery.key == f"{row['id']}:1")
    # a compatible new version goes on sale and is delivered to the buyer by a job after commit
    await _new_version(holder, listing["asset"], V2, job_runtime)
    assert await VersionDelivery.exists().where(VersionDelivery.key == f"{row['id']}:2")
    assert await Notification.exists().where((Notification.kind == "entitlement.new_version")
                                             & (Notification.organization == buyer["org"]["id"]))
    # delivering again is a no-op
    assert await service.deliver_version(listing_id=listing["id"], version=2) == []
    detail = await service.entitlement_detail(entitlement_id=row["id"], org_id=buyer["org"]["id"])
    assert [v["number"] for v in detail["versions"]] == [2, 1] and detail["downloadable"]
    # nobody else sees it
    other = await make_user(["buyer"])
    with pytest.raises(NotFound):
        await service.entitlement_detail(entitlement_id=row["id"], org_id=other["org"]["id"])


async def test_the_claim_routes_are_gone(client, job_runtime):
    holder, listing, plans = await _file_listing(job_runtime)
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    body = {"plan_id": plans[0]["id"], "purpose": "industry", "purpose_note": "用于区域人口分析报告"}
    resp = await client.post(f"/api/v1/listings/{listing['id']}/claim", headers={"X-CSRF-Token": csrf}, json=body)
    assert resp.status_code in (404, 405)
    resp = await client.post(f"/listings/{listing['id']}/claim", data={"_csrf": csrf, **body})
    assert resp.status_code in (404, 405)
    assert (await client.get("/api/v1/entitlement-requests")).status_code == 404
    spec = (await client.get("/schema/openapi.json")).json()
    # (other decisions, such as a holder's co-approval of a derived product, are not entitlement requests)
    assert not [p for p in spec["paths"] if p.endswith("/claim") or "entitlement-requests" in p
                or ("entitlement" in p and "decision" in p)]
    assert not hasattr(service, "claim") and not hasattr(service, "decide")
    assert await Entitlement.count() == 0


async def test_free_purpose_on_paid_plan_waits_for_the_holder(client, job_runtime):
    holder, listing, plans = await _file_listing(
        job_runtime, plans=[pricing.PlanSpec(kind="subscription", name="年度订阅", price_fen=120_000, months=12)])
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    resp = await client.post("/api/v1/orders", headers={"X-CSRF-Token": csrf, "Idempotency-Key": "welfare-1"},
                             json={"listing_id": listing["id"], "plan_id": plans[0]["id"], "purpose": "public_welfare",
                                   "purpose_note": "用于社区养老服务站选址（公益项目）"})
    assert resp.status_code == 201, resp.text
    order = resp.json()
    assert order["status"] == "awaiting_approval" and order["total_fen"] == 0
    assert await Entitlement.count() == 0
    assert await Notification.exists().where((Notification.kind == "order.awaiting_approval")
                                             & (Notification.organization == holder["org"]["id"]))
    # another holder cannot see it, the buyer cannot approve it, declining needs a reason
    client.cookies.clear()
    csrf = await login(client, await make_user(["holder"]))
    resp = await client.post(f"/api/v1/orders/{order['id']}/approve", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 404
    client.cookies.clear()
    csrf = await login(client, buyer)
    resp = await client.post(f"/api/v1/orders/{order['id']}/approve", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    client.cookies.clear()
    csrf = await login(client, holder)
    resp = await client.post(f"/api/v1/orders/{order['id']}/decline", json={"reason": ""},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 400 and resp.json()["code"] == "order.reason_required"
    resp = await client.post(f"/api/v1/orders/{order['id']}/approve", json={"note": "用途属实"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and "signature" in resp.json()["status"]
    # then both sign (a vetted order is signed by the holder in person), and the free order delivers a year
    await job_runtime.drain(timeout=120)
    for party in (holder, buyer):
        client.cookies.clear()
        csrf = await login(client, party)
        resp = await client.post(f"/api/v1/orders/{order['id']}/sign", json={}, headers={"X-CSRF-Token": csrf})
        assert resp.status_code == 200, resp.text
    order = resp.json()
    assert order["status"] == "delivered" and order["payments"] == []
    active = await _entitlement(order)
    assert active["status"] == "active" and active["ends_at"] is not None
    assert (active["ends_at"] - active["starts_at"]) > timedelta(days=360)
    events = await AuditEvent.select(AuditEvent.action).where(AuditEvent.object_type == "entitlement")
    assert {"entitlement.ordered", "entitlement.granted"} <= {e["action"] for e in events}
    assert (await verify()).ok


async def test_conditional_sharing_needs_approval_even_when_free(client, job_runtime):
    holder, listing, plans = await _file_listing(job_runtime, sharing="conditional")
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    resp = await client.post("/api/v1/orders", headers={"X-CSRF-Token": csrf, "Idempotency-Key": "cond-1"},
                             json={"listing_id": listing["id"], "plan_id": plans[0]["id"], "purpose": "industry",
                                   "purpose_note": "用于门店选址模型"})
    order = resp.json()
    assert order["status"] == "awaiting_approval" and order["total_fen"] == 0
    client.cookies.clear()
    csrf = await login(client, holder)
    resp = await client.post(f"/api/v1/orders/{order['id']}/decline", json={"reason": "用途超出共享条件"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and resp.json()["status"] == "declined"
    resp = await client.post(f"/api/v1/orders/{order['id']}/approve", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 409  # a decision is final
    assert await Entitlement.count() == 0


async def test_revision_access_rules(job_runtime):
    holder, listing, _ = await _file_listing(job_runtime, plans=[
        pricing.PlanSpec(kind="one_time", name="按次购买", price_fen=50_000),
        pricing.PlanSpec(kind="subscription", name="月度订阅", price_fen=20_000, months=1,
                         revision_access="from_start"),
    ])
    plans = await service.plans_of(listing["id"])
    one_time, monthly = plans
    buyer = await make_user(["buyer"])
    bought = await service.grant(listing_id=listing["id"], plan_id=one_time["id"], buyer_org_id=buyer["org"]["id"],
                                 user_id=buyer["id"], purpose="industry", purpose_note="商业分析",
                                 amount_fen=50_000, source_ref="DD-TEST-1")
    await _new_version(holder, listing["asset"], V2, job_runtime)
    late = await make_user(["buyer"])
    sub = await service.grant(listing_id=listing["id"], plan_id=monthly["id"], buyer_org_id=late["org"]["id"],
                              user_id=late["id"], purpose="industry", purpose_note="月度监测", amount_fen=20_000,
                              source_ref="DD-TEST-2")
    assert sub["start_version"] == 2
    # one-time: the version bought, not later ones; subscription from v2: not v1, and v3 when it comes
    assert service.reaches(bought, 1, 2) and not service.reaches(bought, 2, 2)
    assert not service.reaches(sub, 1, 2) and service.reaches(sub, 2, 2)
    assert not await VersionDelivery.exists().where(VersionDelivery.key == f"{bought['id']}:2")
    await _new_version(holder, listing["asset"], V3, job_runtime)
    assert await VersionDelivery.exists().where(VersionDelivery.key == f"{sub['id']}:3")
    with pytest.raises(Forbidden):
        await service.open_download(entitlement_id=sub["id"], version=1, org_id=late["org"]["id"], user_id=late["id"])
    # the month ends: expired once, then nothing reaches it and no new version is delivered
    later = datetime.now(timezone.utc) + timedelta(days=40)
    assert await service.expire_due(now=later) == [sub["id"]]
    assert await service.expire_due(now=later) == []
    expired = await Entitlement.select().where(Entitlement.id == sub["id"]).first()
    assert expired["status"] == "expired" and not service.reaches(expired, 3, 3)


async def test_download_of_an_old_version_carries_a_traceable_mark(client, job_runtime):
    holder, listing, plans = await _file_listing(job_runtime)
    buyer = await make_user(["buyer"])
    order = await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=listing["id"],
                      plan_id=plans[0]["id"])
    eid = order["entitlement_id"]
    csrf = await login(client, buyer)
    await _new_version(holder, listing["asset"], V2, job_runtime)
    resp = await client.get(f"/api/v1/entitlements/{eid}")
    assert [v["number"] for v in resp.json()["versions"]] == [2, 1]
    # the old version, as the buyer got it
    resp = await client.get(f"/api/v1/entitlements/{eid}/versions/1/file")
    assert resp.status_code == 200, resp.text
    assert "attachment" in resp.headers["content-disposition"]
    assert resp.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 Chinese only with a BOM
    text = resp.content.decode("utf-8-sig")
    clean = marks.strip(text)
    assert clean.splitlines()[0] == "区划代码,区县,常住人口,年份" and "上城区" in clean and "面积" not in clean
    assert text != clean  # the mark is there, invisible
    secret = runtime.settings().secret_key.encode()
    [mark_id] = marks.find(text, secret)
    mark = await DeliveryMark.select().where(DeliveryMark.id == mark_id).first()
    assert mark["recipient_credit_code"] == buyer["org"]["credit_code"] and mark["version"] == 1
    assert mark["source_ref"] == f"order:{order['id']}"  # the mark names the order
    delivery = await VersionDelivery.select().where(VersionDelivery.key == f"{eid}:1").first()
    assert delivery["downloads"] == 1
    assert await AuditEvent.exists().where(AuditEvent.action == "delivery.downloaded")
    # a buyer may not trace; a regulator uploads the leaked copy and finds the recipient
    files = {"file": ("leak.csv", resp.content, "text/csv")}
    assert (await client.post("/api/v1/trace", headers={"X-CSRF-Token": csrf}, files=files)).status_code == 403
    regulator = await make_user(["regulator"])
    client.cookies.clear()
    csrf = await login(client, regulator)
    resp = await client.post("/api/v1/trace", headers={"X-CSRF-Token": csrf}, files=files)
    assert resp.status_code == 200, resp.text
    [found] = resp.json()["marks"]
    assert found["recipient_credit_code"] == buyer["org"]["credit_code"] and found["listing_id"] == listing["id"]
    assert found["order"] == f"order:{order['id']}"
    # a copy with the mark removed, or a forged one, traces to nobody
    forged = clean.replace("年份", "年份" + marks.stamp(mark_id, b"x" * 32))
    resp = await client.post("/api/v1/trace", headers={"X-CSRF-Token": csrf},
                             files={"file": ("f.csv", forged.encode(), "text/csv")})
    assert resp.json()["marks"] == []


async def test_download_refusals(client, job_runtime):
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime, price_fen=0)  # delivered by API
    buyer = await make_user(["buyer"])
    row = await _entitlement(await buy(client, job_runtime, buyer=buyer, holder=holder,
                                       listing_id=data["listing"]["id"], plan_id=data["plans"][0]["id"]))
    with pytest.raises(DomainError) as err:
        await service.open_download(entitlement_id=row["id"], version=1, org_id=buyer["org"]["id"], user_id=buyer["id"])
    assert err.value.code == "delivery.not_file"
    holder, listing, plans = await _file_listing(job_runtime)
    row = await _entitlement(await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=listing["id"],
                                       plan_id=plans[0]["id"]))
    other = await make_user(["buyer"])
    with pytest.raises(NotFound):
        await service.open_download(entitlement_id=row["id"], version=1, org_id=other["org"]["id"], user_id=other["id"])
    with pytest.raises(Forbidden):  # not published yet
        await service.open_download(entitlement_id=row["id"], version=2, org_id=buyer["org"]["id"], user_id=buyer["id"])
    await service.revoke(entitlement_id=row["id"], reason="违反约定用途", org_id=None)
    with pytest.raises(Forbidden):
        await service.open_download(entitlement_id=row["id"], version=1, org_id=buyer["org"]["id"], user_id=buyer["id"])
    assert await DeliveryMark.count() == 0
    # the English error for the wrong version
    csrf = await login(client, buyer)
    client.cookies.set("lang", "en")
    resp = await client.get(f"/api/v1/entitlements/{row['id']}/versions/1/file")
    assert resp.status_code == 403 and resp.json()["code"] == "entitlement.version_out_of_reach"
    assert resp.json()["message"] == "This version is not covered by your entitlement"


async def test_pages_list_entitlements_and_who_uses_the_data(client, job_runtime):
    holder, listing, plans = await _file_listing(job_runtime, sharing="conditional")
    buyer = await make_user(["buyer"])
    order = await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=listing["id"],
                      plan_id=plans[0]["id"], purpose_note="用于门店选址模型")
    eid = order["entitlement_id"]
    legacy_buyer = await make_user(["buyer"])
    legacy = await _legacy_claim(listing, plans[0], legacy_buyer)
    await login(client, buyer)
    page = await client.get(f"/listings/{listing['id']}?purpose=industry")
    assert 'data-testid="order-form"' in page.text  # one order form for every plan (billing)
    client.cookies.clear()
    await login(client, buyer)
    mine = await client.get("/my/entitlements")
    assert listing["title"] in mine.text and 'data-status="active"' in mine.text
    page = await client.get(f"/my/entitlements/{eid}")
    assert 'data-testid="download-v1"' in page.text
    resp = await client.get(f"/my/entitlements/{eid}/versions/1/file")
    assert resp.status_code == 200 and "上城区" in resp.text
    # the holder sees who uses its data; only the old free claims can be ended here (an order is a contract)
    client.cookies.clear()
    csrf = await login(client, holder)
    users_page = await client.get("/my/requests")
    assert buyer["org"]["name"] in users_page.text and "用于门店选址模型" in users_page.text
    assert legacy_buyer["org"]["name"] in users_page.text
    assert f'action="/my/requests/{legacy["id"]}/revoke"' in users_page.text
    assert f'action="/my/requests/{eid}/revoke"' not in users_page.text
    resp = await client.post(f"/my/requests/{eid}/revoke", data={"_csrf": csrf, "note": "想终止"},
                             follow_redirects=False)
    assert resp.status_code == 403
    resp = await client.post(f"/my/requests/{legacy['id']}/revoke", data={"_csrf": csrf, "note": "违反约定用途"},
                             follow_redirects=False)
    assert resp.status_code in (302, 303)
    assert (await Entitlement.select(Entitlement.status).where(Entitlement.id == legacy["id"]).first())["status"] \
        == "revoked"
    # the wrong role is refused
    client.cookies.clear()
    await login(client, buyer)
    assert (await client.get("/my/requests")).status_code == 403


async def test_an_old_claim_is_still_read_downloaded_and_revoked(client, job_runtime):
    holder, listing, plans = await _file_listing(job_runtime)
    buyer = await make_user(["buyer"])
    legacy = await _legacy_claim(listing, plans[0], buyer)
    await login(client, buyer)
    body = (await client.get(f"/api/v1/entitlements/{legacy['id']}")).json()
    assert (body["source"], body["status"], body["quantity"], [v["number"] for v in body["versions"]]) == \
        ("claim", "active", 1, [1])
    resp = await client.get(f"/api/v1/entitlements/{legacy['id']}/versions/1/file")
    assert resp.status_code == 200 and "上城区" in resp.text
    [mark_id] = marks.find(resp.content.decode("utf-8-sig"), runtime.settings().secret_key.encode())
    mark = await DeliveryMark.select().where(DeliveryMark.id == mark_id).first()
    assert mark["source_ref"] == f"claim-{legacy['id']}"
    client.cookies.clear()
    csrf = await login(client, holder)
    resp = await client.post(f"/api/v1/entitlements/{legacy['id']}/revoke", json={"reason": "违反约定用途"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and resp.json()["status"] == "revoked"
    client.cookies.clear()
    await login(client, buyer)
    assert (await client.get(f"/api/v1/entitlements/{legacy['id']}/versions/1/file")).status_code == 403


def test_marks_survive_quoted_headers_and_small_chunks():
    secret = b"s" * 32
    mark = marks.stamp(12345, secret)
    data = '"名称,含逗号","说明""引号"""\r\n甲,乙\r\n'.encode()
    chunks = [data[i:i + 3] for i in range(0, len(data), 3)]
    out = b"".join(marks.mark_csv(chunks, mark, bom=False)).decode()
    import csv

    rows = list(csv.reader(io.StringIO(out)))
    assert [marks.strip(c) for c in rows[0]] == ["名称,含逗号", '说明"引号"'] and rows[1] == ["甲", "乙"]
    assert marks.find(out, secret) == [12345] and marks.find(out, b"t" * 32) == []


async def test_holder_retrieves_every_version_it_uploaded(client, job_runtime):
    holder, listing, _ = await _file_listing(job_runtime)
    await _new_version(holder, listing["asset"], V2, job_runtime)
    csrf = await login(client, holder)
    assert csrf
    resp = await client.get(f"/api/v1/assets/{listing['asset']}/versions/1/file", follow_redirects=False)
    assert resp.status_code == 303
    original = await client.get(resp.headers["location"])
    assert original.status_code == 200 and "面积" not in original.text and "上城区" in original.text
    resp = await client.get(f"/api/v1/assets/{listing['asset']}/versions/2/file", follow_redirects=True)
    assert "面积" in resp.text
    page = await client.get(f"/my/data/{listing['asset']}")
    assert f"/api/v1/assets/{listing['asset']}/versions/1/file" in page.text
    assert (await client.get(f"/api/v1/assets/{listing['asset']}/versions/9/file")).status_code == 404
    # another holder gets nothing, not even a hint that the asset exists
    client.cookies.clear()
    await login(client, await make_user(["holder"]))
    assert (await client.get(f"/api/v1/assets/{listing['asset']}/versions/1/file")).status_code == 404


async def test_incompatible_version_waits_for_review_then_reaches_subscribers(client, job_runtime):
    holder, listing, plans = await _file_listing(job_runtime)
    buyer = await make_user(["buyer"])
    row = await _entitlement(await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=listing["id"],
                                       plan_id=plans[0]["id"]))
    # v2 drops a column buyers rely on: not published, buyers keep v1, the platform reviews it
    dropped = "区划代码,区县,年份\n330102,上城区,2025\n".encode()
    await _new_version(holder, listing["asset"], dropped, job_runtime)
    from listings.tables import Listing

    current = await Listing.select().where(Listing.id == listing["id"]).first()
    assert current["data_version"] == 1 and current["pending_version"] == 2
    assert not await VersionDelivery.exists().where(VersionDelivery.key == f"{row['id']}:2")
    assert listing["id"] in [r["id"] for r in await service.listings_for_review()]
    # v3 is compatible with v2 but still not with the v1 on sale: it replaces v2 in review
    await _new_version(holder, listing["asset"], "区划代码,区县,年份,备注\n330102,上城区,2025,无\n".encode(),
                       job_runtime)
    current = await Listing.select().where(Listing.id == listing["id"]).first()
    assert current["data_version"] == 1 and current["pending_version"] == 3
    # wrong role refused; the admin approves through the API
    csrf = await login(client, holder)
    resp = await client.post(f"/api/v1/listings/{listing['id']}/version/approve", json={},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    client.cookies.clear()
    csrf = await login(client, await make_user(["admin"]))
    resp = await client.post(f"/api/v1/listings/{listing['id']}/version/approve", json={"reason": "字段调整合理"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["data_version"] == 3 and body["pending_version"] == 0
    assert [c["name"] for c in body["columns"]] == ["区划代码", "区县", "年份", "备注"]
    await job_runtime.drain(timeout=60)
    assert await VersionDelivery.exists().where(VersionDelivery.key == f"{row['id']}:3")
    # nothing left to approve; a refused version leaves the listing as it was
    with pytest.raises(Conflict):
        await service.approve_version(listing_id=listing["id"])
    await _new_version(holder, listing["asset"], "区划代码,年份\n330102,2026\n".encode(), job_runtime)
    with pytest.raises(DomainError):
        await service.reject_version(listing_id=listing["id"], reason="")
    await service.reject_version(listing_id=listing["id"], reason="删除区县字段会影响买方")
    current = await Listing.select().where(Listing.id == listing["id"]).first()
    assert current["data_version"] == 3 and current["pending_version"] == 0
    events = {e["action"] for e in await AuditEvent.select(AuditEvent.action).where(AuditEvent.object_type == "listing")}
    assert {"listing.version_pending", "listing.version_approved", "listing.version_rejected"} <= events


async def test_buyers_are_told_when_a_listing_is_suspended_or_delisted(client, job_runtime):
    holder, listing, plans = await _file_listing(job_runtime)
    buyer = await make_user(["buyer"])
    row = await _entitlement(await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=listing["id"],
                                       plan_id=plans[0]["id"]))
    bystander = await make_user(["buyer"])
    await service.suspend(listing_id=listing["id"], reason="核查数据来源", org_id=holder["org"]["id"])
    await service.delist(listing_id=listing["id"], reason="数据停止更新", org_id=holder["org"]["id"])
    told = await Notification.select(Notification.kind, Notification.organization).where(
        Notification.kind.is_in(["listing.suspended", "listing.delisted"]))
    assert sorted(t["kind"] for t in told) == ["listing.delisted", "listing.suspended"]
    assert {t["organization"] for t in told} == {buyer["org"]["id"]} != {bystander["org"]["id"]}
    # what was delivered stays retrievable
    name, chunks = await service.open_download(entitlement_id=row["id"], version=1, org_id=buyer["org"]["id"],
                                               user_id=buyer["id"])
    assert "上城区" in b"".join(chunks).decode("utf-8-sig")


def test_scanner_finds_a_mark_cut_across_chunks():
    secret = b"s" * 32
    data = ("列一,列二" + marks.stamp(77, secret) + "\r\n甲,乙\r\n" + "丙,丁\r\n" * 1000).encode()
    for size in (1, 7, 64, 4096):
        scanner = marks.Scanner(secret)
        for i in range(0, len(data), size):
            scanner.feed(data[i:i + size])
        assert scanner.finish() == [77], size
