"""The 销售 and 财务 pages and APIs over HTTP: each for its role only (a wrong role is refused), a
holder sees only its own sales, approve/decline from the page, statements as JSON, CSV and PDF,
statement import, resolve and payouts from the finance page (a double submit pays once)."""

from __future__ import annotations

import re

from billing import ledger, orders, statements
from billing.tables import JournalTxn, TxnKind
from factories import login, make_user
from market.context import Actor, acting_as
from order_factories import actor, market, order, sign_both

FINANCE = Actor(label="finance@platform.cn")

SALES_API = ["/api/v1/sales/summary", "/api/v1/sales/approvals", "/api/v1/sales/orders", "/api/v1/sales/buyers",
             "/api/v1/sales/payouts", "/api/v1/sales/statements/2026-12", "/api/v1/sales/statements/2026-12/csv"]
FINANCE_API = ["/api/v1/finance/invoices", "/api/v1/finance/reconciliation", "/api/v1/finance/payouts",
               "/api/v1/finance/trial-balance"]


async def _as(client, user: dict) -> dict:
    client.cookies.clear()
    return {"X-CSRF-Token": await login(client, user)}


async def _completed(m: dict, job_runtime) -> dict:
    o = await sign_both(m, (await order(m))["id"], job_runtime)
    with acting_as(FINANCE):
        await orders.record_receipt(order_id=o["id"], amount_fen=o["total_fen"], reference=f"B-{o['id']}",
                                    recorded_by="finance")
    with acting_as(actor(m["buyer"])):
        await orders.confirm(order_id=o["id"], org_id=m["buyer"]["org"]["id"])
    return o


async def test_wrong_roles_are_refused(client):
    users = {r: await make_user([r]) for r in ("buyer", "holder", "operator", "agency", "regulator", "admin")}
    for role, user in users.items():
        h = await _as(client, user)
        sales_ok, finance_ok = role in ("holder", "operator"), role == "admin"
        for url in ["/sales", *SALES_API]:
            resp = await client.get(url)
            assert (resp.status_code not in (401, 403)) == sales_ok, (role, url, resp.status_code)
        for url in ["/finance", *FINANCE_API]:
            resp = await client.get(url)
            assert (resp.status_code not in (401, 403)) == finance_ok, (role, url, resp.status_code)
        if not finance_ok:
            resp = await client.post("/api/v1/finance/payouts", headers={**h, "Idempotency-Key": "x"},
                                     json={"holder_org_id": 1, "amount_fen": 1, "bank_reference": "ICBC"})
            assert resp.status_code == 403 and resp.json()["code"] == "auth.forbidden"
            resp = await client.post("/finance/payouts", data={"_csrf": h["X-CSRF-Token"], "holder_org_id": "1",
                                                               "amount_yuan": "1", "bank_reference": "x"})
            assert resp.status_code == 403
        if not sales_ok:
            resp = await client.post("/api/v1/sales/statements/2026-12/pdf", headers=h)
            assert resp.status_code == 403
            resp = await client.post("/sales/orders/1/approve", data={"_csrf": h["X-CSRF-Token"]})
            assert resp.status_code == 403
        # the nav shows each entry to its roles only
        home = (await client.get("/")).text
        assert ('href="/sales"' in home) == sales_ok and ('href="/finance"' in home) == finance_ok
    client.cookies.clear()
    for url in SALES_API + FINANCE_API:
        assert (await client.get(url)).status_code == 401
    resp = await client.get("/sales", follow_redirects=False)
    assert resp.status_code in (302, 303) and resp.headers["location"].startswith("/login")


