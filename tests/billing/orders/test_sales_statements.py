"""A holder's monthly statement: figures that add up and agree with the ledger, over real orders and over
random sequences of sales, refunds and payouts; its CSV columns; its PDF issued by the documents job."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import commission, ledger, orders, statements
from billing.sales import service as sales
from billing.tables import Account, JournalTxn, Posting
from factories import make_org
from market.context import Actor, acting_as
from market.errors import DomainError
from market.tables import Document
from order_factories import actor, market, order, sign_both

FINANCE = Actor(label="finance@platform.cn")


def pdf_text(data: bytes) -> str:
    """The PDF's text with all white space removed (table cells wrap where the layout wants)."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return "".join(out.stdout.decode("utf-8").split())


async def _completed(m: dict, job_runtime, **kw) -> dict:
    """An order ordered, signed, paid, delivered and confirmed by the buyer: released to the holder."""
    o = await sign_both(m, (await order(m, **kw))["id"], job_runtime)
    with acting_as(FINANCE):
        await orders.record_receipt(order_id=o["id"], amount_fen=o["total_fen"], reference=f"B-{o['id']}",
                                    recorded_by="finance")
    with acting_as(actor(m["buyer"])):
        await orders.confirm(order_id=o["id"], org_id=m["buyer"]["org"]["id"])
    return o


async def test_statement_of_real_orders_adds_up_and_matches_the_ledger(job_runtime):
    m = await market(job_runtime)  # a product at ¥500.00 + 6% VAT; commission 10%, fund 30% of it
    holder = m["holder"]["org"]["id"]
    o1 = await _completed(m, job_runtime)
    o2 = await _completed(m, job_runtime)
    with acting_as(FINANCE):
        await orders.refund(order_id=o2["id"], amount_fen=10_600, reason="部分数据缺失", recorded_by="finance")
    await ledger.payout(holder_org_id=holder, amount_fen=30_000, reference="payout:ICBC-0001")

    month = statements.current_month()
    s = await statements.statement(holder_org_id=holder, month=month)
    assert s["holder"]["name"] == m["holder"]["org"]["name"] and s["opening_fen"] == 0
    kinds = [mv["kind"] for mv in s["movements"]]
    assert kinds == ["release", "release", "refund", "payout"]
    release = s["movements"][0]
    # gross = the net amount A; commission C = 10% of it, fund F = 30% of C; the holder gets A - C
    assert (release["gross_fen"], release["commission_fen"], release["fund_share_fen"], release["net_fen"]) == (
        50_000, 5_000, 1_500, 45_000)
    assert release["order_id"] == o1["id"] and release["listing_title"] == m["listing"]["title"]
    assert release["buyer_name"] == m["buyer"]["org"]["name"]
    refund = s["movements"][2]
    # ¥106 of ¥530 (20%) reversed in proportion: 20% of each leg, VAT's part left out of the holder's view
    assert (refund["gross_fen"], refund["commission_fen"], refund["fund_share_fen"], refund["net_fen"]) == (
        -10_000, -1_000, -300, -9_000)
    assert s["movements"][3]["net_fen"] == -30_000
    for mv in s["movements"]:
        assert mv["gross_fen"] - mv["commission_fen"] == mv["net_fen"]
    assert s["closing_fen"] == s["opening_fen"] + s["totals"]["net_fen"] == 45_000 + 45_000 - 9_000 - 30_000
    assert s["closing_fen"] == await ledger.balance(account_code=ledger.payable_code(holder))
    assert [mv["balance_fen"] for mv in s["movements"]] == [45_000, 90_000, 81_000, 51_000]

    due = await sales.amount_due(holder_org_id=holder)
    assert due == {"payable_fen": 51_000, "in_escrow_fen": 0, "paid_out_fen": 30_000}
    assert [p["bank_reference"] for p in await sales.payouts(holder_org_id=holder)] == ["ICBC-0001"]
    [b] = await sales.buyers(holder_org_id=holder)
    assert (b["buyer_name"], b["orders"], b["paid_orders"], b["amount_fen"]) == (
        m["buyer"]["org"]["name"], 2, 2, 100_000)
    [mon] = await sales.monthly(holder_org_id=holder)
    assert (mon["month"], mon["sales"], mon["released_fen"], mon["refunded_fen"], mon["paid_out_fen"]) == (
        month, 2, 90_000, 9_000, 30_000)

    # the next month opens where this one closed, with nothing moving yet
    year, mo = int(month[:4]), int(month[5:])
    following = f"{year + mo // 12}-{mo % 12 + 1:02d}"
    nxt = await statements.statement(holder_org_id=holder, month=following)
    assert nxt["opening_fen"] == nxt["closing_fen"] == s["closing_fen"] and nxt["movements"] == []

    # CSV: the documented columns, the opening, one line per movement, the totals and the closing (元)
    rows = list(csv.reader(io.StringIO(statements.to_csv(s).decode("utf-8-sig"))))
    assert tuple(rows[0]) == statements.CSV_COLUMNS
    assert rows[1][1] == "期初余额" and rows[1][-1] == "0.00"
    assert [r[1] for r in rows[2:6]] == ["结算", "结算", "退款冲回", "付款"]
    assert rows[2][3] == f"order:{o1['id']}" and rows[2][6:] == ["500.00", "50.00", "15.00", "450.00", "450.00"]
    assert rows[6][1] == "本月合计" and rows[6][9] == "510.00"
    assert rows[7][1] == "期末余额" and rows[7][-1] == "510.00"

    # the PDF is a document rendered by the job; asking again for the same figures issues nothing new
    doc = await statements.request_pdf(holder_org_id=holder, month=month)
    assert doc["status"] == "pending"
    again = await statements.request_pdf(holder_org_id=holder, month=month)
    assert again["id"] == doc["id"]
    with pytest.raises(DomainError) as exc:
        await statements.statement_pdf(holder_org_id=holder, month=month)
    assert exc.value.code == "document.not_rendered"
    await job_runtime.drain(timeout=120)
    name, data = await statements.statement_pdf(holder_org_id=holder, month=month)
    text = pdf_text(data)
    assert name == f"对账单-{month}.pdf" and data.startswith(b"%PDF")
    for expected in (m["holder"]["org"]["name"], "持有方月度结算对账单", "期初余额", "期末余额", "510.00", "900.00",
                     "-90.00", "-300.00"):
        assert "".join(expected.split()) in text, expected
    # new figures, a new document; the old one stays as issued
    await ledger.payout(holder_org_id=holder, amount_fen=1_000, reference="payout:ICBC-0002")
    newer = await statements.request_pdf(holder_org_id=holder, month=month)
    assert newer["id"] != doc["id"]
    assert await Document.count().where(Document.subject_type == statements.SUBJECT) == 2


