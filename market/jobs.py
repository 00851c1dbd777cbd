"""Background jobs: Dramatiq behind a transactional outbox.

- `@job(...)` registers a function; nothing is bound to a broker at import time.
- `enqueue(fn, **kwargs)` writes an outbox row inside the caller's transaction: a rolled-back change
  sends nothing, and a committed one is sent even if the process dies right after the commit.
- `Dispatcher` (in every `market serve` and `market worker`) sends committed rows to the broker and
  resends rows whose job never reported done (a worker crashed), so no job is lost. Jobs are
  therefore delivered at least once: every job must be idempotent.
- Each attempt is recorded on its outbox row BEFORE the job runs (`attempt_started_at`, its owner
  process, a heartbeat) and cleared when it reports done or failed. A job whose attempt killed its
  process (found by the next delivery or by any dispatcher: the owner is gone, or silent), or that
  failed `MARKET_JOB_MAX_FAILURES` times, is set aside as a dead letter (`status = dead`): never sent
  again by itself, so one poisonous upload cannot put the site into a crash loop. Its spec's
  `on_dead_letter(kwargs, reason)` lets the owning package record why on its object; a platform
  admin requeues or discards it (`market.dead_letters`).
- Periodic jobs are enqueued by the dispatcher; a compare-and-set on `schedule_run` lets exactly one
  process win each tick.
- Async jobs run on the process's own event loop (the web app's in `market serve`), so they share
  its database pool; sync jobs run in the worker thread and may call `run_async()` for the database.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dramatiq
from dramatiq.brokers.stub import StubBroker

from market import _attempts, db, dead_letters
from market.config import Settings
from market.tables import OutboxMessage, OutboxStatus, ScheduleRun

log = logging.getLogger("market.jobs")

MAX_SENDS = 5  # a job sent this often without finishing is set aside
# an attempt whose process cannot be checked from here is dead after this many silent heartbeats
_SILENT_BEATS = 4


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: Callable
    queue: str
    max_retries: int
    time_limit_ms: int
    every_seconds: int | None = None  # periodic
    # async (kwargs, reason) called once the job is set aside, so the owning package can record why
    # on its object; reason is one of dead_letters.REASONS. Must be idempotent and not raise.
    on_dead_letter: Callable[[dict, str], Awaitable[None]] | None = None


_registry: dict[str, JobSpec] = {}


def job(*, name: str | None = None, queue: str = "default", max_retries: int = 3,
        time_limit_ms: int = 30 * 60 * 1000, every_seconds: int | None = None,
        on_dead_letter: Callable[[dict, str], Awaitable[None]] | None = None):
    """Register a job. Its keyword arguments must be JSON values (ids, not objects)."""

    def deco(fn: Callable) -> Callable:
        spec_name = name or f"{fn.__module__}.{fn.__name__}"
        _registry[spec_name] = JobSpec(spec_name, fn, queue, max_retries, time_limit_ms, every_seconds,
                                       on_dead_letter)
        fn.job_name = spec_name
        return fn

    return deco


def registry() -> dict[str, JobSpec]:
    return dict(_registry)


def _name(target: Callable | str) -> str:
    name = target if isinstance(target, str) else getattr(target, "job_name", "")
    if name not in _registry:
        raise KeyError(f"unknown job {target!r}")
    return name


_nudge: Callable[[], None] | None = None


def nudge() -> None:
    """Ask this process's dispatcher to look at the outbox now (no-op where none runs)."""
    if _nudge is not None:
        _nudge()


async def enqueue(target: Callable | str, **kwargs) -> int:
    """Record a job in the current transaction; it is sent after commit."""
    name = _name(target)
    spec = _registry[name]
    async with db.atomic():
        rows = await OutboxMessage.insert(
            OutboxMessage(actor_name=name, queue_name=spec.queue,
                          kwargs=json.dumps(kwargs, ensure_ascii=False, sort_keys=True))
        ).returning(OutboxMessage.id)
    if _nudge is not None:
        _nudge()
    return rows[0]["id"]


