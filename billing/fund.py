"""The governance fund read model: what came in, from which tier and holder, what went out, per month.

Read straight from the fund account's postings, so it can never disagree with the ledger: inflows
are the fund's share of commissions (releases, net of the refunds that reversed them; adjustments
count here too), outflows are approved disbursements. balance = inflow - outflow, always. Months
are the transactions' accounting periods ('YYYY-MM' in China time), stored on each transaction so
both engines group them alike.
"""

from __future__ import annotations

from piccolo.query.functions.aggregate import Sum

from billing._accounts import FUND
from billing.tables import Posting, TxnKind
from market import db


def _fund_postings(*, outflow: bool):
    where = [Posting.account.code == FUND]
    if outflow:
        where.append(Posting.txn.kind == TxnKind.DISBURSEMENT)
    else:
        where.append(Posting.txn.kind != TxnKind.DISBURSEMENT)
    return where


async def _grouped(column, *, outflow: bool) -> dict:
    rows = await (Posting.select(column.as_alias("key"), Sum(Posting.amount_fen).as_alias("total"))
                  .where(*_fund_postings(outflow=outflow)).group_by(column))
    # the fund is a liability: money in is a credit (< 0), money out a debit (> 0)
    sign = 1 if outflow else -1
    return {r["key"]: sign * int(r["total"] or 0) for r in rows}


async def _total(*, outflow: bool) -> int:
    return sum((await _grouped(Posting.txn.kind, outflow=outflow)).values())


async def summary() -> dict:
    """Balance, totals and every series of the fund, in 分."""
    async with db.reading():
        inflow = await _total(outflow=False)
        outflow = await _total(outflow=True)
        in_by_month = await _grouped(Posting.txn.period, outflow=False)
        out_by_month = await _grouped(Posting.txn.period, outflow=True)
        by_tier = await _grouped(Posting.txn.tier, outflow=False)
        holders = await (Posting.select(Posting.txn.holder.id.as_alias("id"), Posting.txn.holder.name.as_alias("name"),
                                        Sum(Posting.amount_fen).as_alias("total"))
                         .where(*_fund_postings(outflow=False))
                         .group_by(Posting.txn.holder.id, Posting.txn.holder.name))
    months = sorted(set(in_by_month) | set(out_by_month))
    return {
        "balance_fen": inflow - outflow,
        "inflow_fen": inflow,
        "outflow_fen": outflow,
        "by_month": [{"month": m, "inflow_fen": in_by_month.get(m, 0), "outflow_fen": out_by_month.get(m, 0)}
                     for m in months],
        # None: an adjustment not tied to a sale
        "inflow_by_tier": sorted(({"tier": t, "inflow_fen": v} for t, v in by_tier.items()),
                                 key=lambda r: (r["tier"] is None, r["tier"] or "")),
        "inflow_by_holder": sorted(({"holder_id": r["id"], "holder_name": r["name"],
                                     "inflow_fen": -int(r["total"] or 0)} for r in holders),
                                   key=lambda r: (-r["inflow_fen"], r["holder_id"] or 0)),
    }


async def outflow_by_purpose() -> list[dict]:
    """Disbursements paid, by the purpose of the proposal they paid ('other' for one posted without a
    proposal), in 分; read from the fund's postings like every other figure here."""
    from billing.disbursements.tables import DisbursementProposal, Purpose

    async with db.reading():
        by_txn = await _grouped(Posting.txn.id, outflow=True)
        purposes = {r["txn"]: r["purpose"] for r in await (
            DisbursementProposal.select(DisbursementProposal.txn, DisbursementProposal.purpose)
            .where(DisbursementProposal.txn.is_in(sorted(by_txn) or [0])))}
    totals: dict[str, int] = {}
    for txn_id, amount in by_txn.items():
        key = purposes.get(txn_id, Purpose.OTHER.value)
        totals[key] = totals.get(key, 0) + amount
    return sorted(({"purpose": p, "outflow_fen": v} for p, v in totals.items()),
                  key=lambda r: (-r["outflow_fen"], r["purpose"]))
