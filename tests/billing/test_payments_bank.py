"""Payments by bank transfer: references, receipts, concurrent confirmations, statement reconciliation."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from billing import payments
from billing.payments import _reference
from billing.payments.tables import Payment, PaymentRequest, StatementImport, StatementLine, WebhookEvent
from factories import login, make_user
from market.context import Actor, acting_as
from market.errors import Conflict, DomainError
from market.tables import AuditEvent

FINANCE = Actor(label="finance@demo.cn")


async def _snapshot() -> tuple:
    """Everything payments write, plus the audit chain: equal before and after means nothing changed."""
    return (await Payment.count(), await PaymentRequest.count(), await StatementLine.count(),
            await StatementImport.count(), await WebhookEvent.count(), await AuditEvent.count(),
            tuple(r["paid_fen"] for r in await PaymentRequest.select(PaymentRequest.paid_fen).order_by(PaymentRequest.id)))


@pytest.fixture
def recorded():
    events = []

    async def callback(event):
        events.append(event)

    payments.on_payment_recorded(callback)
    yield events
    payments.remove_payment_callback(callback)


# ---- references ------------------------------------------------------------------------------

def test_reference_shape_and_normalisation():
    ref = _reference.make_reference()
    assert ref.startswith("SJ") and len(ref) == 11 and _reference.is_valid(ref)
    assert set(ref[2:]) <= set(_reference.ALPHABET)
    typed = " ".join([ref[:4].lower(), ref[4:8], ref[8:]]).replace("0", "o")
    assert _reference.normalize(typed) == ref
    assert _reference.find_references(f"货款 {typed} 杭州某公司") == [ref]


@hsettings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_single_typo_in_a_reference_is_caught(data):
    ref = _reference.make_reference()
    pos = data.draw(st.integers(2, len(ref) - 1))
    other = data.draw(st.sampled_from([c for c in _reference.ALPHABET if c != ref[pos]]))
    typo = ref[:pos] + other + ref[pos + 1:]
    assert not _reference.is_valid(typo)
    assert _reference.find_references(typo) == []


# ---- requests and receipts -------------------------------------------------------------------

async def test_open_request_is_idempotent_and_refuses_another_amount():
    with acting_as(FINANCE):
        first = await payments.open_request(order_ref="ORD-1", amount_fen=10_000)
        again = await payments.open_request(order_ref="ORD-1", amount_fen=10_000)
        assert first["reference"] == again["reference"] == await payments.payment_reference("ORD-1")
        with pytest.raises(Conflict) as exc:
            await payments.open_request(order_ref="ORD-1", amount_fen=9_000)
        assert exc.value.code == "payment.request_amount_differs"
        with pytest.raises(DomainError):
            await payments.open_request(order_ref="ORD-2", amount_fen=0)
    assert await PaymentRequest.count() == 1


async def test_partial_receipts_then_paid_then_refused(recorded):
    with acting_as(FINANCE):
        await payments.open_request(order_ref="ORD-7", amount_fen=10_000)
        await payments.record_receipt(order_ref="ORD-7", amount_fen=4_000, reference="B-1", recorded_by="f")
        with pytest.raises(DomainError) as over:
            await payments.record_receipt(order_ref="ORD-7", amount_fen=7_000, reference="B-2", recorded_by="f")
        assert over.value.code == "payment.over_amount"
        with pytest.raises(Conflict) as dup:
            await payments.record_receipt(order_ref="ORD-7", amount_fen=1_000, reference="B-1", recorded_by="f")
        assert dup.value.code == "payment.duplicate"
        await payments.record_receipt(order_ref="ORD-7", amount_fen=6_000, reference="B-3", recorded_by="f")
        before = await _snapshot()
        with pytest.raises(Conflict) as paid:
            await payments.record_receipt(order_ref="ORD-7", amount_fen=1, reference="B-4", recorded_by="f")
        assert paid.value.code == "payment.already_paid" and paid.value.message == "该订单已付款"
        assert await _snapshot() == before
    request = await payments.get_request(order_ref="ORD-7")
    assert request["status"] == "paid" and request["paid_fen"] == 10_000
    assert [(e.amount_fen, e.paid_in_full) for e in recorded] == [(4_000, False), (6_000, True)]
    summary = await payments.summary("ORD-7")
    assert sorted(p["amount_fen"] for p in summary["payments"]) == [4_000, 6_000]


async def test_fifty_concurrent_confirmations_record_one_payment(recorded):
    with acting_as(FINANCE):
        await payments.open_request(order_ref="ORD-50", amount_fen=88_800)

    async def confirm(i: int):
        with acting_as(FINANCE):
            return await payments.record_receipt(order_ref="ORD-50", amount_fen=88_800, reference=f"BANK-{i}",
                                                 recorded_by="finance")

    results = await asyncio.gather(*(confirm(i) for i in range(50)), return_exceptions=True)
    won = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(refused) == 49, [r for r in results if not isinstance(r, (dict, Conflict))]
    assert {r.code for r in refused} == {"payment.already_paid"}
    assert await Payment.count().where(Payment.order_ref == "ORD-50") == 1
    assert (await payments.get_request(order_ref="ORD-50"))["paid_fen"] == 88_800
    assert len(recorded) == 1


async def test_a_failing_callback_undoes_the_payment():
    async def refuse(event):
        raise Conflict("order.not_payable", "订单当前不能付款")

    with acting_as(FINANCE):
        await payments.open_request(order_ref="ORD-9", amount_fen=500)
        payments.on_payment_recorded(refuse)
        try:
            with pytest.raises(Conflict):
                await payments.record_receipt(order_ref="ORD-9", amount_fen=500, reference="X", recorded_by="f")
        finally:
            payments.remove_payment_callback(refuse)
    assert await Payment.count() == 0
    assert (await payments.get_request(order_ref="ORD-9"))["paid_fen"] == 0


# ---- statements ------------------------------------------------------------------------------

async def _three_orders() -> dict:
    with acting_as(FINANCE):
        return {ref: (await payments.open_request(order_ref=ref, amount_fen=amount))["reference"]
                for ref, amount in (("ORD-A", 100_000), ("ORD-B", 50_000), ("ORD-C", 20_000))}


def _gbk_statement(refs: dict) -> bytes:
    text = (
        "账号：3301040000000000000,户名：杭州数据交易所有限公司\n"
        "查询日期：2026-12-01 至 2026-12-07\n"
        "交易日期,交易流水号,借方发生额(元),贷方发生额(元),对方户名,对方账号,摘要,附言\n"
        f"2026-12-01,S001,,\"1,000.00\",浙江安诚财产保险股份有限公司,6222000011112222,货款,{refs['ORD-A']}\n"
        f"2026/12/02,S002,,300.00,某某科技有限公司,,转账,{refs['ORD-B'].lower()}\n"
        f"20261203,S003,,250.00,另一家公司,,货款 {refs['ORD-C'][:6]} {refs['ORD-C'][6:]},\n"
        "2026年12月4日,S004,,99.00,不认识的人,,还款,\n"
        "2026-12-05,S005,500.00,,杭州电力,,电费,\n"
        "合计,,500.00,\"1,649.00\",,,,\n"
    )
    return text.encode("gbk")


async def test_statement_reconciles_exact_partial_over_unmatched_and_reimport_changes_nothing(recorded):
    refs = await _three_orders()
    data = _gbk_statement(refs)
    with acting_as(FINANCE):
        result = await payments.import_statement(data=data, imported_by="finance", filename="12月.csv")
    assert (result["lines"], result["new"], result["matched"], result["partial"], result["over"],
            result["unmatched"]) == (4, 4, 1, 1, 1, 1)
    assert (await payments.get_request(order_ref="ORD-A"))["status"] == "paid"
    assert [e.order_ref for e in recorded] == ["ORD-A"]
    waiting, total = await payments.list_lines()
    assert total == 3
    by_status = {r["status"]: r for r in waiting}
    assert by_status["partial"]["order_ref"] == "ORD-B" and by_status["partial"]["due_fen"] == 50_000
    assert by_status["over"]["order_ref"] == "ORD-C" and by_status["over"]["amount_fen"] == 25_000
    assert by_status["unmatched"]["order_ref"] == "" and by_status["unmatched"]["payer_name"] == "不认识的人"
    matched, _ = await payments.list_lines(status="matched")
    assert len(matched) == 1 and matched[0]["payment_id"] is not None

    before = await _snapshot()
    with acting_as(FINANCE):
        again = await payments.import_statement(data=data, imported_by="finance")
        as_utf8 = await payments.import_statement(data=b"\xef\xbb\xbf" + data.decode("gbk").encode(),
                                                  imported_by="finance")
    assert again["new"] == as_utf8["new"] == 0 and again["already_imported"] == 4
    assert await _snapshot() == before


async def test_resolving_lines_with_a_note_and_counting_a_partial_payment(recorded):
    refs = await _three_orders()
    with acting_as(FINANCE):
        await payments.import_statement(data=_gbk_statement(refs), imported_by="finance")
        lines, _ = await payments.list_lines(status="partial")
        partial = lines[0]
        with pytest.raises(DomainError) as exc:
            await payments.resolve_line(line_id=partial["id"], note=" ", resolved_by="finance")
        assert exc.value.code == "statement.note_required"
        row = await payments.resolve_line(line_id=partial["id"], note="买方分两次付款，先计入", resolved_by="finance",
                                          record_for="ORD-B")
        assert row["status"] == "resolved"
        with pytest.raises(Conflict):
            await payments.resolve_line(line_id=partial["id"], note="再来一次", resolved_by="finance")
        unmatched = (await payments.list_lines(status="unmatched"))[0][0]
        await payments.resolve_line(line_id=unmatched["id"], note="已退回付款人", resolved_by="finance")
    request = await payments.get_request(order_ref="ORD-B")
    assert request["paid_fen"] == 30_000 and request["status"] == "open"
    resolved, total = await payments.list_lines(status="resolved")
    assert total == 2 and {r["resolution_note"] for r in resolved} == {"买方分两次付款，先计入", "已退回付款人"}
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.action == "statement_line.resolved")]
    assert len(actions) == 2


@pytest.mark.parametrize("data,code", [
    (b"", "statement.empty"),
    (b"\x00\x01\xff\xfe\x80" * 50, "statement.encoding"),
    ("日期说明,随便\n1,2\n".encode(), "statement.no_header"),
    ("交易日期,金额,摘要\n2026-12-01,一千元,SJ\n".encode(), "statement.bad_amount"),
    ("交易日期,金额,摘要\n2026-13-45,100.00,x\n".encode(), "statement.bad_date"),
    ("交易日期,金额,摘要\n2026-12-01,-100.00,电费\n".encode(), "statement.no_lines"),
    ("交易日期,金额\n".encode() + b"2026-12-01,1.00\n" * 400_000, "statement.too_large"),
])
async def test_bad_statement_gets_a_clear_error_and_writes_nothing(data, code):
    await _three_orders()
    before = await _snapshot()
    with acting_as(FINANCE), pytest.raises(DomainError) as exc:
        await payments.import_statement(data=data, imported_by="finance")
    assert exc.value.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in exc.value.message)  # said in Chinese
    assert await _snapshot() == before


# ---- the API ---------------------------------------------------------------------------------

async def test_finance_api_receipt_statement_lines_resolve(client):
    admin = await make_user(["admin"])
    csrf = await login(client, admin)
    refs = await _three_orders()
    headers = {"X-CSRF-Token": csrf}
    resp = await client.post("/api/v1/payments/receipts", headers=headers,
                             json={"order_ref": "ORD-A", "amount_fen": 100_000, "reference": "ICBC-0001"})
    assert resp.status_code == 201, resp.text
    assert resp.json()["provider"] == "bank_transfer" and resp.json()["amount_fen"] == 100_000
    resp = await client.post("/api/v1/payments/receipts", headers=headers,
                             json={"order_ref": "ORD-A", "amount_fen": 100_000, "reference": "ICBC-0002"})
    assert resp.status_code == 409 and resp.json()["message"] == "该订单已付款"
    client.cookies.set("lang", "en")
    resp = await client.post("/api/v1/payments/receipts", headers=headers,
                             json={"order_ref": "ORD-A", "amount_fen": 100_000, "reference": "ICBC-0003"})
    assert resp.status_code == 409 and resp.json()["message"] == "This order has already been paid"
    client.cookies.delete("lang")

    resp = await client.post("/api/v1/payments/statements", headers=headers,
                             files={"file": ("statement.csv", _gbk_statement(refs), "text/csv")})
    assert resp.status_code == 201, resp.text
    assert resp.json()["new"] == 4 and resp.json()["over"] == 2  # ORD-A was paid by hand already
    resp = await client.post("/api/v1/payments/statements", headers=headers,
                             files={"file": ("bad.csv", "交易日期,金额\n2026-12-01,abc\n".encode(), "text/csv")})
    assert resp.status_code == 400 and resp.json()["code"] == "statement.bad_amount"
    assert "第 2 行" in resp.json()["message"]

    resp = await client.get("/api/v1/payments/statements/lines", params={"status": "over"})
    assert resp.status_code == 200 and resp.json()["total"] == 2
    line_id = resp.json()["items"][0]["id"]
    resp = await client.get("/api/v1/payments/statements/lines", params={"status": "nonsense"})
    assert resp.status_code == 400
    resp = await client.post(f"/api/v1/payments/statements/lines/{line_id}/resolve", headers=headers,
                             json={"note": "重复付款，已原路退回"})
    assert resp.status_code == 200 and resp.json()["status"] == "resolved"


ROUTES = [
    ("POST", "/api/v1/payments/receipts", {"order_ref": "ORD-A", "amount_fen": 1, "reference": "x"}),
    ("POST", "/api/v1/payments/statements", None),
    ("GET", "/api/v1/payments/statements/lines", None),
    ("POST", "/api/v1/payments/statements/lines/1/resolve", {"note": "处理说明"}),
    ("POST", "/api/v1/payments/refunds", {"payment_id": 1, "amount_fen": 1, "reason": "x"}),
]


@pytest.mark.parametrize("role", ["holder", "buyer", "operator", "agency", "regulator", None])
async def test_wrong_role_is_refused_on_every_finance_route(client, role):
    await _three_orders()
    headers = {}
    if role:
        headers["X-CSRF-Token"] = await login(client, await make_user([role]))
    else:
        await client.get("/login")
        headers["X-CSRF-Token"] = client.cookies.get("market_csrf", "")
    before = await _snapshot()
    for method, url, body in ROUTES:
        kwargs = {"json": body} if body else {}
        if url.endswith("/statements"):
            kwargs = {"files": {"file": ("s.csv", b"x", "text/csv")}}
        resp = await client.request(method, url, headers=headers, **kwargs)
        assert resp.status_code == (403 if role else 401), (role, url, resp.text)
    assert await _snapshot() == before
