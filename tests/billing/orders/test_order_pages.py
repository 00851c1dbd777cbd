"""The buyer's checkout pages with the test client: the order form on the listing page (one order per
form, however often it is sent), the order page's actions for each side, 我的订单, 合同, 发票; every
page guarded, a stranger told nothing, a refusal shown as a flash in the reader's language."""

from __future__ import annotations

import re

from billing.orders.tables import Order
from factories import login, make_user
from listings import pricing
from order_factories import market

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')
SHA = re.compile(r'name="sha256" value="([0-9a-f]{64})"')


async def _as(client, user: dict) -> str:
    client.cookies.clear()
    return await login(client, user)


async def _form(client, url: str, csrf: str, **data):
    resp = await client.post(url, data={"_csrf": csrf, **data}, follow_redirects=False)
    assert resp.status_code in (302, 303), (resp.status_code, resp.text[:500])
    return resp.headers["location"]


async def _order_from_listing(client, m: dict, **extra) -> tuple[int, str]:
    csrf = await _as(client, m["buyer"])
    page = await client.get(f"/listings/{m['listing']['id']}")
    assert 'data-testid="order-form"' in page.text
    key = KEY.search(page.text).group(1)
    data = {"plan_id": str(m["plan"]["id"]), "purpose": "industry", "purpose_note": "保险精算定价",
            "idempotency_key": key, **extra}
    location = await _form(client, f"/listings/{m['listing']['id']}/order", csrf, **data)
    return int(location.rsplit("/", 1)[1]), key


async def test_order_form_one_order_per_form_and_the_quote(client, job_runtime):
    m = await market(job_runtime, sharing="conditional")
    listing_id = m["listing"]["id"]
    # the price table: ¥500 for industry use, ¥530 with 6% VAT
    page = (await client.get(f"/listings/{listing_id}")).text  # anonymous: prices, and a way to log in
    assert "¥530.00" in page and "登录后下单" in page and 'data-testid="order-form"' not in page
    assert "请通过订单购买" not in page and "免费申请使用" not in page
    order_id, key = await _order_from_listing(client, m)
    csrf = await login(client, m["buyer"])
    # the same form sent again (a double click): the same order, no second one
    again = await _form(client, f"/listings/{listing_id}/order", csrf, plan_id=str(m["plan"]["id"]),
                        purpose="industry", purpose_note="保险精算定价", idempotency_key=key)
    assert again == f"/orders/{order_id}"
    assert await Order.count() == 1
    page = (await client.get(again)).text
    assert 'data-testid="flash"' in page and "这是刚才已提交的订单" in page
    assert 'data-status="awaiting_approval"' in page
    assert re.search(r'data-step="approval" data-state="current"', page)
    assert 'data-testid="order-total">¥530.00<' in page and 'data-testid="order-tax">¥30.00<' in page
    assert m["holder"]["org"]["name"] in page and "保险精算定价" in page
    # the flash is shown once
    assert 'data-testid="flash"' not in (await client.get(again)).text

    # the server's quote for the form: figures, a free purpose, a refusal
    quote = (await client.get(f"/listings/{listing_id}/order/quote",
                              params={"plan_id": m["plan"]["id"], "purpose": "industry"})).text
    assert 'data-testid="quote-total"><strong>¥530.00<' in quote and 'data-testid="quote-tax">¥30.00<' in quote
    free = (await client.get(f"/listings/{listing_id}/order/quote",
                             params={"plan_id": m["plan"]["id"], "purpose": "public_welfare"})).text
    assert 'data-testid="quote-total"><strong>¥0.00<' in free and "仍需签署合同" in free
    client.cookies.set("lang", "en")
    bad = (await client.get(f"/listings/{listing_id}/order/quote",
                            params={"plan_id": m["plan"]["id"], "purpose": "resale"})).text
    assert 'data-testid="quote-error"' in bad and "price.purpose_invalid" in bad
    assert "请选择用途" not in bad  # in English


