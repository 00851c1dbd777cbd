"""Metered data API calls per second against a bare Litestar endpoint serving the same rows, in one run.

    cd /work/main && .venv/bin/python bench/data_api.py [--duration 10] [--connections 16] [--rounds 3]

What it does, all on 127.0.0.1 with free ports, in a throw-away MARKET_VAR_DIR:

1. `market demo`, then `market serve` (uvicorn, one worker), with the per-key rate limit lifted
   (MARKET_DATA_API_RATE_PER_MINUTE) so the bench measures the work, not the limiter.
2. Logs in as buyer@demo.cn, finds its call-pack entitlement on 《杭州市环境空气质量日报》 (the demo's API
   entitlement), makes a key for it, and reads the whole entitled table through the API as CSV (the
   correctness check, and the file the ceiling serves).
3. `bench/_bare_data_app.py`: a bare Litestar app answering `GET /rows?limit=20` from the same table in
   DuckDB (same uvicorn call, a worker thread per query as the market does), without authentication,
   metering or trace. That is the ceiling: the ratio says what a key check, the compare-and-set on the
   meter, the trace row and the commit cost per call. (A bare `{"ok": true}` endpoint is reported too,
   `plain_rps`, for scale; see bench/http.py for that ratio.)
4. --rounds interleaved rounds (bench/_rounds.py), each side a warm-up then wrk (or the Python load
   loop), the ratio being the median of the per-round ratios.
5. Checks the meter afterwards: the calls answered 200 equal the count the server kept (the
   X-Quota-Remaining of one last call), so the speed is of calls counted exactly once.

Human-readable progress on stderr; the last stdout line is JSON with ratio (median metered_rps /
bare_rps; floor 0.5), ratios, metered_rps, bare_rps, plain_rps, non_2xx, counted, "db".
"""

from __future__ import annotations

import os
import sys

if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # bench/http.py would shadow the standard library's `http`

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TITLE = "杭州市环境空气质量日报"
FLOOR = 0.5