# ---- running jobs ---------------------------------------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None
_settings: Settings | None = None  # the running JobRuntime's: failure limit, heartbeat


def _policy() -> Settings:
    return _settings or Settings()


def run_async(awaitable):
    """From a worker thread, run a coroutine (or a query) on the process's event loop and wait for it."""
    if _loop is None:
        raise RuntimeError("no job event loop: start a JobRuntime first")
    if not asyncio.iscoroutine(awaitable):
        awaitable = _awaited(awaitable)
    return asyncio.run_coroutine_threadsafe(awaitable, _loop).result()


async def _awaited(awaitable):
    return await awaitable


async def _mark_failed(outbox_id: int, error: str) -> None:
    await OutboxMessage.update({OutboxMessage.last_error: error[:2000]}).where(OutboxMessage.id == outbox_id)


def _attempt_alive(row: dict) -> bool:
    return _attempts.alive(row, silent_after=_SILENT_BEATS * _policy().job_heartbeat_seconds)


async def _set_aside(row: dict, reason: str) -> bool:
    """Dead-letter the job of this row (if it is still the attempt seen), then run its spec's hook."""
    if not await dead_letters.mark_dead(row["id"], reason=reason, job=row["actor_name"],
                                        attempts_seen=row["attempts"] if reason == "process_died" else None):
        return False  # finished meanwhile, or another process set it aside first
    log.warning("job %s (outbox %s) set aside: %s", row["actor_name"], row["id"], reason)
    spec = _registry.get(row["actor_name"])
    if spec is not None and spec.on_dead_letter is not None:
        try:
            await spec.on_dead_letter(json.loads(row["kwargs"]), reason)
        except Exception:  # the job stays set aside either way; the admin page shows it
            log.exception("on_dead_letter of %s failed", row["actor_name"])
    return True


async def _begin_attempt(outbox_id: int, job_name: str) -> bool:
    """Record the attempt before the job runs; False: do not run it (done, dead, running elsewhere)."""
    row = await OutboxMessage.select(*_attempts.ROW).where(OutboxMessage.id == outbox_id).first()
    if row is None or row["actor_name"] != job_name:  # a stale message from before a database reset
        log.warning("message of %s for outbox row %s ignored: no such job there", job_name, outbox_id)
        return False
    if row["done_at"] is not None or row["status"] != OutboxStatus.ACTIVE.value:
        return False  # a late duplicate of a finished or set-aside job
    if row["attempt_started_at"] is not None:
        if not _attempt_alive(row):
            # the previous attempt began and never reported back: it took its process with it
            await _reap_owner(row["attempt_owner"])
        return False  # otherwise it is still running elsewhere and this delivery is a duplicate
    return await _attempts.begin(outbox_id)


async def _reap_owner(owner: str) -> None:
    """The process `owner` died with attempts in flight: each of them is set aside. Which one killed
    it cannot be told when several ran together, and sending any of them again risks the crash loop;
    one that merely ran beside the culprit waits on the admin page to be requeued (a periodic job is
    enqueued again at its next tick anyway)."""
    rows = await (OutboxMessage.select(*_attempts.ROW)
                  .where(OutboxMessage.attempt_owner == owner, OutboxMessage.attempt_started_at.is_not_null(),
                         OutboxMessage.done_at.is_null(), OutboxMessage.status == OutboxStatus.ACTIVE.value)
                  .order_by(OutboxMessage.id))
    if any(_attempt_alive(r) for r in rows):
        return
    for row in rows:
        await _set_aside(row, "process_died")


async def _attempt_failed(outbox_id: int, error: str) -> bool:
    """Record a failed attempt; True if that was one too many and the job is now set aside."""
    failures = await _attempts.failed(outbox_id, error)
    if failures is None or failures < _policy().job_max_failures:
        return False
    row = await OutboxMessage.select(*_attempts.ROW).where(OutboxMessage.id == outbox_id).first()
    return await _set_aside(row, "failed_repeatedly")


def _call(spec: JobSpec, kwargs: dict) -> None:
    if inspect.iscoroutinefunction(spec.fn):
        run_async(spec.fn(**kwargs))
    else:
        spec.fn(**kwargs)


