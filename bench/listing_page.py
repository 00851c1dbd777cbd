"""Listing pages over 100,000 listed listings: the HTML page, its JSON twin and the category
drill-down, under wrk against a bare Litestar ceiling in the same run.

    cd /work/main && .venv/bin/python bench/listing_page.py [--listings 100000] [--duration 10]
                                                            [--connections 16] [--ids 5000] [--keep]

What it does, all on 127.0.0.1 with free ports, in a throw-away MARKET_VAR_DIR (and, when
MARKET_DATABASE_URL is PostgreSQL, a throw-away database on that server):

1. `market migrate`, then the catalogue of bench/search.py (same generator and bulk seed, same search
   index), plus two price plans per listing (one-time and subscription) and, for public data, the
   agency's cap, so every page computes its quotes against a cap as a buyer's visit does.
2. `market serve` (no job threads) and `bench/_bare_app.py`, one uvicorn worker each.
3. --rounds (at least 3) interleaved rounds (bench/_rounds.py): in each, every target below back to back
   (the order reversed every other round), a warm-up then --duration seconds of wrk, cycling through
   random listing ids (seed 2026):
   - `GET /listings/{id}`          the listing page a buyer opens from search (HTML, with quotes), over
                                   --hot ids (popular listings: served from the per-process listing view
                                   cache, as a shop's traffic mostly is), then over --ids others
                                   ("cold": a miss nearly every time, so the database is read)
   - `GET /api/v1/listings/{id}`   the same listing as JSON, hot and cold
   - `GET /catalogue?path=…`       the category tree at every level, with the node's first page of listings
   - `GET /bare`                   the ceiling: Litestar returning a constant
4. Stops everything it started and removes what it created, even on error.

Last stdout line: JSON {"bench":"listing_page","listings","db","page_p50_ms","page_p95_ms","page_rps",
"page_ratio","page_ratio_spread","page_ratios","api_*","page_cold_*","api_cold_*","catalogue_*","bare_rps",
"rounds",...}. A target's ratio is the median over the rounds of its rps / the same round's bare_rps, its
spread the max - min of those per-round ratios (the machine is shared by wrk and both servers, and the
ceiling itself moves between runs); rps and latencies are medians over the rounds.
"""

from __future__ import annotations

import os
import sys

if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # bench/http.py would shadow the standard library's `http` (see bench/search.py)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import quote  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _load(name: str, filename: str):
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / filename)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


sb = _load("bench_search", "search.py")
hb = sb.hb
rounds_lib = _load("bench_rounds", "_rounds.py")
pg = _load("bench_pg", "_pg.py")
log, HOST = hb.log, hb.HOST


async def seed_plans() -> dict:
    """Two plans per listing and a cap on public data, in bulk (INSERT … SELECT)."""
    from listings.tables import Listing
    from market import db

    t0 = time.monotonic()
    async with db.atomic():
        await Listing.raw(
            "INSERT INTO price_plan (listing, kind, name, price_fen, unit_fen, months, calls, tiers, billing_unit,"
            " revision_access, active, created_at) SELECT id, 'one_time', '按次购买', greatest_fen, 0, 0, 0, '[]',"
            " 'per_product', 'all', {}, created_at FROM (SELECT id, created_at, CASE WHEN min_price_fen > 0"
            " THEN min_price_fen ELSE 10000 END AS greatest_fen FROM listing) AS l", True)
        await Listing.raw(
            "INSERT INTO price_plan (listing, kind, name, price_fen, unit_fen, months, calls, tiers, billing_unit,"
            " revision_access, active, created_at) SELECT id, 'subscription', '年度订阅', 120000, 0, 12, 0, '[]',"
            " 'per_period', 'from_start', {}, created_at FROM listing", True)
        agency = (await Listing.raw("SELECT min(id) AS id FROM organization"))[0]["id"]
        await Listing.raw(
            "INSERT INTO price_cap (listing, agency, cap_fen, billing_unit, basis, created_at)"
            " SELECT id, {}, 2000000, 'per_product', '基准', created_at FROM listing WHERE public_data = {}",
            agency, True)
    if not db.is_sqlite():
        await db.engine().run_ddl("ANALYZE")
    n = (await Listing.raw("SELECT count(*) AS n FROM price_plan"))[0]["n"]
    log(f"[listing] {n} price plans and caps in {time.monotonic() - t0:.1f}s")
    return {"plans": n}


