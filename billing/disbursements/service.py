"""Governance-fund disbursements: the platform proposes a spend, the agency approves or rejects it,
the platform pays it through the ledger.

Who may do what is the routes' access rule (admin proposes, cancels and pays; agency decides); the
rules about the money are here. A proposal cannot ask for more than the fund holds; an approval
cannot commit more than the fund holds beyond what is already approved and unpaid; a payment is
`ledger.disburse_fund` keyed by the proposal, so paying twice (a retry, two finance clerks at once)
posts once, and a payment the fund cannot cover is refused with nothing changed.
"""

from __future__ import annotations

from datetime import datetime, timezone

from piccolo.query.functions.aggregate import Sum

from billing import ledger
from billing._accounts import FUND
from billing.disbursements.tables import DisbursementProposal, PayTo, ProposalStatus, Purpose
from listings import service as listings_service
from market import audit, db
from market.context import current_actor
from market.errors import Conflict, DomainError, NotFound
from market.i18n import N_
from market.money import Money
from market.tables import Organization, Verification

TITLE_MAX = 200
REASON_MAX = 2000
PUBLIC_STATUSES = (ProposalStatus.APPROVED, ProposalStatus.PAID)


def reference_of(proposal_id: int) -> str:
    """The ledger reference and idempotency key of a proposal's payment."""
    return f"fund_proposal:{proposal_id}"


def _text(value: object, *, code: str, message: str, limit: int, minimum: int = 1) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not minimum <= len(text) <= limit:
        raise DomainError(code, message, limit=limit)
    return text


