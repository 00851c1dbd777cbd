"""Bank statement import and reconciliation against open payment requests.

Each new credit line is matched by the payment reference in its memo and by amount: the exact amount
still due records a payment (matched); less is partial, more (or money for an order already paid) is
over, no reference is unmatched. Everything not matched waits in a queue for a person, who resolves
it with a note (and may count the line as a receipt). Lines are stored by fingerprint, so importing
the same statement again, or an overlapping one, changes nothing for the lines already seen.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, time, timezone

from billing.payments import _receipts, _reference, _statement
from billing.payments.tables import LineStatus, PaymentRequest, Provider, RequestStatus, StatementImport, StatementLine
from market import audit, db
from market.errors import Conflict, DomainError, NotFound
from market.i18n import N_

OPEN_STATUSES = (LineStatus.PARTIAL, LineStatus.OVER, LineStatus.UNMATCHED)


async def _classify(line: _statement.Line) -> tuple[dict | None, LineStatus, int]:
    """The request a line's memo names, the line's status, and what that order still owed."""
    request = None
    for ref in _reference.find_references(line.reference_text):
        request = await PaymentRequest.select().where(PaymentRequest.reference == ref).first()
        if request is not None:
            break
    if request is None:
        return None, LineStatus.UNMATCHED, 0
    due = 0 if request["status"] != RequestStatus.OPEN.value else request["amount_fen"] - request["paid_fen"]
    if line.amount_fen < due:
        return request, LineStatus.PARTIAL, due
    if line.amount_fen > due:
        return request, LineStatus.OVER, due
    return request, LineStatus.MATCHED, due


async def import_uploaded_statement(file, *, imported_by: str) -> dict:
    """import_statement for an uploaded file (a form's or the API's multipart field), read up to one byte
    past the statement limit so an oversized file is refused without being held whole."""
    if file is None or not hasattr(file, "read"):
        raise DomainError("statement.no_file", "请选择要导入的对账单文件（CSV）")
    try:
        content = await file.read(_statement.MAX_BYTES + 1)
    finally:
        await file.close()
    return await import_statement(data=content, imported_by=imported_by, filename=file.filename or "")


async def import_statement(*, data: bytes, imported_by: str, filename: str = "") -> dict:
    """Parse a bank statement CSV and reconcile its new credit lines; returns counts per status."""
    lines = _statement.parse(data)  # every row checked before anything is written
    prints = _statement.fingerprints(lines)
    counts = {s.value: 0 for s in LineStatus if s is not LineStatus.RESOLVED}
    async with db.atomic():
        seen: set[str] = set()
        for i in range(0, len(prints), 500):  # bounded IN lists (SQLite limits bound parameters)
            seen.update(r["fingerprint"] for r in await StatementLine.select(StatementLine.fingerprint)
                        .where(StatementLine.fingerprint.is_in(prints[i:i + 500])))
        new = [(line, fp) for line, fp in zip(lines, prints) if fp not in seen]
        if not new:
            return {"import_id": None, "lines": len(lines), "new": 0, "already_imported": len(lines), **counts}
        batch = (await StatementImport.insert(StatementImport(
            filename=(filename or "")[:200], sha256=hashlib.sha256(data).hexdigest(), imported_by=imported_by[:200],
            lines_new=len(new))).returning(StatementImport.id))[0]["id"]
        for line, fp in new:
            # lines of one file are classified in order, so a second exact transfer for the same order
            # finds it paid and is listed as over, not recorded twice
            request, status, due = await _classify(line)
            inserted = await StatementLine.insert(StatementLine(
                import_id=batch, fingerprint=fp, row_no=line.row_no, booked_on=line.booked_on.isoformat(),
                amount_fen=line.amount_fen, payer_name=line.payer_name, payer_account=line.payer_account,
                reference_text=line.reference_text, bank_serial=line.bank_serial, status=status.value,
                order_ref=request["order_ref"] if request else "", due_fen=due,
            )).on_conflict(target=StatementLine.fingerprint, action="DO NOTHING").returning(StatementLine.id)
            if not inserted:
                continue  # imported by a concurrent upload of the same statement meanwhile
            counts[status.value] += 1
            if status is LineStatus.MATCHED:
                line_id = inserted[0]["id"]
                payment = await _receipts.record_payment(
                    order_ref=request["order_ref"], provider=Provider.BANK_TRANSFER, reference=f"line:{fp}",
                    amount_fen=line.amount_fen, recorded_by=imported_by, statement_line_id=line_id,
                    received_at=datetime.combine(line.booked_on, time(0), tzinfo=timezone.utc))
                await StatementLine.update({StatementLine.payment_id: payment["id"]}).where(StatementLine.id == line_id)
        await audit.record(action="statement.imported", object_type="bank_statement_import", object_id=batch,
                           after={"filename": filename, "lines": len(lines), "new": len(new), **counts})
        return {"import_id": batch, "lines": len(lines), "new": len(new), "already_imported": len(lines) - len(new),
                **counts}


async def list_lines(*, status: str | None = None, page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    """Statement lines, newest first; by default those waiting for a person."""
    if status:
        try:
            wanted = [LineStatus(status)]
        except ValueError:
            raise DomainError("statement.status_invalid", "状态无效：{status}", status=status) from None
    else:
        wanted = list(OPEN_STATUSES)
    cond = StatementLine.status.is_in([s.value for s in wanted])
    rows = await (StatementLine.select().where(cond).order_by(StatementLine.id, ascending=False)
                  .limit(page_size).offset((page - 1) * page_size))
    return rows, await StatementLine.count().where(cond)


# How a person settled a line. "match" records the line's money for an order; the others move no
# money through the ledger (an unmatched line was never posted), they only say what became of it.
OUTCOMES = {
    "match": N_("计入订单收款"),  # the money is this order's payment
    "returned": N_("已退回付款方"),  # the bank sent it back to the payer
    "ignored": N_("无需处理"),  # not a customer's payment (interest, a test transfer …)
}


async def resolve_line(*, line_id: int, note: str, resolved_by: str, record_for: str | None = None,
                       outcome: str | None = None) -> dict:
    """A person settles a line that did not match, saying how; with `record_for` (an order reference)
    the line's money is also recorded as a receipt for that order, in the same transaction. `outcome`
    (match, returned, ignored) names what was done: it heads the stored note and goes into the audit."""
    note = (note or "").strip()
    if len(note) < 2:
        raise DomainError("statement.note_required", "请填写处理说明")
    if outcome is not None:
        if outcome not in OUTCOMES:
            raise DomainError("statement.outcome_invalid",
                              "处理方式只能是 match（计入订单收款）、returned（已退回）或 ignored（无需处理）")
        if (outcome == "match") != bool(record_for):
            raise DomainError("statement.outcome_order", "计入订单收款时须指明订单，退回或无需处理时不能指明订单")
        note = f"{OUTCOMES[outcome]}：{note}"
    async with db.atomic():
        line = await StatementLine.select().where(StatementLine.id == line_id).first()
        if line is None:
            raise NotFound("statement.line_not_found", "未找到该对账单记录")
        if line["status"] not in [s.value for s in OPEN_STATUSES]:
            raise Conflict("statement.line_closed", "该记录已处理，无需再次处理")
        extra = {StatementLine.resolution_note: note[:2000], StatementLine.resolved_by: resolved_by[:200],
                 StatementLine.resolved_at: datetime.now(timezone.utc)}
        audit_after = {"note": note[:2000], **({"outcome": outcome} if outcome else {})}
        if record_for:
            payment = await _receipts.record_payment(
                order_ref=record_for.strip(), provider=Provider.BANK_TRANSFER, reference=f"line:{line['fingerprint']}",
                amount_fen=line["amount_fen"], recorded_by=resolved_by, statement_line_id=line_id)
            extra.update({StatementLine.payment_id: payment["id"], StatementLine.order_ref: payment["order_ref"]})
            audit_after["payment_id"] = payment["id"]
        await db.transition(StatementLine, line_id, to=LineStatus.RESOLVED, action="statement_line.resolved",
                            extra=extra, audit_after=audit_after)
        # transition() answers the row as it was read, with only its status changed: read the note, the
        # payment and the order written with it
        return await StatementLine.select().where(StatementLine.id == line_id).first()
