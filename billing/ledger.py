"""The double-entry ledger: every movement of money is a journal transaction whose postings sum to 0.

Amounts are integer 分, signed: a debit is > 0, a credit < 0. Each business event is posted once:
its idempotency key is unique, and posting the same event again (a retried request, a replayed
webhook) returns the transaction already posted instead of a second one. Every check happens
before anything is written, under the audit chain's writer lock (PostgreSQL) or an IMMEDIATE
transaction (SQLite), so a refused posting writes nothing and two concurrent ones cannot both
spend the same balance. Each account also keeps the sum of its postings (`balance_fen`), updated in
the same transaction; `check()` recomputes both invariants from the postings.

The business postings of trade-design.md, for an order of net amount A, tax X, total T = A + X:
  payment   Dr bank T / Cr escrow T
  release   Dr escrow T / Cr payable:holder (A - C) / Cr commission (C - F) / Cr fund F / Cr vat X
  refund    before release Dr escrow R / Cr bank R; after release the release reversed in proportion
  payout    Dr payable:holder P / Cr bank P          disbursement  Dr fund D / Cr bank D (or Cr payable:recipient)
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from piccolo.query.functions.aggregate import Sum

from billing import _accounts as chart
from billing import commission as commission_rules
from billing._accounts import BANK, COMMISSION, ESCROW, FUND, VAT_PAYABLE, payable_code
from billing._check import CheckReport, check
from billing.tables import Account, JournalTxn, Posting, TxnKind
from market import audit, db, runtime
from market.context import current_actor
from market.errors import Conflict, DomainError, NotFound
from market.money import Money
from market.tables import Organization

__all__ = ["Posted", "post", "balance", "ensure_account", "payable_code", "record_payment", "release", "refund",
           "check_refund",
           "payout", "disburse_fund", "held_in_escrow", "check", "CheckReport"]

# accounting periods are months in China time, whatever the server's zone
_CHINA = timezone(timedelta(hours=8))


@dataclass(frozen=True)
class Posted:
    txn_id: int
    created: bool  # False: the idempotency key was posted before and that transaction is returned


# ---- accounts -----------------------------------------------------------------------------------

async def ensure_account(*, code: str) -> dict:
    """The account with this code, opened (and audited) on first use."""
    kind, name, owner = chart.spec(code)
    async with db.atomic():
        row = await Account.select().where(Account.code == code).first()
        if row is not None:
            return row
        if owner is not None and not await Organization.exists().where(Organization.id == owner):
            raise NotFound("ledger.unknown_holder", "该机构不存在：{org_id}", org_id=owner)
        # DO NOTHING: two transactions opening the same account cannot both fail on the unique code
        created = await (Account.insert(Account(code=code, kind=kind.value, owner=owner, name=name, balance_fen=0))
                         .on_conflict(target=Account.code, action="DO NOTHING").returning(Account.id))
        if created:
            await audit.record(action="ledger.account_opened", object_type="account", object_id=created[0]["id"],
                               after={"code": code, "kind": kind.value, "owner": owner})
        return await Account.select().where(Account.code == code).first()


async def balance(*, account_code: str) -> int:
    """The account's balance in 分 on its normal side: what escrow holds, what a holder is owed,
    what the bank holds (0 for an account never used)."""
    kind, _, _ = chart.spec(account_code)
    row = await Account.select(Account.balance_fen).where(Account.code == account_code).first()
    return 0 if row is None else chart.normal_sign(kind) * row["balance_fen"]


# ---- posting ------------------------------------------------------------------------------------

def _yuan(fen: int) -> str:
    # amounts in messages read as on an invoice (¥1,234.50), not as raw 分
    return Money(fen).format()


def _amount(value: object, what: str = "amount_fen") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError("ledger.invalid_amount", "金额必须是以分为单位的整数（{what}）", what=what)
    return value


def _positive(value: object, what: str = "amount_fen") -> int:
    if _amount(value, what) <= 0:
        raise DomainError("ledger.invalid_amount", "金额必须大于零（{what}）", what=what)
    return value


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise DomainError("ledger.invalid_field", "{what} 不能为空，且不超过 {limit} 个字符", what=what, limit=limit)
    return value


def _net_lines(lines) -> dict[str, int]:
    """Lines summed per account, zero nets dropped; refuses what is not a balanced movement."""
    if not isinstance(lines, (list, tuple)) or not lines:
        raise DomainError("ledger.empty", "记账凭证没有分录")
    net: dict[str, int] = {}
    for line in lines:
        if not isinstance(line, (list, tuple)) or len(line) != 2:
            raise DomainError("ledger.invalid_line", "每条分录必须是（账户代码，金额）")
        code, amount = line
        chart.spec(code)
        net[code] = net.get(code, 0) + _amount(amount)
    net = {code: amount for code, amount in net.items() if amount != 0}
    total = sum(net.values())
    if total != 0:
        raise DomainError("ledger.unbalanced", "借贷不平衡：分录合计 {total}，应为 0", total=_yuan(total))
    if not net:
        # every line cancels out: nothing moves, and posting it would only hide a caller's mistake
        raise DomainError("ledger.trivial", "记账凭证的分录相互抵消，没有资金变动")
    return net


async def _replayed(*, idempotency_key: str, kind: str, reference: str, request: dict) -> Posted | None:
    row = await (JournalTxn.select(JournalTxn.id, JournalTxn.kind, JournalTxn.reference, JournalTxn.meta)
                 .where(JournalTxn.idempotency_key == idempotency_key).first())
    if row is None:
        return None
    same = (row["kind"] == kind and row["reference"] == reference
            and json.loads(row["meta"] or "{}").get("request") == json.loads(json.dumps(request)))
    if not same:
        raise Conflict("ledger.idempotency_mismatch", "幂等键 {key} 已用于另一笔不同的记账", key=idempotency_key)
    return Posted(txn_id=row["id"], created=False)


async def _write(*, kind: str, reference: str, idempotency_key: str, net: dict[str, int], request: dict,
                 memo: str = "", tier: str | None = None, holder_org_id: int | None = None,
                 meta: dict | None = None, overdraft_error: DomainError | None = None) -> Posted:
    """Write a validated transaction; the caller holds the writer lock inside a transaction."""
    kind = TxnKind(kind).value
    known = {a["code"]: a for a in await Account.select().where(Account.code.is_in(sorted(net)))}
    for code in sorted(net):
        # every check before the first write (opening an account is one), so a refusal inside a
        # caller's transaction leaves nothing behind even if the caller carries on
        acc_kind, _, owner = chart.spec(code)
        if code not in known and owner is not None and not await Organization.exists().where(Organization.id == owner):
            raise NotFound("ledger.unknown_holder", "该机构不存在：{org_id}", org_id=owner)
        kept = known[code]["balance_fen"] if code in known else 0
        sign = chart.normal_sign(acc_kind)
        if chart.guarded(acc_kind) and sign * (kept + net[code]) < 0:
            raise overdraft_error or DomainError(
                "ledger.overdraft", "账户 {account} 余额不足：余额 {available}，本次需要 {needed}",
                account=code, available=_yuan(sign * kept), needed=_yuan(-sign * net[code]))
    accounts = {code: known.get(code) or await ensure_account(code=code) for code in sorted(net)}
    now = datetime.now(timezone.utc)
    txn = await JournalTxn.insert(JournalTxn(
        kind=kind, reference=reference, idempotency_key=idempotency_key, memo=memo, tier=tier, holder=holder_org_id,
        period=now.astimezone(_CHINA).strftime("%Y-%m"), created_at=now, actor=current_actor().label[:200],
        meta=json.dumps({**(meta or {}), "request": request}, ensure_ascii=False, sort_keys=True),
    )).returning(JournalTxn.id)
    txn_id = txn[0]["id"]
    await Posting.insert(*[Posting(txn=txn_id, account=accounts[code]["id"], amount_fen=amount)
                           for code, amount in sorted(net.items())])
    for code, amount in sorted(net.items()):
        acc = accounts[code]
        where = [Account.id == acc["id"]]
        if chart.guarded(acc["kind"]):
            # checked above under the lock; the condition keeps the rule true even for a writer that
            # bypassed the lock (it then fails here instead of overdrawing)
            bound = -amount
            where.append(Account.balance_fen >= bound if chart.normal_sign(acc["kind"]) > 0
                         else Account.balance_fen <= bound)
        changed = await db.rowcount_update(Account, {Account.balance_fen: Account.balance_fen + amount}, *where)
        if changed != 1:
            raise Conflict("ledger.concurrent_change", "账户 {account} 刚被另一笔记账修改，请重试", account=code)
    await audit.record(action=f"ledger.{kind}", object_type="journal_txn", object_id=txn_id,
                       after={"reference": reference, "idempotency_key": idempotency_key, "postings": net,
                              **({"tier": tier} if tier else {}),
                              **({"holder": holder_org_id} if holder_org_id else {})})
    return Posted(txn_id=txn_id, created=True)


async def post(*, kind: str, reference: str, idempotency_key: str, lines, memo: str = "") -> Posted:
    """Post one balanced transaction (lines of (account code, signed 分)); a known key returns its first posting."""
    if kind not in {k.value for k in TxnKind}:
        raise DomainError("ledger.invalid_kind", "未知的记账类型：{kind}", kind=str(kind))
    _text(reference, "reference", 100)
    _text(idempotency_key, "idempotency_key", 200)
    net = _net_lines(lines)
    request = {"lines": net}
    async with db.atomic():
        await audit.hold_writer_lock()
        done = await _replayed(idempotency_key=idempotency_key, kind=kind, reference=reference, request=request)
        if done:
            return done
        return await _write(kind=kind, reference=reference, idempotency_key=idempotency_key, net=net,
                            request=request, memo=memo)


# ---- what an order has in the ledger ------------------------------------------------------------

async def _sum(*where) -> int:
    row = await Posting.select(Sum(Posting.amount_fen).as_alias("total")).where(*where).first()
    # PostgreSQL sums a bigint as numeric (a Decimal here); SQLite as an integer; None when no rows
    return int(row["total"] or 0)


async def held_in_escrow(*, reference: str) -> int:
    """What escrow holds for one order: paid in, minus released and refunded from escrow."""
    return -await _sum(Posting.txn.reference == reference, Posting.account.code == ESCROW)


async def _release_of(reference: str) -> dict | None:
    return await (JournalTxn.select().where(JournalTxn.reference == reference, JournalTxn.kind == TxnKind.RELEASE)
                  .first())


async def _unreversed_legs(release_txn: dict) -> dict[str, int]:
    """The credits of a release still standing for its order: each leg less what refunds reversed."""
    legs = {}
    rows = await (Posting.select(Posting.account.code.as_alias("code"), Posting.amount_fen)
                  .where(Posting.txn == release_txn["id"], Posting.amount_fen < 0))
    for row in sorted(rows, key=lambda r: r["code"]):
        reversed_ = await _sum(Posting.txn.reference == release_txn["reference"],
                               Posting.txn.kind == TxnKind.REFUND, Posting.account.code == row["code"])
        legs[row["code"]] = -row["amount_fen"] - reversed_
    return legs


# ---- the business postings ----------------------------------------------------------------------

async def record_payment(*, order_ref: str, total_fen: int, provider: str,
                         idempotency_key: str | None = None) -> Posted:
    """A buyer's payment arrived: Dr bank / Cr escrow. Default key: one payment per order."""
    _text(order_ref, "order_ref", 100)
    _positive(total_fen, "total_fen")
    _text(provider, "provider", 40)
    key = idempotency_key or f"payment:{order_ref}"
    request = {"total_fen": total_fen, "provider": provider}
    async with db.atomic():
        await audit.hold_writer_lock()
        done = await _replayed(idempotency_key=key, kind=TxnKind.PAYMENT, reference=order_ref, request=request)
        if done:
            return done
        return await _write(kind=TxnKind.PAYMENT, reference=order_ref, idempotency_key=key,
                            net={BANK: total_fen, ESCROW: -total_fen}, request=request, meta={"provider": provider})


