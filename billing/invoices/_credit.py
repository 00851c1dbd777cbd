"""Red-letter credit notes (红字发票): a new invoice with negative amounts, numbered in the same
series, that names the invoice it reverses. The original is never edited; once red invoices have
reversed all of it, its status (only) becomes `voided`.

What may be credited is counted per line of the original, as 价税合计 (what the buyer paid, so a
refund of R 分 is a credit of R 分): each red line names the original line it reverses (`line`, from
1), and the credits of a line never add up to more than that line's total. A credit of a whole line
never credited before repeats it negated (quantity, unit price, amount, tax); a part of a line is
split into amount and tax the way a tax-inclusive price is (价税分离): amount = total ÷ (1 + rate),
rounded half up, tax = total − amount, so amount + tax is always exactly the credit.
"""

from __future__ import annotations

import json

from billing.invoices import _numbers
from billing.invoices._issue import canonical, insert_numbered, not_found
from billing.invoices.tables import Invoice, InvoiceKind, InvoiceStatus
from market import db, runtime
from market.errors import Conflict, DomainError
from market.money import Money


def _net_of(total: int, rate_bps: int) -> int:
    """total ÷ (1 + rate), rounded half up, for total ≥ 0."""
    denominator = 10_000 + rate_bps
    return (2 * total * 10_000 + denominator) // (2 * denominator)


async def credited_by_line(original_id: int) -> dict[int, int]:
    """How much (价税合计, positive) red invoices have already credited on each line of an invoice."""
    reds = await (Invoice.select(Invoice.lines).where(Invoice.original_id == original_id)
                  .where(Invoice.kind == InvoiceKind.RED.value))
    out: dict[int, int] = {}
    for red in reds:
        for line in json.loads(red["lines"]):
            out[line["line"]] = out.get(line["line"], 0) - line["amount_fen"] - line["tax_fen"]
    return out


def _credits(remaining: list[int], amount_fen, lines) -> list[int]:
    """The 价税合计 to credit on each line (index 0 = line 1), from what the caller asked."""
    if amount_fen is not None and lines is not None:
        raise DomainError("invoice.bad_credit", "请指定红冲金额或红冲明细行，二者只能选一")
    left = sum(remaining)
    if left <= 0:
        raise Conflict("invoice.fully_credited", "该发票已全额红冲，不能再开具红字发票")
    if amount_fen is None and lines is None:
        return list(remaining)
    if amount_fen is not None:
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 1:
            raise DomainError("invoice.bad_credit", "红冲金额应为正整数（分）")
        if amount_fen > left:
            raise DomainError("invoice.credit_exceeds", "红冲金额（{amount}）超过原发票尚未红冲的金额（{left}）",
                              amount=Money(amount_fen).format(), left=Money(left).format())
        # in proportion to what each line has left, so no line is credited past its total
        return [m.amount for m in Money(amount_fen).allocate(remaining)]
    if not isinstance(lines, list) or not lines:
        raise DomainError("invoice.bad_credit", "红冲明细行应为非空列表，每行包含 line（原发票行号）和 total_fen")
    out = [0] * len(remaining)
    for item in lines:
        n = item.get("line") if isinstance(item, dict) else None
        total = item.get("total_fen") if isinstance(item, dict) else None
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= len(remaining) or out[n - 1]:
            raise DomainError("invoice.bad_credit", "红冲明细的原发票行号无效或重复：{line}", line=str(n))
        if isinstance(total, bool) or not isinstance(total, int) or total < 1:
            raise DomainError("invoice.bad_credit", "第 {line} 行的红冲金额应为正整数（分）", line=str(n))
        if total > remaining[n - 1]:
            raise DomainError("invoice.credit_exceeds", "第 {line} 行红冲金额（{amount}）超过该行尚未红冲的金额（{left}）",
                              line=str(n), amount=Money(total).format(), left=Money(remaining[n - 1]).format())
        out[n - 1] = total
    return out


