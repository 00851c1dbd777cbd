"""Invoices through the services: 20-digit numbers gap-free per year under concurrency, the PDF through
the real documents job, bad snapshots refused with nothing written."""

from __future__ import annotations

import asyncio
import json
from datetime import date

import pytest

from billing import invoices
from billing.invoices import _numbers
from billing.invoices.tables import Invoice, InvoiceCounter
from factories import make_org
from invoice_factories import flat, pdffonts, pdftotext, read_daxie, snapshot_for
from market import documents
from market.errors import DomainError, NotFound
from market.tables import AuditEvent, Document, OutboxMessage

ADMIN = frozenset({"admin"})


async def _written() -> tuple:
    return (await Invoice.count(), await Document.count(), await AuditEvent.count(), await OutboxMessage.count(),
            await InvoiceCounter.select(InvoiceCounter.year, InvoiceCounter.last).order_by(InvoiceCounter.year))


async def test_an_invoice_carries_the_snapshot_and_a_20_digit_number(job_runtime):
    buyer = await make_org()
    inv = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer))
    year = _numbers.today().year
    assert len(inv["number"]) == 20 and inv["number"].isdigit()
    assert invoices.parse_number(inv["number"]) == {"yy": year % 100, "province": "33", "channel": "0", "seq": 1}
    assert (inv["year"], inv["seq"], inv["kind"], inv["status"]) == (year, 1, "normal", "issued")
    assert (inv["amount_fen"], inv["tax_fen"], inv["total_fen"]) == (1_234_567, 74_074, 1_308_641)
    assert inv["total_upper"] == "壹万叁仟零捌拾陆元肆角壹分" and read_daxie(inv["total_upper"]) == inv["total_fen"]
    assert (inv["seller_name"], inv["seller_credit_code"]) == ("杭州数据交易所有限公司", "91330100342910872R")
    assert (inv["buyer_org"], inv["buyer_name"], inv["buyer_credit_code"]) == (
        buyer["id"], buyer["name"], buyer["credit_code"])
    for needle in ("DD-2026-000042", "ZJ-HZ-2026-000123", "SJ7K3M9QXA4", "杭州市区县常住人口"):
        assert needle in inv["remarks"], needle
    assert inv["issuer"] == "平台开票员" and inv["issued_on"] == _numbers.today()
    [line] = json.loads(inv["lines"])
    assert line["item"] == "*信息技术服务*数据产品" and line["tax_rate_bps"] == 600 and line["tax_fen"] == 74_074
    doc = await documents.get_document(inv["document"])
    assert (doc["kind"], doc["template"], doc["subject_id"]) == ("invoice", "pdf/invoice/v2.html", inv["number"])
    [event] = await AuditEvent.select(AuditEvent.object_id).where(AuditEvent.action == "invoice.issued")
    assert event["object_id"] == inv["number"]

    # the same order again (a retried call): the same invoice, nothing new written
    before = await _written()
    again = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer))
    assert again["number"] == inv["number"] and await _written() == before


async def test_fifty_concurrent_invoices_get_fifty_consecutive_numbers():
    buyer = await make_org()
    results = await asyncio.gather(*(invoices.issue_invoice(order_snapshot=snapshot_for(buyer, order_ref=f"DD-{i}"))
                                     for i in range(50)))
    seqs = sorted(r["seq"] for r in results)
    assert seqs == list(range(1, 51))
    numbers = sorted(r["number"] for r in results)
    assert len(set(numbers)) == 50 and all(len(n) == 20 and n.isdigit() for n in numbers)
    assert [int(n[5:]) for n in numbers] == list(range(1, 51))
    assert sorted(r["order_ref"] for r in results) == sorted(f"DD-{i}" for i in range(50))
    counters = await InvoiceCounter.select(InvoiceCounter.last)
    assert counters == [{"last": 50}]


async def test_the_same_order_issued_concurrently_gets_one_invoice():
    buyer = await make_org()
    results = await asyncio.gather(*(invoices.issue_invoice(order_snapshot=snapshot_for(buyer)) for _ in range(8)))
    assert {r["number"] for r in results} == {results[0]["number"]}
    assert await Invoice.count() == 1 and (await InvoiceCounter.select(InvoiceCounter.last)) == [{"last": 1}]


async def test_a_failed_issue_gives_its_number_back(monkeypatch):
    """The number is taken in the transaction that inserts the invoice: a failure after it (here the
    document cannot be recorded) rolls the counter back, and the next invoice gets that number."""
    from billing.invoices import _document

    buyer = await make_org()
    first = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer, order_ref="DD-1"))
    real = _document.create

    async def failing(invoice):
        if invoice["order_ref"] == "DD-2":
            raise RuntimeError("storage down")
        return await real(invoice)

    monkeypatch.setattr(_document, "create", failing)
    with pytest.raises(RuntimeError):
        await invoices.issue_invoice(order_snapshot=snapshot_for(buyer, order_ref="DD-2"))
    third = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer, order_ref="DD-3"))
    assert (first["seq"], third["seq"]) == (1, 2)
    assert await Invoice.count() == 2 and await Document.count() == 2


async def test_each_year_has_its_own_series(monkeypatch):
    buyer = await make_org()
    day = {"today": date(2026, 12, 31)}
    monkeypatch.setattr(_numbers, "today", lambda: day["today"])

    async def issue(ref):
        return await invoices.issue_invoice(order_snapshot=snapshot_for(buyer, order_ref=ref))

    a, b = await issue("DD-a"), await issue("DD-b")
    day["today"] = date(2027, 1, 1)
    c, d = await issue("DD-c"), await issue("DD-d")
    day["today"] = date(2026, 12, 31)  # a late one for the old year continues its series
    e = await issue("DD-e")
    assert [x["number"] for x in (a, b, c, d, e)] == [
        "26330000000000000001", "26330000000000000002", "27330000000000000001", "27330000000000000002",
        "26330000000000000003"]
    assert (c["year"], c["issued_on"]) == (2027, date(2027, 1, 1))