async def release(*, order_ref: str, holder_org_id: int, amount_fen: int, tax_fen: int, tier: str,
                  commission_bps: int | None = None, fund_share_bps: int | None = None,
                  idempotency_key: str | None = None) -> Posted:
    """Delivery confirmed: escrow goes to the holder's payable, the platform's commission, the fund and
    VAT. Rates default to the configured ones; an order that froze its rates passes them."""
    _text(order_ref, "order_ref", 100)
    _positive(amount_fen, "amount_fen")
    if _amount(tax_fen, "tax_fen") < 0:
        raise DomainError("ledger.invalid_amount", "金额不能为负数（{what}）", what="tax_fen")
    _amount(holder_org_id, "holder_org_id")
    if tier not in commission_rules.TIERS:
        raise DomainError("ledger.unknown_tier", "未知的数据层级：{tier}", tier=str(tier))
    rates = commission_rules.rates_from(runtime.settings())
    s = commission_rules.split(
        amount_fen=amount_fen, tax_fen=tax_fen,
        commission_bps=rates.commission_bps(tier) if commission_bps is None else commission_bps,
        fund_share_bps=rates.fund_share_bps if fund_share_bps is None else fund_share_bps)
    key = idempotency_key or f"release:{order_ref}"
    # what the caller asked for (a retry asks the same), not the rates it resolved to
    request = {"holder": holder_org_id, "amount_fen": amount_fen, "tax_fen": tax_fen, "tier": tier,
               "commission_bps": commission_bps, "fund_share_bps": fund_share_bps}
    async with db.atomic():
        await audit.hold_writer_lock()
        done = await _replayed(idempotency_key=key, kind=TxnKind.RELEASE, reference=order_ref, request=request)
        if done:
            return done
        if await _release_of(order_ref) is not None:
            raise Conflict("ledger.already_released", "订单 {ref} 的款项已经结算", ref=order_ref)
        held = await held_in_escrow(reference=order_ref)
        if held < s.total.amount:
            raise DomainError("ledger.escrow_insufficient", "订单 {ref} 托管资金不足：托管 {held}，结算需要 {needed}",
                              ref=order_ref, held=_yuan(held), needed=s.total.format())
        lines = [(ESCROW, s.total.amount), (payable_code(holder_org_id), -s.holder.amount),
                 (COMMISSION, -s.platform.amount), (FUND, -s.fund.amount), (VAT_PAYABLE, -s.vat.amount)]
        return await _write(kind=TxnKind.RELEASE, reference=order_ref, idempotency_key=key, net=_net_lines(lines),
                            request=request, tier=tier, holder_org_id=holder_org_id,
                            meta={"commission_bps": s.commission_bps, "fund_share_bps": s.fund_share_bps,
                                  "commission_fen": s.commission.amount})


