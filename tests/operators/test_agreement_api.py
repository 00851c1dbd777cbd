"""The agreements API and pages: who may do what on every route, and the shapes other checks rely on."""

from __future__ import annotations

import hashlib

from agreement_factories import HEALTH, TRANSPORT, active, catalogued_asset, draft, parties, terms
from factories import login, make_user
from market import documents
from operators.tables import AuthorizationAgreement


async def _as(client, user) -> dict:
    client.cookies.clear()
    return {"X-CSRF-Token": await login(client, user)}


async def test_the_agency_drafts_both_sign_and_get_shows_the_resolved_scope(client, job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    bus = await catalogued_asset(p["operator"], job_runtime, category=TRANSPORT + " > 公交站点", title="公交站点")
    h = await _as(client, p["agency"])
    body = terms(p["operator"]["org"]["id"], scope={"asset_ids": [bus["id"]], "categories": ["医疗卫生"]})
    resp = await client.post("/api/v1/agreements", json=body, headers=h)
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert created["status"] == "draft" and created["version"] == 1
    assert created["scope"]["asset_ids"] == sorted([clinic["id"], bus["id"]])
    aid = created["id"]
    await job_runtime.drain(timeout=120)
    doc = (await client.get(f"/api/v1/agreements/{aid}")).json()["document"]
    resp = await client.post(f"/api/v1/agreements/{aid}/sign", json={"sha256": doc["sha256"]}, headers=h)
    assert resp.status_code == 200 and resp.json()["status"] == "draft"
    again = await client.post(f"/api/v1/agreements/{aid}/sign", json={}, headers=h)
    assert again.status_code == 409 and again.json()["code"] == "document.already_signed"

    h = await _as(client, p["operator"])
    resp = await client.post(f"/api/v1/agreements/{aid}/sign", json={}, headers=h)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert got["status"] == "active" and got["operator_org_id"] == p["operator"]["org"]["id"]
    assert got["ends_on"] == body["ends_on"] and {s["party_role"] for s in got["signatures"]} == {"agency", "operator"}
    listed = (await client.get("/api/v1/agreements")).json()["items"]
    assert [a["id"] for a in listed] == [aid]
    pdf = await client.get(f"/api/v1/agreements/{aid}/agreement.pdf")
    assert pdf.status_code == 200 and hashlib.sha256(pdf.content).hexdigest() == doc["sha256"]
    page = await client.get(f"/agreements/{aid}")
    assert page.status_code == 200 and "公交站点" in page.text and "门诊人次" in page.text


async def test_refusals_are_4xx_with_a_code_and_a_message_in_either_language(client, job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    h = await _as(client, p["agency"])
    body = terms(p["operator"]["org"]["id"], starts_on="2027-01-01", ends_on="2033-01-01")
    resp = await client.post("/api/v1/agreements", json=body, headers=h)
    assert resp.status_code == 400 and resp.json()["code"] == "agreement.term_too_long"
    assert "5 年" in resp.json()["message"]
    client.cookies.set("lang", "en")
    resp = await client.post("/api/v1/agreements", json=body, headers=h)
    assert "5 years" in resp.json()["message"], resp.json()
    assert await AuthorizationAgreement.count() == 0


async def test_wrong_roles_are_refused_on_every_route(client, job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    row = await active(p, job_runtime)
    aid = row["id"]
    body = terms(p["operator"]["org"]["id"])
    reason = {"reason": "检查"}
    routes = [
        ("post", "/api/v1/agreements", body, {"agency"}),
        ("get", "/api/v1/agreements", None, {"agency", "operator", "regulator", "admin"}),
        ("get", f"/api/v1/agreements/{aid}", None, {"agency", "operator", "regulator", "admin"}),
        ("get", f"/api/v1/agreements/{aid}/agreement.pdf", None, {"agency", "operator", "regulator", "admin"}),
        ("post", f"/api/v1/agreements/{aid}/sign", {}, {"agency", "operator"}),
        ("post", f"/api/v1/agreements/{aid}/suspend", reason, {"agency", "admin"}),
        ("post", f"/api/v1/agreements/{aid}/resume", reason, {"agency", "admin"}),
        ("post", f"/api/v1/agreements/{aid}/terminate", reason, {"agency", "admin"}),
        ("post", f"/api/v1/agreements/{aid}/amendments", {"note": "x"}, {"agency"}),
        ("get", "/agreements", None, {"agency", "operator", "regulator", "admin"}),
        ("get", "/agreements/new", None, {"agency"}),
        ("post", "/agreements", {}, {"agency"}),
        ("get", f"/agreements/{aid}", None, {"agency", "operator", "regulator", "admin"}),
        ("post", f"/agreements/{aid}/sign", {}, {"agency", "operator"}),
        ("post", f"/agreements/{aid}/status", {"action": "suspend", "reason": "x"}, {"agency", "admin"}),
    ]
    for role in ("holder", "buyer", "agency", "operator", "regulator", "admin"):
        h = await _as(client, await make_user([role]))
        for method, url, payload, allowed in routes:
            if role in allowed:
                continue
            if url.startswith("/api/"):
                resp = await getattr(client, method)(url, **({"json": payload, "headers": h} if method == "post" else {}))
            else:
                resp = await getattr(client, method)(url, **({"data": {**payload, "_csrf": h["X-CSRF-Token"]}}
                                                            if method == "post" else {}))
            assert resp.status_code == 403, (role, method, url, resp.status_code)
    client.cookies.clear()
    for method, url, payload, _allowed in routes:
        if url.startswith("/api/"):
            resp = await getattr(client, method)(url, **({"json": payload} if method == "post" else {}))
            assert resp.status_code in (401, 403), (method, url)
    # a user of the right role but another organization learns nothing
    for role in ("agency", "operator"):
        await _as(client, await make_user([role]))
        resp = await client.get(f"/api/v1/agreements/{aid}")
        assert resp.status_code == 404 and resp.json()["code"] == "agreement.not_found"
    assert (await client.get("/api/v1/agreements")).json()["items"] == []
    assert (await AuthorizationAgreement.select().where(AuthorizationAgreement.id == aid).first())["status"] == "active"


async def test_suspend_resume_and_amend_through_the_api(client, job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    row = await active(p, job_runtime)
    h = await _as(client, p["agency"])
    resp = await client.post(f"/api/v1/agreements/{row['id']}/suspend", json={"reason": "安全检查"}, headers=h)
    assert resp.status_code == 200 and resp.json()["status"] == "suspended"
    resp = await client.post(f"/api/v1/agreements/{row['id']}/amendments", json={"note": "x"}, headers=h)
    assert resp.status_code == 409 and resp.json()["code"] == "agreement.not_amendable"
    resp = await client.post(f"/api/v1/agreements/{row['id']}/resume", json={"reason": "整改完成"}, headers=h)
    assert resp.status_code == 200 and resp.json()["status"] == "active"
    resp = await client.post(f"/api/v1/agreements/{row['id']}/amendments",
                             json={"note": "增加行业发展用途", "purposes": ["industry", "sector", "public_welfare"]},
                             headers=h)
    assert resp.status_code == 201, resp.text
    v2 = resp.json()
    assert (v2["version"], v2["previous_id"], v2["status"]) == (2, row["id"], "draft")
    assert v2["purposes"] == ["industry", "public_welfare", "sector"]
    assert [v["version"] for v in v2["versions"]] == [1, 2]


async def test_pages_render_for_agency_operator_and_regulator(client, job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    row = await active(p, job_runtime)
    regulator = await make_user(["regulator"])
    for who in (p["agency"], p["operator"], regulator):
        await _as(client, who)
        listing = await client.get("/agreements")
        assert listing.status_code == 200 and row["number"] in listing.text, who["email"]
        detail = await client.get(f"/agreements/{row['id']}")
        assert detail.status_code == 200 and "门诊人次" in detail.text and "生效中" in detail.text
        assert ('data-testid="govern"' in detail.text) == (who is p["agency"])
    client.cookies.set("lang", "en")
    detail = await client.get(f"/agreements/{row['id']}")
    assert "Authorization agreement" in detail.text and "In force" in detail.text


async def test_the_agency_drafts_suspends_and_amends_through_the_pages(client, job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    h = await _as(client, p["agency"])
    form = await client.get("/agreements/new")
    assert form.status_code == 200 and p["operator"]["org"]["name"] in form.text
    data = {"_csrf": h["X-CSRF-Token"], "operator_org_id": str(p["operator"]["org"]["id"]), "modes": ["domain"],
            "categories": ["A01"], "asset_ids": "", "purposes": ["industry"], "starts_on": "2026-01-01",
            "ends_on": "2028-12-31", "items": "门诊统计报告, 20000\n就医需求预测接口, 5000.50, per_call",
            "max_revenue_yuan": "100000"}
    resp = await client.post("/agreements", data=data, follow_redirects=False)
    assert resp.status_code in (302, 303), resp.text
    aid = int(resp.headers["location"].rsplit("/", 1)[1])
    row = await AuthorizationAgreement.select().where(AuthorizationAgreement.id == aid).first()
    assert row["max_revenue_fen"] == 10_000_000 and '"cap_fen": 500050' in row["items"]
    await job_runtime.drain(timeout=120)
    detail = await client.get(f"/agreements/{aid}")
    assert str(clinic["id"]) in detail.text and "签署" in detail.text
    resp = await client.post(f"/agreements/{aid}/sign", data={"_csrf": h["X-CSRF-Token"]}, follow_redirects=False)
    assert resp.status_code in (302, 303)
    csrf = (await _as(client, p["operator"]))["X-CSRF-Token"]
    await client.post(f"/agreements/{aid}/sign", data={"_csrf": csrf})
    assert (await AuthorizationAgreement.select().where(AuthorizationAgreement.id == aid).first())["status"] == "active"
    csrf = (await _as(client, p["agency"]))["X-CSRF-Token"]
    resp = await client.post(f"/agreements/{aid}/status", data={"_csrf": csrf, "action": "suspend", "reason": "检查"},
                             follow_redirects=False)
    assert resp.status_code in (302, 303)
    assert (await AuthorizationAgreement.select().where(AuthorizationAgreement.id == aid).first())["status"] == "suspended"
    await client.post(f"/agreements/{aid}/status", data={"_csrf": csrf, "action": "resume", "reason": "恢复"})
    amend = await client.get(f"/agreements/new?amend={aid}")
    assert amend.status_code == 200 and "变更授权运营协议" in amend.text
    resp = await client.post("/agreements", data={**data, "_csrf": csrf, "amend": str(aid), "note": "上调收入上限",
                                                  "max_revenue_yuan": "200000"}, follow_redirects=False)
    assert resp.status_code in (302, 303), resp.text
    assert await AuthorizationAgreement.count().where(AuthorizationAgreement.version == 2) == 1
