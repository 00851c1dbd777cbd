"""Jobs: recorded in the change's transaction, sent after commit, never lost, never for a rollback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from factories import make_user
from market import db, jobs, notifications
from market.tables import Notification, OutboxMessage

ROOT = Path(__file__).resolve().parents[2]
_DELIVER = "market.notifications.deliver_notification"


async def test_job_runs_after_commit(job_runtime):
    user = await make_user(["buyer"])
    nid = await notifications.notify(kind="test", subject="你好", user_id=user["id"])
    # the dispatcher also enqueues periodic jobs: read this job's own row, never "the first row"
    rows = await OutboxMessage.select().where(OutboxMessage.actor_name == _DELIVER)
    assert len(rows) == 1 and rows[0]["sent_at"] is None
    await job_runtime.drain()
    note = await Notification.select().where(Notification.id == nid).first()
    assert note["delivered_at"] is not None
    out = await OutboxMessage.select().where(OutboxMessage.id == rows[0]["id"]).first()
    assert out["sent_at"] is not None and out["done_at"] is not None and out["sends"] == 1


async def test_rolled_back_change_sends_nothing(job_runtime):
    user = await make_user(["buyer"])

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.atomic():
            await notifications.notify(kind="test", subject="不该发出", user_id=user["id"])
            raise Boom
    assert await OutboxMessage.count() == 0
    await job_runtime.dispatcher.run_once()
    assert not await OutboxMessage.exists().where(OutboxMessage.actor_name.like("%deliver_notification"))
    assert await Notification.count() == 0


async def test_job_is_idempotent_when_delivered_twice(job_runtime):
    user = await make_user(["buyer"])
    nid = await notifications.notify(kind="test", subject="一次", user_id=user["id"])
    await job_runtime.drain()
    first = (await Notification.select().where(Notification.id == nid).first())["delivered_at"]
    # deliver the same job again, as a redelivery after a crash would
    actor = job_runtime.broker.get_actor("market.notifications.deliver_notification")
    await asyncio.to_thread(job_runtime.broker.enqueue, actor.message(notification_id=nid))
    await job_runtime.drain()
    assert (await Notification.select().where(Notification.id == nid).first())["delivered_at"] == first


_CRASH = r"""
import asyncio, os, signal
from market.config import Settings
from market import db, identity, jobs, notifications
from market.app import TASK_MODULES

async def main():
    settings = Settings.from_env(env_file=None)
    db.bind(settings); identity.configure(settings); jobs.discover(TASK_MODULES)
    await db.start(settings)
    await notifications.notify(kind="crash", subject="提交后进程被杀", user_id=int(os.environ["UID_"]))
    # committed; now die before any dispatcher could send it
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_process_killed_between_commit_and_dispatch_loses_no_job(settings, job_runtime):
    user = await make_user(["buyer"])
    env = {**os.environ, "UID_": str(user["id"]), "MARKET_VAR_DIR": str(settings.var_dir),
           "MARKET_DATABASE_URL": settings.database_url, "MARKET_SECRET_KEY": settings.secret_key,
           "MARKET_PASSWORD_PROFILE": "cheapest"}
    proc = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", _CRASH], env=env, cwd=ROOT,
                                   capture_output=True, text=True, timeout=60)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    row = await OutboxMessage.select().where(OutboxMessage.actor_name.like("%deliver_notification")).first()
    assert row is not None and row["sent_at"] is None  # committed, never sent
    # a fresh process's dispatcher picks it up
    await job_runtime.drain()
    note = await Notification.select().where(Notification.kind == "crash").first()
    assert note["delivered_at"] is not None


async def test_unacknowledged_job_is_sent_again(settings, job_runtime):
    user = await make_user(["buyer"])
    nid = await notifications.notify(kind="test", subject="重发", user_id=user["id"])
    # pretend it was sent long ago by a worker that died before finishing
    from datetime import datetime, timedelta, timezone

    long_ago = datetime.now(timezone.utc) - timedelta(seconds=settings.outbox_redeliver_seconds + 60)
    await OutboxMessage.update({OutboxMessage.sent_at: long_ago, OutboxMessage.sends: 1}).where(
        OutboxMessage.actor_name == _DELIVER)
    await job_runtime.drain()
    assert (await Notification.select().where(Notification.id == nid).first())["delivered_at"] is not None
    # drain() also enqueues the periodic jobs; an unfiltered .first() could read one of them (finding 10)
    row = await OutboxMessage.select().where(OutboxMessage.actor_name == _DELIVER).first()
    assert row["sends"] == 2 and row["done_at"] is not None


async def test_periodic_job_is_enqueued_once_per_interval(job_runtime):
    calls = []

    @jobs.job(name="tests.tick", every_seconds=3600)
    async def tick():
        calls.append(1)

    try:
        jobs.bind_actors(job_runtime.broker)
        d2 = jobs.Dispatcher(job_runtime.broker, job_runtime.settings)
        await job_runtime.dispatcher.tick_periodic()
        await d2.tick_periodic()  # a second process in the same tick: loses the compare-and-set
        assert await OutboxMessage.count().where(OutboxMessage.actor_name == "tests.tick") == 1
        await job_runtime.drain()
        assert calls == [1]
    finally:
        jobs._registry.pop("tests.tick", None)


async def test_failing_job_keeps_its_error_in_the_outbox(job_runtime):
    @jobs.job(name="tests.fails", max_retries=0)
    async def fails():
        raise ValueError("坏数据")

    try:
        jobs.bind_actors(job_runtime.broker)
        await jobs.enqueue("tests.fails")
        try:  # the stub broker re-raises the job's error; Redis just dead-letters it
            await job_runtime.drain(timeout=10)
        except ValueError:
            pass
        # no sleep needed: the runner records the error before it re-raises, and drain() returns only
        # once the message is settled (on Redis, join() counts unacknowledged messages too)
        row = await OutboxMessage.select().where(OutboxMessage.actor_name == "tests.fails").first()
        assert row["done_at"] is None and "坏数据" in row["last_error"]
    finally:
        jobs._registry.pop("tests.fails", None)
