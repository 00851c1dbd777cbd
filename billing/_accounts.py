"""The chart of accounts: which codes exist, what kind each is, and which may never be overdrawn."""

from __future__ import annotations

from market.errors import DomainError
from market.i18n import N_

from billing.tables import AccountKind

BANK = "bank"
ESCROW = "escrow"
COMMISSION = "commission"
FUND = "fund"
VAT_PAYABLE = "vat_payable"
PAYABLE_PREFIX = "payable:"

# code → (kind, name msgid)
STANDARD: dict[str, tuple[AccountKind, str]] = {
    BANK: (AccountKind.ASSET, N_("平台收款账户")),
    ESCROW: (AccountKind.LIABILITY, N_("托管资金")),
    COMMISSION: (AccountKind.REVENUE, N_("平台佣金收入")),
    FUND: (AccountKind.LIABILITY, N_("治理基金")),
    VAT_PAYABLE: (AccountKind.LIABILITY, N_("应交增值税")),
}
PAYABLE_NAME = N_("应付持有方款项")


def payable_code(org_id: int) -> str:
    return f"{PAYABLE_PREFIX}{org_id}"


def spec(code: str) -> tuple[AccountKind, str, int | None]:
    """(kind, name, owner org id) of an account code; refuses a code outside the chart."""
    if isinstance(code, str) and code in STANDARD:
        kind, name = STANDARD[code]
        return kind, name, None
    if isinstance(code, str) and code.startswith(PAYABLE_PREFIX):
        org = code.removeprefix(PAYABLE_PREFIX)
        if org.isascii() and org.isdigit() and not org.startswith("0"):
            return AccountKind.LIABILITY, PAYABLE_NAME, int(org)
    raise DomainError("ledger.unknown_account", "账户代码无效：{account}", account=str(code))


def normal_sign(kind: str) -> int:
    """+1 where a debit increases the balance (assets, expenses), -1 where a credit does."""
    return 1 if kind in (AccountKind.ASSET, AccountKind.EXPENSE) else -1


def guarded(kind: str) -> bool:
    """Money held or owed cannot go below zero: the bank cannot pay out what it does not hold, and
    escrow, a payable, the fund or VAT owed cannot be paid out beyond what was put in. Revenue and
    expense accounts are not limited (a correction may reverse more than one period earned)."""
    return kind in (AccountKind.ASSET, AccountKind.LIABILITY)