def _refund_overdraft(order_ref: str, amount_fen: int) -> DomainError:
    return DomainError("ledger.refund_overdraft",
                       "订单 {ref} 的款项已部分支付给持有方或拨付自治理基金，无法按比例冲回 {amount}；"
                       "请先向持有方追回已支付的款项，再办理退款", ref=order_ref, amount=_yuan(amount_fen))


async def _refund_lines(order_ref: str, amount_fen: int) -> tuple[list, dict | None, int]:
    """(postings, the order's release or None, what comes from escrow) of a refund, or the refusal."""
    from_escrow = min(amount_fen, max(await held_in_escrow(reference=order_ref), 0))
    rest = amount_fen - from_escrow
    released = await _release_of(order_ref)
    legs = await _unreversed_legs(released) if released else {}
    if rest > sum(legs.values()):
        raise DomainError("ledger.refund_exceeds_paid", "退款金额 {amount} 超过订单 {ref} 可退金额 {refundable}",
                          amount=_yuan(amount_fen), ref=order_ref,
                          refundable=_yuan(from_escrow + sum(legs.values())))
    lines = [(ESCROW, from_escrow), (BANK, -amount_fen)]
    if rest:
        codes = sorted(legs)
        parts = Money(rest).allocate([legs[c] for c in codes])
        lines += [(code, part.amount) for code, part in zip(codes, parts)]
    return lines, released, from_escrow