def _amount(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DomainError("fund.amount_invalid", "金额必须是大于零的整数（单位：分）")
    return value


async def _committed(*, excluding: int | None = None) -> int:
    """What approved, not yet paid proposals will take out of the fund."""
    where = [DisbursementProposal.status == ProposalStatus.APPROVED.value]
    if excluding is not None:
        where.append(DisbursementProposal.id != excluding)
    row = await (DisbursementProposal.select(Sum(DisbursementProposal.amount_fen).as_alias("total"))
                 .where(*where).first())
    return int(row["total"] or 0)


async def available_fen() -> int:
    """The fund's balance less what is approved and not yet paid: what a new approval may commit."""
    return await ledger.balance(account_code=FUND) - await _committed()


async def _check_reference(*, demand_id: int | None, asset_id: int | None) -> None:
    # read through the catalogue's service: billing never writes (or joins into) listings' tables
    if demand_id is not None:
        try:
            await listings_service.get_demand(demand_id=demand_id)
        except NotFound:
            raise DomainError("fund.demand_unknown", "所引用的需求（{id}）不存在", id=demand_id) from None
    if asset_id is not None:
        try:
            await listings_service.get_asset(asset_id=asset_id)
        except NotFound:
            raise DomainError("fund.asset_unknown", "所引用的数据资源（{id}）不存在", id=asset_id) from None


async def propose(*, purpose: str, title: str, reason: str, amount_fen: int, recipient_org_id: int,
                  pay_to: str = PayTo.PAYABLE.value, demand_id: int | None = None,
                  asset_id: int | None = None) -> dict:
    """The platform proposes a spend of the fund (audited); it waits for the agency."""
    if purpose not in {p.value for p in Purpose}:
        raise DomainError("fund.purpose_invalid", "请选择拨付用途")
    if pay_to not in {p.value for p in PayTo}:
        raise DomainError("fund.pay_to_invalid", "请选择付款方式")
    title = _text(title, code="fund.title_invalid", message=N_("请用 2 到 {limit} 个字说明拨付事项"),
                  limit=TITLE_MAX, minimum=2)
    reason = _text(reason, code="fund.reason_required", message=N_("请填写拨付理由（不超过 {limit} 个字）"),
                   limit=REASON_MAX)
    amount_fen = _amount(amount_fen)
    await _check_reference(demand_id=demand_id, asset_id=asset_id)
    async with db.atomic():
        await audit.hold_writer_lock()
        org = await Organization.select(Organization.verification).where(Organization.id == recipient_org_id).first()
        if org is None or org["verification"] != Verification.VERIFIED.value:
            raise DomainError("fund.recipient_invalid", "收款机构必须是平台已核验的机构")
        balance = await ledger.balance(account_code=FUND)
        if amount_fen > balance:
            raise DomainError("fund.exceeds_balance", "拨付金额 {amount} 超过治理基金余额 {available}",
                              amount=Money(amount_fen).format(), available=Money(balance).format())
        rows = await DisbursementProposal.insert(DisbursementProposal(
            purpose=purpose, title=title, reason=reason, amount_fen=amount_fen, recipient=recipient_org_id,
            pay_to=pay_to, demand_id=demand_id, asset_id=asset_id, proposed_by=current_actor().label[:200],
        )).returning(DisbursementProposal.id)
        proposal_id = rows[0]["id"]
        await audit.record(action="fund.proposed", object_type="fund_proposal", object_id=proposal_id,
                           after={"purpose": purpose, "title": title, "amount_fen": amount_fen,
                                  "recipient": recipient_org_id, "pay_to": pay_to, "demand_id": demand_id,
                                  "asset_id": asset_id, "reason": reason})
    return await get(proposal_id=proposal_id)


async def _row(proposal_id: int) -> dict:
    row = await DisbursementProposal.select().where(DisbursementProposal.id == proposal_id).first()
    if row is None:
        raise NotFound("fund.proposal_not_found", "拨付提议不存在")
    return row


async def approve(*, proposal_id: int, agency_org_id: int, note: str = "") -> dict:
    """The agency approves a proposal; refused when the fund could not pay it beside those already approved."""
    note = (note or "").strip()[:REASON_MAX]
    async with db.atomic():
        await audit.hold_writer_lock()
        row = await _row(proposal_id)
        if row["status"] == ProposalStatus.PROPOSED.value:
            free = await ledger.balance(account_code=FUND) - await _committed(excluding=proposal_id)
            if row["amount_fen"] > free:
                raise DomainError("fund.exceeds_available",
                                  "治理基金余额扣除已批准未拨付的款项后只剩 {available}，不足以批准 {amount}",
                                  available=Money(max(free, 0)).format(), amount=Money(row["amount_fen"]).format())
        await db.transition(DisbursementProposal, proposal_id, to=ProposalStatus.APPROVED, action="fund.approved",
                            extra=_decision(agency_org_id, note), audit_after={"note": note})
    return await get(proposal_id=proposal_id)


def _decision(agency_org_id: int, note: str) -> dict:
    return {DisbursementProposal.decided_by: current_actor().label[:200],
            DisbursementProposal.decided_org: agency_org_id,
            DisbursementProposal.decided_at: datetime.now(timezone.utc),
            DisbursementProposal.decision_note: note}


async def reject(*, proposal_id: int, agency_org_id: int, reason: str) -> dict:
    """The agency rejects a proposal, saying why."""
    reason = _text(reason, code="fund.reject_reason_required", message=N_("驳回时请填写理由（不超过 {limit} 个字）"),
                   limit=REASON_MAX)
    await _row(proposal_id)
    await db.transition(DisbursementProposal, proposal_id, to=ProposalStatus.REJECTED, action="fund.rejected",
                        extra=_decision(agency_org_id, reason), audit_after={"reason": reason})
    return await get(proposal_id=proposal_id)


async def cancel(*, proposal_id: int, reason: str) -> dict:
    """The platform withdraws a proposal that is not yet paid."""
    reason = _text(reason, code="fund.cancel_reason_required", message=N_("撤回时请填写理由（不超过 {limit} 个字）"),
                   limit=REASON_MAX)
    await _row(proposal_id)
    await db.transition(DisbursementProposal, proposal_id, to=ProposalStatus.CANCELLED, action="fund.cancelled",
                        extra={DisbursementProposal.cancel_reason: reason}, audit_after={"reason": reason})
    return await get(proposal_id=proposal_id)


async def pay(*, proposal_id: int) -> dict:
    """Pay an approved proposal from the fund through the ledger; a paid one is returned as it is."""
    async with db.atomic():
        # the ledger's lock, taken first: a second payment waits here and then finds the proposal paid
        await audit.hold_writer_lock()
        row = await _row(proposal_id)
        if row["status"] == ProposalStatus.PAID.value:
            return await get(proposal_id=proposal_id)
        if row["status"] != ProposalStatus.APPROVED.value:
            raise Conflict("fund.not_approved", "只有已批准的拨付提议才能付款")
        posted = await ledger.disburse_fund(
            amount_fen=row["amount_fen"], reference=reference_of(proposal_id),
            idempotency_key=reference_of(proposal_id),
            recipient_org_id=row["recipient"] if row["pay_to"] == PayTo.PAYABLE.value else None)
        await db.transition(DisbursementProposal, proposal_id, to=ProposalStatus.PAID, action="fund.paid",
                            extra={DisbursementProposal.paid_at: datetime.now(timezone.utc),
                                   DisbursementProposal.paid_by: current_actor().label[:200],
                                   DisbursementProposal.txn: posted.txn_id},
                            audit_after={"txn": posted.txn_id, "amount_fen": row["amount_fen"]})
    return await get(proposal_id=proposal_id)


_COLUMNS = (DisbursementProposal.all_columns(), DisbursementProposal.recipient.name.as_alias("recipient_name"),
            DisbursementProposal.decided_org.name.as_alias("decided_org_name"))


async def _describe(row: dict) -> dict:
    """A proposal with the titles of the demand and asset it answers (read through listings.service)."""
    row = dict(row)
    row["demand_title"] = row["asset_title"] = None
    if row["demand_id"] is not None:
        try:
            row["demand_title"] = (await listings_service.get_demand(demand_id=row["demand_id"]))["demand"]["title"]
        except NotFound:
            pass
    if row["asset_id"] is not None:
        try:
            row["asset_title"] = (await listings_service.get_asset(asset_id=row["asset_id"]))["asset"]["title"]
        except NotFound:
            pass
    return row


async def get(*, proposal_id: int) -> dict:
    """One proposal, with its recipient's name."""
    row = await DisbursementProposal.select(*_COLUMNS).where(DisbursementProposal.id == proposal_id).first()
    if row is None:
        raise NotFound("fund.proposal_not_found", "拨付提议不存在")
    return await _describe(row)


async def list_proposals(*, status: str | None = None) -> list[dict]:
    """Every proposal (or those in one status), newest first."""
    query = DisbursementProposal.select(*_COLUMNS).order_by(DisbursementProposal.id, ascending=False)
    if status is not None:
        if status not in {s.value for s in ProposalStatus}:
            raise DomainError("fund.status_invalid", "未知的拨付状态：{status}", status=status)
        query = query.where(DisbursementProposal.status == status)
    return [await _describe(r) for r in await query]


async def public_disbursements() -> list[dict]:
    """What the public page lists: approved and paid spends (purpose, amount, recipient, dates), newest first."""
    rows = await (DisbursementProposal.select(
        DisbursementProposal.id, DisbursementProposal.purpose, DisbursementProposal.title,
        DisbursementProposal.amount_fen, DisbursementProposal.status, DisbursementProposal.proposed_at,
        DisbursementProposal.decided_at, DisbursementProposal.paid_at,
        DisbursementProposal.recipient.name.as_alias("recipient_name"))
        .where(DisbursementProposal.status.is_in([s.value for s in PUBLIC_STATUSES]))
        .order_by(DisbursementProposal.id, ascending=False))
    return rows
