"""Dead letters: a job whose attempt killed its process, or that failed too often, is set aside
(never sent again by itself) with its reason; the platform admin sees it and requeues or discards it."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from factories import login, make_user
from market import _attempts, dead_letters, jobs
from market.config import ConfigError, Settings
from market.context import Actor, acting_as
from market.tables import AuditEvent, OutboxMessage, Role

ROOT = Path(__file__).resolve().parents[2]

# One start of a job process (as `market serve` runs jobs in-process) whose profiling job kills
# its own process, as a file that exhausts memory gets the process killed by the kernel.
_START = r"""
import asyncio, os, signal
from market.config import Settings
from market import db, identity, jobs, runtime
from market.app import TASK_MODULES
import listings.service

def poisonous(version_id, storage):
    print("profiling", version_id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

listings.service.run_profile = poisonous

async def main():
    settings = Settings.from_env(env_file=None)
    db.bind(settings); identity.configure(settings); runtime.configure(settings); jobs.discover(TASK_MODULES)
    await db.start(settings)
    rt = jobs.JobRuntime(settings, with_worker=True, with_dispatcher=False)
    await rt.start()
    await rt.drain(timeout=60)
    await rt.stop()
    print("started and drained", flush=True)

asyncio.run(main())
"""


def _env(settings, **extra) -> dict:
    env = {**os.environ, "MARKET_VAR_DIR": str(settings.var_dir), "MARKET_DATABASE_URL": settings.database_url,
           "MARKET_SECRET_KEY": settings.secret_key, "MARKET_PASSWORD_PROFILE": "cheapest",
           "PYTHONPATH": str(ROOT), **extra}
    env.pop("MARKET_BROKER_URL", None)  # in-process jobs, as `make run` serves them
    return env


async def _start(settings, **extra) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-c", _START], env=_env(settings, **extra),
                                   cwd=ROOT, capture_output=True, text=True, timeout=120)


async def _upload(holder: dict) -> dict:
    from listings import service
    from market import runtime

    with acting_as(Actor(user_id=holder["id"], org_id=holder["org"]["id"], label=holder["email"])):
        return await service.upload(storage=runtime.storage(), holder_org_id=holder["org"]["id"],
                                    user_id=holder["id"], stream=io.BytesIO("区县,人口\n上城区,135\n".encode()),
                                    filename="宽表.csv")


async def _row(actor_name: str) -> dict:
    return await OutboxMessage.select().where(OutboxMessage.actor_name == actor_name).first()


async def test_job_that_killed_its_process_is_set_aside_on_the_next_start(settings):
    holder = await make_user(["holder"])
    uploaded = await _upload(holder)
    first = await _start(settings)
    assert first.returncode == -signal.SIGKILL, first.stdout + first.stderr
    assert "profiling" in first.stdout
    row = await _row("listings.profile_version")
    # the attempt was recorded before the job ran, and never reported back
    assert row["attempt_started_at"] is not None and row["done_at"] is None and row["sends"] == 1

    # the next start resends whatever was not acknowledged (redelivery at once): before dead letters
    # it ran the same job again and was killed again, a crash loop
    second = await _start(settings, MARKET_OUTBOX_REDELIVER_SECONDS="0")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "profiling" not in second.stdout and "started and drained" in second.stdout
    row = await _row("listings.profile_version")
    assert (row["status"], row["dead_reason"], row["sends"], row["attempts"]) == ("dead", "process_died", 1, 1)
    assert row["attempt_started_at"] is None and row["dead_at"] is not None

    # and the version says why, in the holder's words
    from listings import service

    data = await service.get_asset(asset_id=uploaded["id"])
    assert data["version"]["profile_status"] == "failed"
    assert data["version"]["error_code"] == "profile.process_died"
    assert "处理此文件时进程异常终止，已停止重试" in data["version"]["error"]
    assert await AuditEvent.exists().where((AuditEvent.action == "job.dead_lettered")
                                           & (AuditEvent.object_id == str(row["id"])))

    # a third start does not send it either
    third = await _start(settings, MARKET_OUTBOX_REDELIVER_SECONDS="0")
    assert third.returncode == 0 and "profiling" not in third.stdout, third.stdout + third.stderr
    assert (await _row("listings.profile_version"))["sends"] == 1


@pytest.fixture
def probe_job():
    """A job that records its calls and fails while `fail` is set; its dead-letter hook records too."""
    calls: list[dict] = []
    hooked: list[tuple[dict, str]] = []
    state = {"fail": True}

    async def on_dead(kwargs: dict, reason: str) -> None:
        hooked.append((kwargs, reason))

    @jobs.job(name="tests.probe", max_retries=5, on_dead_letter=on_dead)
    async def probe(thing: int) -> None:
        calls.append({"thing": thing})
        if state["fail"]:
            raise ValueError("坏数据")

    yield calls, hooked, state
    jobs._registry.pop("tests.probe", None)


async def _runtime(settings, **changes) -> jobs.JobRuntime:
    rt = jobs.JobRuntime(replace(settings, **changes), with_worker=True, with_dispatcher=False)
    await rt.start()
    return rt


async def test_job_failing_the_set_number_of_times_is_set_aside(settings, probe_job):
    calls, hooked, _ = probe_job
    rt = await _runtime(settings, job_max_failures=2)
    try:
        await jobs.enqueue("tests.probe", thing=7)
        await rt.drain(timeout=60)  # dramatiq retries once (backoff), then the job is set aside
        row = await _row("tests.probe")
        assert (row["status"], row["dead_reason"], row["failures"]) == ("dead", "failed_repeatedly", 2)
        assert "坏数据" in row["last_error"] and row["done_at"] is None
        assert len(calls) == 2 and hooked == [({"thing": 7}, "failed_repeatedly")]
        # the dispatcher's redelivery never resends it
        long_ago = datetime.now(timezone.utc) - timedelta(seconds=settings.outbox_redeliver_seconds + 60)
        await OutboxMessage.update({OutboxMessage.sent_at: long_ago}).where(OutboxMessage.id == row["id"])
        await rt.drain(timeout=30)
        assert len(calls) == 2 and (await _row("tests.probe"))["sends"] == 1
    finally:
        await rt.stop()


async def test_redelivered_message_of_a_dead_attempt_is_set_aside_not_run(job_runtime, probe_job):
    """A broker's own redelivery (Redis requeues a dead worker's messages) meets the same rule."""
    calls, hooked, _ = probe_job
    jobs.bind_actors(job_runtime.broker)
    outbox_id = await jobs.enqueue("tests.probe", thing=3)
    # an attempt began in a process that has since exited
    gone = await asyncio.to_thread(subprocess.run, [sys.executable, "-c",
                                                    "from market import _attempts; print(_attempts.owner())"],
                                   cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                                   capture_output=True, text=True, timeout=60)
    now = datetime.now(timezone.utc)
    await OutboxMessage.update({OutboxMessage.attempt_started_at: now, OutboxMessage.attempt_beat_at: now,
                                OutboxMessage.attempt_owner: gone.stdout.strip(), OutboxMessage.attempts: 1,
                                OutboxMessage.sent_at: now, OutboxMessage.sends: 1}).where(
        OutboxMessage.id == outbox_id)
    actor = job_runtime.broker.get_actor("tests.probe")
    await asyncio.to_thread(job_runtime.broker.enqueue, actor.message(thing=3, outbox_id=outbox_id))
    await job_runtime.drain(timeout=30)
    row = await _row("tests.probe")
    assert (row["status"], row["dead_reason"]) == ("dead", "process_died")
    assert calls == [] and hooked == [({"thing": 3}, "process_died")]


async def test_attempt_of_a_live_process_is_neither_resent_nor_set_aside(job_runtime, probe_job):
    calls, _, _ = probe_job
    jobs.bind_actors(job_runtime.broker)
    outbox_id = await jobs.enqueue("tests.probe", thing=1)
    long_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    # a long job, running in this (live) process, sent long ago: not a candidate for anything
    await OutboxMessage.update({OutboxMessage.attempt_started_at: long_ago, OutboxMessage.attempt_beat_at: long_ago,
                                OutboxMessage.attempt_owner: _attempts.owner(), OutboxMessage.attempts: 1,
                                OutboxMessage.sent_at: long_ago, OutboxMessage.sends: 1}).where(
        OutboxMessage.id == outbox_id)
    await job_runtime.dispatcher.run_once()
    row = await _row("tests.probe")
    assert (row["status"], row["sends"]) == ("active", 1) and calls == []


async def test_jobs_in_flight_on_a_machine_gone_silent_are_set_aside(job_runtime, probe_job):
    """Attempts of a process on another machine, silent for longer than its heartbeats allow, are
    all set aside: which of them killed it is unknown, and sending any again risks the crash loop."""
    calls, hooked, state = probe_job
    state["fail"] = False
    jobs.bind_actors(job_runtime.broker)
    ids = [await jobs.enqueue("tests.probe", thing=n) for n in (1, 2)]
    silent = datetime.now(timezone.utc) - timedelta(seconds=10 * job_runtime.settings.job_heartbeat_seconds)
    await OutboxMessage.update({OutboxMessage.attempt_started_at: silent, OutboxMessage.attempt_beat_at: silent,
                                OutboxMessage.attempt_owner: "another-boot|pid:[1]|4242|100",
                                OutboxMessage.attempts: 1, OutboxMessage.sent_at: silent,
                                OutboxMessage.sends: 1}).where(OutboxMessage.id.is_in(ids))
    # one of them still beats: the process lives, nothing happens
    await OutboxMessage.update({OutboxMessage.attempt_beat_at: datetime.now(timezone.utc)}).where(
        OutboxMessage.id == ids[1])
    await job_runtime.dispatcher.run_once()
    rows = await OutboxMessage.select().where(OutboxMessage.id.is_in(ids)).order_by(OutboxMessage.id)
    assert [r["status"] for r in rows] == ["active", "active"]
    await OutboxMessage.update({OutboxMessage.attempt_beat_at: silent}).where(OutboxMessage.id == ids[1])
    await job_runtime.drain(timeout=30)
    rows = await OutboxMessage.select().where(OutboxMessage.id.is_in(ids)).order_by(OutboxMessage.id)
    assert [(r["status"], r["dead_reason"]) for r in rows] == [("dead", "process_died")] * 2
    assert calls == [] and sorted(h[0]["thing"] for h in hooked) == [1, 2]


def test_a_silent_attempt_elsewhere_is_judged_by_its_heartbeat():
    now = datetime.now(timezone.utc)
    elsewhere = {"attempt_owner": "another-boot|pid:[4026531836]|4242|100", "attempt_started_at": now}
    assert _attempts.alive({**elsewhere, "attempt_beat_at": now - timedelta(seconds=5)}, silent_after=60)
    assert not _attempts.alive({**elsewhere, "attempt_beat_at": now - timedelta(seconds=61)}, silent_after=60)
    # this very process is alive whatever its heartbeat says; an exited one is not
    me = {"attempt_owner": _attempts.owner(), "attempt_started_at": now - timedelta(days=1), "attempt_beat_at": None}
    assert _attempts.alive(me, silent_after=60)


async def test_clean_stop_gives_unfinished_attempts_back(settings, probe_job):
    rt = await _runtime(settings)
    outbox_id = await jobs.enqueue("tests.probe", thing=5)
    now = datetime.now(timezone.utc)
    await OutboxMessage.update({OutboxMessage.attempt_started_at: now, OutboxMessage.attempt_owner: _attempts.owner(),
                                OutboxMessage.attempts: 1, OutboxMessage.sent_at: now}).where(
        OutboxMessage.id == outbox_id)
    await rt.stop()
    row = await _row("tests.probe")
    assert row["attempt_started_at"] is None and row["status"] == "active"


def test_failure_limit_and_heartbeat_are_configured():
    assert Settings.from_env({"MARKET_JOB_MAX_FAILURES": "5"}, env_file=None).job_max_failures == 5
    for var, bad in (("MARKET_JOB_MAX_FAILURES", "0"), ("MARKET_JOB_HEARTBEAT_SECONDS", "0"),
                     ("MARKET_JOB_MAX_FAILURES", "many")):
        with pytest.raises(ConfigError, match=var):
            Settings.from_env({var: bad}, env_file=None)


# ---- the platform admin ----------------------------------------------------------------------


async def _dead(name: str = "tests.probe", **kwargs) -> int:
    outbox_id = await jobs.enqueue(name, **kwargs)
    await OutboxMessage.update({OutboxMessage.last_error: "ValueError: 坏数据", OutboxMessage.sends: 3,
                                OutboxMessage.failures: 3}).where(OutboxMessage.id == outbox_id)
    assert await dead_letters.mark_dead(outbox_id, reason="failed_repeatedly", job=name)
    return outbox_id


async def test_admin_sees_requeues_once_and_discards_audited(client, job_runtime, probe_job):
    calls, _, state = probe_job
    state["fail"] = False
    jobs.bind_actors(job_runtime.broker)
    first = await _dead(thing=11)
    second = await _dead(thing=12)
    admin = await make_user([Role.ADMIN.value])
    csrf = await login(client, admin)

    listed = (await client.get("/api/v1/dead-letters")).json()
    assert listed["total"] == 2
    item = next(i for i in listed["items"] if i["id"] == first)
    assert (item["job"], item["arguments"], item["sends"], item["reason"]) == (
        "tests.probe", {"thing": 11}, 3, "failed_repeatedly")
    assert item["last_error"] == "ValueError: 坏数据" and item["dead_at"] and "已停止重试" in item["reason_text"]
    page = await client.get("/admin/jobs")
    assert page.status_code == 200 and "tests.probe" in page.text and "异常任务" in page.text
    assert 'href="/admin/jobs"' in page.text  # in the admin's navigation

    resp = await client.post(f"/api/v1/dead-letters/{first}/requeue", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200, resp.text
    await job_runtime.drain(timeout=30)
    assert calls == [{"thing": 11}]
    row = await OutboxMessage.select().where(OutboxMessage.id == first).first()
    assert row["status"] == "active" and row["done_at"] is not None
    again = await client.post(f"/api/v1/dead-letters/{first}/requeue", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and again.json()["code"] == "job.not_dead_letter"
    await job_runtime.drain(timeout=30)
    assert calls == [{"thing": 11}]  # once

    form = await client.post(f"/admin/jobs/{second}/discard", data={"_csrf": csrf}, follow_redirects=False)
    assert form.status_code in (302, 303)
    assert (await OutboxMessage.select().where(OutboxMessage.id == second).first())["status"] == "discarded"
    assert (await client.get("/api/v1/dead-letters")).json()["total"] == 0
    await job_runtime.drain(timeout=30)
    assert calls == [{"thing": 11}]

    for action, oid in (("job.requeued", first), ("job.discarded", second)):
        event = await AuditEvent.select().where((AuditEvent.action == action)
                                                & (AuditEvent.object_id == str(oid))).first()
        assert event is not None and event["actor_label"] == admin["email"], action

    missing = await client.post("/api/v1/dead-letters/999999/discard", headers={"X-CSRF-Token": csrf})
    assert missing.status_code == 404


async def test_english_page(client, probe_job):
    await _dead(thing=1)
    admin = await make_user([Role.ADMIN.value])
    await login(client, admin)
    client.cookies.set("lang", "en")
    page = await client.get("/admin/jobs")
    assert "Failed jobs" in page.text and "Run again" in page.text


@pytest.mark.parametrize("role", [r.value for r in Role if r != Role.ADMIN])
async def test_other_roles_are_refused(client, role, probe_job):
    oid = await _dead(thing=1)
    user = await make_user([role])
    csrf = await login(client, user)
    for method, url in (("GET", "/api/v1/dead-letters"), ("GET", "/admin/jobs"),
                        ("POST", f"/api/v1/dead-letters/{oid}/requeue"), ("POST", f"/admin/jobs/{oid}/discard")):
        resp = await client.request(method, url, headers={"X-CSRF-Token": csrf}, follow_redirects=False)
        assert resp.status_code == 403, (role, url, resp.status_code)
    assert (await OutboxMessage.select().where(OutboxMessage.id == oid).first())["status"] == "dead"


async def test_anonymous_is_sent_to_log_in(client):
    assert (await client.get("/api/v1/dead-letters")).status_code == 401
    resp = await client.get("/admin/jobs", follow_redirects=False)
    assert resp.status_code in (302, 303) and resp.headers["location"].startswith("/login")


async def test_command_line(settings, probe_job):
    oid = await _dead(thing=9)
    env = _env(settings)
    run = lambda *args: subprocess.run([sys.executable, "-m", "market.cli", "jobs", *args], cwd=ROOT, env=env,  # noqa: E731
                                       capture_output=True, text=True, timeout=120)
    listed = await asyncio.to_thread(run, "dead")
    assert listed.returncode == 0 and f"#{oid}" in listed.stdout and "tests.probe" in listed.stdout, listed.stderr
    done = await asyncio.to_thread(run, "discard", str(oid))
    assert done.returncode == 0, done.stderr
    again = await asyncio.to_thread(run, "discard", str(oid))
    assert again.returncode == 1 and "job.not_dead_letter" in again.stderr
    event = await AuditEvent.select().where(AuditEvent.action == "job.discarded").first()
    assert event["actor_label"] == "cli" and json.loads(event["after"])["job"] == "tests.probe"
