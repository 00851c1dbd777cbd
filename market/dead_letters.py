"""Dead letters: jobs set aside because an attempt killed its process or they failed too often.

`market.jobs` sets a job aside (`mark_dead`); nothing sends it again by itself. A platform admin
sees them (page /admin/jobs, API /api/v1/dead-letters, `market jobs`) with the job's name,
arguments, sends, last error and when, and either requeues one (the dispatcher sends it again, once)
or discards it. Every change is audited.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from market import db
from market.errors import Conflict, NotFound
from market.i18n import N_
from market.tables import OutboxMessage, OutboxStatus

# why a job was set aside (the stored code → the text shown, translated where shown)
REASONS = {
    "process_died": N_("执行时进程异常终止（例如内存耗尽被系统终止），为避免反复崩溃已停止重试"),
    "failed_repeatedly": N_("连续失败次数达到上限，已停止重试"),
    "never_acknowledged": N_("多次发送均未开始执行，已停止发送"),
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


async def mark_dead(outbox_id: int, *, reason: str, job: str, attempts_seen: int | None = None) -> bool:
    """Set a job aside (audited). With `attempts_seen`, only if that attempt is still the one recorded
    and unfinished, so a job that finished meanwhile is never set aside. False if nothing changed."""
    if reason not in REASONS:
        raise ValueError(f"unknown dead-letter reason {reason!r}")
    async with db.atomic():
        if attempts_seen is not None:
            still = await db.rowcount_update(
                OutboxMessage, {OutboxMessage.attempt_beat_at: None}, OutboxMessage.id == outbox_id,
                OutboxMessage.attempts == attempts_seen, OutboxMessage.attempt_started_at.is_not_null(),
                OutboxMessage.done_at.is_null())
            if still != 1:
                return False
        try:
            await db.transition(
                OutboxMessage, outbox_id, to=OutboxStatus.DEAD, action="job.dead_lettered", status_column="status",
                extra={OutboxMessage.dead_reason: reason, OutboxMessage.dead_at: _now(),
                       OutboxMessage.claimed_until: None, OutboxMessage.attempt_started_at: None,
                       OutboxMessage.attempt_owner: "", OutboxMessage.attempt_beat_at: None},
                audit_after={"job": job, "reason": reason})
        except (Conflict, NotFound):
            return False
    return True


def _out(row: dict) -> dict:
    return {
        "id": row["id"], "job": row["actor_name"], "arguments": json.loads(row["kwargs"] or "{}"),
        "queue": row["queue_name"], "sends": row["sends"], "attempts": row["attempts"],
        "failures": row["failures"], "last_error": row["last_error"], "reason": row["dead_reason"],
        "created_at": row["created_at"], "dead_at": row["dead_at"],
    }


async def list_dead(*, page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    """Jobs set aside and not discarded, the most recent first."""
    where = OutboxMessage.status == OutboxStatus.DEAD.value
    rows = await (OutboxMessage.select().where(where)
                  .order_by(OutboxMessage.dead_at, ascending=False).order_by(OutboxMessage.id, ascending=False)
                  .limit(page_size).offset((page - 1) * page_size))
    total = await OutboxMessage.count().where(where)
    return [_out(r) for r in rows], total


async def get(outbox_id: int) -> dict:
    row = await OutboxMessage.select().where(OutboxMessage.id == outbox_id).first()
    if row is None:
        raise NotFound("job.not_found", "没有这个任务")
    if row["status"] != OutboxStatus.DEAD.value:
        raise Conflict("job.not_dead_letter", "这个任务没有被搁置（可能已重新执行或已丢弃）")
    return _out(row)


async def requeue(outbox_id: int) -> dict:
    """Send a dead job again (platform admin): it gets a fresh count of sends and failures."""
    row = await get(outbox_id)
    async with db.atomic():
        await db.transition(
            OutboxMessage, outbox_id, to=OutboxStatus.ACTIVE, action="job.requeued", status_column="status",
            extra={OutboxMessage.sent_at: None, OutboxMessage.claimed_until: None, OutboxMessage.sends: 0,
                   OutboxMessage.attempts: 0, OutboxMessage.failures: 0, OutboxMessage.dead_reason: "",
                   OutboxMessage.dead_at: None},
            audit_after={"job": row["job"], "reason": row["reason"]})
    from market import jobs  # the dispatcher of this process, if any, sends it at once

    jobs.nudge()
    return row


async def discard(outbox_id: int) -> dict:
    """Drop a dead job for good (platform admin); the row stays, for the record."""
    row = await get(outbox_id)
    await db.transition(OutboxMessage, outbox_id, to=OutboxStatus.DISCARDED, action="job.discarded",
                        status_column="status", audit_after={"job": row["job"], "reason": row["reason"]})
    return row