def red_lines(original_lines: list[dict], credits: list[int], credited: dict[int, int]) -> list[dict]:
    out = []
    for n, (line, credit) in enumerate(zip(original_lines, credits), start=1):
        if not credit:
            continue
        whole = line["amount_fen"] + line["tax_fen"]
        if credit == whole and not credited.get(n):
            quantity, unit_price = -line["quantity"], line["unit_price_fen"]
            amount, tax = line["amount_fen"], line["tax_fen"]
        else:
            amount = _net_of(credit, line["tax_rate_bps"])
            quantity, unit_price, tax = None, None, credit - amount
        out.append({"line": n, "item": line["item"], "spec": line.get("spec", ""), "unit": line.get("unit", ""),
                    "quantity": quantity, "unit_price_fen": unit_price, "amount_fen": -amount,
                    "tax_rate_bps": line["tax_rate_bps"], "tax_fen": -tax})
    return out


async def issue_credit_note(*, invoice_number: str, reason: str, amount_fen: int | None = None,
                            lines: list[dict] | None = None, issuer: str | None = None) -> dict:
    """Issue a red invoice reversing all (neither amount nor lines), `amount_fen` (价税合计) or the given
    `lines` ([{"line": n, "total_fen": …}]) of an invoice; never more than is left to credit."""
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise DomainError("invoice.reason_required", "请填写开具红字发票的原因")
    if not _numbers.is_number(invoice_number):
        raise not_found()
    issued_on = _numbers.today()
    async with db.atomic():
        # the series lock comes first: it also serializes concurrent credits of the same invoice, so
        # each sees what the others credited
        last = await _numbers.lock_series(issued_on.year)
        original = await Invoice.select().where(Invoice.number == invoice_number).first()
        if original is None:
            raise not_found()
        if original["kind"] != InvoiceKind.NORMAL.value:
            raise DomainError("invoice.credit_of_red", "红字发票不能再被红冲")
        original_lines = json.loads(original["lines"])
        credited = await credited_by_line(original["id"])
        remaining = [line["amount_fen"] + line["tax_fen"] - credited.get(n, 0)
                     for n, line in enumerate(original_lines, start=1)]
        credits = _credits(remaining, amount_fen, lines)
        reds = red_lines(original_lines, credits, credited)
        amount = sum(line["amount_fen"] for line in reds)
        tax = sum(line["tax_fen"] for line in reds)
        snapshot = json.loads(original["snapshot"])
        values = {
            "kind": InvoiceKind.RED.value, "original_id": original["id"], "original_number": original["number"],
            "order_key": None, "order_ref": original["order_ref"], "order_id": original["order_id"],
            "issued_on": issued_on,
            "seller_name": original["seller_name"], "seller_credit_code": original["seller_credit_code"],
            "buyer_org": original["buyer_org"], "buyer_name": original["buyer_name"],
            "buyer_credit_code": original["buyer_credit_code"],
            "lines": canonical(reds), "amount_fen": amount, "tax_fen": tax, "total_fen": amount + tax,
            "total_upper": Money(amount + tax).to_chinese_upper(),
            "remarks": f"被红冲蓝字数电发票号码：{original['number']}；红冲原因：{reason[:200]}；"
                       f"订单编号：{original['order_ref']}",
            "reason": reason[:500], "issuer": (issuer or runtime.settings().invoice_issuer)[:50],
            "snapshot": canonical({**snapshot, "credit": {"original_number": original["number"], "reason": reason,
                                                          "amount_fen": amount_fen, "lines": lines}}),
        }
        red = await insert_numbered(values, year=issued_on.year, last=last, action="invoice.credited",
                                    audit_after={"original": original["number"], "reason": reason[:200]})
        if sum(remaining) == sum(credits):
            await db.transition(Invoice, original["id"], to=InvoiceStatus.VOIDED, action="invoice.voided",
                                audit_after={"red_invoice": red["number"]})
    return red
