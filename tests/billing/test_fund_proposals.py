"""Governance-fund disbursement proposals: proposed by the platform, decided by the agency, paid
through the ledger once, never beyond the fund; each refusal changes nothing."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing import fund, ledger
from billing.disbursements import service
from billing.disbursements.tables import DisbursementProposal, ProposalStatus
from billing.tables import JournalTxn, TxnKind
from factories import make_org, make_user
from listings import service as listings_service
from market.errors import Conflict, DomainError
from market.tables import AuditEvent


@pytest.fixture
async def orgs():
    holder = await make_org("杭州市卫生健康委员会", kind="government")
    recipient = await make_org("杭州数据清洗服务有限公司")
    agency = await make_org("杭州市数据资源管理局", kind="government")
    return {"holder": holder, "recipient": recipient, "agency": agency}


async def sale(ref: str, holder: dict, amount_fen: int, tier: str = "product") -> None:
    """Money into the fund the way it really arrives: a payment, then its release (fund share 30% of the commission)."""
    await ledger.record_payment(order_ref=ref, total_fen=amount_fen, provider="bank_transfer")
    await ledger.release(order_ref=ref, holder_org_id=holder["id"], amount_fen=amount_fen, tax_fen=0, tier=tier)


async def balances(recipient_id: int) -> dict:
    return {"fund": await ledger.balance(account_code="fund"), "bank": await ledger.balance(account_code="bank"),
            "payable": await ledger.balance(account_code=ledger.payable_code(recipient_id))}


async def snapshot() -> tuple:
    """Everything a refused step must leave as it was."""
    proposals = await DisbursementProposal.select().order_by(DisbursementProposal.id)
    txns = await JournalTxn.count()
    events = await AuditEvent.count()
    return proposals, txns, events


async def propose(orgs, amount: int, **kw) -> dict:
    args = {"purpose": "cleaning_bounty", "title": "清洗公交站点原始数据的悬赏", "reason": "需求广场上多家买方需要",
            "amount_fen": amount, "recipient_org_id": orgs["recipient"]["id"], **kw}
    return await service.propose(**args)


async def test_lifecycle_to_the_recipients_payable(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)  # product 10% commission = 100,000; fund 30% = 30,000
    before = await balances(orgs["recipient"]["id"])
    assert before == {"fund": 30_000, "bank": 1_000_000, "payable": 0}

    p = await propose(orgs, 20_000)
    assert (p["status"], p["recipient_name"], p["pay_to"]) == ("proposed", "杭州数据清洗服务有限公司", "payable")
    p = await service.approve(proposal_id=p["id"], agency_org_id=orgs["agency"]["id"], note="同意")
    assert (p["status"], p["decided_org_name"], p["decision_note"]) == ("approved", "杭州市数据资源管理局", "同意")
    assert await balances(orgs["recipient"]["id"]) == before  # approving moves no money

    p = await service.pay(proposal_id=p["id"])
    assert p["status"] == "paid" and p["paid_at"] is not None
    # Dr fund 20,000 / Cr payable:recipient 20,000: the bank pays it later with the recipient's payout
    assert await balances(orgs["recipient"]["id"]) == {"fund": 10_000, "bank": 1_000_000, "payable": 20_000}
    txn = await JournalTxn.select().where(JournalTxn.id == p["txn"]).first()
    assert (txn["kind"], txn["reference"], txn["idempotency_key"]) == (
        TxnKind.DISBURSEMENT, f"fund_proposal:{p['id']}", f"fund_proposal:{p['id']}")
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action)
               .where(AuditEvent.object_type == "fund_proposal").order_by(AuditEvent.seq)]
    assert actions == ["fund.proposed", "fund.approved", "fund.paid"]

    # the recipient is paid out like any payee
    await ledger.payout(holder_org_id=orgs["recipient"]["id"], amount_fen=20_000)
    assert await balances(orgs["recipient"]["id"]) == {"fund": 10_000, "bank": 980_000, "payable": 0}
    s = await fund.summary()
    assert (s["inflow_fen"], s["outflow_fen"], s["balance_fen"]) == (30_000, 20_000, 10_000)
    assert await fund.outflow_by_purpose() == [{"purpose": "cleaning_bounty", "outflow_fen": 20_000}]
    assert (await ledger.check()).ok


async def test_paid_from_the_bank(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    p = await propose(orgs, 5_000, pay_to="bank", purpose="quality")
    await service.approve(proposal_id=p["id"], agency_org_id=orgs["agency"]["id"])
    await service.pay(proposal_id=p["id"])
    assert await balances(orgs["recipient"]["id"]) == {"fund": 25_000, "bank": 995_000, "payable": 0}
    assert await fund.outflow_by_purpose() == [{"purpose": "quality", "outflow_fen": 5_000}]


async def test_pay_twice_pays_once(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    p = await propose(orgs, 12_000)
    await service.approve(proposal_id=p["id"], agency_org_id=orgs["agency"]["id"])
    first = await service.pay(proposal_id=p["id"])
    after = await snapshot()
    again = await service.pay(proposal_id=p["id"])
    assert again["txn"] == first["txn"] and again["status"] == "paid"
    assert await snapshot() == after
    assert await JournalTxn.count().where(JournalTxn.kind == TxnKind.DISBURSEMENT) == 1
    assert await ledger.balance(account_code="fund") == 18_000


async def test_concurrent_payments_pay_once(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    p = await propose(orgs, 12_000)
    await service.approve(proposal_id=p["id"], agency_org_id=orgs["agency"]["id"])
    results = await asyncio.gather(*[service.pay(proposal_id=p["id"]) for _ in range(10)])
    assert {r["status"] for r in results} == {"paid"} and len({r["txn"] for r in results}) == 1
    assert await JournalTxn.count().where(JournalTxn.kind == TxnKind.DISBURSEMENT) == 1
    assert await ledger.balance(account_code="fund") == 18_000


async def test_proposal_above_the_balance_is_refused(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    before = await snapshot()
    with pytest.raises(DomainError) as e:
        await propose(orgs, 30_001)
    assert e.value.code == "fund.exceeds_balance"
    assert await snapshot() == before


async def test_approval_cannot_commit_more_than_the_fund_holds(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)  # fund 30,000
    a = await propose(orgs, 20_000)
    b = await propose(orgs, 15_000)  # each fits alone
    await service.approve(proposal_id=a["id"], agency_org_id=orgs["agency"]["id"])
    assert await service.available_fen() == 10_000
    before = await snapshot()
    with pytest.raises(DomainError) as e:
        await service.approve(proposal_id=b["id"], agency_org_id=orgs["agency"]["id"])
    assert e.value.code == "fund.exceeds_available"
    assert await snapshot() == before


async def test_payment_beyond_the_fund_changes_nothing(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    p = await propose(orgs, 25_000)
    await service.approve(proposal_id=p["id"], agency_org_id=orgs["agency"]["id"])
    # the sale is refunded after approval: the fund's share goes back to the buyer
    await ledger.refund(order_ref="order:1", amount_fen=1_000_000)
    assert await ledger.balance(account_code="fund") == 0
    before = await snapshot()
    with pytest.raises(DomainError) as e:
        await service.pay(proposal_id=p["id"])
    assert e.value.code == "ledger.disbursement_exceeds_fund"
    assert await snapshot() == before
    assert (await service.get(proposal_id=p["id"]))["status"] == "approved"


async def test_reject_needs_a_reason_and_is_final(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    p = await propose(orgs, 1_000)
    before = await snapshot()
    for blank in ["", "   "]:
        with pytest.raises(DomainError) as e:
            await service.reject(proposal_id=p["id"], agency_org_id=orgs["agency"]["id"], reason=blank)
        assert e.value.code == "fund.reject_reason_required"
    assert await snapshot() == before
    p = await service.reject(proposal_id=p["id"], agency_org_id=orgs["agency"]["id"], reason="与基金用途不符")
    assert (p["status"], p["decision_note"]) == ("rejected", "与基金用途不符")
    with pytest.raises(Conflict):
        await service.approve(proposal_id=p["id"], agency_org_id=orgs["agency"]["id"])
    with pytest.raises(Conflict):
        await service.pay(proposal_id=p["id"])


async def test_cancel_before_payment_only(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    p = await propose(orgs, 1_000)
    with pytest.raises(DomainError):
        await service.cancel(proposal_id=p["id"], reason="")
    p = await service.cancel(proposal_id=p["id"], reason="重复提出")
    assert (p["status"], p["cancel_reason"]) == ("cancelled", "重复提出")
    q = await propose(orgs, 1_000)
    await service.approve(proposal_id=q["id"], agency_org_id=orgs["agency"]["id"])
    await service.pay(proposal_id=q["id"])
    with pytest.raises(Conflict):
        await service.cancel(proposal_id=q["id"], reason="太迟了")
    assert ProposalStatus.allowed(ProposalStatus.PAID, ProposalStatus.CANCELLED) is False


async def test_bad_input_is_refused(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    unverified = await make_org("未核验的公司", verified=False)
    before = await snapshot()
    cases = [
        ({"amount_fen": 0}, "fund.amount_invalid"),
        ({"amount_fen": -5}, "fund.amount_invalid"),
        ({"amount_fen": True}, "fund.amount_invalid"),
        ({"purpose": "party"}, "fund.purpose_invalid"),
        ({"pay_to": "cash"}, "fund.pay_to_invalid"),
        ({"title": "x"}, "fund.title_invalid"),
        ({"reason": " "}, "fund.reason_required"),
        ({"recipient_org_id": unverified["id"]}, "fund.recipient_invalid"),
        ({"recipient_org_id": 999_999}, "fund.recipient_invalid"),
        ({"demand_id": 999_999}, "fund.demand_unknown"),
        ({"asset_id": 999_999}, "fund.asset_unknown"),
    ]
    for override, code in cases:
        with pytest.raises(DomainError) as e:
            await propose(orgs, 1_000, **override)
        assert e.value.code == code, override
    assert await snapshot() == before


async def test_a_bounty_answers_a_demand(orgs):
    await sale("order:1", orgs["holder"], 1_000_000)
    buyer = await make_user(["buyer"])
    demand = await listings_service.post_demand(org_id=buyer["org"]["id"], user_id=buyer["id"],
                                                title="需要清洗后的公交站点数据")
    p = await propose(orgs, 8_000, demand_id=demand["demand"]["id"])
    assert (p["demand_id"], p["demand_title"]) == (demand["demand"]["id"], "需要清洗后的公交站点数据")


# ---- for any sequence: the fund never goes negative, and equals its inflows less what was paid ----

step = st.one_of(
    st.tuples(st.just("propose"), st.integers(1, 40_000)),
    st.tuples(st.sampled_from(["approve", "reject", "pay", "cancel"]), st.integers(0, 20)),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(step, min_size=1, max_size=12))
async def test_any_sequence_keeps_the_fund_whole(orgs, steps):
    if await ledger.balance(account_code="fund") == 0:
        await sale("order:seed", orgs["holder"], 1_000_000)  # 30,000 in the fund for the whole run
    # the database is shared by the examples: work from what is there when this one starts
    start = await ledger.balance(account_code="fund")
    mine: list[int] = []
    paid = 0
    for action, n in steps:
        before = await snapshot()
        try:
            if action == "propose":
                mine.append((await propose(orgs, n))["id"])
            elif mine:
                pid = mine[n % len(mine)]
                if action == "approve":
                    await service.approve(proposal_id=pid, agency_org_id=orgs["agency"]["id"])
                elif action == "reject":
                    await service.reject(proposal_id=pid, agency_org_id=orgs["agency"]["id"], reason="不符合")
                elif action == "cancel":
                    await service.cancel(proposal_id=pid, reason="撤回")
                else:
                    was = (await service.get(proposal_id=pid))["status"]
                    row = await service.pay(proposal_id=pid)
                    paid += row["amount_fen"] if was != "paid" else 0
        except DomainError:
            assert await snapshot() == before  # a refusal changes nothing
        balance = await ledger.balance(account_code="fund")
        assert balance == start - paid >= 0
        assert await service.available_fen() >= 0  # approvals never commit more than the fund holds