async def test_quantity_field_and_a_refusal_shown_in_the_users_language(client, job_runtime):
    plans = [pricing.PlanSpec(kind="subscription", name="年度订阅", months=12, billing_unit="per_period",
                              price_fen=120_000)]
    m = await market(job_runtime, plans=plans)
    listing_id = m["listing"]["id"]
    csrf = await _as(client, m["buyer"])
    quote = (await client.get(f"/listings/{listing_id}/order/quote",
                              params={"plan_id": m["plan"]["id"], "purpose": "sector", "quantity": "2"})).text
    assert 'name="quantity"' in quote and 'value="2"' in quote
    assert 'data-testid="quote-amount">¥2,400.00<' in quote and "¥2,544.00" in quote
    page = (await client.get(f"/listings/{listing_id}")).text
    key = KEY.search(page).group(1)
    data = {"plan_id": str(m["plan"]["id"]), "purpose": "sector", "quantity": "2", "idempotency_key": key}
    back = await _form(client, f"/listings/{listing_id}/order", csrf, **data)
    # two years of a subscription: one order, priced as the quote said, one entitlement for the whole term
    [row] = await Order.select().where(Order.listing == listing_id)
    assert back == f"/orders/{row['id']}"
    assert (row["quantity"], row["amount_fen"], row["total_fen"]) == (2, 240_000, 254_400)
    # more than a buyer may take in one order: refused, shown in the reader's language, nothing written
    too_many = {**data, "quantity": "121", "idempotency_key": "k-many"}
    back = await _form(client, f"/listings/{listing_id}/order", csrf, **too_many)
    assert back.startswith(f"/listings/{listing_id}?purpose=sector&plan={m['plan']['id']}")
    page = (await client.get(back)).text
    assert 'data-testid="flash"' in page and "price.quantity_too_large" in page and "最多购买 120 份" in page
    assert await Order.count() == 1
    # the same refusal for an English reader
    client.cookies.set("lang", "en")
    back = await _form(client, f"/listings/{listing_id}/order", csrf, **{**too_many, "idempotency_key": "k-en"})
    page = (await client.get(back)).text
    assert "price.quantity_too_large" in page and "最多购买" not in page
    assert await Order.count() == 1


async def test_approve_sign_pay_deliver_confirm_through_the_pages(client, job_runtime):
    m = await market(job_runtime, sharing="conditional")
    order_id, _ = await _order_from_listing(client, m)
    url = f"/orders/{order_id}"

    # the holder: approve (the buyer sees no approve form; the holder does)
    assert 'data-testid="approve-box"' not in (await client.get(url)).text
    csrf = await _as(client, m["holder"])
    assert 'data-testid="approve-box"' in (await client.get(url)).text
    assert await _form(client, f"{url}/approve", csrf, note="用途合理") == url
    await job_runtime.drain(timeout=120)  # the contract's PDF

    # both sign the digest they were shown; a digest not issued is refused and shown
    for who in ("holder", "buyer"):
        csrf = await _as(client, m[who])
        page = (await client.get(url)).text
        assert 'data-testid="contract-pdf"' in page and f"/api/v1/orders/{order_id}/contract.pdf" in page
        sha = SHA.search(page).group(1)
        assert f'data-testid="contract-sha256">{sha}<' in page
        await _form(client, f"{url}/sign", csrf, sha256="0" * 64)
        refused = (await client.get(url)).text
        assert 'data-testid="flash"' in refused and 'class="alert error"' in refused
        assert 'data-status="awaiting_signature"' in refused
        await _form(client, f"{url}/sign", csrf, sha256=sha)
    page = (await client.get(url)).text
    assert 'data-status="awaiting_payment"' in page and "合同已签署" in page
    order = await Order.select().where(Order.id == order_id).first()
    # bank-transfer instructions while awaiting payment: account, reference, amount
    assert f'data-testid="payment-reference">{order["payment_reference"]}<' in page
    assert 'data-testid="amount-due">¥530.00<' in page and "js.stripe.com" not in page
    assert 'data-testid="receipt-form"' not in page

    # platform finance records the transfer; a malformed amount is refused with a message
    csrf = await _as(client, m["admin"])
    page = (await client.get(url)).text
    assert 'data-testid="receipt-form"' in page
    await _form(client, f"{url}/receipt", csrf, amount_yuan="五百", reference="ICBC-1")
    assert "payment.amount_format" in (await client.get(url)).text
    await _form(client, f"{url}/receipt", csrf, amount_yuan="530.00", reference="ICBC-20260101-0001")
    assert 'data-status="delivered"' in (await client.get(url)).text

    # the buyer: the data, the invoice, then acceptance
    await job_runtime.drain(timeout=120)  # the invoice's PDF
    csrf = await _as(client, m["buyer"])
    page = (await client.get(url)).text
    order = await Order.select().where(Order.id == order_id).first()
    assert f'href="/my/entitlements/{order["entitlement"]}"' in page
    assert 'data-testid="invoice-pdf"' in page
    assert (await client.get(f"/api/v1/orders/{order_id}/invoice.pdf")).status_code == 200
    await _form(client, f"{url}/dispute", csrf, reason="短")  # too short: refused, shown
    assert "order.dispute_reason_required" in (await client.get(url)).text
    await _form(client, f"{url}/confirm", csrf)
    page = (await client.get(url)).text
    assert 'data-status="completed"' in page and 'data-state="current"' not in page

    # the lists
    orders_page = (await client.get("/orders")).text
    assert f'data-order="{order_id}"' in orders_page
    assert f'data-order="{order_id}"' not in (await client.get("/orders?status=awaiting_payment")).text
    contracts = (await client.get("/contracts")).text
    assert f'href="/orders/{order_id}"' in contracts and 'data-status="signed"' in contracts
    invoices_page = (await client.get("/invoices")).text
    assert order["payment_reference"] and "/invoice.pdf" in invoices_page and f"#{order_id}" in invoices_page
    # the holder sees its contract too, as the holder's side
    await _as(client, m["holder"])
    assert "本方：数据持有方" in (await client.get("/contracts")).text