async def check_refund(*, order_ref: str, amount_fen: int, also=()) -> None:
    """Refuse, before anything is written anywhere, a refund the ledger could not post: more than the
    order holds, or a reversal of a share already paid out (the holder's payable or the fund would go
    below zero). Callers that move money elsewhere first (a Stripe refund) ask this beforehand; `also`
    are balanced lines the caller posts just before the refund (lineage shares coming back)."""
    _text(order_ref, "order_ref", 100)
    _positive(amount_fen, "amount_fen")
    lines, _, from_escrow = await _refund_lines(order_ref, amount_fen)
    net = _net_lines([*lines, *also])
    known = {a["code"]: a for a in await Account.select().where(Account.code.is_in(sorted(net)))}
    for code, amount in net.items():
        acc_kind, _, _ = chart.spec(code)
        kept = known[code]["balance_fen"] if code in known else 0
        if chart.guarded(acc_kind) and chart.normal_sign(acc_kind) * (kept + amount) < 0:
            raise _refund_overdraft(order_ref, amount_fen - from_escrow)


async def refund(*, order_ref: str, amount_fen: int, idempotency_key: str | None = None) -> Posted:
    """Money back to the buyer: first from what escrow still holds for the order, the rest by reversing
    its release leg by leg in proportion to what stands of each (Money.allocate: no 分 made or lost).
    Pass a key (e.g. the credit note's number) to make a retry safe; without one each call is new."""
    _text(order_ref, "order_ref", 100)
    _positive(amount_fen, "amount_fen")
    key = idempotency_key or f"refund:{order_ref}:{uuid.uuid4().hex}"
    request = {"amount_fen": amount_fen}
    async with db.atomic():
        await audit.hold_writer_lock()
        done = await _replayed(idempotency_key=key, kind=TxnKind.REFUND, reference=order_ref, request=request)
        if done:
            return done
        lines, released, from_escrow = await _refund_lines(order_ref, amount_fen)
        return await _write(
            kind=TxnKind.REFUND, reference=order_ref, idempotency_key=key, net=_net_lines(lines), request=request,
            tier=released["tier"] if released else None, holder_org_id=released["holder"] if released else None,
            meta={"from_escrow_fen": from_escrow, "reversed_fen": amount_fen - from_escrow},
            overdraft_error=_refund_overdraft(order_ref, amount_fen - from_escrow))


