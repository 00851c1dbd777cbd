"""The invoice number series: 20 digits, gap-free and never repeated within a year.

Layout (数电发票, 全面数字化的电子发票): digits 1-2 the year of issue (26 for 2026), 3-4 the province
(GB/T 2260 code of the issuing tax authority, MARKET_INVOICE_PROVINCE_CODE, 33 = 浙江), 5 the issuing
channel (MARKET_INVOICE_CHANNEL, 0 by default), 6-20 the sequence within the year, zero-padded to 15
digits. E.g. the first invoice of 2026: 26 33 0 000000000000001 → "26330000000000000001".

Why a counter row and not a database sequence: a sequence hands out a number even when the insert
that used it rolls back, which leaves a gap, and tax rules want none. The counter row of the year is
locked first (`lock_series`, an UPDATE that changes nothing but takes the row lock on PostgreSQL;
SQLite's IMMEDIATE transaction already holds the database write lock) and raised (`take_next`) in the
same transaction as the invoice insert, so a rollback gives the number back and two transactions can
never read the same last value.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from billing.invoices.tables import InvoiceCounter
from market import runtime
from market.errors import Conflict, DomainError
from market.i18n import N_

SEQUENCE_DIGITS = 15
SEQUENCE_MAX = 10**SEQUENCE_DIGITS - 1
NUMBER_RE = re.compile(r"[0-9]{20}")
# China has no daylight saving time: UTC+8 all year round
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def today() -> date:
    """The date of issue, in China (an invoice issued at 01:00 Beijing time on 1 January is next year's)."""
    return datetime.now(CHINA).date()


def format_number(year: int, seq: int, *, province: str | None = None, channel: str | None = None) -> str:
    settings = runtime.settings()
    province = settings.invoice_province_code if province is None else province
    channel = settings.invoice_channel if channel is None else channel
    if not 1 <= seq <= SEQUENCE_MAX:
        raise DomainError("invoice.series_exhausted", N_("本年度发票号码已用尽"))
    number = f"{year % 100:02d}{province}{channel}{seq:0{SEQUENCE_DIGITS}d}"
    if not NUMBER_RE.fullmatch(number):
        raise ValueError(f"invoice number {number!r} is not 20 digits: check the province and channel settings")
    return number


def is_number(text: str) -> bool:
    return isinstance(text, str) and NUMBER_RE.fullmatch(text) is not None


def parse_number(number: str) -> dict:
    """The parts of a 20-digit number (for display and tests); ValueError for anything else."""
    if not is_number(number):
        raise ValueError(f"not a 20-digit invoice number: {number!r}")
    return {"yy": int(number[:2]), "province": number[2:4], "channel": number[4], "seq": int(number[5:])}


async def lock_series(year: int) -> int:
    """Create the year's counter if needed and lock it for this transaction; returns the last number used.
    Must run inside `db.atomic()`, before anything else the issuing transaction locks."""
    await InvoiceCounter.insert(InvoiceCounter(year=year, last=0)).on_conflict(
        target=InvoiceCounter.year, action="DO NOTHING")
    rows = await (InvoiceCounter.update({InvoiceCounter.last: InvoiceCounter.last})
                  .where(InvoiceCounter.year == year).returning(InvoiceCounter.last))
    return rows[0]["last"]


async def take_next(year: int, last: int) -> int:
    """Raise the locked counter from `last` by one (compare-and-set) and return the new sequence number."""
    rows = await (InvoiceCounter.update({InvoiceCounter.last: last + 1})
                  .where(InvoiceCounter.year == year, InvoiceCounter.last == last).returning(InvoiceCounter.last))
    if len(rows) != 1:
        # cannot happen while the caller holds the lock; if it ever does, refuse rather than reuse a number
        raise Conflict("invoice.series_moved", N_("发票号码序列被并发修改，请重试"))
    return rows[0]["last"]
