"""The proposals API and forms: each move by the one role allowed to make it; every other role refused,
with nothing changed."""

from __future__ import annotations

import pytest

from billing import ledger
from billing.disbursements.tables import DisbursementProposal
from billing.tables import JournalTxn, TxnKind
from factories import login, make_org, make_user
from market.tables import AuditEvent, Role


@pytest.fixture
async def world():
    holder = await make_org("杭州市卫生健康委员会", kind="government")
    recipient = await make_org("杭州数据清洗服务有限公司")
    await ledger.record_payment(order_ref="order:1", total_fen=1_000_000, provider="bank_transfer")
    await ledger.release(order_ref="order:1", holder_org_id=holder["id"], amount_fen=1_000_000, tax_fen=0,
                         tier="product")  # fund 30,000
    users = {r.value: await make_user([r.value]) for r in Role}
    return {"recipient": recipient, "users": users}


async def as_(client, world, role: str) -> dict:
    client.cookies.clear()
    return {"X-CSRF-Token": await login(client, world["users"][role])}


def body(world, **kw) -> dict:
    return {"purpose": "cleaning_bounty", "title": "清洗公交站点原始数据的悬赏", "reason": "多家买方需要",
            "amount_fen": 20_000, "recipient_org_id": world["recipient"]["id"], **kw}


async def state() -> tuple:
    return (await DisbursementProposal.select().order_by(DisbursementProposal.id), await JournalTxn.count(),
            await AuditEvent.count())


async def test_lifecycle_through_the_api(client, world):
    h = await as_(client, world, "admin")
    resp = await client.post("/api/v1/fund/proposals", json=body(world), headers=h)
    assert resp.status_code == 201, resp.text
    p = resp.json()
    assert (p["status"], p["amount_fen"], p["recipient_name"]) == ("proposed", 20_000, "杭州数据清洗服务有限公司")

    h = await as_(client, world, "agency")
    resp = await client.post(f"/api/v1/fund/proposals/{p['id']}/approve", json={"note": "同意"}, headers=h)
    assert resp.status_code == 200 and resp.json()["status"] == "approved", resp.text

    h = await as_(client, world, "admin")
    first = await client.post(f"/api/v1/fund/proposals/{p['id']}/pay", headers=h)
    again = await client.post(f"/api/v1/fund/proposals/{p['id']}/pay", headers=h)
    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert first.json()["txn_id"] == again.json()["txn_id"] is not None
    assert await JournalTxn.count().where(JournalTxn.kind == TxnKind.DISBURSEMENT) == 1
    assert await ledger.balance(account_code="fund") == 10_000
    assert await ledger.balance(account_code=ledger.payable_code(world["recipient"]["id"])) == 20_000

    for role in ["admin", "agency", "regulator"]:
        h = await as_(client, world, role)
        resp = await client.get("/api/v1/fund/proposals", headers=h)
        assert resp.status_code == 200 and [r["status"] for r in resp.json()] == ["paid"], (role, resp.text)
    resp = await client.get("/api/v1/fund")
    assert (resp.json()["balance_fen"], resp.json()["outflow_fen"]) == (10_000, 20_000)


@pytest.mark.parametrize("role", ["agency", "regulator", "holder", "buyer", "operator", None])
async def test_only_the_platform_proposes(client, world, role):
    h = await as_(client, world, role) if role else {}
    if role is None:
        client.cookies.clear()
    before = await state()
    resp = await client.post("/api/v1/fund/proposals", json=body(world), headers=h)
    assert resp.status_code in (401, 403), resp.text
    assert await state() == before


@pytest.mark.parametrize("role", ["admin", "regulator", "holder", "buyer"])
async def test_only_the_agency_decides(client, world, role):
    h = await as_(client, world, "admin")
    pid = (await client.post("/api/v1/fund/proposals", json=body(world), headers=h)).json()["id"]
    h = await as_(client, world, role)
    before = await state()
    for action, payload in [("approve", {"note": ""}), ("reject", {"reason": "不同意"})]:
        resp = await client.post(f"/api/v1/fund/proposals/{pid}/{action}", json=payload, headers=h)
        assert resp.status_code == 403, (action, resp.text)
    assert await state() == before