def _make_runner(spec: JobSpec) -> Callable:
    def run(outbox_id: int | None = None, **kwargs):
        if outbox_id is None:  # sent by hand, outside the outbox: nothing to account to
            _call(spec, kwargs)
            return
        if not run_async(_begin_attempt(outbox_id, spec.name)):
            return
        beat = asyncio.run_coroutine_threadsafe(
            _attempts.heartbeat(outbox_id, _policy().job_heartbeat_seconds), _loop)
        try:
            _call(spec, kwargs)
        except BaseException as exc:  # dramatiq's time limit interrupts with a BaseException
            beat.cancel()
            if run_async(_attempt_failed(outbox_id, f"{type(exc).__name__}: {exc}")):
                return  # set aside: no further retries
            raise
        beat.cancel()
        run_async(_attempts.done(outbox_id))

    run.__name__ = spec.name.replace(".", "_")
    return run


def make_broker(settings: Settings) -> dramatiq.Broker:
    kind = settings.broker_kind
    if kind == "redis":
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=settings.broker_url)
    elif kind == "amqp":
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=settings.broker_url)
    else:
        broker = StubBroker()
    return broker


def bind_actors(broker: dramatiq.Broker) -> None:
    """Declare every registered job as a Dramatiq actor on this broker (always with broker=)."""
    for spec in _registry.values():
        if spec.name in broker.actors:
            continue
        dramatiq.actor(_make_runner(spec), actor_name=spec.name, queue_name=spec.queue, broker=broker,
                       max_retries=spec.max_retries, time_limit=spec.time_limit_ms,
                       min_backoff=1000, max_backoff=60_000)