async def test_holder_approves_and_declines_from_the_page(client, job_runtime):
    m = await market(job_runtime, sharing="conditional")  # the holder vets each buyer
    first, second = await order(m), await order(m)
    other = await market(job_runtime, sharing="conditional")
    theirs = await order(other)
    h = await _as(client, m["holder"])
    page = (await client.get("/sales")).text
    assert f'data-order="{first["id"]}"' in page and f'data-order="{second["id"]}"' in page
    assert f'data-order="{theirs["id"]}"' not in page and other["buyer"]["org"]["name"] not in page
    assert re.search(r'data-testid="awaiting-count">2<', page)
    approvals = (await client.get("/api/v1/sales/approvals")).json()
    assert [a["id"] for a in approvals] == [first["id"], second["id"]]
    assert approvals[0]["purpose"] == "industry" and approvals[0]["buyer_name"] == m["buyer"]["org"]["name"]

    resp = await client.post(f"/sales/orders/{first['id']}/approve", data={"_csrf": h["X-CSRF-Token"], "note": "用途合理"},
                             follow_redirects=False)
    assert resp.status_code in (302, 303) and resp.headers["location"] == "/sales"
    resp = await client.post(f"/sales/orders/{second['id']}/decline", data={"_csrf": h["X-CSRF-Token"], "reason": ""})
    assert resp.status_code == 400 and "请填写理由" in resp.text  # a reason is required, nothing changed
    await client.post(f"/sales/orders/{second['id']}/decline", data={"_csrf": h["X-CSRF-Token"], "reason": "用途不符"})
    # another holder's order: not found, untouched
    resp = await client.post(f"/sales/orders/{theirs['id']}/approve", data={"_csrf": h["X-CSRF-Token"]})
    assert resp.status_code == 404
    got = {o["id"]: o for o in (await client.get("/api/v1/sales/orders")).json()["items"]}
    assert set(got) == {first["id"], second["id"]}
    assert got[first["id"]]["status"] == "awaiting_signature" and got[second["id"]]["status"] == "declined"
    declined = (await client.get("/api/v1/sales/orders?status=declined")).json()
    assert [o["id"] for o in declined["items"]] == [second["id"]]
    assert (await client.get("/api/v1/sales/approvals")).json() == []
    theirs_now = await orders.get_order(order_id=theirs["id"], org_id=None, roles=frozenset({"admin"}))
    assert theirs_now["status"] == "awaiting_approval"


async def test_statements_csv_and_pdf_through_the_api(client, job_runtime):
    m = await market(job_runtime)
    await _completed(m, job_runtime)
    holder = m["holder"]["org"]["id"]
    month = statements.current_month()
    await _as(client, m["holder"])
    summary = (await client.get("/api/v1/sales/summary")).json()
    assert (summary["payable_fen"], summary["in_escrow_fen"], summary["paid_out_fen"]) == (45_000, 0, 0)
    assert summary["statement_months"] == [month] and summary["by_month"][0]["released_fen"] == 45_000
    s = (await client.get(f"/api/v1/sales/statements/{month}")).json()
    assert (s["opening_fen"], s["closing_fen"], s["totals"]["net_fen"]) == (0, 45_000, 45_000)
    assert (await client.get("/api/v1/sales/statements/2026-13")).json()["code"] == "statement.month_invalid"
    resp = await client.get(f"/api/v1/sales/statements/{month}/csv")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/csv")
    assert resp.content.decode("utf-8-sig").splitlines()[0] == ",".join(statements.CSV_COLUMNS)
    page = (await client.get(f"/sales?month={month}")).text
    assert re.search(r'data-testid="closing">¥450\.00<', page) and "data-fund-chart" in page

    assert (await client.get(f"/api/v1/sales/statements/{month}/pdf")).json()["code"] == "statement.no_pdf"
    h = await _as(client, m["holder"])
    resp = await client.post(f"/api/v1/sales/statements/{month}/pdf", headers=h)
    assert resp.status_code == 202 and resp.json()["status"] == "pending"
    resp = await client.get(f"/api/v1/sales/statements/{month}/pdf")
    assert resp.status_code == 409 and resp.json()["code"] == "document.not_rendered"
    assert 'data-testid="statement-pending"' in (await client.get(f"/sales?month={month}")).text
    await job_runtime.drain(timeout=120)
    resp = await client.get(f"/api/v1/sales/statements/{month}/pdf")
    assert resp.status_code == 200 and resp.content.startswith(b"%PDF")
    assert 'data-testid="statement-pdf"' in (await client.get(f"/sales?month={month}")).text
    # another holder sees its own (empty) statement, never this one
    stranger = await make_user(["holder"])
    await _as(client, stranger)
    assert (await client.get(f"/api/v1/sales/statements/{month}")).json()["closing_fen"] == 0
    assert (await client.get(f"/api/v1/sales/statements/{month}/pdf")).status_code == 404
    assert holder != stranger["org"]["id"]