async def test_cancel_and_decline(client, job_runtime):
    m = await market(job_runtime, sharing="conditional")
    first, _ = await _order_from_listing(client, m)
    second, _ = await _order_from_listing(client, m)
    csrf = await login(client, m["buyer"])
    assert await _form(client, f"/orders/{first}/cancel", csrf) == f"/orders/{first}"
    page = (await client.get(f"/orders/{first}")).text
    assert 'data-status="cancelled"' in page and 'data-state="stopped"' in page
    csrf = await _as(client, m["holder"])
    await _form(client, f"/orders/{second}/decline", csrf, note="")  # a reason is required
    assert "order.reason_required" in (await client.get(f"/orders/{second}")).text
    await _form(client, f"/orders/{second}/decline", csrf, note="用途与数据的共享条件不符")
    await _as(client, m["buyer"])
    page = (await client.get(f"/orders/{second}")).text
    assert 'data-status="declined"' in page and "用途与数据的共享条件不符" in page
    client.cookies.set("lang", "en")  # the same page in English; the holder's own words stay as written
    page = (await client.get(f"/orders/{second}")).text
    assert "Order progress" in page and "Declined" in page and "用途与数据的共享条件不符" in page
    assert "订单进度" not in page


async def test_pages_are_guarded(client, job_runtime):
    m = await market(job_runtime, sharing="conditional")
    order_id, _ = await _order_from_listing(client, m)
    # anonymous: to the login page
    client.cookies.clear()
    for url in ("/orders", f"/orders/{order_id}", "/contracts", "/invoices"):
        resp = await client.get(url, follow_redirects=False)
        assert resp.status_code in (302, 303) and resp.headers["location"].startswith("/login"), url
    # another buyer: the order does not exist for it, and its forms change nothing
    stranger = await make_user(["buyer"])
    csrf = await _as(client, stranger)
    assert (await client.get(f"/orders/{order_id}")).status_code == 404
    resp = await client.post(f"/orders/{order_id}/cancel", data={"_csrf": csrf}, follow_redirects=False)
    assert resp.status_code == 404
    assert 'data-order' not in (await client.get("/orders")).text
    # roles: a holder does not order or list buyer's orders or invoices; a buyer neither approves nor
    # records money
    csrf = await _as(client, m["holder"])
    for url in ("/orders", "/invoices"):
        assert (await client.get(url)).status_code == 403, url
    resp = await client.post(f"/listings/{m['listing']['id']}/order", follow_redirects=False,
                             data={"_csrf": csrf, "plan_id": str(m["plan"]["id"]), "purpose": "industry",
                                   "idempotency_key": "x"})
    assert resp.status_code == 403
    csrf = await _as(client, m["buyer"])
    for path in ("approve", "decline", "receipt"):
        resp = await client.post(f"/orders/{order_id}/{path}", data={"_csrf": csrf, "note": "x"},
                                 follow_redirects=False)
        assert resp.status_code == 403, path
    assert (await client.get("/contracts")).status_code == 200
    # the regulator reads the order (an overseer), with no action offered
    regulator_csrf = await _as(client, m["regulator"])
    page = (await client.get(f"/orders/{order_id}")).text
    assert 'data-status="awaiting_approval"' in page and "<form method=\"post\" action=\"/orders/" not in page
    assert (await client.get("/orders")).status_code == 403
    resp = await client.post(f"/orders/{order_id}/receipt", data={"_csrf": regulator_csrf}, follow_redirects=False)
    assert resp.status_code == 403
    # without the CSRF token a form changes nothing
    await _as(client, m["buyer"])
    resp = await client.post(f"/orders/{order_id}/cancel", data={}, follow_redirects=False)
    assert resp.status_code == 403
    assert (await Order.select(Order.status).where(Order.id == order_id).first())["status"] == "awaiting_approval"
