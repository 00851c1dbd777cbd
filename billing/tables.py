"""Tables of the billing package: the double-entry ledger (accounts, journal transactions, postings)."""

from __future__ import annotations

import enum

from piccolo.columns import BigInt, ForeignKey, OnDelete, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from market.tables import Organization


class AccountKind(enum.StrEnum):
    ASSET = "asset"  # what the platform holds (its collection bank account); normal balance debit
    LIABILITY = "liability"  # what it owes (escrow, payables, the fund, VAT); normal balance credit
    REVENUE = "revenue"  # what it earned (commission); normal balance credit
    EXPENSE = "expense"  # what it spent; normal balance debit


class TxnKind(enum.StrEnum):
    PAYMENT = "payment"  # a buyer's money arrived: bank → escrow
    RELEASE = "release"  # delivery confirmed: escrow → holder's payable, commission, fund, VAT
    REFUND = "refund"  # money back to a buyer: from escrow, or reversing a release in proportion
    PAYOUT = "payout"  # the platform paid a holder what it owed: payable → bank
    DISBURSEMENT = "disbursement"  # an approved spend of the governance fund: fund → bank
    ADJUSTMENT = "adjustment"  # a correction by finance, balanced like any other transaction
    LINEAGE_SHARE = "lineage_share"  # a derived product's seller → a holder of its sources (or back, on refund)


class Account(Table, tablename="account"):
    id = Serial(primary_key=True)
    # 'bank', 'escrow', 'commission', 'fund', 'vat_payable', 'payable:<org id>'
    code = Varchar(length=40, unique=True)
    kind = Varchar(length=10, choices=AccountKind)
    # the holder a payable is owed to; payables only
    owner = ForeignKey(references=Organization, null=True, default=None, index=True, on_delete=OnDelete.restrict)
    name = Varchar(length=100)  # a msgid (Chinese), translated where shown
    # the sum of this account's postings (debit > 0), kept in the posting's transaction so a balance
    # is one row read and the no-overdraft rule is a single conditional UPDATE; `market ledger check`
    # recomputes it from the postings
    balance_fen = BigInt(default=0)


class JournalTxn(Table, tablename="journal_txn"):
    """One business event, posted once: its postings sum to zero."""

    id = Serial(primary_key=True)
    kind = Varchar(length=20, choices=TxnKind, index=True)
    reference = Varchar(length=100, index=True)  # the business object: 'order:123', 'payout:7', …
    # the same business event posted twice (a retried request, a replayed webhook) finds this row
    idempotency_key = Varchar(length=200, unique=True)
    memo = Text(default="")
    # what the fund read model groups by; set on releases and on the refunds that reverse them
    tier = Varchar(length=10, null=True, default=None)
    holder = ForeignKey(references=Organization, null=True, default=None, index=True,
                        on_delete=OnDelete.restrict)
    # accounting period 'YYYY-MM' in China time (UTC+8), so monthly figures group the same on both engines
    period = Varchar(length=7, index=True)
    meta = Text(default="{}")  # JSON: rates applied, provider, …
    created_at = Timestamptz(default=TimestamptzNow())
    actor = Varchar(length=200, default="")  # who posted it (the audit event has the full context)


class Posting(Table, tablename="posting"):
    # money records are never deleted (a correction is a new transaction), hence RESTRICT everywhere
    id = Serial(primary_key=True)
    txn = ForeignKey(references=JournalTxn, index=True, on_delete=OnDelete.restrict)
    account = ForeignKey(references=Account, index=True, on_delete=OnDelete.restrict)
    amount_fen = BigInt()  # signed: debit > 0, credit < 0
