"""The ledger's postings with exact figures, and every refusal leaving the ledger as it was."""

from __future__ import annotations

import asyncio
import json

import pytest

from billing import ledger
from billing.tables import Account, JournalTxn, Posting
from factories import make_org
from market import db
from market.errors import DomainError
from market.tables import AuditEvent

# 10,000.00 元 of a product at 10% commission, 30% of it to the fund, 6% VAT
A, X = 1_000_000, 60_000
T = A + X


async def balances() -> dict[str, int]:
    rows = await Account.select(Account.code)
    return {r["code"]: await ledger.balance(account_code=r["code"]) for r in rows}


async def postings_of(txn_id: int) -> dict[str, int]:
    rows = await Posting.select(Posting.account.code.as_alias("code"), Posting.amount_fen).where(Posting.txn == txn_id)
    return {r["code"]: r["amount_fen"] for r in rows}


async def snapshot() -> tuple:
    """Everything a refused posting must leave unchanged."""
    return (await JournalTxn.count(), await Posting.count(), await AuditEvent.count(),
            sorted((r["code"], r["balance_fen"]) for r in await Account.select(Account.code, Account.balance_fen)))


@pytest.fixture
async def holder():
    return await make_org("杭州市卫生健康委员会", kind="government")


async def paid_and_released(holder, ref="order:1"):
    await ledger.record_payment(order_ref=ref, total_fen=T, provider="bank_transfer")
    return await ledger.release(order_ref=ref, holder_org_id=holder["id"], amount_fen=A, tax_fen=X, tier="product")


async def test_payment_puts_the_total_in_escrow():
    posted = await ledger.record_payment(order_ref="order:1", total_fen=T, provider="bank_transfer")
    assert posted.created
    assert await postings_of(posted.txn_id) == {"bank": T, "escrow": -T}
    assert await balances() == {"bank": T, "escrow": T}
    assert await ledger.held_in_escrow(reference="order:1") == T


async def test_release_splits_product_sale_exactly(holder):
    posted = await paid_and_released(holder)
    payable = f"payable:{holder['id']}"
    # C = 100,000.00 分 × 10% = 100,000; F = 30% of C = 30,000; holder A - C = 900,000; VAT 60,000
    assert await postings_of(posted.txn_id) == {"escrow": T, payable: -900_000, "commission": -70_000,
                                               "fund": -30_000, "vat_payable": -60_000}
    assert await balances() == {"bank": T, "escrow": 0, payable: 900_000, "commission": 70_000, "fund": 30_000,
                                "vat_payable": 60_000}
    txn = await JournalTxn.select().where(JournalTxn.id == posted.txn_id).first()
    assert (txn["kind"], txn["reference"], txn["tier"], txn["holder"]) == (
        "release", "order:1", "product", holder["id"])
    assert json.loads(txn["meta"])["commission_fen"] == 100_000
    assert len(txn["period"]) == 7 and txn["period"][4] == "-"


@pytest.mark.parametrize("tier, commission, fund", [("raw", 50_000, 15_000), ("cleaned", 80_000, 24_000)])
async def test_release_rate_per_tier(holder, tier, commission, fund):
    await ledger.record_payment(order_ref="order:2", total_fen=T, provider="bank_transfer")
    await ledger.release(order_ref="order:2", holder_org_id=holder["id"], amount_fen=A, tax_fen=X, tier=tier)
    assert await ledger.balance(account_code="commission") == commission - fund
    assert await ledger.balance(account_code="fund") == fund
    assert await ledger.balance(account_code=f"payable:{holder['id']}") == A - commission


async def test_release_rounds_each_rate_once_half_up(holder):
    # 0.05 元 at 10% is 0.5 分 → 1 分 (half up); 30% of 1 分 is 0.3 分 → 0
    await ledger.record_payment(order_ref="order:3", total_fen=5, provider="bank_transfer")
    await ledger.release(order_ref="order:3", holder_org_id=holder["id"], amount_fen=5, tax_fen=0, tier="product")
    assert await balances() == {"bank": 5, "escrow": 0, f"payable:{holder['id']}": 4, "commission": 1}
    # frozen rates from an order win over the configured ones
    await ledger.record_payment(order_ref="order:4", total_fen=1_000, provider="bank_transfer")
    await ledger.release(order_ref="order:4", holder_org_id=holder["id"], amount_fen=1_000, tax_fen=0,
                         tier="product", commission_bps=2_500, fund_share_bps=5_000)
    assert await ledger.balance(account_code="fund") == 125


async def test_refund_before_release_comes_out_of_escrow():
    await ledger.record_payment(order_ref="order:1", total_fen=T, provider="bank_transfer")
    posted = await ledger.refund(order_ref="order:1", amount_fen=10_000)
    assert await postings_of(posted.txn_id) == {"escrow": 10_000, "bank": -10_000}
    assert await ledger.held_in_escrow(reference="order:1") == T - 10_000
    await ledger.refund(order_ref="order:1", amount_fen=T - 10_000)
    assert await balances() == {"bank": 0, "escrow": 0}


