"""The ledger's own check, behind `market ledger check`: recomputed from the postings alone."""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.query.functions.aggregate import Count, Sum

from billing.tables import Account, JournalTxn, Posting
from market import db


@dataclass(frozen=True)
class CheckReport:
    ok: bool
    transactions: int
    accounts: int
    problem: str = ""  # names the first transaction or account that is wrong


async def check() -> CheckReport:
    """Every transaction balances with postings on both sides, and every account's kept balance
    equals the sum of its postings; stops at the first that does not (transactions first, by id)."""
    async with db.reading():
        per_txn = await (Posting.select(Posting.txn.as_alias("txn"), Sum(Posting.amount_fen).as_alias("total"),
                                        Count().as_alias("n")).group_by(Posting.txn))
        txns = await (JournalTxn.select(JournalTxn.id, JournalTxn.kind, JournalTxn.reference)
                      .order_by(JournalTxn.id))
        per_account = await (Posting.select(Posting.account.as_alias("account"),
                                            Sum(Posting.amount_fen).as_alias("total")).group_by(Posting.account))
        accounts = await Account.select(Account.id, Account.code, Account.balance_fen).order_by(Account.code)
    sums = {r["txn"]: (int(r["total"] or 0), r["n"]) for r in per_txn}
    for t in txns:
        total, n = sums.pop(t["id"], (0, 0))
        name = f"transaction #{t['id']} ({t['kind']} {t['reference']})"
        if total != 0:
            return CheckReport(False, len(txns), len(accounts),
                               f"{name} does not balance: its postings sum to {total} 分")
        if n < 2:
            return CheckReport(False, len(txns), len(accounts), f"{name} has {n} posting(s), a movement needs two")
    account_sums = {r["account"]: int(r["total"] or 0) for r in per_account}
    for a in accounts:
        total = account_sums.get(a["id"], 0)
        if a["balance_fen"] != total:
            return CheckReport(False, len(txns), len(accounts),
                               f"account {a['code']} keeps a balance of {a['balance_fen']} 分 "
                               f"but its postings sum to {total} 分")
    return CheckReport(True, len(txns), len(accounts))