@pytest.mark.parametrize("role", ["agency", "regulator", "holder"])
async def test_only_the_platform_pays(client, world, role):
    h = await as_(client, world, "admin")
    pid = (await client.post("/api/v1/fund/proposals", json=body(world), headers=h)).json()["id"]
    h = await as_(client, world, "agency")
    await client.post(f"/api/v1/fund/proposals/{pid}/approve", json={}, headers=h)
    h = await as_(client, world, role)
    before = await state()
    resp = await client.post(f"/api/v1/fund/proposals/{pid}/pay", headers=h)
    assert resp.status_code == 403, resp.text
    assert await state() == before


@pytest.mark.parametrize("role", ["holder", "buyer", "operator", None])
async def test_the_list_is_for_platform_agency_and_regulator(client, world, role):
    h = await as_(client, world, role) if role else {}
    if role is None:
        client.cookies.clear()
    assert (await client.get("/api/v1/fund/proposals", headers=h)).status_code in (401, 403)
    assert (await client.get("/fund/proposals", headers=h, follow_redirects=False)).status_code in (302, 303, 401, 403)


async def test_refusals_in_the_callers_language(client, world):
    h = await as_(client, world, "admin")
    before = await state()
    resp = await client.post("/api/v1/fund/proposals", json=body(world, amount_fen=30_001), headers=h)
    assert resp.status_code == 400 and resp.json()["code"] == "fund.exceeds_balance"
    assert "超过治理基金余额" in resp.json()["message"]
    client.cookies.set("lang", "en")  # the English switch
    resp = await client.post("/api/v1/fund/proposals", json=body(world, amount_fen=30_001), headers=h)
    assert "exceeds the governance fund balance" in resp.json()["message"], resp.text
    client.cookies.delete("lang")
    assert await state() == before

    pid = (await client.post("/api/v1/fund/proposals", json=body(world), headers=h)).json()["id"]
    resp = await client.post(f"/api/v1/fund/proposals/{pid}/pay", headers=h)  # not approved yet
    assert resp.status_code == 409 and resp.json()["code"] == "fund.not_approved"
    h = await as_(client, world, "agency")
    before = await state()
    resp = await client.post(f"/api/v1/fund/proposals/{pid}/reject", json={"reason": "  "}, headers=h)
    assert resp.status_code == 400 and resp.json()["code"] == "fund.reject_reason_required"
    assert await state() == before
    resp = await client.post("/api/v1/fund/proposals/999999/approve", json={}, headers=h)
    assert resp.status_code == 404


async def test_forms_on_the_proposals_page(client, world):
    h = await as_(client, world, "admin")
    page = await client.get("/fund/proposals")
    assert page.status_code == 200 and 'data-testid="propose-form"' in page.text
    resp = await client.post("/fund/proposals", data={
        "_csrf": h["X-CSRF-Token"], "purpose": "governance", "title": "公交数据标准化", "amount_yuan": "123.45",
        "recipient_org_id": str(world["recipient"]["id"]), "pay_to": "bank", "demand_id": "", "asset_id": "",
        "reason": "统一站点编码"}, follow_redirects=False)
    assert resp.status_code in (302, 303), resp.text
    row = await DisbursementProposal.select().where(DisbursementProposal.title == "公交数据标准化").first()
    assert (row["amount_fen"], row["pay_to"], row["purpose"]) == (12_345, "bank", "governance")

    h = await as_(client, world, "agency")
    page = await client.get("/fund/proposals")
    assert "propose-form" not in page.text and f'/fund/proposals/{row["id"]}/approve' in page.text
    # the page's one text box, sent to the reject route, is the reason
    resp = await client.post(f"/fund/proposals/{row['id']}/reject", data={"_csrf": h["X-CSRF-Token"], "note": "重复"},
                             follow_redirects=False)
    assert resp.status_code in (302, 303), resp.text
    row = await DisbursementProposal.select().where(DisbursementProposal.id == row["id"]).first()
    assert (row["status"], row["decision_note"]) == ("rejected", "重复")

    # a form without the CSRF token changes nothing
    h = await as_(client, world, "admin")
    before = await state()
    resp = await client.post("/fund/proposals", data={"title": "x"}, follow_redirects=False)
    assert resp.status_code == 403
    assert await state() == before