async def sample_ids(count: int) -> list[int]:
    from listings.tables import Listing

    ids = [r["id"] for r in await Listing.select(Listing.id).where(Listing.status == "listed")]
    random.Random(2026).shuffle(ids)
    return ids[:count]


def catalogue_paths() -> list[str]:
    """Every level of the shipped tree the generated catalogue reaches: the top, then each known prefix of a
    generated path (generated paths the tree lacks are browsable only through search)."""
    from listings import catalogue

    known = {path for path, _code in catalogue.category_choices()}
    paths = {""}
    for domain in sb.DOMAINS:
        parts = domain[2].split(" > ")
        for i in range(1, len(parts) + 1):
            if " > ".join(parts[:i]) in known:
                paths.add(" > ".join(parts[:i]))
    return sorted(paths)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--ids", type=int, default=20000,
                        help="distinct listing ids of the cold runs: nearly every request reads the database (default 20000)")
    parser.add_argument("--hot", type=int, default=200,
                        help="distinct listing ids of the hot runs, the popular listings a shop's traffic piles on (default 200)")
    parser.add_argument("--rounds", type=int, default=rounds_lib.MIN_ROUNDS,
                        help=f"interleaved rounds of every target and the bare ceiling; each ratio is the median "
                             f"of the per-round ratios (at least {rounds_lib.MIN_ROUNDS}, the default)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    if args.rounds < rounds_lib.MIN_ROUNDS:
        parser.error(f"--rounds must be at least {rounds_lib.MIN_ROUNDS}: one round is at the mercy of the machine")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, hb._terminate)

    wrk = shutil.which("wrk") or ("/usr/bin/wrk" if os.access("/usr/bin/wrk", os.X_OK) else None)
    env = dict(os.environ)
    throwaway = pg.ThrowAway.from_env(env, "listing", lambda msg: log(f"[listing] {msg}"))
    engine = "postgres" if throwaway else "sqlite"
    result: dict = {"bench": "listing_page", "listings": args.listings, "db": engine, "connections": args.connections,
                    "duration_s": args.duration, "rounds": args.rounds, "cpus": os.cpu_count()}
    tmp = Path(tempfile.mkdtemp(prefix="market-bench-listing-"))
    servers: list = []
    exit_code = 0
    try:
        if not wrk:
            raise RuntimeError("wrk is not installed (apt-get install wrk)")
        env.update({"MARKET_VAR_DIR": str(tmp / "var"), "MARKET_HOST": HOST, "MARKET_LOG_LEVEL": "WARNING",
                    "MARKET_EMBEDDED_WORKER": "false"})
        env.pop("MARKET_BASE_URL", None)
        if throwaway:
            throwaway.create(env)
        else:
            env.pop("MARKET_DATABASE_URL", None)
        market = hb.market_command()
        done = subprocess.run([*market, "migrate"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(f"`market migrate` failed ({done.returncode}):\n{(done.stdout + done.stderr)[-2000:]}")

        from market import db
        from market.config import Settings

        settings = Settings.from_env(env, env_file=None)

        async def prepare() -> list[int]:
            db.bind(settings)
            await db.start(settings)
            try:
                result.update(await sb.seed(settings, args.listings))
                result.update(await seed_plans())
                return await sample_ids(args.ids + args.hot)
            finally:
                await db.stop()

        ids = asyncio.run(prepare())
        if len(ids) <= args.hot:
            raise RuntimeError(f"--hot {args.hot} needs more than {len(ids)} listings")
        result["distinct_ids"] = len(ids)

        market_port, bare_port = hb.free_port(), hb.free_port()
        env["MARKET_PORT"] = str(market_port)
        servers.append(hb.Server("market", [*market, "serve"], env, market_port, tmp))
        bare_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
        servers.append(hb.Server("bare", [sys.executable, str(sb.BARE_APP), "--host", HOST, "--port", str(bare_port)],
                                 bare_env, bare_port, tmp))
        market_srv, bare_srv = servers
        market_srv.wait_ready(f"/api/v1/listings/{ids[0]}", timeout=180)
        bare_srv.wait_ready("/bare")

        pages = [f"/listings/{i}" for i in ids]
        apis = [f"/api/v1/listings/{i}" for i in ids]
        cats = ["/catalogue" + (f"?path={quote(p)}" if p else "") for p in catalogue_paths()]
        # correctness before load: a page shows its title and its quotes, the JSON has its plans
        for path in pages[:20] + apis[:20] + cats:
            status, _h, raw = hb.fetch(market_port, "GET", path)
            if status != 200:
                raise RuntimeError(f"GET {path} → {status}: {raw[:300]!r}")
        body = json.loads(hb.fetch(market_port, "GET", apis[0])[2])
        if len(body["plans"]) != 2:
            raise RuntimeError(f"{apis[0]}: expected 2 plans, got {body['plans']!r}")
        html = hb.fetch(market_port, "GET", pages[0])[2].decode()
        if body["title"] not in html or "data-testid=\"quote-" not in html:
            raise RuntimeError(f"{pages[0]}: title or quotes missing")
        log(f"[listing] verified {len(pages[:20]) + len(apis[:20]) + len(cats)} pages; {len(cats)} catalogue levels")

        hot = args.hot
        targets = (("bare", bare_srv, ["/bare"], "/bare"),
                   ("page", market_srv, pages[:hot], pages[0]), ("api", market_srv, apis[:hot], apis[0]),
                   ("page_cold", market_srv, pages[hot:], pages[hot]), ("api_cold", market_srv, apis[hot:], apis[hot]),
                   ("catalogue", market_srv, cats, cats[0]))
        runs_done = [0]

        def measure(name, srv, paths, first):
            lua = sb.lua_script(paths, tmp / f"{name}.lua")

            def run() -> dict:
                if args.warmup > 0:
                    sb.run_wrk(wrk, srv.port, lua, first, args.warmup, args.connections, args.threads)
                r = sb.run_wrk(wrk, srv.port, lua, first, args.duration, args.connections, args.threads)
                runs_done[0] += 1
                log(f"[listing] round {(runs_done[0] - 1) // len(targets) + 1}/{args.rounds} {name:9s} "
                    f"{r['rps']:9.1f} req/s  p50 {r.get('p50_ms', float('nan')):7.2f} ms  "
                    f"p95 {r.get('p95_ms', float('nan')):7.2f} ms  non-2xx {r['non_2xx']}")
                if srv.proc.poll() is not None:
                    raise RuntimeError(f"{srv.name} died during the load:\n{srv.log_tail()}")
                return r
            return run

        rounds = rounds_lib.interleave(args.rounds, **{t[0]: measure(*t) for t in targets})
        result["bare_rps"] = rounds_lib.median_of(rounds, "bare", "rps")
        result["bare_p95_ms"] = rounds_lib.median_of(rounds, "bare", "p95_ms")
        for name in ("page", "api", "page_cold", "api_cold", "catalogue"):
            result.update({f"{name}_p50_ms": rounds_lib.median_of(rounds, name, "p50_ms"),
                           f"{name}_p95_ms": rounds_lib.median_of(rounds, name, "p95_ms"),
                           f"{name}_rps": rounds_lib.median_of(rounds, name, "rps")})
            result.update(rounds_lib.summarize(rounds, ours=name, bare="bare", key="rps", prefix=f"{name}_"))
        log("[listing] ratios (median of per-round, spread): " + ", ".join(
            f"{name} {result[f'{name}_ratio']} (spread {result[f'{name}_ratio_spread']})"
            for name in ("page", "api", "page_cold", "api_cold", "catalogue")))
        result["non_2xx"] = sum(r["non_2xx"] for rnd in rounds for r in rnd.values())
        if result["non_2xx"]:
            exit_code = 1
    except (Exception, KeyboardInterrupt) as exc:
        exit_code = 130 if isinstance(exc, KeyboardInterrupt) else 1
        log(f"[listing] ERROR: {type(exc).__name__}: {exc}")
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
    finally:
        for srv in reversed(servers):
            srv.stop()
        if throwaway:
            throwaway.drop(keep=args.keep)
        if args.keep:
            log(f"[listing] kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