async def test_bad_month_is_refused():
    holder = await make_org()
    for month in ("2026-13", "2026-1", "26-01", "2026-01-01", ""):
        with pytest.raises(DomainError) as exc:
            await statements.statement(holder_org_id=holder["id"], month=month)
        assert exc.value.code == "statement.month_invalid"


# ---- the balance identity over random histories -------------------------------------------------

MONTHS = ["2026-01", "2026-02", "2026-03", "2026-04"]
portion = st.integers(min_value=1, max_value=10_000)  # basis points of what is available
ops = st.lists(st.one_of(
    st.tuples(st.just("sale"), st.integers(0, 3), st.integers(0, 1), st.integers(1, 500_000),
              st.sampled_from(commission.TIERS), st.sampled_from([0, 600])),
    st.tuples(st.just("refund"), st.integers(0, 3), st.integers(0, 100), portion),
    st.tuples(st.just("payout"), st.integers(0, 3), st.integers(0, 1), portion),
), min_size=1, max_size=20)


async def _reset() -> None:
    for table in (Posting, JournalTxn, Account):
        await table.delete(force=True)


async def _in_month(posted, month_index: int) -> None:
    # the month a transaction is booked in is its accounting period; the test places it where the example says
    await JournalTxn.update({JournalTxn.period: MONTHS[month_index]}).where(JournalTxn.id == posted.txn_id)


@pytest.fixture
async def two_holders():
    return [(await make_org())["id"], (await make_org())["id"]]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(steps=ops)
async def test_statements_chain_and_equal_the_ledger(two_holders, steps):
    await _reset()
    sold: list[tuple[str, int]] = []  # (order ref, holder)
    for op in steps:
        kind, month = op[0], op[1]
        if kind == "sale":
            _, _, h, amount, tier, tax_bps = op
            ref = f"order:{len(sold) + 1}"
            tax = amount * tax_bps // 10_000
            await _in_month(await ledger.record_payment(order_ref=ref, total_fen=amount + tax,
                                                        provider="bank_transfer"), month)
            await _in_month(await ledger.release(order_ref=ref, holder_org_id=two_holders[h], amount_fen=amount,
                                                 tax_fen=tax, tier=tier), month)
            sold.append((ref, two_holders[h]))
        elif kind == "refund" and sold:
            ref, holder = sold[op[2] % len(sold)]
            left = await Posting.select(Posting.amount_fen).where(Posting.txn.reference == ref,
                                                                  Posting.account.code == "bank")
            refundable = sum(p["amount_fen"] for p in left)  # paid in, less refunded (bank postings of the order)
            if refundable <= 0:
                continue
            amount = max(1, refundable * op[3] // 10_000)
            try:
                await _in_month(await ledger.refund(order_ref=ref, amount_fen=amount), month)
            except DomainError as exc:
                # the holder was already paid what the reversal would take back: refused, nothing written
                assert exc.code == "ledger.refund_overdraft", exc.code
        elif kind == "payout":
            holder = two_holders[op[2]]
            owed = await ledger.balance(account_code=ledger.payable_code(holder))
            if owed > 0:
                await _in_month(await ledger.payout(holder_org_id=holder, amount_fen=max(1, owed * op[3] // 10_000)),
                                month)

    fund_share = commission_total = 0
    for holder in two_holders:
        closing = 0
        for month in MONTHS:
            s = await statements.statement(holder_org_id=holder, month=month)
            assert s["opening_fen"] == closing  # each month opens where the last one closed
            assert s["closing_fen"] == s["opening_fen"] + sum(mv["net_fen"] for mv in s["movements"])
            assert s["totals"]["net_fen"] == sum(mv["net_fen"] for mv in s["movements"])
            running = s["opening_fen"]
            for mv in s["movements"]:
                running += mv["net_fen"]
                assert mv["balance_fen"] == running
                assert mv["gross_fen"] - mv["commission_fen"] == mv["net_fen"]
                assert 0 <= abs(mv["fund_share_fen"]) <= abs(mv["commission_fen"])
            fund_share += s["totals"]["fund_share_fen"]
            commission_total += s["totals"]["commission_fen"]
            closing = s["closing_fen"]
        # the last month closes at the ledger's balance of the holder's payable
        assert closing == await ledger.balance(account_code=ledger.payable_code(holder))
    # every commission and fund share is a holder's: the statements account for the ledger's whole
    assert fund_share == await ledger.balance(account_code="fund")
    assert commission_total - fund_share == await ledger.balance(account_code="commission")
    assert (await ledger.check()).ok
