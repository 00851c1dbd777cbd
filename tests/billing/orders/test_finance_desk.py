"""Platform finance: open invoices with their age, the reconciliation queue and its resolve actions,
payouts never above what is owed and paid once per key (also when submitted concurrently), the trial
balance with the ledger check."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from billing import ledger, orders
from billing.finance import service as finance
from billing.payments.tables import StatementLine
from billing.tables import JournalTxn, TxnKind
from market.context import Actor, acting_as
from market.errors import Conflict, DomainError, NotFound
from market.tables import AuditEvent
from order_factories import actor, market, order, sign_both

FINANCE = Actor(label="finance@platform.cn")


async def _awaiting_payment(m: dict, job_runtime) -> dict:
    return await sign_both(m, (await order(m))["id"], job_runtime)


def _statement_csv(*rows: tuple[str, str, str, str]) -> bytes:
    lines = ["交易日期,贷方发生额,对方户名,摘要"] + [",".join(r) for r in rows]
    return "\n".join(lines).encode("utf-8")


async def test_open_invoices_and_the_reconciliation_queue(job_runtime):
    m = await market(job_runtime)
    a = await _awaiting_payment(m, job_runtime)
    b = await _awaiting_payment(m, job_runtime)
    c = await _awaiting_payment(m, job_runtime)
    due = {r["number"]: r for r in await finance.open_invoices()}
    assert set(due) == {a["invoice"]["number"], b["invoice"]["number"], c["invoice"]["number"]}
    inv = due[a["invoice"]["number"]]
    assert (inv["total_fen"], inv["paid_fen"], inv["due_fen"], inv["age_days"]) == (53_000, 0, 53_000, 0)
    assert inv["payment_reference"] == a["payment_reference"] and inv["order_id"] == a["id"]
    later = await finance.open_invoices(on=finance.today() + timedelta(days=40))
    assert {r["age_days"] for r in later} == {40}

    # a: paid exactly (matched by the import); b: part of it; an unknown transfer; a stray one
    data = _statement_csv(("2026-12-01", "530.00", "浙江安诚财产保险股份有限公司", f"货款 {a['payment_reference']}"),
                          ("2026-12-01", "200.00", "浙江安诚财产保险股份有限公司", f"{b['payment_reference']} 首期"),
                          ("2026-12-02", "530.00", "杭州某公司", "数据款"),
                          ("2026-12-02", "8.88", "某银行", "结息"))
    with acting_as(FINANCE):
        result = await orders_import(data)
    assert (result["matched"], result["partial"], result["unmatched"]) == (1, 1, 2)
    assert [r["number"] for r in await finance.open_invoices()] == [b["invoice"]["number"], c["invoice"]["number"]]
    lines, total = await finance.reconciliation_queue()
    assert total == 3 and {line["status"] for line in lines} == {"partial", "unmatched"}
    by_amount = {line["amount_fen"]: line for line in lines}

    with acting_as(FINANCE):
        # the unknown ¥530 belongs to c: matched by its invoice number, recorded as c's payment, delivered
        with pytest.raises(DomainError) as exc:
            await finance.resolve_line(line_id=by_amount[53_000]["id"], outcome="match", note="电话确认",
                                       resolved_by="finance")
        assert exc.value.code == "finance.match_target_required"
        with pytest.raises(NotFound):
            await finance.resolve_line(line_id=by_amount[53_000]["id"], outcome="match", note="电话确认",
                                       resolved_by="finance", invoice_number="12345678901234567890")
        done = await finance.resolve_line(line_id=by_amount[53_000]["id"], outcome="match", note="电话确认",
                                          resolved_by="finance", invoice_number=c["invoice"]["number"])
        assert done["status"] == "resolved" and done["order_ref"] == orders.ref(c["id"])
        assert done["resolution_note"] == "计入订单收款：电话确认" and done["payment_id"] is not None
        assert (await orders.get_order(order_id=c["id"], org_id=None, roles=frozenset({"admin"})))["status"] == \
            "delivered"
        # the interest: nothing to do; the partial ¥200: sent back to the payer
        with pytest.raises(DomainError) as exc:
            await finance.resolve_line(line_id=by_amount[888]["id"], outcome="ignored", note="利息",
                                       resolved_by="finance", order_id=c["id"])
        assert exc.value.code == "statement.outcome_order"
        with pytest.raises(DomainError) as exc:
            await finance.resolve_line(line_id=by_amount[888]["id"], outcome="lost", note="利息", resolved_by="f")
        assert exc.value.code == "statement.outcome_invalid"
        await finance.resolve_line(line_id=by_amount[888]["id"], outcome="ignored", note="银行结息",
                                   resolved_by="finance")
        await finance.resolve_line(line_id=by_amount[20_000]["id"], outcome="returned", note="请买方一次付清",
                                   resolved_by="finance")
        with pytest.raises(Conflict):
            await finance.resolve_line(line_id=by_amount[20_000]["id"], outcome="ignored", note="再次",
                                       resolved_by="finance")
    assert (await finance.reconciliation_queue())[1] == 0
    notes = {r["amount_fen"]: r["resolution_note"] for r in await StatementLine.select()}
    assert notes[888] == "无需处理：银行结息" and notes[20_000] == "已退回付款方：请买方一次付清"
    outcomes = [json.loads(e["after"]) for e in await AuditEvent.select(AuditEvent.after).where(
        AuditEvent.action == "statement_line.resolved")]
    assert sorted(o["outcome"] for o in outcomes) == ["ignored", "match", "returned"]
    # b's ¥200 was returned, not recorded: b still owes all of it
    [left] = await finance.open_invoices()
    assert (left["number"], left["due_fen"]) == (b["invoice"]["number"], 53_000)
    assert (await ledger.check()).ok


async def orders_import(data: bytes) -> dict:
    from billing import payments

    return await payments.import_statement(data=data, imported_by="finance", filename="202612.csv")


async def _owed(m: dict, job_runtime) -> int:
    """One completed order: the holder is owed ¥450.00."""
    o = await _awaiting_payment(m, job_runtime)
    with acting_as(FINANCE):
        await orders.record_receipt(order_id=o["id"], amount_fen=o["total_fen"], reference=f"B-{o['id']}",
                                    recorded_by="finance")
    with acting_as(actor(m["buyer"])):
        await orders.confirm(order_id=o["id"], org_id=m["buyer"]["org"]["id"])
    return m["holder"]["org"]["id"]


async def test_payouts_never_above_payable_and_once_per_key(job_runtime):
    m = await market(job_runtime)
    holder = await _owed(m, job_runtime)
    [row] = await finance.payouts_due()
    assert (row["org_id"], row["org_name"], row["payable_fen"]) == (holder, m["holder"]["org"]["name"], 45_000)

    before = await JournalTxn.count()
    with acting_as(FINANCE):
        with pytest.raises(DomainError) as exc:
            await finance.record_payout(holder_org_id=holder, amount_fen=45_001, bank_reference="ICBC-1",
                                        idempotency_key="k1", recorded_by="finance")
        assert exc.value.code == "ledger.payout_exceeds_payable"
        for missing in (None, "", " "):
            with pytest.raises(DomainError) as exc:
                await finance.record_payout(holder_org_id=holder, amount_fen=1, bank_reference="ICBC-1",
                                            idempotency_key=missing, recorded_by="finance")
            assert exc.value.code == "finance.idempotency_key_required"
        with pytest.raises(DomainError) as exc:
            await finance.record_payout(holder_org_id=holder, amount_fen=1, bank_reference="", idempotency_key="k1",
                                        recorded_by="finance")
        assert exc.value.code == "finance.bank_reference_required"
        assert await JournalTxn.count() == before  # every refusal wrote nothing

        first, created = await finance.record_payout(holder_org_id=holder, amount_fen=40_000, bank_reference="ICBC-1",
                                                     idempotency_key="k1", recorded_by="finance")
        assert created and first["amount_fen"] == 40_000 and first["payable_after_fen"] == 5_000
        # the same submit again: the same payout, nothing paid twice
        again, created = await finance.record_payout(holder_org_id=holder, amount_fen=40_000,
                                                     bank_reference="ICBC-1", idempotency_key="k1",
                                                     recorded_by="finance")
        assert not created and again["txn_id"] == first["txn_id"]
        # the same key for something else is refused
        with pytest.raises(Conflict) as exc:
            await finance.record_payout(holder_org_id=holder, amount_fen=5_000, bank_reference="ICBC-1",
                                        idempotency_key="k1", recorded_by="finance")
        assert exc.value.code == "ledger.idempotency_mismatch"
    assert await ledger.balance(account_code=ledger.payable_code(holder)) == 5_000
    assert await JournalTxn.count().where(JournalTxn.kind == TxnKind.PAYOUT) == 1

    # a burst of identical submits (a double click, a retry) pays once
    async def submit():
        with acting_as(FINANCE):
            return await finance.record_payout(holder_org_id=holder, amount_fen=5_000, bank_reference="ICBC-2",
                                               idempotency_key="k2", recorded_by="finance")

    results = await asyncio.gather(*[submit() for _ in range(8)], return_exceptions=True)
    paid = [r for r in results if not isinstance(r, BaseException)]
    assert paid and all(r[0]["txn_id"] == paid[0][0]["txn_id"] for r in paid)
    assert sum(1 for r in paid if r[1]) <= 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert await JournalTxn.count().where(JournalTxn.kind == TxnKind.PAYOUT) == 2
    assert await ledger.balance(account_code=ledger.payable_code(holder)) == 0
    assert await finance.payouts_due() == []


async def test_trial_balance_balances_and_shows_the_check(job_runtime):
    m = await market(job_runtime)
    holder = await _owed(m, job_runtime)
    await ledger.payout(holder_org_id=holder, amount_fen=10_000)
    t = await finance.trial_balance()
    rows = {a["code"]: a for a in t["accounts"]}
    # payment 53,000 in; release: holder 45,000, commission 3,500, fund 1,500, VAT 3,000; payout 10,000
    assert (rows["bank"]["debit_fen"], rows["bank"]["credit_fen"], rows["bank"]["balance_fen"]) == (
        53_000, 10_000, 43_000)
    assert rows["escrow"]["balance_fen"] == 0 and rows["commission"]["balance_fen"] == 3_500
    assert rows["fund"]["balance_fen"] == 1_500 and rows["vat_payable"]["balance_fen"] == 3_000
    payable = rows[ledger.payable_code(holder)]
    assert payable["balance_fen"] == payable["kept_balance_fen"] == 35_000
    assert payable["owner_name"] == m["holder"]["org"]["name"]
    assert t["total_debit_fen"] == t["total_credit_fen"] == 53_000 + 53_000 + 10_000 and t["balanced"]
    assert t["check"]["ok"] and t["check"]["problem"] == "" and t["check"]["transactions"] == 3
