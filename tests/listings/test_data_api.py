"""The metered data API: a key scoped to one entitlement reads the entitled version with fields, filters,
order and paging (JSON or CSV), personal columns masked; call packs count down to a 429 with the quota in
headers; the rate limit answers 429 with Retry-After; a revoked entitlement stops its key at once; every
call is traced for the holder and regulators; wrong keys and roles are refused."""

from __future__ import annotations

import json

import pytest

from data_api_steps import api_entitlement, bearer, key_for
from factories import login, make_user
from listings import pricing
from listings.dataapi import service as dataapi
from listings.dataapi.tables import ApiCall, ApiMeter
from listings.tables import Entitlement
from market import identity

async def test_fields_filters_order_paging_csv_and_masking(client, job_runtime):
    _holder, buyer, _listing, eid = await api_entitlement(
        client, job_runtime, plan=pricing.PlanSpec(kind="call_pack", name="调用包", price_fen=1_000, calls=100))
    secret = await key_for(client, buyer, eid)
    url = f"/api/v1/data/{eid}/rows"
    resp = await client.get(url, headers=bearer(secret))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["total"] == 5 and [r["区县"] for r in body["items"]] == ["上城区", "拱墅区", "西湖区", "滨江区", "萧山区"]
    assert body["items"][0]["常住人口"] == 135  # numeric columns come back as numbers
    # personal columns are masked as on the listing (no order carries a legal basis)
    assert body["items"][0]["联系电话"] == "135****2210" and body["items"][0]["联系人"] == "张**"
    assert resp.headers["X-Quota-Limit"] == "100" and resp.headers["X-Quota-Remaining"] == "99"
    resp = await client.get(url, headers=bearer(secret), params={
        "fields": "区县,常住人口", "常住人口__gte": "100", "常住人口__lte": "200", "order": "-常住人口",
        "limit": "2", "offset": "1"})
    assert resp.json() == {"items": [{"区县": "拱墅区", "常住人口": 118}, {"区县": "西湖区", "常住人口": 113}],
                           "total": 3}
    resp = await client.get(url, headers=bearer(secret), params={"区县": "滨江区", "fields": "区划代码"})
    assert resp.json() == {"items": [{"区划代码": "330108"}], "total": 1}
    resp = await client.get(url, headers=bearer(secret), params={"fields": "区县,面积", "面积__lt": "30",
                                                                   "format": "csv"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.text == "区县,面积\n上城区,26.1\n"
    resp = await client.get(url, headers={**bearer(secret), "Accept": "text/csv"}, params={"limit": "1"})
    assert resp.text.splitlines()[0] == "区划代码,区县,常住人口,面积,联系人,联系电话"
    # bad names, values, paging and filters on personal columns are refused and not counted
    used = (await ApiMeter.select(ApiMeter.used).where(ApiMeter.entitlement == eid).first())["used"]
    for params, code in (({"fields": "区县,x"}, "data_api.unknown_column"),
                         ({"不存在": "1"}, "data_api.unknown_column"),
                         ({'区县" OR 1=1 --': "1"}, "data_api.unknown_column"),
                         ({"常住人口": "many"}, "data_api.bad_value"),
                         ({"联系电话": "13512342210"}, "data_api.personal_filter"),
                         ({"order": "-联系人"}, "data_api.personal_filter"),
                         ({"limit": "0"}, None), ({"limit": "1001"}, None)):
        resp = await client.get(url, headers=bearer(secret), params=params)
        assert resp.status_code == 400, (params, resp.text)
        if code:
            assert resp.json()["code"] == code
    # a value that looks like SQL is a value
    resp = await client.get(url, headers=bearer(secret), params={"区县": "' OR '1'='1"})
    assert resp.json() == {"items": [], "total": 0}
    after = (await ApiMeter.select(ApiMeter.used).where(ApiMeter.entitlement == eid).first())["used"]
    assert after == used + 1


async def test_call_pack_counts_down_to_429_with_headers(client, job_runtime):
    _holder, buyer, _listing, eid = await api_entitlement(client, job_runtime, quantity=2)  # 2 packs × 5 calls
    secret = await key_for(client, buyer, eid)
    remaining = []
    for _ in range(10):
        resp = await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret), params={"limit": "1"})
        assert resp.status_code == 200, resp.text
        assert resp.headers["X-Quota-Limit"] == "10"
        remaining.append(int(resp.headers["X-Quota-Remaining"]))
    assert remaining == list(range(9, -1, -1))
    resp = await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret))
    assert resp.status_code == 429 and resp.json()["code"] == "data_api.quota_exhausted"
    assert "调用次数已用完" in resp.json()["message"] and "Call quota exhausted" in resp.json()["message"]
    assert (resp.headers["X-Quota-Limit"], resp.headers["X-Quota-Remaining"]) == ("10", "0")
    meter = await ApiMeter.select().where(ApiMeter.entitlement == eid).first()
    assert meter["used"] == 10
    answered = await ApiCall.select(ApiCall.seq).where((ApiCall.entitlement == eid)
                                                       & (ApiCall.outcome == "answered")).order_by(ApiCall.seq)
    assert [a["seq"] for a in answered] == list(range(1, 11))  # each answered call counted once
    assert await ApiCall.count().where((ApiCall.entitlement == eid) & (ApiCall.outcome == "over_quota")) == 1


