"""Random sequences of payments, releases, refunds, payouts and disbursements against a model.

The model is plain arithmetic over `commission.split` and `Money.allocate`; after every step the
ledger must agree with it to the 分, every transaction must balance, nothing the platform holds or
owes may be negative, and the fund must equal the sum of its commission shares (less the shares
refunds reversed) minus the disbursements.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from billing import commission, fund, ledger
from billing.tables import Account, JournalTxn, Posting
from factories import make_org
from market import runtime
from market.errors import DomainError
from market.money import Money

amounts = st.integers(min_value=1, max_value=2_000_000)
pick = st.integers(min_value=0, max_value=1_000)  # an index into what exists, taken modulo its size
# how much of what is available to take: all of it, a share (bps), or more than there is
_share = st.tuples(st.just("share"), st.integers(1, 9_999))
portion = st.one_of(st.just(("all", 0)), _share, _share, st.tuples(st.just("over"), st.integers(1, 1_000)))


def _take(available: int, how: tuple) -> int:
    kind, n = how
    if kind == "all":
        return available
    if kind == "share":
        return max(1, available * n // 10_000)
    return available + n

pay = st.tuples(st.just("pay"), amounts, st.sampled_from([0, 600, 1300]), st.sampled_from(commission.TIERS),
                st.integers(0, 1))
release = st.tuples(st.just("release"), pick)
# a few orders first, so that most examples go on to release, refund and pay out
steps = st.builds(lambda first, rest: first + rest, st.lists(pay, min_size=1, max_size=3), st.lists(st.one_of(
    pay,
    st.tuples(st.just("pay_again"), pick),
    release, release,
    st.tuples(st.just("refund"), pick, portion),
    st.tuples(st.just("refund_released"), pick, portion),
    st.tuples(st.just("payout"), st.integers(0, 1), portion),
    st.tuples(st.just("disburse"), portion),
), min_size=6, max_size=25))


@dataclass
class Order:
    ref: str
    amount: int
    tax: int
    tier: str
    holder: int  # org id
    released: bool = False
    refunded: int = 0
    legs: dict[str, int] = field(default_factory=dict)  # release credits still standing, by account

    @property
    def total(self) -> int:
        return self.amount + self.tax


@dataclass
class Model:
    holders: list[int]
    orders: list[Order] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)  # normal-side balances
    fund_shares: int = 0  # Σ F of releases, less the fund's part of refunds
    disbursed: int = 0

    def move(self, changes: dict[str, int]) -> None:
        for code, delta in changes.items():
            self.balances[code] = self.balances.get(code, 0) + delta


async def _reset() -> None:
    # every example starts from an empty ledger; organizations (the holders) stay
    for table in (Posting, JournalTxn, Account):
        await table.delete(force=True)


async def expect(call, code: str | None):
    """Run a ledger call; it must succeed (code None) or be refused with exactly `code`."""
    event(f"refused: {code}" if code else "posted")
    if code is None:
        return await call
    with pytest.raises(DomainError) as err:
        await call
    assert err.value.code == code
    return None


async def step(m: Model, op: tuple) -> None:
    rates = commission.rates_from(runtime.settings())
    kind = op[0]
    if kind == "pay":
        _, amount, tax_bps, tier, h = op
        o = Order(ref=f"order:{len(m.orders) + 1}", amount=amount, tax=Money(amount).apply_bps(tax_bps).amount,
                  tier=tier, holder=m.holders[h])
        m.orders.append(o)
        posted = await ledger.record_payment(order_ref=o.ref, total_fen=o.total, provider="bank_transfer")
        assert posted.created
        m.move({"bank": o.total, "escrow": o.total})
    elif not m.orders and kind in ("pay_again", "release", "refund", "refund_released"):
        return
    elif kind == "pay_again":  # a retried confirmation of a payment already recorded
        o = m.orders[op[1] % len(m.orders)]
        posted = await ledger.record_payment(order_ref=o.ref, total_fen=o.total, provider="bank_transfer")
        assert not posted.created
    elif kind == "release":
        o = m.orders[op[1] % len(m.orders)]
        call = ledger.release(order_ref=o.ref, holder_org_id=o.holder, amount_fen=o.amount, tax_fen=o.tax, tier=o.tier)
        if o.released:
            assert not (await call).created  # the same release again is a replay
            return
        if o.refunded:
            await expect(call, "ledger.escrow_insufficient")
            return
        await call
        event("released")
        s = commission.split_for_tier(amount_fen=o.amount, tax_fen=o.tax, tier=o.tier, rates=rates)
        o.released = True
        o.legs = {f"payable:{o.holder}": s.holder.amount, "commission": s.platform.amount, "fund": s.fund.amount,
                  "vat_payable": s.vat.amount}
        m.move({"escrow": -o.total, **o.legs})
        m.fund_shares += s.fund.amount
    elif kind in ("refund", "refund_released"):
        # refund_released: an order whose money already went to the holder, the platform and the fund
        pool = m.orders if kind == "refund" else [o for o in m.orders if o.released]
        if not pool:
            return
        o = pool[op[1] % len(pool)]
        refundable = o.total - o.refunded
        amount = _take(refundable, op[2])
        if amount <= 0:
            return
        call = ledger.refund(order_ref=o.ref, amount_fen=amount)
        if amount > refundable:
            await expect(call, "ledger.refund_exceeds_paid")
            return
        if not o.released:
            changes = {"escrow": -amount, "bank": -amount}
        else:
            codes = sorted(o.legs)
            parts = dict(zip(codes, (p.amount for p in Money(amount).allocate([o.legs[c] for c in codes]))))
            # each leg reversed in proportion to what stands of it, within one 分
            for c in codes:
                assert abs(parts[c] * sum(o.legs.values()) - amount * o.legs[c]) < sum(o.legs.values())
            if any(m.balances.get(c, 0) < parts[c] for c in codes if c != "commission"):
                await expect(call, "ledger.refund_overdraft")  # the holder was paid or the fund spent
                return
            changes = {c: -parts[c] for c in codes} | {"bank": -amount}
            for c in codes:
                o.legs[c] -= parts[c]
            m.fund_shares -= parts["fund"]
        event("refund after release" if o.released else "refund before release")
        event("full refund" if amount == refundable else "partial refund")
        posted = await call
        assert posted.created
        o.refunded += amount
        m.move(changes)
    elif kind == "payout":
        holder = m.holders[op[1]]
        owed = m.balances.get(f"payable:{holder}", 0)
        amount = _take(owed, op[2])
        if amount <= 0:
            return
        ok = amount <= owed
        await expect(ledger.payout(holder_org_id=holder, amount_fen=amount),
                     None if ok else "ledger.payout_exceeds_payable")
        if ok:
            m.move({f"payable:{holder}": -amount, "bank": -amount})
    elif kind == "disburse":
        available = m.balances.get("fund", 0)
        amount = _take(available, op[1])
        if amount <= 0:
            return
        ok = amount <= available
        await expect(ledger.disburse_fund(amount_fen=amount, reference=f"proposal:{m.disbursed}-{amount}"),
                     None if ok else "ledger.disbursement_exceeds_fund")
        if ok:
            m.move({"fund": -amount, "bank": -amount})
            m.disbursed += amount


async def invariants(m: Model) -> None:
    report = await ledger.check()
    assert report.ok, report.problem  # every transaction balances; kept balances equal their postings
    actual = {r["code"]: await ledger.balance(account_code=r["code"]) for r in await Account.select(Account.code)}
    assert {c: v for c, v in actual.items() if v} == {c: v for c, v in m.balances.items() if v}
    assert all(v >= 0 for c, v in actual.items() if c != "commission"), actual  # escrow, payables, fund, bank
    for o in m.orders:
        assert await ledger.held_in_escrow(reference=o.ref) == (0 if o.released else o.total - o.refunded)
    summary = await fund.summary()
    assert actual.get("fund", 0) == m.fund_shares - m.disbursed == summary["balance_fen"]
    assert (summary["inflow_fen"], summary["outflow_fen"]) == (m.fund_shares, m.disbursed)


@pytest.fixture
async def holder_ids():
    return [(await make_org(kind="government"))["id"], (await make_org(kind="institution"))["id"]]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(ops=steps)
async def test_random_trading_keeps_the_ledger_whole(holder_ids, ops):
    await _reset()
    m = Model(holders=holder_ids)
    for op in ops:
        await step(m, op)
        await invariants(m)