@pytest.mark.parametrize("override, code", [
    ({"buyer": None}, "invoice.bad_snapshot"),
    ({"buyer": {"org_id": 1, "name": "某公司", "credit_code": "91330100MA27XL6Y7X"}}, "invoice.bad_snapshot"),
    ({"order_ref": " "}, "invoice.bad_snapshot"),
    ({"lines": []}, "invoice.bad_snapshot"),
    ({"lines": [{"item": "数据产品", "unit": "份", "quantity": 1, "unit_price_fen": 100, "amount_fen": 100,
                 "tax_rate_bps": 600}]}, "invoice.bad_snapshot"),
    ({"lines": [{"item": "*信息技术服务*数据产品", "unit": "份", "quantity": 2, "unit_price_fen": 100,
                 "amount_fen": 100, "tax_rate_bps": 600}]}, "invoice.lines_mismatch"),
    ({"lines": [{"item": "*信息技术服务*数据产品", "unit": "份", "quantity": 1, "unit_price_fen": 100,
                 "amount_fen": 100, "tax_rate_bps": 600, "tax_fen": 7}]}, "invoice.lines_mismatch"),
    ({"lines": [{"item": "*信息技术服务*数据产品", "unit": "份", "quantity": 1, "unit_price_fen": 100,
                 "amount_fen": 100, "tax_rate_bps": 650}]}, "invoice.bad_snapshot"),
    ({"lines": [{"item": "*信息技术服务*数据产品", "unit": "份", "quantity": True, "unit_price_fen": 100,
                 "amount_fen": 100, "tax_rate_bps": 600}]}, "invoice.bad_snapshot"),
    ({"lines": [{"item": "*信息技术服务*数据产品", "unit": "份", "quantity": 1, "unit_price_fen": "100",
                 "amount_fen": 100, "tax_rate_bps": 600}]}, "invoice.bad_snapshot"),
    ({"lines": [{"item": "*信息技术服务*数据产品", "unit": "份", "quantity": 1, "unit_price_fen": 0,
                 "amount_fen": 0, "tax_rate_bps": 600}]}, "invoice.zero_total"),
    ({"total_fen": 1_308_640}, "invoice.lines_mismatch"),
    ({"tax_fen": 74_075}, "invoice.lines_mismatch"),
    ({"lines": [{"item": "*信息技术服务*数据产品", "unit": "份", "quantity": 1, "unit_price_fen": 1,
                 "amount_fen": 1, "tax_rate_bps": 600}] * 101}, "invoice.bad_snapshot"),
    ({"payment": "SJ123"}, "invoice.bad_snapshot"),
])
async def test_a_bad_snapshot_is_refused_with_a_clear_error_and_nothing_is_written(override, code):
    buyer = await make_org()
    before = await _written()
    with pytest.raises(DomainError) as err:
        await invoices.issue_invoice(order_snapshot=snapshot_for(buyer, **override))
    assert err.value.code == code, err.value
    assert err.value.message and any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)
    assert await _written() == before


async def test_a_buyer_that_does_not_exist_and_a_non_dict_are_refused():
    buyer = await make_org()
    before = await _written()
    with pytest.raises(NotFound):
        await invoices.issue_invoice(order_snapshot=snapshot_for({**buyer, "id": 999_999}))
    with pytest.raises(DomainError) as err:
        await invoices.issue_invoice(order_snapshot=["not", "a", "snapshot"])
    assert err.value.code == "invoice.bad_snapshot"
    assert await _written() == before


async def test_the_pdf_renders_through_the_job_as_a_chinese_electronic_invoice(job_runtime, tmp_path):
    buyer = await make_org(name="浙江安诚财产保险股份有限公司")
    inv = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer))
    await job_runtime.drain(timeout=120)
    name, data = await invoices.invoice_pdf(number=inv["number"], org_id=buyer["id"], roles=frozenset({"buyer"}))
    assert name == f"发票-{inv['number']}.pdf" and data.startswith(b"%PDF-")
    text = flat(pdftotext(data))
    for needle in ("电子发票（普通发票）", inv["number"], "开票日期", buyer["name"], buyer["credit_code"],
                   "杭州数据交易所有限公司", "91330100342910872R", "*信息技术服务*数据产品", "12345.67", "6%", "740.74",
                   "价税合计（大写）", "壹万叁仟零捌拾陆元肆角壹分", "¥13086.41", "DD-2026-000042", "ZJ-HZ-2026-000123",
                   "SJ7K3M9QXA4", "开票人：平台开票员"):
        assert needle in text, needle
    assert "红字发票" not in text
    cjk = [f for f in pdffonts(data, tmp_path) if "CJK" in f[0]]
    assert cjk and all(f[-5] == "yes" and f[-4] == "yes" for f in cjk), cjk  # embedded, subset


@pytest.mark.parametrize("var, value", [("MARKET_INVOICE_PROVINCE_CODE", "3"), ("MARKET_INVOICE_PROVINCE_CODE", "３３"),
                                        ("MARKET_INVOICE_CHANNEL", "01"), ("MARKET_INVOICE_CHANNEL", "x")])
def test_a_number_layout_setting_that_would_not_make_20_digits_stops_the_start(var, value):
    from market.config import ConfigError, Settings

    with pytest.raises(ConfigError, match=var):
        Settings.from_env({var: value}, env_file=None)