async def test_tiered_pack_prices_each_call_at_its_tier(client, job_runtime):
    tiers = ((2, 300), (4, 200), (None, 100))
    plan = pricing.PlanSpec(kind="call_pack", name="阶梯调用包", calls=6, tiers=tiers)
    _holder, buyer, _listing, eid = await api_entitlement(client, job_runtime, plan=plan)
    secret = await key_for(client, buyer, eid)
    for _ in range(6):
        assert (await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret))).status_code == 200
    rows = await ApiCall.select(ApiCall.seq, ApiCall.price_fen).where(ApiCall.entitlement == eid).order_by(ApiCall.seq)
    assert [r["price_fen"] for r in rows] == [300, 300, 200, 200, 100, 100]
    assert sum(r["price_fen"] for r in rows) == pricing.tiered_amount(6, tiers) == 1_200


async def test_rate_limit_answers_429_with_retry_after(client, job_runtime, monkeypatch):
    _holder, buyer, _listing, eid = await api_entitlement(
        client, job_runtime, plan=pricing.PlanSpec(kind="call_pack", name="调用包", price_fen=1_000, calls=100))
    secret = await key_for(client, buyer, eid)
    from listings.dataapi import _meter

    three = _meter.RateLimit(3)  # the setting's value for this test (settings are frozen)
    monkeypatch.setattr(dataapi, "limiter", lambda: three)
    codes = [(await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret))) for _ in range(4)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429]
    assert codes[3].json()["code"] == "data_api.rate_limited" and int(codes[3].headers["Retry-After"]) >= 1
    assert (await ApiMeter.select(ApiMeter.used).where(ApiMeter.entitlement == eid).first())["used"] == 3
    assert await ApiCall.count().where(ApiCall.outcome == "rate_limited") == 1


@pytest.mark.parametrize("end", ["revoke", "suspend_key_org", "expire"])
async def test_ended_entitlement_stops_its_key_at_once(client, job_runtime, end):
    _holder, buyer, _listing, eid = await api_entitlement(
        client, job_runtime, plan=pricing.PlanSpec(kind="call_pack", name="调用包", price_fen=1_000, calls=100))
    secret = await key_for(client, buyer, eid)
    url = f"/api/v1/data/{eid}/rows"
    assert (await client.get(url, headers=bearer(secret))).status_code == 200
    assert (await client.get(url, headers=bearer(secret))).status_code == 200  # the key is now cached
    if end == "revoke":
        await dataapi.entitlements.revoke(entitlement_id=eid, reason="合同终止")
        expected = 403
    elif end == "expire":
        from datetime import datetime, timedelta, timezone

        # a term that ended a second ago: the next call refuses it, before any sweep runs
        await Entitlement.update({Entitlement.ends_at: datetime.now(timezone.utc) - timedelta(seconds=1)}).where(
            Entitlement.id == eid)
        expected = 403
    else:
        await identity.set_verification(org_id=buyer["org"]["id"], to="suspended")
        expected = 403
    resp = await client.get(url, headers=bearer(secret))
    assert resp.status_code in (expected, 401), resp.text
    assert (await ApiMeter.select(ApiMeter.used).where(ApiMeter.entitlement == eid).first())["used"] == 2


