"""The order API end to end: the paid flow with approval, the free flow, access rules, idempotency."""

from __future__ import annotations

import hashlib

from billing import ledger
from billing.invoices.tables import Invoice
from billing.orders.tables import Order
from contracts.tables import PurchaseContract
from factories import login, make_user
from listings import service as listings_service
from listings.tables import DeliveryMark
from market.context import acting_as
from order_factories import actor, market


async def _as(client, user: dict) -> dict:
    client.cookies.clear()
    return {"X-CSRF-Token": await login(client, user)}


async def _post(client, user, url, json=None, **headers):
    h = await _as(client, user)
    return await client.post(url, json=json if json is not None else {}, headers={**h, **headers})


async def test_paid_flow_through_the_api(client, job_runtime):
    m = await market(job_runtime, sharing="conditional")  # conditionally shared: the holder vets the buyer
    body = {"listing_id": m["listing"]["id"], "plan_id": m["plan"]["id"], "purpose": "industry",
            "purpose_note": "保险精算定价"}
    resp = await _post(client, m["buyer"], "/api/v1/orders", body, **{"Idempotency-Key": "k-1"})
    assert resp.status_code == 201, resp.text
    o = resp.json()
    assert o["status"] == "awaiting_approval" and "approval" in o["status"]
    assert (o["amount_fen"], o["tax_fen"], o["total_fen"]) == (50_000, 3_000, 53_000)
    assert o["payment_reference"] is None and o["contract"] is None and o["invoice"] is None

    # the buyer cannot approve; the holder can
    assert (await _post(client, m["buyer"], f"/api/v1/orders/{o['id']}/approve")).status_code == 403
    resp = await _post(client, m["holder"], f"/api/v1/orders/{o['id']}/approve", {"note": "用途合理"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "awaiting_signature" and resp.json()["contract"]["status"] == "draft"

    await job_runtime.drain(timeout=120)  # the contract's PDF, rendered by the job
    for who in ("buyer", "holder"):
        resp = await _post(client, m[who], f"/api/v1/orders/{o['id']}/sign")
        assert resp.status_code == 200, resp.text
    o = resp.json()
    assert o["status"] == "awaiting_payment" and "payment" in o["status"]
    assert o["contract"]["status"] == "signed" and o["contract"]["signed_by"] == ["buyer", "holder"]
    assert o["payment_reference"].startswith("SJ")
    # the invoice was issued with the payment request, from the order's frozen totals
    assert len(o["invoice"]["number"]) == 20 and o["invoice"]["number"].isdigit()
    assert o["invoice"]["status"] == "issued" and o["invoice"]["total_fen"] == o["total_fen"]
    invoice = await Invoice.select().where(Invoice.number == o["invoice"]["number"]).first()
    assert (invoice["amount_fen"], invoice["tax_fen"], invoice["total_fen"]) == (50_000, 3_000, 53_000)
    assert invoice["buyer_org"] == m["buyer"]["org"]["id"] and o["payment_reference"] in invoice["remarks"]
    await job_runtime.drain(timeout=120)  # the invoice's PDF
    await _as(client, m["buyer"])
    pdf = await client.get(f"/api/v1/orders/{o['id']}/invoice.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    for who in (m["holder"], await make_user(["buyer"])):  # the invoice is the buyer's, not the seller's
        await _as(client, who)
        assert (await client.get(f"/api/v1/orders/{o['id']}/invoice.pdf")).status_code == 404, who["email"]
    for who in (m["admin"], m["regulator"]):
        await _as(client, who)
        assert (await client.get(f"/api/v1/orders/{o['id']}/invoice.pdf")).status_code == 200, who["email"]
    await _as(client, m["buyer"])
    pdf = await client.get(f"/api/v1/orders/{o['id']}/contract.pdf")
    assert pdf.status_code == 200 and hashlib.sha256(pdf.content).hexdigest() == o["contract"]["sha256"]

    # only platform finance records money
    receipt = {"amount_fen": 53_000, "reference": "ICBC-20261208-001"}
    assert (await _post(client, m["buyer"], f"/api/v1/orders/{o['id']}/payments", receipt)).status_code == 403
    resp = await _post(client, m["admin"], f"/api/v1/orders/{o['id']}/payments", receipt)
    assert resp.status_code == 201, resp.text
    o = resp.json()
    assert o["status"] == "delivered" and o["entitlement_id"]
    assert o["payments"] == [{"id": o["payments"][0]["id"], "amount_fen": 53_000, "provider": "bank_transfer",
                              "reference": "ICBC-20261208-001", "refunded_fen": 0}]
    assert await ledger.held_in_escrow(reference=f"order:{o['id']}") == 53_000

    # a second payment: a clear error, nothing changed
    again = await _post(client, m["admin"], f"/api/v1/orders/{o['id']}/payments",
                        {"amount_fen": 53_000, "reference": "ICBC-20261208-002"})
    assert again.status_code == 409 and again.json()["code"] == "payment.already_paid"
    assert "已付款" in again.json()["message"]
    assert len((await client.get(f"/api/v1/orders/{o['id']}")).json()["payments"]) == 1
    assert await ledger.held_in_escrow(reference=f"order:{o['id']}") == 53_000

    # the buyer downloads the file: the delivery mark names the order
    with acting_as(actor(m["buyer"])):
        _, chunks = await listings_service.open_download(
            entitlement_id=o["entitlement_id"], version=m["listing"]["data_version"], org_id=m["buyer"]["org"]["id"],
            user_id=m["buyer"]["id"])
        assert b"".join(chunks)
    [mark] = await DeliveryMark.select().where(DeliveryMark.entitlement == o["entitlement_id"])
    assert mark["source_ref"] == f"order:{o['id']}"

    # the holder cannot confirm for the buyer; the buyer confirms and the money is released
    assert (await _post(client, m["holder"], f"/api/v1/orders/{o['id']}/confirm")).status_code == 403
    resp = await _post(client, m["buyer"], f"/api/v1/orders/{o['id']}/confirm")
    assert resp.status_code == 200 and resp.json()["status"] == "completed"
    assert await ledger.held_in_escrow(reference=f"order:{o['id']}") == 0
    # product tier: commission 10% of 50,000 = 5,000, 30% of it to the fund; VAT 3,000 payable
    assert await ledger.balance(account_code=ledger.payable_code(m["holder"]["org"]["id"])) == 45_000
    assert await ledger.balance(account_code="fund") == 1_500
    assert await ledger.balance(account_code="commission") == 3_500
    assert await ledger.balance(account_code="vat_payable") == 3_000
    report = await ledger.check()
    assert report.ok, report


async def test_free_flow_for_public_welfare_is_signed_but_not_paid(client, job_runtime):
    m = await market(job_runtime)
    body = {"listing_id": m["listing"]["id"], "plan_id": m["plan"]["id"], "purpose": "public_welfare",
            "purpose_note": "公益研究项目"}
    resp = await _post(client, m["buyer"], "/api/v1/orders", body, **{"Idempotency-Key": "free-1"})
    assert resp.status_code == 201, resp.text
    o = resp.json()
    # 65号: free for public welfare; a paid plan made free by purpose waits for the holder's belief
    assert (o["amount_fen"], o["tax_fen"], o["total_fen"]) == (0, 0, 0) and o["status"] == "awaiting_approval"
    assert (await _post(client, m["holder"], f"/api/v1/orders/{o['id']}/approve")).status_code == 200
    await job_runtime.drain(timeout=120)
    for who in ("buyer", "holder"):
        resp = await _post(client, m[who], f"/api/v1/orders/{o['id']}/sign")
        assert resp.status_code == 200, resp.text
    o = resp.json()
    assert o["status"] == "delivered" and o["entitlement_id"] and o["payments"] == []
    assert o["contract"]["status"] == "signed" and o["payment_reference"] is None
    assert o["invoice"] is None  # nothing to invoice at a zero price
    assert await Invoice.count().where(Invoice.order_ref == f"order:{o['id']}") == 0
    resp = await _post(client, m["buyer"], f"/api/v1/orders/{o['id']}/confirm")
    assert resp.json()["status"] == "completed"
    assert (await ledger.check()).ok


async def test_idempotency_key_returns_the_same_order(client, job_runtime):
    m = await market(job_runtime)
    body = {"listing_id": m["listing"]["id"], "plan_id": m["plan"]["id"], "purpose": "industry"}
    missing = await _post(client, m["buyer"], "/api/v1/orders", body)
    assert missing.status_code == 400 and missing.json()["code"] == "order.idempotency_key_required"
    first = await client.post("/api/v1/orders", json=body, headers={
        "X-CSRF-Token": (await _as(client, m["buyer"]))["X-CSRF-Token"], "Idempotency-Key": "same"})
    csrf = first.request.headers["X-CSRF-Token"]
    second = await client.post("/api/v1/orders", json=body, headers={"X-CSRF-Token": csrf, "Idempotency-Key": "same"})
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first.headers
    assert first.json()["id"] == second.json()["id"]
    other = await client.post("/api/v1/orders", json={**body, "purpose": "sector"},
                              headers={"X-CSRF-Token": csrf, "Idempotency-Key": "same"})
    assert other.status_code == 409 and other.json()["code"] == "order.idempotency_mismatch"
    assert await Order.count() == 1 and await PurchaseContract.count() == 1
    # another buyer's identical key is its own order
    resp = await _post(client, await make_user(["buyer"]), "/api/v1/orders", body, **{"Idempotency-Key": "same"})
    assert resp.status_code == 201 and resp.json()["id"] != first.json()["id"]


async def test_who_may_see_and_act_on_an_order(client, job_runtime):
    m = await market(job_runtime)
    body = {"listing_id": m["listing"]["id"], "plan_id": m["plan"]["id"], "purpose": "industry"}
    o = (await _post(client, m["buyer"], "/api/v1/orders", body, **{"Idempotency-Key": "a"})).json()
    assert o["status"] == "awaiting_signature"  # unconditional, 一般: no vetting, the holder countersigns itself
    await job_runtime.drain(timeout=120)
    for who in (m["buyer"], m["holder"], m["admin"], m["regulator"]):
        await _as(client, who)
        resp = await client.get(f"/api/v1/orders/{o['id']}")
        assert resp.status_code == 200 and resp.json()["contract"]["signed_by"] == ["holder"], who["email"]
        assert (await client.get(f"/api/v1/orders/{o['id']}/contract.pdf")).status_code == 200
    for roles in (["buyer"], ["holder"], ["agency"], ["operator"]):
        await _as(client, await make_user(roles))
        assert (await client.get(f"/api/v1/orders/{o['id']}")).status_code == 404
        assert (await client.get(f"/api/v1/orders/{o['id']}/contract.pdf")).status_code == 404
        assert (await client.get("/api/v1/orders")).json()["items"] == []
    # another buyer cannot sign, confirm or cancel; a holder cannot order
    stranger = await make_user(["buyer"])
    for action in ("sign", "confirm", "cancel"):
        assert (await _post(client, stranger, f"/api/v1/orders/{o['id']}/{action}")).status_code == 404, action
    resp = await _post(client, m["holder"], "/api/v1/orders", body, **{"Idempotency-Key": "h"})
    assert resp.status_code == 403
    for url, payload in ((f"/api/v1/orders/{o['id']}/refund", {"amount_fen": 1, "reason": "退款"}),
                         (f"/api/v1/orders/{o['id']}/payments", {"amount_fen": 1, "reference": "X"}),
                         (f"/api/v1/orders/{o['id']}/resolve", {"outcome": "release", "note": "处理"})):
        for who in (m["buyer"], m["holder"], m["regulator"]):
            assert (await _post(client, who, url, payload)).status_code == 403, (url, who["email"])
    # lists: the buyer's own, the holder's sales, everything for overseers
    await _as(client, m["buyer"])
    assert [r["id"] for r in (await client.get("/api/v1/orders")).json()["items"]] == [o["id"]]
    await _as(client, m["holder"])
    assert (await client.get("/api/v1/orders")).json()["items"] == []
    assert [r["id"] for r in (await client.get("/api/v1/orders?as=holder")).json()["items"]] == [o["id"]]
    await _as(client, m["regulator"])
    assert (await client.get("/api/v1/orders")).json()["total"] == 1
    # the buyer signs: the holder had countersigned, so the order awaits payment
    resp = await _post(client, m["buyer"], f"/api/v1/orders/{o['id']}/sign")
    assert resp.status_code == 200 and resp.json()["status"] == "awaiting_payment", resp.text