async def test_finance_page_import_resolve_and_pay_once(client, job_runtime):
    m = await market(job_runtime)
    await _completed(m, job_runtime)
    unpaid = await sign_both(m, (await order(m))["id"], job_runtime)
    holder = m["holder"]["org"]["id"]
    h = await _as(client, m["admin"])
    page = (await client.get("/finance")).text
    assert f'data-invoice="{unpaid["invoice"]["number"]}"' in page
    assert f'data-holder="{holder}"' in page and 'data-testid="ledger-check">通过<' in page

    csv_bytes = ("交易日期,贷方发生额,对方户名,摘要\n2026-12-03,99.00,某公司,货款\n").encode("utf-8")
    resp = await client.post("/finance/statements", data={"_csrf": h["X-CSRF-Token"]},
                             files={"file": ("202612.csv", csv_bytes, "text/csv")})
    assert resp.status_code == 200 and 'data-testid="import-result"' in resp.text
    [line] = (await client.get("/api/v1/finance/reconciliation")).json()["items"]
    assert line["status"] == "unmatched" and line["amount_fen"] == 9_900
    resp = await client.post(f"/api/v1/finance/reconciliation/lines/{line['id']}/resolve", headers=h,
                             json={"outcome": "returned", "note": "非本平台款项，已退回"})
    assert resp.status_code == 200 and resp.json()["status"] == "resolved"
    assert resp.json()["resolution_note"] == "已退回付款方：非本平台款项，已退回"
    assert (await client.get("/api/v1/finance/reconciliation")).json()["total"] == 0

    # the page's payout form, submitted twice with the same token: one payout
    token = re.search(r'name="token" value="([^"]+)"', (await client.get("/finance")).text).group(1)
    form = {"_csrf": h["X-CSRF-Token"], "holder_org_id": str(holder), "token": token, "amount_yuan": "300.00",
            "bank_reference": "ICBC-20261207-1"}
    for _ in range(2):
        resp = await client.post("/finance/payouts", data=form, follow_redirects=False)
        assert resp.status_code in (302, 303), resp.text
    assert await JournalTxn.count().where(JournalTxn.kind == TxnKind.PAYOUT) == 1
    assert await ledger.balance(account_code=ledger.payable_code(holder)) == 15_000
    # more than is owed: refused with the reason, nothing paid
    resp = await client.post("/finance/payouts", data={**form, "token": "another", "amount_yuan": "150.01"})
    assert resp.status_code == 400 and "超过应付该机构" in resp.text

    # the API: Idempotency-Key required; the same key answers the same payout
    body = {"holder_org_id": holder, "amount_fen": 15_000, "bank_reference": "ICBC-20261207-2"}
    resp = await client.post("/api/v1/finance/payouts", headers=h, json=body)
    assert resp.status_code == 400 and resp.json()["code"] == "finance.idempotency_key_required"
    first = await client.post("/api/v1/finance/payouts", headers={**h, "Idempotency-Key": "p-2"}, json=body)
    assert first.status_code == 201 and first.json()["payable_after_fen"] == 0
    again = await client.post("/api/v1/finance/payouts", headers={**h, "Idempotency-Key": "p-2"}, json=body)
    assert again.status_code == 201 and again.headers.get("idempotent-replayed") == "true"
    assert again.json()["txn_id"] == first.json()["txn_id"]
    assert await JournalTxn.count().where(JournalTxn.kind == TxnKind.PAYOUT) == 2
    assert (await client.get("/api/v1/finance/payouts")).json() == []

    t = (await client.get("/api/v1/finance/trial-balance")).json()
    assert t["balanced"] and t["check"]["ok"] and t["total_debit_fen"] == t["total_credit_fen"]
    # the holder sees both payouts with their bank references
    await _as(client, m["holder"])
    refs = [p["bank_reference"] for p in (await client.get("/api/v1/sales/payouts")).json()]
    assert refs == ["ICBC-20261207-2", "ICBC-20261207-1"]


async def test_pages_in_english(client, job_runtime):
    m = await market(job_runtime)
    await _completed(m, job_runtime)
    client.cookies.set("lang", "en")
    await _as(client, m["holder"])
    client.cookies.set("lang", "en")
    page = (await client.get("/sales")).text
    assert "Sales" in page and "Monthly statement" in page
    await _as(client, m["admin"])
    client.cookies.set("lang", "en")
    page = (await client.get("/finance")).text
    assert "Finance" in page and "Trial balance" in page
