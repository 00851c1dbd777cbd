"""The invoices API: the buyer organization, platform admins and regulators read an invoice and its PDF;
anyone else is told it does not exist; numbers that are not 20 digits are never found."""

from __future__ import annotations

import hashlib

from billing import invoices
from factories import login, make_user
from invoice_factories import snapshot_for
from market import documents


async def test_buyer_admin_and_regulator_read_the_invoice_and_its_pdf_others_are_refused(client, job_runtime):
    buyer = await make_user(["buyer"])
    inv = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer["org"]))
    red = await invoices.issue_credit_note(invoice_number=inv["number"], amount_fen=1_000, reason="部分退款")
    await job_runtime.drain(timeout=120)
    doc = await documents.get_document(inv["document"])
    clerk = await make_user(["holder"], org=buyer["org"])  # the buyer organization, whatever the role
    for who in (buyer, clerk, await make_user(["admin"]), await make_user(["regulator"])):
        client.cookies.clear()
        await login(client, who)
        resp = await client.get(f"/api/v1/invoices/{inv['number']}")
        assert resp.status_code == 200, (who["email"], resp.text)
        body = resp.json()
        assert (body["number"], body["kind"], body["status"], body["total_fen"]) == (
            inv["number"], "normal", "issued", 1_308_641)
        assert body["amount_fen"] + body["tax_fen"] == body["total_fen"]
        assert body["total_upper"] == "壹万叁仟零捌拾陆元肆角壹分" and body["document"]["sha256"] == doc["sha256"]
        assert body["seller"]["name"] == "杭州数据交易所有限公司" and body["buyer"]["org_id"] == buyer["org"]["id"]
        assert [c["number"] for c in body["credit_notes"]] == [red["number"]]
        resp = await client.get(f"/api/v1/invoices/{inv['number']}/invoice.pdf")
        assert resp.status_code == 200 and resp.headers["content-type"] == "application/pdf"
        assert hashlib.sha256(resp.content).hexdigest() == doc["sha256"]
        resp = await client.get(f"/api/v1/invoices/{red['number']}")
        assert resp.status_code == 200 and resp.json()["original_number"] == inv["number"]
        assert resp.json()["total_fen"] == -1_000

    for roles in (["buyer"], ["holder"], ["agency"], ["operator"]):
        client.cookies.clear()
        await login(client, await make_user(roles))
        for url in (f"/api/v1/invoices/{inv['number']}", f"/api/v1/invoices/{inv['number']}/invoice.pdf"):
            resp = await client.get(url)
            assert resp.status_code == 404 and resp.json()["code"] == "invoice.not_found", (roles, url)
        resp = await client.get("/api/v1/invoices")
        assert resp.status_code == 200 and resp.json()["total"] == 0 and resp.json()["items"] == []
    client.cookies.clear()
    for url in (f"/api/v1/invoices/{inv['number']}", f"/api/v1/invoices/{inv['number']}/invoice.pdf",
                "/api/v1/invoices"):
        resp = await client.get(url)
        assert resp.status_code == 401 and resp.json()["code"] == "auth.required", url


async def test_numbers_that_are_not_twenty_digits_are_not_found(client):
    admin = await make_user(["admin"])
    await login(client, admin)
    for bad in ("1", "2633000000000000000", "263300000000000000011", "2633000000000000000a", "%EF%BC%92" * 20,
                "-2633000000000000001", "26330000000000000001%20", "null"):
        for suffix in ("", "/invoice.pdf"):
            resp = await client.get(f"/api/v1/invoices/{bad}{suffix}")
            assert resp.status_code == 404, (bad, suffix, resp.status_code)


async def test_the_list_shows_overseers_everything_and_a_buyer_its_own(client):
    a, b = await make_user(["buyer"]), await make_user(["buyer"])
    ia = await invoices.issue_invoice(order_snapshot=snapshot_for(a["org"], order_ref="DD-A"))
    ib = await invoices.issue_invoice(order_snapshot=snapshot_for(b["org"], order_ref="DD-B"))
    red = await invoices.issue_credit_note(invoice_number=ib["number"], reason="退款")
    await login(client, a)
    body = (await client.get("/api/v1/invoices")).json()
    assert [i["number"] for i in body["items"]] == [ia["number"]] and body["total"] == 1
    client.cookies.clear()
    await login(client, await make_user(["regulator"]))
    body = (await client.get("/api/v1/invoices", params={"page_size": 2})).json()
    assert body["total"] == 3 and body["pages"] == 2 and len(body["items"]) == 2
    assert {i["number"] for i in body["items"]} == {red["number"], ib["number"]}  # newest first
    body = (await client.get("/api/v1/invoices", params={"kind": "red"})).json()
    assert [i["number"] for i in body["items"]] == [red["number"]]
    body = (await client.get("/api/v1/invoices", params={"order_ref": "DD-A"})).json()
    assert [i["number"] for i in body["items"]] == [ia["number"]]
    resp = await client.get("/api/v1/invoices", params={"kind": "blue"})
    assert resp.status_code == 400 and resp.json()["code"] == "invoice.bad_kind"
