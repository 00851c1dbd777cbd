"""Red-letter credit notes: numbered in the same series, negative, naming the original, never more than
the original; the original row is never edited (fully reversed: its status only becomes voided)."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from billing import invoices
from billing.invoices import _credit, _numbers, _snapshot
from billing.invoices.tables import Invoice
from factories import make_org
from invoice_factories import flat, pdftotext, read_daxie, snapshot_for
from market import documents
from market.errors import Conflict, DomainError, NotFound
from market.money import Money
from market.tables import AuditEvent, Document

TWO_LINES = [
    {"item": "*信息技术服务*数据产品", "unit": "份", "quantity": 1, "unit_price_fen": 1_000_000,
     "amount_fen": 1_000_000, "tax_rate_bps": 600},
    {"item": "*信息技术服务*数据接口调用服务", "unit": "包", "quantity": 3, "unit_price_fen": 33_333,
     "amount_fen": 99_999, "tax_rate_bps": 600},
]


async def _row(number: str) -> dict:
    return await Invoice.select().where(Invoice.number == number).first()


async def test_a_full_credit_note_reverses_the_invoice_and_names_it(job_runtime):
    buyer = await make_org()
    original = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer, lines=TWO_LINES))
    before = await _row(original["number"])
    red = await invoices.issue_credit_note(invoice_number=original["number"], reason="订单退款")
    assert (red["kind"], red["original_number"], red["original_id"]) == ("red", original["number"], original["id"])
    assert red["seq"] == original["seq"] + 1 and len(red["number"]) == 20  # the same series
    assert (red["amount_fen"], red["tax_fen"], red["total_fen"]) == (
        -original["amount_fen"], -original["tax_fen"], -original["total_fen"])
    assert red["total_upper"].startswith("负") and read_daxie(red["total_upper"]) == red["total_fen"]
    assert f"被红冲蓝字数电发票号码：{original['number']}" in red["remarks"] and "订单退款" in red["remarks"]
    assert [(line["line"], line["quantity"], line["unit_price_fen"]) for line in json.loads(red["lines"])] == [
        (1, -1, 1_000_000), (2, -3, 33_333)]
    after = await _row(original["number"])
    assert after == {**before, "status": "voided"}  # nothing but the status moved
    assert await AuditEvent.count().where(AuditEvent.action == "invoice.voided") == 1

    with pytest.raises(Conflict) as err:
        await invoices.issue_credit_note(invoice_number=original["number"], reason="再次退款")
    assert err.value.code == "invoice.fully_credited"

    await job_runtime.drain(timeout=120)
    doc = await documents.get_document(red["document"])
    assert (doc["kind"], doc["template"]) == ("credit_note", "pdf/credit_note/v2.html")
    text = flat(pdftotext(await documents.pdf_bytes(red["document"])))
    for needle in ("电子发票（普通发票）", "红字发票", red["number"], original["number"], "-10000.00", "-600.00",
                   red["total_upper"], "¥-" + str(-red["total_fen"] // 100)):
        assert needle in text, needle


async def test_partial_credits_never_exceed_the_original_and_leave_it_unchanged():
    buyer = await make_org()
    original = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer, lines=TWO_LINES))
    total = original["total_fen"]
    before = await _row(original["number"])
    first = await invoices.issue_credit_note(invoice_number=original["number"], amount_fen=50_000, reason="部分退款")
    assert first["total_fen"] == -50_000 and first["amount_fen"] + first["tax_fen"] == -50_000
    assert await _row(original["number"]) == before  # a partial credit does not touch the original at all

    state = (await Invoice.count(), await Document.count(), await AuditEvent.count())
    for kwargs, code in [
        (dict(amount_fen=total - 50_000 + 1), "invoice.credit_exceeds"),
        (dict(amount_fen=0), "invoice.bad_credit"),
        (dict(amount_fen=-5), "invoice.bad_credit"),
        (dict(amount_fen=100, lines=[{"line": 1, "total_fen": 100}]), "invoice.bad_credit"),
        (dict(lines=[{"line": 3, "total_fen": 100}]), "invoice.bad_credit"),
        (dict(lines=[{"line": 1, "total_fen": 100}, {"line": 1, "total_fen": 100}]), "invoice.bad_credit"),
        (dict(lines=[{"line": 2, "total_fen": 99_999 + 6_000 + 1}]), "invoice.credit_exceeds"),
        (dict(reason=" "), "invoice.reason_required"),
    ]:
        with pytest.raises(DomainError) as err:
            await invoices.issue_credit_note(invoice_number=original["number"], **{"reason": "退款", **kwargs})
        assert err.value.code == code, kwargs
        assert (await Invoice.count(), await Document.count(), await AuditEvent.count()) == state, kwargs
    with pytest.raises(NotFound):
        await invoices.issue_credit_note(invoice_number="2633000000000000999x", reason="退款")
    with pytest.raises(NotFound):
        await invoices.issue_credit_note(invoice_number="26330000000000009999", reason="退款")
    with pytest.raises(DomainError) as err:
        await invoices.issue_credit_note(invoice_number=first["number"], reason="退款")
    assert err.value.code == "invoice.credit_of_red"

    line2 = await invoices.issue_credit_note(invoice_number=original["number"], reason="接口未交付",
                                             lines=[{"line": 2, "total_fen": 10_000}])
    assert [line["line"] for line in json.loads(line2["lines"])] == [2] and line2["total_fen"] == -10_000
    rest = await invoices.issue_credit_note(invoice_number=original["number"], reason="全额退款")
    assert first["total_fen"] + line2["total_fen"] + rest["total_fen"] == -total
    assert (await _row(original["number"]))["status"] == "voided"
    seqs = [original["seq"], first["seq"], line2["seq"], rest["seq"]]
    assert seqs == list(range(seqs[0], seqs[0] + 4))  # credit notes continue the one series


async def test_concurrent_credits_never_add_up_to_more_than_the_original():
    buyer = await make_org()
    original = await invoices.issue_invoice(order_snapshot=snapshot_for(buyer))
    part = original["total_fen"] // 4 + 1  # four fit less than the total, the fourth would go over
    results = await asyncio.gather(*(invoices.issue_credit_note(invoice_number=original["number"], amount_fen=part,
                                                                reason=f"退款 {i}") for i in range(8)),
                                   return_exceptions=True)
    done = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(done) == 3 and {r.code for r in refused} == {"invoice.credit_exceeds"}
    assert -sum(r["total_fen"] for r in done) <= original["total_fen"]
    seqs = sorted(r["seq"] for r in [original, *done])
    assert seqs == list(range(1, 5))


# ---- properties ------------------------------------------------------------------------------------

_LINE = st.builds(
    lambda q, p, r: {"item": "*信息技术服务*数据产品", "unit": "份", "quantity": q, "unit_price_fen": p,
                     "amount_fen": p * q, "tax_rate_bps": r},
    st.integers(1, 1000), st.integers(0, 10**9), st.sampled_from(sorted(_snapshot.VAT_RATES_BPS)))
_BUYER = {"org_id": 1, "name": "浙江安诚财产保险股份有限公司", "credit_code": "91330100MA27XL6Y7J"}


@hsettings(max_examples=200, deadline=None)
@given(lines=st.lists(_LINE, min_size=1, max_size=8).filter(lambda ls: any(line["amount_fen"] for line in ls)))
def test_for_any_lines_amount_plus_tax_is_the_total_and_the_words_say_it(lines):
    s = _snapshot.normalise({"order_ref": "DD-1", "buyer": _BUYER, "lines": lines,
                             "seller": {"name": "杭州数据交易所有限公司", "credit_code": "91330100342910872R"}})
    for line in s["lines"]:
        assert line["tax_fen"] == Money(line["amount_fen"]).apply_bps(line["tax_rate_bps"]).amount
    assert s["amount_fen"] == sum(line["amount_fen"] for line in s["lines"])
    assert s["amount_fen"] + s["tax_fen"] == s["total_fen"] > 0
    words = Money(s["total_fen"]).to_chinese_upper()
    assert read_daxie(words) == s["total_fen"]


@hsettings(max_examples=200, deadline=None)
@given(lines=st.lists(_LINE, min_size=1, max_size=5), data=st.data())
def test_for_any_credit_each_red_line_adds_up_and_stays_within_the_original(lines, data):
    s = _snapshot.normalise({"order_ref": "DD-1", "buyer": _BUYER, "lines": [
        {**line, "unit_price_fen": line["unit_price_fen"] + 1, "amount_fen": (line["unit_price_fen"] + 1)
         * line["quantity"]} for line in lines]})
    remaining = [line["amount_fen"] + line["tax_fen"] for line in s["lines"]]
    amount = data.draw(st.integers(1, sum(remaining)))
    credits = _credit._credits(remaining, amount, None)
    assert sum(credits) == amount and all(0 <= c <= r for c, r in zip(credits, remaining))
    for red, credit in zip(_credit.red_lines(s["lines"], credits, {}), [c for c in credits if c]):
        assert red["amount_fen"] + red["tax_fen"] == -credit
        assert red["amount_fen"] <= 0 and red["tax_fen"] <= 0
        # 价税分离 stays within a 分 of amount × rate (数电发票 tolerate 6 分 per line)
        assert abs(-red["tax_fen"] - Money(-red["amount_fen"]).apply_bps(red["tax_rate_bps"]).amount) <= 1


@hsettings(max_examples=300, deadline=None)
@given(year=st.integers(2000, 2099), seq=st.integers(1, _numbers.SEQUENCE_MAX),
       province=st.sampled_from(["11", "31", "33", "44", "65"]), channel=st.sampled_from("0123456789"))
def test_numbers_are_always_twenty_digits_and_read_back(year, seq, province, channel):
    number = _numbers.format_number(year, seq, province=province, channel=channel)
    assert len(number) == 20 and number.isdigit() and _numbers.is_number(number)
    assert _numbers.parse_number(number) == {"yy": year % 100, "province": province, "channel": channel, "seq": seq}
