"""Background jobs: Dramatiq behind a transactional outbox.

- `@job(...)` registers a function; nothing is bound to a broker at import time.
- `enqueue(fn, **kwargs)` writes an outbox row inside the caller's transaction: a rolled-back change
  sends nothing, and a committed one is sent even if the process dies right after the commit.
- `Dispatcher` (in every `market serve` and `market worker`) sends committed rows to the broker and
  resends rows whose job never reported done (a worker crashed), so no job is lost. Jobs are
  therefore delivered at least once: every job must be idempotent.
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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dramatiq
from dramatiq.brokers.stub import StubBroker

from market import db
from market.config import Settings
from market.tables import OutboxMessage, ScheduleRun

log = logging.getLogger("market.jobs")

MAX_SENDS = 5  # a job that failed this many deliveries stays in the outbox with its last error


@dataclass(frozen=True)
class JobSpec:
    name: str
    fn: Callable
    queue: str
    max_retries: int
    time_limit_ms: int
    every_seconds: int | None = None  # periodic


_registry: dict[str, JobSpec] = {}


def job(*, name: str | None = None, queue: str = "default", max_retries: int = 3,
        time_limit_ms: int = 30 * 60 * 1000, every_seconds: int | None = None):
    """Register a job. Its keyword arguments must be JSON values (ids, not objects)."""

    def deco(fn: Callable) -> Callable:
        spec_name = name or f"{fn.__module__}.{fn.__name__}"
        _registry[spec_name] = JobSpec(spec_name, fn, queue, max_retries, time_limit_ms, every_seconds)
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


def run_async(awaitable):
    """From a worker thread, run a coroutine (or a query) on the process's event loop and wait for it."""
    if _loop is None:
        raise RuntimeError("no job event loop: start a JobRuntime first")
    if not asyncio.iscoroutine(awaitable):
        awaitable = _awaited(awaitable)
    return asyncio.run_coroutine_threadsafe(awaitable, _loop).result()


async def _awaited(awaitable):
    return await awaitable


async def _mark_done(outbox_id: int) -> None:
    await OutboxMessage.update({OutboxMessage.done_at: _now(), OutboxMessage.last_error: ""}).where(
        OutboxMessage.id == outbox_id)


async def _mark_failed(outbox_id: int, error: str) -> None:
    await OutboxMessage.update({OutboxMessage.last_error: error[:2000]}).where(OutboxMessage.id == outbox_id)


def _make_runner(spec: JobSpec) -> Callable:
    def run(outbox_id: int | None = None, **kwargs):
        try:
            if inspect.iscoroutinefunction(spec.fn):
                run_async(spec.fn(**kwargs))
            else:
                spec.fn(**kwargs)
        except Exception as exc:
            if outbox_id is not None:
                run_async(_mark_failed(outbox_id, f"{type(exc).__name__}: {exc}"))
            raise
        if outbox_id is not None:
            run_async(_mark_done(outbox_id))

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
        now = _now()
        redeliver_before = now - timedelta(seconds=self.settings.outbox_redeliver_seconds)
        candidates = await (
            OutboxMessage.select(OutboxMessage.id, OutboxMessage.actor_name, OutboxMessage.queue_name,
                                 OutboxMessage.kwargs, OutboxMessage.sent_at, OutboxMessage.claimed_until)
            .where(OutboxMessage.done_at.is_null())
            .where(OutboxMessage.sends < MAX_SENDS)
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
        global _loop, _nudge
        _loop = asyncio.get_running_loop()
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
                             .where(OutboxMessage.sent_at.is_null()))
            if not pending:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{pending} jobs still pending")