def discover(modules: list[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def _now() -> datetime:
    return datetime.now(timezone.utc)


class Dispatcher:
    """Sends committed outbox rows to the broker; resends unacknowledged ones; ticks periodic jobs."""

    def __init__(self, broker: dramatiq.Broker, settings: Settings):
        self.broker = broker
        self.settings = settings
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        loop = asyncio.get_running_loop() if _in_loop() else None
        if loop is not None:
            loop.call_later(0.05, self._wake.set)

    async def run_once(self) -> int:
        await self.tick_periodic()
        await self.reap()
        now = _now()
        redeliver_before = now - timedelta(seconds=self.settings.outbox_redeliver_seconds)
        candidates = await (
            OutboxMessage.select(*_attempts.ROW)
            .where(OutboxMessage.status == OutboxStatus.ACTIVE.value)  # never a dead letter
            .where(OutboxMessage.done_at.is_null())
            .where(OutboxMessage.attempt_started_at.is_null())  # running, or dead and left to reap()
            .where(OutboxMessage.sent_at.is_null() | (OutboxMessage.sent_at < redeliver_before))
            .order_by(OutboxMessage.id).limit(200)
        )
        sent = 0
        for row in candidates:
            if row["claimed_until"] is not None and row["claimed_until"] > now:
                continue
            claim = await db.rowcount_update(
                OutboxMessage, {OutboxMessage.claimed_until: now + timedelta(seconds=30)},
                OutboxMessage.id == row["id"],
                OutboxMessage.claimed_until.is_null() | (OutboxMessage.claimed_until <= now))
            if claim != 1:
                continue  # another dispatcher took it
            if row["sends"] >= MAX_SENDS:  # sent again and again without ever finishing
                await _set_aside(row, "failed_repeatedly" if row["attempts"] else "never_acknowledged")
                continue
            actor_name = row["actor_name"]
            if actor_name not in self.broker.actors:
                await _mark_failed(row["id"], f"no such job: {actor_name}")
                continue
            actor = self.broker.get_actor(actor_name)
            kwargs = json.loads(row["kwargs"])
            message = actor.message_with_options(kwargs={**kwargs, "outbox_id": row["id"]})
            await asyncio.to_thread(self.broker.enqueue, message)
            await OutboxMessage.update({
                OutboxMessage.sent_at: _now(),
                OutboxMessage.sends: OutboxMessage.sends + 1,
            }).where(OutboxMessage.id == row["id"])
            sent += 1
        return sent

    async def reap(self) -> None:
        """Set aside jobs whose attempt began and whose process is gone (or silent): on the next
        start after such a crash, the job is not sent again."""
        rows = await (OutboxMessage.select(*_attempts.ROW)
                      .where(OutboxMessage.status == OutboxStatus.ACTIVE.value)
                      .where(OutboxMessage.done_at.is_null())
                      .where(OutboxMessage.attempt_started_at.is_not_null())
                      .order_by(OutboxMessage.id))
        for owner in dict.fromkeys(r["attempt_owner"] for r in rows if not _attempt_alive(r)):
            await _reap_owner(owner)

    async def tick_periodic(self) -> None:
        now = _now()
        for spec in _registry.values():
            if not spec.every_seconds:
                continue
            await ScheduleRun.insert(
                ScheduleRun(name=spec.name, last_enqueued_at=now - timedelta(seconds=spec.every_seconds))
            ).on_conflict(target=ScheduleRun.name, action="DO NOTHING")
            async with db.atomic():
                won = await db.rowcount_update(
                    ScheduleRun, {ScheduleRun.last_enqueued_at: now}, ScheduleRun.name == spec.name,
                    ScheduleRun.last_enqueued_at <= now - timedelta(seconds=spec.every_seconds))
                if won:
                    await enqueue(spec.name)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # keep dispatching; the rows stay in the outbox
                log.exception("outbox dispatch failed")
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.outbox_poll_seconds)
            except TimeoutError:
                pass


def _in_loop() -> bool:
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        return False


class JobRuntime:
    """Broker + dispatcher (+ worker threads) for one process, on that process's event loop."""

    def __init__(self, settings: Settings, *, with_worker: bool, with_dispatcher: bool = True):
        self.settings = settings
        self.with_worker = with_worker
        self.with_dispatcher = with_dispatcher
        self.broker = make_broker(settings)
        bind_actors(self.broker)
        self.dispatcher = Dispatcher(self.broker, settings)
        self.worker: dramatiq.Worker | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        global _loop, _nudge, _settings
        _loop = asyncio.get_running_loop()
        _settings = self.settings
        _nudge = self.dispatcher.nudge
        if self.with_worker:
            self.worker = dramatiq.Worker(self.broker, worker_threads=self.settings.worker_threads,
                                          worker_timeout=100)
            self.worker.start()
        if self.with_dispatcher:
            self._task = asyncio.create_task(self.dispatcher.run_forever(self._stop))

    async def stop(self) -> None:
        global _nudge
        _nudge = None
        self._stop.set()
        self.dispatcher._wake.set()
        if self._task:
            await self._task
        if self.worker:
            await asyncio.to_thread(self.worker.stop)
            # attempts this process began and a clean stop cut short did not kill it: give them back
            # to the dispatcher (sent again later) instead of letting the next start set them aside
            try:
                await OutboxMessage.update(dict(_attempts.NO_ATTEMPT)).where(
                    OutboxMessage.attempt_owner == _attempts.owner(), OutboxMessage.done_at.is_null(),
                    OutboxMessage.status == OutboxStatus.ACTIVE.value)
            except Exception:  # the database is gone too: the next start will judge these attempts
                log.warning("could not release this process's unfinished attempts", exc_info=True)
        await asyncio.to_thread(self.broker.close)

    async def drain(self, timeout: float = 30.0) -> None:
        """Send everything pending and wait until the queues are empty (tests, `market demo`)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            await self.dispatcher.run_once()
            extra = {"fail_fast": True} if isinstance(self.broker, StubBroker) else {}
            for queue in list(self.broker.get_declared_queues()):
                await asyncio.to_thread(self.broker.join, queue, timeout=int(timeout * 1000), **extra)
            pending = await (OutboxMessage.count().where(OutboxMessage.done_at.is_null())
                             .where(OutboxMessage.status == OutboxStatus.ACTIVE.value)
                             .where(OutboxMessage.sent_at.is_null()))
            if not pending:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{pending} jobs still pending")