async def test_refund_after_release_reverses_it_in_proportion(holder):
    await paid_and_released(holder)
    payable = f"payable:{holder['id']}"
    half = await ledger.refund(order_ref="order:1", amount_fen=T // 2)
    assert await postings_of(half.txn_id) == {"bank": -530_000, payable: 450_000, "commission": 35_000,
                                             "fund": 15_000, "vat_payable": 30_000}
    refund_txn = await JournalTxn.select().where(JournalTxn.id == half.txn_id).first()
    assert (refund_txn["tier"], refund_txn["holder"]) == ("product", holder["id"])
    # an odd amount: the 分 left by the proportions goes to one leg, none is made or lost
    odd = await ledger.refund(order_ref="order:1", amount_fen=7)
    assert sum(v for k, v in (await postings_of(odd.txn_id)).items() if k != "bank") == 7
    await ledger.refund(order_ref="order:1", amount_fen=T // 2 - 7)
    assert await balances() == {"bank": 0, "escrow": 0, payable: 0, "commission": 0, "fund": 0, "vat_payable": 0}


async def test_payout_and_disbursement(holder):
    await paid_and_released(holder)
    payable = f"payable:{holder['id']}"
    posted = await ledger.payout(holder_org_id=holder["id"], amount_fen=400_000)
    assert await postings_of(posted.txn_id) == {payable: 400_000, "bank": -400_000}
    posted = await ledger.disburse_fund(amount_fen=30_000, reference="proposal:1")
    assert await postings_of(posted.txn_id) == {"fund": 30_000, "bank": -30_000}
    assert await balances() == {"bank": T - 430_000, "escrow": 0, payable: 500_000, "commission": 70_000,
                                "fund": 0, "vat_payable": 60_000}


async def test_every_posting_is_audited(holder):
    posted = await paid_and_released(holder)
    events = await AuditEvent.select().where(AuditEvent.action == "ledger.release")
    assert [e["object_id"] for e in events] == [str(posted.txn_id)]
    assert json.loads(events[0]["after"])["postings"]["fund"] == -30_000


async def test_post_generic_balanced_adjustment():
    posted = await ledger.post(kind="adjustment", reference="fix:1", idempotency_key="fix:1",
                               lines=[("bank", 100), ("commission", -60), ("commission", -40)], memo="银行利息")
    assert await postings_of(posted.txn_id) == {"bank": 100, "commission": -100}


@pytest.mark.parametrize("lines, code", [
    ([("bank", 100), ("escrow", -99)], "ledger.unbalanced"),
    ([], "ledger.empty"),
    ([("bank", 0), ("escrow", 0)], "ledger.trivial"),
    ([("bank", 5), ("bank", -5)], "ledger.trivial"),
    ([("bank", 1.5), ("escrow", -1.5)], "ledger.invalid_amount"),
    ([("bank", True), ("escrow", -1)], "ledger.invalid_amount"),
    ([("cash", 100), ("escrow", -100)], "ledger.unknown_account"),
    ([("payable:x", 100), ("escrow", -100)], "ledger.unknown_account"),
    ([("bank", 100, 1)], "ledger.invalid_line"),
])
async def test_post_refuses_bad_lines_and_writes_nothing(lines, code):
    before = await snapshot()
    with pytest.raises(DomainError) as err:
        await ledger.post(kind="adjustment", reference="fix:1", idempotency_key="k", lines=lines)
    assert err.value.code == code
    assert await snapshot() == before


async def test_refusals_write_nothing(holder):
    await paid_and_released(holder)
    await ledger.record_payment(order_ref="order:2", total_fen=1_000, provider="bank_transfer")
    before = await snapshot()
    refusals = [
        # escrow would go negative: an order released with more than was paid in
        (ledger.release(order_ref="order:2", holder_org_id=holder["id"], amount_fen=1_001, tax_fen=0, tier="raw"),
         "ledger.escrow_insufficient"),
        (ledger.release(order_ref="order:1", holder_org_id=holder["id"], amount_fen=A, tax_fen=X, tier="raw",
                        idempotency_key="another"), "ledger.already_released"),
        (ledger.refund(order_ref="order:1", amount_fen=T + 1), "ledger.refund_exceeds_paid"),
        (ledger.refund(order_ref="order:9", amount_fen=1), "ledger.refund_exceeds_paid"),
        (ledger.payout(holder_org_id=holder["id"], amount_fen=900_001), "ledger.payout_exceeds_payable"),
        (ledger.disburse_fund(amount_fen=30_001, reference="proposal:1"), "ledger.disbursement_exceeds_fund"),
        # an adjustment that would overdraw escrow
        (ledger.post(kind="adjustment", reference="fix:1", idempotency_key="fix:1",
                     lines=[("escrow", 1_001), ("commission", -1_001)]), "ledger.overdraft"),
        (ledger.release(order_ref="order:2", holder_org_id=holder["id"], amount_fen=1_000, tax_fen=0, tier="gold"),
         "ledger.unknown_tier"),
        (ledger.record_payment(order_ref="order:3", total_fen=0, provider="bank_transfer"), "ledger.invalid_amount"),
        (ledger.record_payment(order_ref="order:3", total_fen=-5, provider="bank_transfer"), "ledger.invalid_amount"),
        (ledger.payout(holder_org_id=holder["id"], amount_fen=-1), "ledger.invalid_amount"),
        (ledger.post(kind="gift", reference="x", idempotency_key="x", lines=[("bank", 1), ("escrow", -1)]),
         "ledger.invalid_kind"),
    ]
    for call, code in refusals:
        with pytest.raises(DomainError) as err:
            await call
        assert err.value.code == code
        assert await snapshot() == before, code


async def test_refund_after_payout_cannot_take_back_what_the_holder_was_paid(holder):
    await paid_and_released(holder)
    await ledger.payout(holder_org_id=holder["id"], amount_fen=900_000)
    before = await snapshot()
    with pytest.raises(DomainError) as err:
        await ledger.refund(order_ref="order:1", amount_fen=T)
    assert err.value.code == "ledger.refund_overdraft"
    assert await snapshot() == before


async def test_duplicate_idempotency_key_posts_once(holder):
    first = await ledger.record_payment(order_ref="order:1", total_fen=T, provider="bank_transfer")
    again = await ledger.record_payment(order_ref="order:1", total_fen=T, provider="bank_transfer")
    assert (again.txn_id, again.created) == (first.txn_id, False)
    r1 = await ledger.release(order_ref="order:1", holder_org_id=holder["id"], amount_fen=A, tax_fen=X, tier="product")
    r2 = await ledger.release(order_ref="order:1", holder_org_id=holder["id"], amount_fen=A, tax_fen=X, tier="product")
    assert r2 == ledger.Posted(r1.txn_id, False)
    f1 = await ledger.refund(order_ref="order:1", amount_fen=100, idempotency_key="credit-note:1")
    f2 = await ledger.refund(order_ref="order:1", amount_fen=100, idempotency_key="credit-note:1")
    assert f2.txn_id == f1.txn_id
    assert await JournalTxn.count() == 3
    assert await ledger.balance(account_code="bank") == T - 100
    # the same key for a different event is a caller's bug, not a replay
    before = await snapshot()
    with pytest.raises(DomainError) as err:
        await ledger.record_payment(order_ref="order:1", total_fen=T + 1, provider="bank_transfer")
    assert err.value.code == "ledger.idempotency_mismatch"
    assert await snapshot() == before


async def test_fifty_concurrent_payments_with_one_key_post_once():
    results = await asyncio.gather(*[
        ledger.record_payment(order_ref="order:77", total_fen=T, provider="stripe", idempotency_key="pi_123")
        for _ in range(50)])
    assert len({r.txn_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert await JournalTxn.count().where(JournalTxn.idempotency_key == "pi_123") == 1
    assert await Posting.count() == 2
    assert await ledger.balance(account_code="escrow") == T
    assert (await ledger.check()).ok


async def test_concurrent_payouts_cannot_overdraw_a_payable(holder):
    await paid_and_released(holder)
    results = await asyncio.gather(*[ledger.payout(holder_org_id=holder["id"], amount_fen=100_000)
                                     for _ in range(12)], return_exceptions=True)
    paid = [r for r in results if isinstance(r, ledger.Posted)]
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(paid) == 9 and len(refused) == 3
    assert all(r.code == "ledger.payout_exceeds_payable" for r in refused)
    assert await ledger.balance(account_code=f"payable:{holder['id']}") == 0


async def test_postings_join_an_outer_transaction(holder):
    """A later order service posts inside its own transaction: a failure after the posting undoes it."""
    with pytest.raises(RuntimeError):
        async with db.atomic():
            await ledger.record_payment(order_ref="order:1", total_fen=T, provider="bank_transfer")
            raise RuntimeError("the order could not be updated")
    assert await JournalTxn.count() == 0 and await ledger.balance(account_code="escrow") == 0


async def test_a_refusal_caught_inside_an_outer_transaction_leaves_nothing_behind():
    """Every check runs before the first write, so a caller that handles the refusal and commits
    its own work commits no half-posted account or audit event."""
    before = await snapshot()
    async with db.atomic():
        with pytest.raises(DomainError) as err:  # the bank cannot pay out what it never received
            await ledger.post(kind="adjustment", reference="fix:1", idempotency_key="fix:1",
                              lines=[("commission", 500), ("bank", -500)])
        assert err.value.code == "ledger.overdraft"
        with pytest.raises(DomainError) as err:
            await ledger.post(kind="adjustment", reference="fix:2", idempotency_key="fix:2",
                              lines=[("bank", 500), ("payable:999999", -500)])
        assert err.value.code == "ledger.unknown_holder"
    assert await snapshot() == before
