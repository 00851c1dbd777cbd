"""Reading a bank statement export (CSV) into credit lines, tolerant of how Chinese banks write them.

Exports differ by bank: GBK or UTF-8 (often with a BOM), a few lines of account details before the
header, a credit column (贷方发生额 / 收入金额) or one signed amount column (金额 / 交易金额), dates
as 2026-12-01, 2026/12/1, 20261201 or 2026年12月1日, amounts with ¥, thousands commas or 元.
Everything is checked before anything is written: a file with one unreadable row is refused whole,
naming the row, so finance fixes the file instead of importing half of it.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from market.errors import DomainError
from market.money import Money, MoneyError

MAX_BYTES = 5 * 1024 * 1024  # a month of a busy collection account is well under 1 MB
MAX_ROWS = 20_000
_HEADER_SCAN = 30  # account details a bank prints above the header

# column names as banks print them, normalised (no spaces, no unit in brackets); first found wins
DATE = ("交易日期", "记账日期", "入账日期", "交易时间", "日期", "交易日", "date", "transactiondate", "valuedate")
CREDIT = ("贷方发生额", "贷方金额", "收入金额", "存入金额", "入账金额", "收入", "贷方", "credit", "creditamount")
AMOUNT = ("金额", "交易金额", "发生额", "amount")
PAYER = ("对方户名", "对方账户名称", "对方账户名", "付款人名称", "付款人", "付款方", "对方名称", "对方单位",
         "收/付方名称", "payer", "payername", "counterparty")
PAYER_ACCOUNT = ("对方账号", "对方账户", "付款人账号", "付款账号", "payeraccount")
TEXT = ("摘要", "附言", "用途", "备注", "交易附言", "汇款附言", "用途/附言", "摘要/附言", "reference", "memo", "remark")
SERIAL = ("交易流水号", "流水号", "凭证号", "交易序号", "银行流水号", "serial", "transactionid")


@dataclass(frozen=True)
class Line:
    row_no: int  # 1-based row of the file, as a spreadsheet shows it
    booked_on: date
    amount_fen: int
    payer_name: str = ""
    payer_account: str = ""
    reference_text: str = ""
    bank_serial: str = ""


def decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")  # a superset of GBK and GB2312, what Chinese banks export
    except UnicodeDecodeError:
        raise DomainError("statement.encoding", "对账单文件编码无法识别，请导出为 UTF-8 或 GBK 编码的 CSV") from None


def _norm_header(cell: str) -> str:
    text = unicodedata.normalize("NFKC", cell).strip().lower()
    text = re.sub(r"[\(（\[【].*?[\)）\]】]", "", text)  # 贷方发生额(元), 金额（人民币）
    return re.sub(r"[\s_\-:：]", "", text)


def _find(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:
            return header.index(name)
    return None


def parse_amount(text: str) -> int | None:
    """分 from a statement cell; None when blank. Raises MoneyError when it is not an amount."""
    cell = unicodedata.normalize("NFKC", text).strip()
    cell = re.sub(r"\s|元|人民币|RMB|CNY", "", cell, flags=re.IGNORECASE)
    if cell in ("", "-", "--", "0", "0.00", "0.0"):
        return None if cell in ("", "-", "--") else 0
    negative = cell.startswith("(") and cell.endswith(")")  # accounting style (100.00)
    if negative:
        cell = cell[1:-1]
    fen = Money.of_yuan(cell).amount
    return -fen if negative else fen


_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)


def parse_date(text: str) -> date | None:
    cell = unicodedata.normalize("NFKC", text).strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.match(cell)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                return None
    return None


def _header_index(rows: list[list[str]]) -> int | None:
    for i, row in enumerate(rows[:_HEADER_SCAN]):
        header = [_norm_header(c) for c in row]
        if _find(header, DATE) is not None and (_find(header, CREDIT) is not None or _find(header, AMOUNT) is not None):
            return i
    return None


def _rows(text: str) -> tuple[list[list[str]], int]:
    """The rows and where the header is. The delimiter is the one with which a header can be found
    (csv.Sniffer guesses wrong on Chinese text with commas inside quoted amounts)."""
    head = "\n".join(text.splitlines()[:_HEADER_SCAN + 1])
    for delimiter in (",", "\t", ";", "|"):
        try:
            header_at = _header_index(list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter)))
        except csv.Error:
            continue
        if header_at is not None:
            break
    else:
        raise DomainError("statement.no_header", "对账单中找不到表头：需要“交易日期”列和“贷方发生额”或“金额”列")
    try:
        rows = []
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            rows.append(row)
            if len(rows) > MAX_ROWS + _HEADER_SCAN:
                raise DomainError("statement.too_many_rows", "对账单行数过多（最多 {n} 行），请按月分批导入", n=MAX_ROWS)
        return rows, header_at
    except csv.Error as exc:
        raise DomainError("statement.not_csv", "对账单不是有效的 CSV 文件：{detail}", detail=str(exc)) from None


def parse(data: bytes) -> list[Line]:
    """The credit lines of a statement (debits are the platform's own payments and are skipped)."""
    if not data or not data.strip():
        raise DomainError("statement.empty", "对账单文件为空")
    if len(data) > MAX_BYTES:
        raise DomainError("statement.too_large", "对账单文件过大（最多 {mb} MB），请按月分批导入", mb=MAX_BYTES // (1024 * 1024))
    rows, header_at = _rows(decode(data))
    header = [_norm_header(c) for c in rows[header_at]]
    col_date, col_credit = _find(header, DATE), _find(header, CREDIT)
    col_amount = _find(header, AMOUNT) if col_credit is None else None
    col_payer, col_account = _find(header, PAYER), _find(header, PAYER_ACCOUNT)
    col_serial = _find(header, SERIAL)
    text_cols = [i for i, name in enumerate(header) if name in TEXT]

    def cell(row: list[str], col: int | None) -> str:
        return row[col].strip() if col is not None and col < len(row) else ""

    lines: list[Line] = []
    for offset, row in enumerate(rows[header_at + 1:], start=header_at + 2):
        if not any(c.strip() for c in row):
            continue
        raw_date = cell(row, col_date)
        if raw_date.startswith(("合计", "总计", "本页", "小计")) or (not raw_date and any(
                c.strip().startswith(("合计", "总计")) for c in row)):
            continue  # the totals a bank prints under the lines
        amount_cell = cell(row, col_credit if col_credit is not None else col_amount)
        try:
            amount = parse_amount(amount_cell)
        except MoneyError:
            raise DomainError("statement.bad_amount", "第 {row} 行金额无法识别：{value}", row=offset, value=amount_cell[:40]) from None
        if amount is None or amount <= 0:
            continue  # a debit line (blank credit cell), or an outgoing (negative) amount
        booked = parse_date(raw_date)
        if booked is None:
            raise DomainError("statement.bad_date", "第 {row} 行交易日期无法识别：{value}", row=offset, value=raw_date[:40] or "—")
        lines.append(Line(
            row_no=offset, booked_on=booked, amount_fen=amount, payer_name=cell(row, col_payer)[:200],
            payer_account=cell(row, col_account)[:64],
            reference_text=" ".join(t for t in (cell(row, c) for c in text_cols) if t)[:2000],
            bank_serial=cell(row, col_serial)[:100]))
    if not lines:
        raise DomainError("statement.no_lines", "对账单中没有收入（贷方）记录")
    return lines


def fingerprints(lines: list[Line]) -> list[str]:
    """One stable fingerprint per line. Two identical transfers on one day (same payer, amount and
    memo, no serial) are both real money, so a line's occurrence number among identical lines of
    the file is part of it; the same file (or an overlapping export) yields the same fingerprints."""
    seen: dict[str, int] = {}
    out = []
    for line in lines:
        content = "|".join((line.booked_on.isoformat(), str(line.amount_fen), line.payer_name, line.payer_account,
                            line.reference_text, line.bank_serial))
        seen[content] = seen.get(content, 0) + 1
        out.append(hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest())
    return out
