"""The `market` command line, run as a user would run it (subprocesses on the test database)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

from factories import make_user
from market import notifications
from market.tables import AuditEvent, Notification, Organization, User

ROOT = Path(__file__).resolve().parents[2]


def _env(settings, **extra) -> dict:
    env = {**os.environ, "MARKET_VAR_DIR": str(settings.var_dir), "MARKET_DATABASE_URL": settings.database_url,
           "MARKET_SECRET_KEY": settings.secret_key, "MARKET_PASSWORD_PROFILE": "cheapest", **extra}
    if not settings.broker_url:
        env.pop("MARKET_BROKER_URL", None)
    return env


async def _market(settings, *args, **extra) -> subprocess.CompletedProcess:
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "market.cli", *args], cwd=ROOT,
                                   env=_env(settings, **extra), capture_output=True, text=True, timeout=120)


async def test_demo_is_idempotent_and_creates_every_role(settings):
    first = await _market(settings, "demo")
    assert first.returncode == 0, first.stderr
    users = await User.count()
    orgs = await Organization.count()
    events = await AuditEvent.count()
    second = await _market(settings, "demo")
    assert second.returncode == 0 and "nothing to do" in second.stdout
    assert (await User.count(), await Organization.count(), await AuditEvent.count()) == (users, orgs, events)
    for email in ["holder@demo.cn", "buyer@demo.cn", "operator@demo.cn", "agency@demo.cn", "regulator@demo.cn",
                  "admin@demo.cn"]:
        assert await User.exists().where(User.email == email), email


def test_demo_credit_codes_are_valid():
    from stdnum.cn import uscc

    from market.demo import ORGS

    for code, name, _ in ORGS.values():
        assert uscc.is_valid(code), (name, code)


async def test_audit_verify_exit_codes(settings):
    await make_user(["buyer"])
    ok = await _market(settings, "audit", "verify")
    assert ok.returncode == 0 and "audit chain OK" in ok.stdout
    await AuditEvent.update({AuditEvent.actor_label: "tampered"}).where(AuditEvent.seq == 2)
    bad = await _market(settings, "audit", "verify")
    assert bad.returncode != 0 and "#2" in bad.stderr


async def test_createuser(settings):
    from factories import credit_code

    code = credit_code()
    proc = await _market(settings, "createuser", "--email", "new@example.cn", "--password", "long-enough-1",
                         "--credit-code", code, "--org-name", "新建测试有限公司", "--role", "buyer", "--role", "holder")
    assert proc.returncode == 0, proc.stderr
    user = await User.select().where(User.email == "new@example.cn").first()
    assert user is not None
    again = await _market(settings, "createuser", "--email", "new@example.cn", "--password", "long-enough-1",
                          "--credit-code", code, "--role", "buyer")
    assert again.returncode == 1 and "user.email_taken" in again.stderr


async def test_worker_command(settings):
    """With a broker, `market worker` processes jobs from the outbox; without one it explains why not."""
    if not settings.broker_url:
        proc = await _market(settings, "worker")
        assert proc.returncode == 2 and "MARKET_BROKER_URL" in proc.stderr
        return
    user = await make_user(["buyer"])
    nid = await notifications.notify(kind="test", subject="由独立 worker 投递", user_id=user["id"])
    worker = subprocess.Popen([sys.executable, "-m", "market.cli", "worker"], cwd=ROOT, env=_env(settings),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120  # a condition polled, generous: a loaded machine starts slowly
        delivered = None
        while time.monotonic() < deadline:
            delivered = (await Notification.select().where(Notification.id == nid).first())["delivered_at"]
            if delivered:
                break
            await asyncio.sleep(0.2)
        assert delivered is not None, "the worker process did not deliver the job"
    finally:
        worker.terminate()
        out, err = worker.communicate(timeout=30)
    assert worker.returncode == 0, err