async def payout(*, holder_org_id: int, amount_fen: int, idempotency_key: str | None = None,
                 reference: str | None = None) -> Posted:
    """Pay a holder what it is owed: Dr payable / Cr bank, never more than the payable."""
    _positive(amount_fen, "amount_fen")
    code = payable_code(_amount(holder_org_id, "holder_org_id"))
    reference = reference or f"org:{holder_org_id}"
    _text(reference, "reference", 100)
    key = idempotency_key or f"payout:{holder_org_id}:{uuid.uuid4().hex}"
    request = {"holder": holder_org_id, "amount_fen": amount_fen}
    async with db.atomic():
        await audit.hold_writer_lock()
        done = await _replayed(idempotency_key=key, kind=TxnKind.PAYOUT, reference=reference, request=request)
        if done:
            return done
        owed = await balance(account_code=code)
        if amount_fen > owed:
            raise DomainError("ledger.payout_exceeds_payable", "付款金额 {amount} 超过应付该机构的 {owed}",
                              amount=_yuan(amount_fen), owed=_yuan(owed))
        return await _write(kind=TxnKind.PAYOUT, reference=reference, idempotency_key=key,
                            net={code: amount_fen, BANK: -amount_fen}, request=request, holder_org_id=holder_org_id)


async def disburse_fund(*, amount_fen: int, reference: str, idempotency_key: str | None = None,
                        recipient_org_id: int | None = None) -> Posted:
    """Pay out an approved governance-fund spend: Dr fund / Cr bank, never more than the fund holds.
    With `recipient_org_id` the money is credited to that organisation's payable instead (Cr
    payable:<org>), to leave with its next payout. Default key: one disbursement per reference."""
    _positive(amount_fen, "amount_fen")
    _text(reference, "reference", 100)
    key = idempotency_key or f"disbursement:{reference}"
    request = {"amount_fen": amount_fen}
    credit = BANK
    if recipient_org_id is not None:
        credit = payable_code(_amount(recipient_org_id, "recipient_org_id"))
        request["recipient"] = recipient_org_id  # only when given: keys posted before keep matching
    async with db.atomic():
        await audit.hold_writer_lock()
        done = await _replayed(idempotency_key=key, kind=TxnKind.DISBURSEMENT, reference=reference, request=request)
        if done:
            return done
        available = await balance(account_code=FUND)
        if amount_fen > available:
            raise DomainError("ledger.disbursement_exceeds_fund", "拨付金额 {amount} 超过治理基金余额 {available}",
                              amount=_yuan(amount_fen), available=_yuan(available))
        return await _write(kind=TxnKind.DISBURSEMENT, reference=reference, idempotency_key=key,
                            net={FUND: amount_fen, credit: -amount_fen}, request=request)
