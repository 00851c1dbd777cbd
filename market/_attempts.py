"""A job attempt's record on its outbox row, and whether the process running it still exists
(private to market.jobs).

An attempt records its owner before the job runs. When a later delivery or a dispatcher finds an
attempt that never reported back, it must tell "still running elsewhere" from "its process died".
On the same machine and in the same PID namespace the answer is certain: the owner names the
boot, the PID namespace, the PID and the PID's start time (so a recycled PID is not mistaken for
the owner). Anywhere else (another machine, another container) it cannot be known from here, and
the caller falls back to the attempt's heartbeat.
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import datetime, timedelta, timezone
from functools import lru_cache

from market import db
from market.tables import OutboxMessage, OutboxStatus

log = logging.getLogger("market.jobs")

# the columns the runner and the dispatcher read to decide about a row
ROW = (OutboxMessage.id, OutboxMessage.actor_name, OutboxMessage.queue_name, OutboxMessage.kwargs,
       OutboxMessage.sent_at, OutboxMessage.sends, OutboxMessage.claimed_until, OutboxMessage.done_at,
       OutboxMessage.status, OutboxMessage.attempt_started_at, OutboxMessage.attempt_owner,
       OutboxMessage.attempt_beat_at, OutboxMessage.attempts)
NO_ATTEMPT = {OutboxMessage.attempt_started_at: None, OutboxMessage.attempt_owner: "",
              OutboxMessage.attempt_beat_at: None}


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _read(path: str) -> str:
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return ""


@lru_cache(maxsize=1)
def _machine() -> str:
    """This boot of this machine and this PID namespace ('' where /proc does not tell)."""
    boot = _read("/proc/sys/kernel/random/boot_id")
    try:
        pid_ns = os.readlink("/proc/self/ns/pid")
    except OSError:
        pid_ns = ""
    return f"{boot}|{pid_ns}" if boot and pid_ns else ""


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot, or None if it is gone (or a zombie)."""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    # the command name (field 2) may hold spaces and parentheses: split after the last ')'
    fields = stat.rpartition(")")[2].split()
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]  # field 22 of proc(5)


def owner() -> str:
    """This process, as recorded on an attempt it starts (computed per call: a fork is another owner)."""
    pid = os.getpid()
    machine = _machine()
    start = _start_time(pid) if machine else None
    return f"{machine}|{pid}|{start}" if machine and start else f"?|{pid}"


def owner_alive(recorded: str) -> bool | None:
    """True or False when this process can tell whether the recorded owner still runs; None if not."""
    machine = _machine()
    parts = recorded.split("|")
    if not machine or len(parts) != 4 or f"{parts[0]}|{parts[1]}" != machine:
        return None
    try:
        pid = int(parts[2])
    except ValueError:
        return None
    return _start_time(pid) == parts[3]


def alive(row: dict, *, silent_after: float) -> bool:
    """Is the attempt recorded on this row still running somewhere?"""
    known = owner_alive(row["attempt_owner"])
    if known is not None:
        return known
    last = row["attempt_beat_at"] or row["attempt_started_at"]
    return last > _now() - timedelta(seconds=silent_after)


async def begin(outbox_id: int) -> bool:
    """Record an attempt by this process before the job runs; False if another one holds the row."""
    now = _now()
    won = await db.rowcount_update(
        OutboxMessage, {OutboxMessage.attempt_started_at: now, OutboxMessage.attempt_beat_at: now,
                        OutboxMessage.attempt_owner: owner(), OutboxMessage.attempts: OutboxMessage.attempts + 1},
        OutboxMessage.id == outbox_id, OutboxMessage.attempt_started_at.is_null(),
        OutboxMessage.status == OutboxStatus.ACTIVE.value)
    return won == 1


async def done(outbox_id: int) -> None:
    await OutboxMessage.update({OutboxMessage.done_at: _now(), OutboxMessage.last_error: "", **NO_ATTEMPT}).where(
        OutboxMessage.id == outbox_id)


async def failed(outbox_id: int, error: str) -> int | None:
    """Record a failed attempt; returns the row's count of failures (None: no such row)."""
    rows = await OutboxMessage.update({
        OutboxMessage.last_error: error[:2000], OutboxMessage.failures: OutboxMessage.failures + 1, **NO_ATTEMPT,
    }).where(OutboxMessage.id == outbox_id).returning(OutboxMessage.failures)
    return rows[0]["failures"] if rows else None


async def heartbeat(outbox_id: int, every: float) -> None:
    """Runs beside an attempt (cancelled when it ends) so other machines can tell it still lives."""
    while True:
        await asyncio.sleep(every)
        try:
            await OutboxMessage.update({OutboxMessage.attempt_beat_at: _now()}).where(
                OutboxMessage.id == outbox_id, OutboxMessage.attempt_started_at.is_not_null())
        except Exception:  # a missed beat only matters after several; the next one may pass
            log.warning("heartbeat of outbox %s failed", outbox_id, exc_info=True)
