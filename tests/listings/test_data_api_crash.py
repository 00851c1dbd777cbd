"""Counting survives a crash: a real `market serve` (a subprocess on the suite's own database, SQLite or
PostgreSQL) answers metered calls from several client threads and is killed with SIGKILL mid-way; the
entitlement's count, and its answered trace rows, equal the calls that got a complete answer. Calls cut
off by the kill got no answer and were not counted (see listings/dataapi/_meter.py for the guarantee)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

from data_api_steps import api_entitlement, key_for
from listings import pricing
from listings.dataapi.tables import ApiCall, ApiMeter

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 6
KILL_AFTER = 120  # answers received before the kill


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(settings, port: int, tmp: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update({"MARKET_VAR_DIR": str(settings.var_dir), "MARKET_DATABASE_URL": settings.database_url,
                "MARKET_SECRET_KEY": settings.secret_key, "MARKET_HOST": "127.0.0.1", "MARKET_PORT": str(port),
                "MARKET_BROKER_URL": "", "MARKET_EMBEDDED_WORKER": "false", "MARKET_LOG_LEVEL": "WARNING",
                "MARKET_DATA_API_RATE_PER_MINUTE": "1000000", "PYTHONPATH": str(ROOT)})
    return subprocess.Popen([sys.executable, "-c", "import sys; from market.cli import main; sys.exit(main())",
                             "serve"], cwd=tmp, env=env, stdout=(tmp / "serve.out").open("wb"),
                            stderr=(tmp / "serve.err").open("wb"), stdin=subprocess.DEVNULL, start_new_session=True)


def _wait_healthy(port: int, proc: subprocess.Popen, tmp: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp / "serve.err").read_text(errors="replace")[-4000:]
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/v1/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        # waiting for a process to bind its port: no event to wait on, so poll with a short timeout
        threading.Event().wait(0.2)
    raise AssertionError("market serve did not answer")


async def test_counts_equal_answers_after_sigkill(client, job_runtime, settings, tmp_path):
    plan = pricing.PlanSpec(kind="call_pack", name="调用包", price_fen=1_000, calls=100_000)
    _holder, buyer, _listing, eid = await api_entitlement(client, job_runtime, plan=plan)
    secret = await key_for(client, buyer, eid)
    port = _free_port()
    proc = _serve(settings, port, tmp_path)
    answered: list[int] = []  # X-Quota-Remaining of every complete 200 answer
    lock = threading.Lock()
    enough = threading.Event()
    try:
        _wait_healthy(port, proc, tmp_path)

        def fire() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while True:
                try:
                    conn.request("GET", f"/api/v1/data/{eid}/rows?limit=20&order=-{quote('常住人口')}",
                                 headers={"Authorization": f"Bearer {secret}"})
                    resp = conn.getresponse()
                    body = resp.read()
                    if resp.status != 200:
                        raise AssertionError(f"{resp.status} {body[:300]!r}")
                    assert json.loads(body)["total"] == 5  # a complete answer, parsed
                    with lock:
                        answered.append(int(resp.getheader("X-Quota-Remaining")))
                        if len(answered) >= KILL_AFTER:
                            enough.set()
                except (OSError, http.client.HTTPException, ValueError):
                    return  # the server died under this call: no answer
        threads = [threading.Thread(target=fire, daemon=True) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        assert enough.wait(120), "the server answered too few calls"
        os.killpg(proc.pid, signal.SIGKILL)  # mid-way: every client has a call in flight
        for t in threads:
            t.join(30)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    meter = await ApiMeter.select(ApiMeter.used).where(ApiMeter.entitlement == eid).first()
    traced = await ApiCall.count().where((ApiCall.entitlement == eid) & (ApiCall.outcome == "answered"))
    assert len(answered) >= KILL_AFTER
    assert meter["used"] == traced == len(answered), (meter, traced, len(answered))
    # each answer carried its own place in the count: no call was counted twice, none skipped
    assert sorted(answered, reverse=True) == list(range(100_000 - 1, 100_000 - len(answered) - 1, -1))