def _bench_module(name: str, alias: str):
    spec = importlib.util.spec_from_file_location(alias, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hb = _bench_module("http", "bench_http")  # servers, fetch, wrk and the Python load loop
rounds_lib = hb.rounds_lib
log = hb.log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=rounds_lib.MIN_ROUNDS)
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args(argv)
    if args.rounds < rounds_lib.MIN_ROUNDS:
        parser.error(f"--rounds must be at least {rounds_lib.MIN_ROUNDS}")
    wrk = shutil.which("wrk")
    tool = "wrk" if wrk and args.tool != "python" else "python-asyncio"

    env = dict(os.environ)
    db_url = env.get("MARKET_DATABASE_URL", "").strip()
    db = "postgres" if urlparse(db_url).scheme in ("postgres", "postgresql") else "sqlite"
    if db == "postgres" and len(env.get("MARKET_SECRET_KEY", "").strip()) < 32:
        env["MARKET_SECRET_KEY"] = secrets.token_urlsafe(48)
    tmp = Path(tempfile.mkdtemp(prefix="market-bench-data-api-"))
    market_port, bare_port, plain_port = hb.free_port(), hb.free_port(), hb.free_port()
    env.update({"MARKET_VAR_DIR": str(tmp / "var"), "MARKET_PORT": str(market_port), "MARKET_HOST": hb.HOST,
                "MARKET_DATA_API_RATE_PER_MINUTE": "100000000", "MARKET_LOG_LEVEL": "WARNING"})
    env.pop("MARKET_BASE_URL", None)
    result: dict = {"bench": "data_api", "tool": tool, "db": db, "duration_s": args.duration,
                    "connections": args.connections, "rounds": args.rounds, "cpus": os.cpu_count()}
    servers: list = []
    try:
        market = hb.market_command()
        log(f"[data_api] {db}; loading demo data…")
        demo = subprocess.run([*market, "demo"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
        if demo.returncode != 0:
            raise RuntimeError(f"`market demo` failed:\n{(demo.stdout + demo.stderr)[-2000:]}")
        servers.append(hb.Server("market", [*market, "serve"], env, market_port, tmp))
        servers[0].wait_ready("/api/v1/health")
        status, headers, _raw = hb.fetch(market_port, "POST", "/api/v1/session",
                                         body={"email": hb.EMAIL, "password": env.get("MARKET_DEMO_PASSWORD")
                                               or hb.DEFAULT_PASSWORD})
        cookie = next(v.split(";", 1)[0] for v in headers.get_all("set-cookie") if v.startswith("market_session="))
        session = {"Cookie": cookie}
        csrf = hb.fetch_json(market_port, "GET", "/api/v1/me", 200, headers=session)["csrf_token"]
        ents = hb.fetch_json(market_port, "GET", "/api/v1/entitlements", 200, headers=session)["items"]
        ent = next(e for e in ents if e["listing_title"] == TITLE and e["kind"] == "call_pack"
                   and e["status"] == "active")
        key = hb.fetch_json(market_port, "POST", f"/api/v1/entitlements/{ent['id']}/keys", 201,
                            headers={**session, "X-CSRF-Token": csrf}, body={"name": "bench"})["secret"]
        auth = {"Authorization": f"Bearer {key}"}
        path = f"/api/v1/data/{ent['id']}/rows?limit=20"
        # correctness first: the whole table as CSV, page by page (the ceiling serves this very file)
        csv_path, offset, header = tmp / "rows.csv", 0, None
        with csv_path.open("w", encoding="utf-8") as out:
            while True:
                status, _h, raw = hb.fetch(market_port, "GET", f"/api/v1/data/{ent['id']}/rows?limit=1000&offset="
                                           f"{offset}&format=csv", headers=auth)
                if status != 200:
                    raise RuntimeError(f"rows as CSV: {status} {raw[:300]!r}")
                lines = raw.decode().splitlines()
                if header is None:
                    header = lines[0]
                    out.write(header + "\n")
                if len(lines) <= 1:
                    break
                out.write("\n".join(lines[1:]) + "\n")
                offset += len(lines) - 1
        result["table_rows"] = offset
        bare_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
        servers.append(hb.Server("bare", [sys.executable, str(HERE / "_bare_data_app.py"), "--port", str(bare_port),
                                          "--csv", str(csv_path)], bare_env, bare_port, tmp))
        servers.append(hb.Server("plain", [sys.executable, str(HERE / "_bare_app.py"), "--port", str(plain_port)],
                                 bare_env, plain_port, tmp))
        servers[1].wait_ready("/rows?limit=1")
        servers[2].wait_ready("/bare")
        status, _h, raw = hb.fetch(bare_port, "GET", "/rows?limit=20")
        if status != 200 or json.loads(raw)["total"] != offset:
            raise RuntimeError(f"the bare endpoint does not serve the same table: {raw[:200]!r}")

        def load(port: int, target: str, headers: dict) -> dict:
            if args.warmup:
                run(port, target, headers, args.warmup)
            return run(port, target, headers, args.duration)

        def run(port: int, target: str, headers: dict, seconds: float) -> dict:
            if tool == "wrk":
                return hb.run_wrk(wrk, port, target, headers, seconds, args.connections, args.threads)
            return hb.run_python(port, target, headers, seconds, args.connections)

        rounds = rounds_lib.interleave(args.rounds, metered=lambda: load(market_port, path, auth),
                                       bare=lambda: load(bare_port, "/rows?limit=20", {}))
        result.update(rounds_lib.summarize(rounds, ours="metered", bare="bare", key="rps"))
        result["metered_rps"] = rounds_lib.median_of(rounds, "metered", "rps")
        result["bare_rps"] = rounds_lib.median_of(rounds, "bare", "rps")
        result["plain_rps"] = run(plain_port, "/bare", {}, args.duration)["rps"]
        result["non_2xx"] = sum(r[side].get("non_2xx", 0) for r in rounds for side in ("metered", "bare"))
        status, headers, _raw = hb.fetch(market_port, "GET", path, headers=auth)
        result["counted"] = int(headers["X-Quota-Limit"]) - int(headers["X-Quota-Remaining"]) if status == 200 else None
        result["floor_ratio"] = FLOOR
        result["ok"] = result["ratio"] is not None and result["ratio"] >= FLOOR
        log(f"[data_api] metered {result['metered_rps']:.0f} req/s, bare {result['bare_rps']:.0f} req/s, "
            f"ratio {result['ratio']} (floor {FLOOR}); plain JSON ceiling {result['plain_rps']:.0f} req/s")
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
