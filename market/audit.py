"""The audit chain: an append-only, hash-chained record of every state change.

`record()` runs inside the caller's transaction, so if the event cannot be written the change does
not happen either. Each event stores the hash of the one before it; `verify()` recomputes the chain
and names the first broken or missing link. Regulators read this chain.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping

from market import db
from market.context import current_actor
from market.tables import AuditEvent

GENESIS = "0" * 64
# one advisory lock serializes writers of the chain on PostgreSQL (SQLite's IMMEDIATE transactions
# already serialize writers); without it two transactions could both extend the same tail
_PG_LOCK_KEY = 7_312_025


def canonical(value: Mapping[str, Any] | None) -> str:
    if not value:
        return ""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def _digest(fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


_HASHED = ("seq", "at", "actor_user_id", "actor_org_id", "actor_label", "action", "object_type",
           "object_id", "before", "after", "request_id", "prev_hash")


def event_hash(row: Mapping[str, Any]) -> str:
    return _digest({k: row[k] for k in _HASHED})


async def hold_writer_lock() -> None:
    """Take, until the current transaction ends, the lock every audited write takes anyway.

    A service that reads before it writes (a balance it must not overdraw) takes it first, so no
    concurrent writer changes what it read; being the chain's own lock, it is always taken in the
    same order as by `record()` and cannot deadlock with it. SQLite's IMMEDIATE transactions
    already serialize writers."""
    if not db.is_sqlite():
        await AuditEvent.raw("SELECT pg_advisory_xact_lock({})", _PG_LOCK_KEY)


async def record(*, action: str, object_type: str, object_id: str | int,
                 before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None) -> int:
    """Append one event to the chain inside the current transaction; returns its seq."""
    actor = current_actor()
    async with db.atomic():
        if not db.is_sqlite():
            await AuditEvent.raw("SELECT pg_advisory_xact_lock({})", _PG_LOCK_KEY)
        last = await (AuditEvent.select(AuditEvent.seq, AuditEvent.hash)
                      .order_by(AuditEvent.seq, ascending=False).first())
        row = {
            "seq": (last["seq"] + 1) if last else 1,
            "at": datetime.now(timezone.utc).isoformat(timespec="microseconds"),
            "actor_user_id": actor.user_id,
            "actor_org_id": actor.org_id,
            "actor_label": actor.label,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "before": canonical(before),
            "after": canonical(after),
            "request_id": actor.request_id,
            "prev_hash": last["hash"] if last else GENESIS,
        }
        row["hash"] = event_hash(row)
        await AuditEvent.insert(AuditEvent(**row))
        return row["seq"]


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    events: int
    first_bad_seq: int | None = None
    reason: str = ""


async def verify(batch: int = 5000) -> ChainReport:
    """Walk the whole chain in order; stop at the first event whose link or content is wrong."""
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    after_seq = 0
    while True:
        rows = await (AuditEvent.select().where(AuditEvent.seq > after_seq)
                      .order_by(AuditEvent.seq).limit(batch))
        if not rows:
            return ChainReport(ok=True, events=count)
        for row in rows:
            if row["seq"] != expected_seq:
                return ChainReport(False, count, expected_seq,
                                   f"event #{expected_seq} is missing (next found is #{row['seq']})")
            if row["prev_hash"] != expected_prev:
                return ChainReport(False, count, row["seq"],
                                   f"event #{row['seq']} ({row['action']}) does not link to event #{row['seq'] - 1}")
            if event_hash(row) != row["hash"]:
                return ChainReport(False, count, row["seq"],
                                   f"event #{row['seq']} ({row['action']}) was altered: its content no longer matches its hash")
            expected_prev = row["hash"]
            expected_seq += 1
            count += 1
            after_seq = row["seq"]


async def head() -> dict | None:
    """The latest event: publishing its seq and hash elsewhere anchors the chain against truncation."""
    return await (AuditEvent.select(AuditEvent.seq, AuditEvent.hash, AuditEvent.at)
                  .order_by(AuditEvent.seq, ascending=False).first())


async def events(*, page: int = 1, page_size: int = 50, action: str | None = None,
                 object_type: str | None = None, object_id: str | None = None,
                 org_id: int | None = None) -> tuple[list[dict], int]:
    query = AuditEvent.select()
    count = AuditEvent.count()
    conds = []
    if action:
        conds.append(AuditEvent.action == action)
    if object_type:
        conds.append(AuditEvent.object_type == object_type)
    if object_id:
        conds.append(AuditEvent.object_id == object_id)
    if org_id is not None:
        conds.append(AuditEvent.actor_org_id == org_id)
    for c in conds:
        query = query.where(c)
        count = count.where(c)
    rows = await (query.order_by(AuditEvent.seq, ascending=False)
                  .limit(page_size).offset((page - 1) * page_size))
    return rows, await count