async def test_wrong_keys_sessions_and_roles_are_refused(client, job_runtime):
    holder, buyer, listing, eid = await api_entitlement(client, job_runtime)
    secret = await key_for(client, buyer, eid)
    url = f"/api/v1/data/{eid}/rows"
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=bearer("pdm_nope_nope"))).status_code == 401
    # the buyer's organization key (unscoped) and the buyer's session are not the entitlement's key
    client.cookies.clear()
    csrf = await login(client, buyer)
    org_key = (await client.post("/api/v1/api-keys", json={"name": "机构密钥"}, headers={"X-CSRF-Token": csrf})).json()
    assert (await client.get(url)).status_code == 403
    client.cookies.clear()
    assert (await client.get(url, headers=bearer(org_key["secret"]))).json()["code"] == "data_api.key_required"
    # the scoped key cannot reach any other route (not even minting itself an unscoped key)
    for method, path in (("GET", "/api/v1/me"), ("GET", "/api/v1/api-keys"), ("POST", "/api/v1/api-keys"),
                         ("GET", f"/api/v1/entitlements/{eid}"), ("GET", "/api/v1/orders")):
        resp = await client.request(method, path, headers=bearer(secret), json={"name": "x"})
        assert resp.status_code == 403 and resp.json()["code"] == "auth.key_scope", (path, resp.text)
    # another entitlement's id with this key
    _h2, buyer2, _l2, eid2 = await api_entitlement(client, job_runtime)
    assert (await client.get(f"/api/v1/data/{eid2}/rows", headers=bearer(secret))).status_code == 403
    # only the buyer makes keys for its entitlement
    client.cookies.clear()
    csrf = await login(client, holder)
    resp = await client.post(f"/api/v1/entitlements/{eid}/keys", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 404
    # a revoked key stops at once
    client.cookies.clear()
    csrf = await login(client, buyer)
    keys = [k for k in (await client.get("/api/v1/api-keys")).json() if k["prefix"] == secret.split("_")[1]]
    resp = await client.delete(f"/api/v1/api-keys/{keys[0]['id']}", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 204
    client.cookies.clear()
    assert (await client.get(url, headers=bearer(secret))).status_code == 401
    assert await ApiMeter.count() == 0  # nothing above was answered


async def test_trace_is_read_by_the_holder_and_regulators_only(client, job_runtime):
    holder, buyer, listing, eid = await api_entitlement(client, job_runtime)
    secret = await key_for(client, buyer, eid)
    await client.get(f"/api/v1/data/{eid}/rows", headers=bearer(secret), params={"区县": "上城区"})
    for user, total in ((holder, 1), (await make_user(["regulator"]), 1), (await make_user(["holder"]), 0)):
        client.cookies.clear()
        await login(client, user)
        resp = await client.get("/api/v1/data-calls")
        assert resp.status_code == 200 and resp.json()["total"] == total
    client.cookies.clear()
    await login(client, holder)
    item = (await client.get("/api/v1/data-calls")).json()["items"][0]
    assert (item["buyer_id"], item["rows"], item["outcome"], item["query"]["filters"]) == \
        (buyer["org"]["id"], 1, "answered", [["区县", "=", "上城区"]])
    by_buyer = (await client.get("/api/v1/data-usage")).json()["items"]
    assert [(b["buyer_id"], b["mode"], b["answered"]) for b in by_buyer] == [(buyer["org"]["id"], "api", 1)]
    page = await client.get("/my/data-usage")
    assert page.status_code == 200 and "上城区" in page.text
    client.cookies.clear()
    await login(client, buyer)
    assert (await client.get("/api/v1/data-calls")).status_code == 403
    usage = (await client.get(f"/api/v1/entitlements/{eid}/usage")).json()
    assert (usage["quota"], usage["used"], usage["remaining"]) == (5, 1, 4) and len(usage["days"]) == 1
    panel = await client.get(f"/my/entitlements/{eid}/use")
    assert panel.status_code == 200 and f"/api/v1/data/{eid}/rows" in panel.text and "已用 1 / 5 次" in panel.text
    entitlement_page = await client.get(f"/my/entitlements/{eid}")
    assert f'hx-get="/my/entitlements/{eid}/use"' in entitlement_page.text
    client.cookies.clear()
    await login(client, await make_user(["buyer"]))
    assert (await client.get(f"/api/v1/entitlements/{eid}/usage")).status_code == 404
