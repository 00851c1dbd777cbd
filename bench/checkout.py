"""Checkout through the whole API, concurrently, on PostgreSQL with Redis and separate workers.

    MARKET_DATABASE_URL=postgres://market:market@127.0.0.1:5432/market MARKET_BROKER_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/checkout.py [--orders 120] [--concurrency 24] [--buyers 24] [--workers 2]
                                           [--worker-threads 4] [--bare-seconds 5] [--keep]

What it does, on 127.0.0.1 with free ports, in a throw-away MARKET_VAR_DIR:

1. A throw-away database beside the one MARKET_DATABASE_URL names (bench/_pg.py; dropped at the end)
   and `market demo` in it (the demo catalogue, its logins, the demo orders). MARKET_BROKER_URL must
   name a Redis (or RabbitMQ) that no other worker listens to: the bench's workers and server use it.
2. Seeds --buyers verified buyer organizations with one user and one API key each, and API keys for
   platform finance (admin@demo.cn) and for the holders of the two listings ordered: a product sold as a
   file on a standard plan (the holder countersigns automatically) and one that is conditionally shared
   (the holder approves each buyer, then signs in person).
3. As in production: `market serve` (uvicorn, one process; with a broker it runs no jobs, only the outbox
   dispatcher), --workers `market worker` processes (MARKET_WORKER_THREADS=--worker-threads each), and
   bench/_bare_app.py, the bare Litestar endpoint measured in the same run (wrk, or the Python loop).
4. --orders orders, --concurrency at a time, alternating the two listings, each through the API as
   its parties would do it: POST /api/v1/orders (Idempotency-Key) → the holder approves when asked →
   poll GET /api/v1/orders/{id} until the contract's PDF (rendered by a worker) has its sha256 → the
   buyer signs that digest, the holder signs too (or its automatic countersignature is awaited) →
   platform finance records the bank receipt (POST …/payments, the payment reference, the total) →
   poll until the order is delivered and the file downloads (GET /api/v1/entitlements/{e}/versions/{n}/file,
   the marked CSV) → the buyer confirms (completed: escrow released, commission and fund posted).
   The clock of "payment recorded → file downloadable" starts when the receipt request is sent.
5. Waits until every document (contracts and invoices) is rendered and reads the documents table:
   PDFs per second per worker process = rendered documents / (last rendered_at − first created_at) / workers;
   the mean render time from the same table is not available (only timestamps), so the rate is end to end.
   Then `market ledger check` (every transaction balances) and the load average.
6. Stops everything it started, drops the database, even on error or Ctrl-C.

stderr: progress. Last stdout line: JSON {"bench":"checkout","orders","orders_per_s","pdfs","pdfs_per_s"
(per worker process),"pdfs_per_s_total","p95_s" (payment sent → file downloaded),"p50_s","flow_p50_s",
"flow_p95_s","bare_rps","workers","worker_threads","concurrency","errors","ledger_ok","loadavg",
"goal_orders_per_s":20,"goal_p95_s":2, ...}. Exit status 1 when an order failed or the ledger does not balance
(the figures are printed either way; a floor missed is reported, not an error).
"""

from __future__ import annotations

import os
import sys

# Run as a script, bench/ is sys.path[0] and bench/http.py would shadow the standard library's `http`.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _load_http_bench():
    """bench/http.py's helpers (Server, free_port, fetch, run_wrk, ...), imported under another name."""
    spec = importlib.util.spec_from_file_location("bench_http", Path(__file__).resolve().parent / "http.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


hb = _load_http_bench()
from bench import _pg  # noqa: E402

HOST = hb.HOST
GOAL_ORDERS_PER_S = 20
GOAL_P95_S = 2.0
POLL_S = 0.1


def log(msg: str) -> None:
    hb.log(f"[checkout] {msg}")


# ---- seeding (in this process, through the services) ------------------------------------------------


def _credit_code(rng: random.Random) -> str:
    from stdnum.cn import uscc

    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    base8 = f"{rng.randrange(10**8):08d}"
    check = 11 - sum(int(c) * w for c, w in zip(base8, weights)) % 11
    body = "91330100" + base8 + ("X" if check == 10 else "0" if check == 11 else str(check))
    return body + uscc.calc_check_digit(body)


async def _plan_of(listing_id: int) -> dict | None:
    from listings.tables import PricePlan

    return await (PricePlan.select().where(PricePlan.listing == listing_id, PricePlan.kind == "one_time",
                                           PricePlan.active == True)  # noqa: E712 - a Piccolo expression
                  .order_by(PricePlan.id).first())


async def _standard_listing() -> dict:
    """A listed product sold as a file on a paid one-time plan to anyone (the holder countersigns)."""
    from listings.tables import Listing

    rows = await (Listing.select().where(Listing.status == "listed", Listing.tier == "product",
                                         Listing.delivery_mode == "file", Listing.grade == "general",
                                         Listing.sharing_type == "unconditional").order_by(Listing.id))
    for listing in rows:
        plan = await _plan_of(listing["id"])
        if plan is not None and plan["price_fen"] > 0:
            return {"listing": listing, "plan": plan}
    raise RuntimeError("the demo has no listed product sold as a file on a one-time plan")


async def _vetted_listing() -> dict:
    """A conditionally shared listing sold as a file (the holder vets each buyer). The demo's conditional
    listings hold personal data, which never leaves as a file, so the bench lists one the way a holder
    would: another tier of a non-personal asset, conditionally shared, through review and 公示."""
    from datetime import datetime, timedelta, timezone

    from listings import pricing
    from listings import service as listings_service
    from listings.tables import DataAsset, Listing
    from market.context import Actor, acting_as
    from market.errors import DomainError
    from market.tables import Organization

    admin = await Organization.select(Organization.id).where(Organization.kind == "platform").first()
    rows = await (Listing.select().where(Listing.status == "listed", Listing.delivery_mode == "file",
                                         Listing.grade == "general", Listing.public_data == False,  # noqa: E712
                                         Listing.sharing_type == "unconditional").order_by(Listing.id))
    for base in rows:
        asset = await DataAsset.select(DataAsset.personal).where(DataAsset.id == base["asset"]).first()
        if asset is None or asset["personal"]:
            continue
        for tier in ("product", "cleaned"):
            try:
                with acting_as(Actor(org_id=base["holder"], label="bench")):
                    listing = await listings_service.create_listing(
                        asset_id=base["asset"], org_id=base["holder"], tier=tier, delivery_mode="file",
                        title=f"{base['title']}（有条件共享）", summary=base["summary"],
                        category_path=base["category_path"], tags=["压测"], update_cycle=base["update_cycle"],
                        sharing_type="conditional", open_type="conditional",
                        plans=[pricing.PlanSpec(kind="one_time", name="按次购买", price_fen=360_000)])
                    await listings_service.submit(listing_id=listing["id"], org_id=base["holder"])
                with acting_as(Actor(org_id=admin["id"], label="bench")):
                    await listings_service.approve(listing_id=listing["id"], note="压测", notice_days=0)
                    await listings_service.close_notices(now=datetime.now(timezone.utc) + timedelta(seconds=1))
            except DomainError:
                continue  # that tier of the asset is taken
            row = await Listing.select().where(Listing.id == listing["id"]).first()
            if row["status"] != "listed":
                raise RuntimeError(f"the bench's conditional listing is {row['status']}, not listed")
            return {"listing": row, "plan": await _plan_of(row["id"])}
    raise RuntimeError("no non-personal asset of a non-public holder has a free tier for a conditional listing")


async def _key_for(org_id: int, role: str, name: str) -> str:
    from market import identity
    from market.tables import Membership

    row = await (Membership.select(Membership.user).where(Membership.organization == org_id, Membership.role == role)
                 .order_by(Membership.user).first())
    if row is None:
        raise RuntimeError(f"no user with role {role} in organization {org_id}")
    _, secret = await identity.create_api_key(user_id=row["user"], organization_id=org_id, name=name)
    return secret


async def seed(env: dict, buyers: int) -> dict:
    """Buyer organizations and API keys for every party; the two listings ordered."""
    from market import db, identity, runtime
    from market.config import Settings
    from market.context import Actor, acting_as
    from market.tables import Organization

    settings = Settings.from_env(env, env_file=None)
    runtime.configure(settings)
    db.bind(settings)
    await db.start(settings)
    try:
        with acting_as(Actor(label="bench")):
            rng = random.Random(2026)
            buyer_keys = []
            for i in range(buyers):
                org = await identity.create_organization(name=f"压测买方{i + 1:03d}有限公司", credit_code=_credit_code(rng),
                                                         kind="enterprise", verified=True)
                user = await identity.create_user(email=f"bench-buyer-{i + 1}@bench.cn", password="bench-2026-pass",
                                                  display_name=f"买方{i + 1}", organization_id=org["id"],
                                                  roles=["buyer"])
                _, secret = await identity.create_api_key(user_id=user["id"], organization_id=org["id"], name="bench")
                buyer_keys.append(secret)
            auto, vetted = await _standard_listing(), await _vetted_listing()
            admin = await Organization.select(Organization.id).where(Organization.kind == "platform").first()
            out = {"buyers": buyer_keys, "admin": await _key_for(admin["id"], "admin", "bench"), "listings": []}
            for item, approval in ((auto, False), (vetted, True)):
                listing = item["listing"]
                out["listings"].append({
                    "listing_id": listing["id"], "plan_id": item["plan"]["id"], "title": listing["title"],
                    "version": listing["data_version"], "approval": approval,
                    "holder": await _key_for(listing["holder"], "holder", "bench")})
            return out
    finally:
        await db.stop()


async def document_figures(env: dict, since_id: int) -> dict:
    """Documents created by the measured orders: how many, of which kinds, rendered when."""
    from market import db
    from market.config import Settings
    from market.tables import Document

    settings = Settings.from_env(env, env_file=None)
    db.bind(settings)
    await db.start(settings)
    try:
        rows = await (Document.select(Document.kind, Document.status, Document.created_at, Document.rendered_at)
                      .where(Document.id > since_id))
        return {"rows": rows}
    finally:
        await db.stop()


async def max_document_id(env: dict) -> int:
    from market import db
    from market.config import Settings
    from market.tables import Document

    settings = Settings.from_env(env, env_file=None)
    db.bind(settings)
    await db.start(settings)
    try:
        row = await Document.select(Document.id).order_by(Document.id, ascending=False).first()
        return row["id"] if row else 0
    finally:
        await db.stop()


# ---- the flow through the API --------------------------------------------------------------------------


class Failed(RuntimeError):
    pass


class Flow:
    def __init__(self, client, seeded: dict, run_id: str, timeout: float):
        self.client = client
        self.seeded = seeded
        self.run_id = run_id
        self.timeout = timeout
        self.timings: list[dict] = []
        self.errors: list[str] = []

    @staticmethod
    def _auth(secret: str) -> dict:
        return {"Authorization": f"Bearer {secret}"}

    async def _call(self, method: str, path: str, secret: str, expect: int, **kw):
        resp = await self.client.request(method, path, headers={**self._auth(secret), **kw.pop("headers", {})}, **kw)
        if resp.status_code != expect:
            raise Failed(f"{method} {path}: {resp.status_code} {resp.text[:300]}")
        return resp

    async def _until(self, order_id: int, buyer: str, ready, what: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            order = (await self._call("GET", f"/api/v1/orders/{order_id}", buyer, 200)).json()
            if ready(order):
                return order
            if time.monotonic() > deadline:
                raise Failed(f"order {order_id}: no {what} after {self.timeout:.0f}s (status {order['status']}, "
                             f"contract {order.get('contract')})")
            await asyncio.sleep(POLL_S)

    async def one(self, n: int) -> None:
        listing = self.seeded["listings"][n % len(self.seeded["listings"])]
        buyer = self.seeded["buyers"][n % len(self.seeded["buyers"])]
        holder, admin = listing["holder"], self.seeded["admin"]
        t = {"start": time.monotonic()}
        body = {"listing_id": listing["listing_id"], "plan_id": listing["plan_id"], "purpose": "industry",
                "purpose_note": "压测：保险精算定价"}
        order = (await self._call("POST", "/api/v1/orders", buyer, 201, json=body,
                                  headers={"Idempotency-Key": f"{self.run_id}-{n}"})).json()
        oid = order["id"]
        if "approval" in order["status"]:
            order = (await self._call("POST", f"/api/v1/orders/{oid}/approve", holder, 200,
                                      json={"note": "用途合理"})).json()
        t["created"] = time.monotonic()
        # the PDF is rendered by a worker; an automatic countersignature follows it (the holder of a
        # standard plan), and the buyer signs after it: signing first would leave the holder to sign by hand
        order = await self._until(oid, buyer, lambda o: (o["contract"] or {}).get("sha256") and (
            listing["approval"] or "holder" in o["contract"]["signed_by"]), "contract PDF")
        t["contract_pdf"] = time.monotonic()
        sha = order["contract"]["sha256"]
        order = (await self._call("POST", f"/api/v1/orders/{oid}/sign", buyer, 200, json={"sha256": sha})).json()
        if "holder" not in order["contract"]["signed_by"]:
            order = (await self._call("POST", f"/api/v1/orders/{oid}/sign", holder, 200, json={"sha256": sha})).json()
        if "payment" not in order["status"]:
            raise Failed(f"order {oid}: {order['status']} after both signatures, expected awaiting_payment")
        t["signed"] = time.monotonic()
        await self._call("POST", f"/api/v1/orders/{oid}/payments", admin, 201,
                         json={"amount_fen": order["total_fen"], "reference": order["payment_reference"]})
        t["paid"] = time.monotonic()
        order = await self._until(oid, buyer, lambda o: o["status"] == "delivered" and o["entitlement_id"], "delivery")
        t["delivered"] = time.monotonic()
        resp = await self._call("GET", f"/api/v1/entitlements/{order['entitlement_id']}/versions/"
                                       f"{listing['version']}/file", buyer, 200)
        if not resp.content:
            raise Failed(f"order {oid}: the file downloaded empty")
        t["downloaded"] = time.monotonic()
        order = (await self._call("POST", f"/api/v1/orders/{oid}/confirm", buyer, 200)).json()
        if order["status"] != "completed":
            raise Failed(f"order {oid}: {order['status']} after confirming")
        t["completed"] = time.monotonic()
        self.timings.append(t)

    async def run(self, count: int, concurrency: int, first: int = 0) -> float:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(first, first + count):
            queue.put_nowait(n)

        async def worker() -> None:
            while True:
                try:
                    n = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                try:
                    await self.one(n)
                except Exception as exc:  # noqa: BLE001 - counted and reported; the run goes on
                    self.errors.append(f"{type(exc).__name__}: {exc}"[:400])

        t0 = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.monotonic() - t0


async def drive(port: int, seeded: dict, *, orders: int, concurrency: int, warmup: int, timeout: float) -> dict:
    import httpx

    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", limits=limits, timeout=60) as client:
        run_id = f"bench-{random.randrange(16**8):08x}"
        if warmup:
            w = Flow(client, seeded, run_id, timeout)
            await w.run(warmup, min(warmup, concurrency), first=10**6)
            if w.errors:
                raise RuntimeError(f"warm-up failed: {w.errors[0]}")
        flow = Flow(client, seeded, run_id, timeout)
        elapsed = await flow.run(orders, concurrency)
        return {"elapsed": elapsed, "timings": flow.timings, "errors": flow.errors}


# ---- figures ---------------------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _terminate(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=120, help="orders measured (default 120)")
    parser.add_argument("--concurrency", type=int, default=24, help="orders in flight at once (default 24)")
    parser.add_argument("--buyers", type=int, default=24, help="buyer organizations (default 24)")
    parser.add_argument("--workers", type=int, default=2, help="`market worker` processes (default 2)")
    parser.add_argument("--worker-threads", type=int, default=4,
                        help="job threads per worker (default 4: with 2, quick jobs queue behind renders)")
    parser.add_argument("--warmup", type=int, default=4, help="orders run before measuring (default 4)")
    parser.add_argument("--bare-seconds", type=float, default=5, help="seconds of load on the bare endpoint")
    parser.add_argument("--connections", type=int, default=32, help="connections on the bare endpoint")
    parser.add_argument("--timeout", type=float, default=300, help="seconds an order may wait for a step")
    parser.add_argument("--keep", action="store_true", help="keep the var dir, the logs and the database")
    args = parser.parse_args(argv)
    if min(args.orders, args.concurrency, args.buyers, args.workers, args.worker_threads) < 1 or args.warmup < 0:
        parser.error("--orders, --concurrency, --buyers, --workers and --worker-threads must be positive")
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)

    env = dict(os.environ)
    broker = env.get("MARKET_BROKER_URL", "").strip()
    if not _pg.is_postgres(env.get("MARKET_DATABASE_URL", "")):
        parser.error("set MARKET_DATABASE_URL to a PostgreSQL server: this bench measures production's setup")
    if urlparse(broker).scheme not in ("redis", "rediss", "amqp", "amqps"):
        parser.error("set MARKET_BROKER_URL to a Redis or RabbitMQ that no other worker listens to")
    wrk = shutil.which("wrk")
    result: dict = {"bench": "checkout", "db": "postgres", "broker": urlparse(broker).scheme,
                    "orders": args.orders, "concurrency": args.concurrency, "buyers": args.buyers,
                    "workers": args.workers, "worker_threads": args.worker_threads, "cpus": os.cpu_count(),
                    "goal_orders_per_s": GOAL_ORDERS_PER_S, "goal_p95_s": GOAL_P95_S,
                    "bare_tool": "wrk" if wrk else "python-asyncio", "loadavg_before": loadavg()}
    tmp = Path(tempfile.mkdtemp(prefix="market-bench-checkout-"))
    pg = _pg.ThrowAway.from_env(env, "checkout", log)
    servers: list = []
    exit_code = 0
    try:
        pg.create(env)
        env["MARKET_VAR_DIR"] = str(tmp / "var")
        env["MARKET_HOST"] = HOST
        env["MARKET_WORKER_THREADS"] = str(args.worker_threads)
        env.pop("MARKET_BASE_URL", None)
        market = hb.market_command()

        log("loading the demo (in-process jobs) …")
        t0 = time.monotonic()
        demo_env = {k: v for k, v in env.items() if k != "MARKET_BROKER_URL"}
        demo = subprocess.run([*market, "demo"], cwd=ROOT, env=demo_env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=900)
        if demo.returncode != 0:
            tail = "\n".join((demo.stdout + demo.stderr).strip().splitlines()[-15:])
            raise RuntimeError(f"`market demo` failed ({demo.returncode}):\n{tail}")
        log(f"demo loaded in {time.monotonic() - t0:.1f}s; seeding {args.buyers} buyers and API keys")
        seeded = asyncio.run(seed(env, args.buyers))
        result["listings"] = [{k: item[k] for k in ("listing_id", "title", "approval")} for item in seeded["listings"]]

        market_port, bare_port = hb.free_port(), hb.free_port()
        serve_env = {**env, "MARKET_PORT": str(market_port)}
        servers.append(hb.Server("market", [*market, "serve"], serve_env, market_port, tmp))
        for i in range(args.workers):
            servers.append(hb.Server(f"worker{i + 1}", [*market, "worker"], env, 0, tmp))
        bare_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
        servers.append(hb.Server("bare", [sys.executable, str(hb.BARE_APP), "--host", HOST, "--port", str(bare_port)],
                                 bare_env, bare_port, tmp))
        servers[0].wait_ready("/api/v1/fund")
        servers[-1].wait_ready("/bare")

        def bare(seconds: float) -> dict:
            if wrk:
                return hb.run_wrk(wrk, bare_port, "/bare", {}, seconds, args.connections, 2)
            return hb.run_python(bare_port, "/bare", {}, seconds, args.connections)

        bare_before = bare(args.bare_seconds)
        log(f"bare endpoint: {bare_before['rps']:.0f} req/s; {args.warmup} warm-up orders, then {args.orders} "
            f"orders, {args.concurrency} at a time, {args.workers} worker(s) × {args.worker_threads} threads")
        since = asyncio.run(max_document_id(env))
        for srv in servers:
            if srv.proc.poll() is not None:
                raise RuntimeError(f"{srv.name} exited with {srv.proc.returncode}:\n{srv.log_tail()}")
        cpu0 = {s.name: s.cpu_seconds() for s in servers}
        t_run = time.time()
        client_cpu0 = sum(os.times()[:2])
        ran = asyncio.run(drive(market_port, seeded, orders=args.orders, concurrency=args.concurrency,
                                warmup=args.warmup, timeout=args.timeout))
        cpu1 = {s.name: s.cpu_seconds() for s in servers}
        wall = time.time() - t_run
        result["loadavg_during"] = loadavg()
        bare_after = bare(args.bare_seconds)
        timings, errors = ran["timings"], ran["errors"]
        done = len(timings)
        result["completed"] = done
        result["errors"] = len(errors)
        if errors:
            result["first_errors"] = errors[:3]
            exit_code = 1
            log(f"{len(errors)} orders failed, e.g. {errors[0]}")
        # orders per second: completed orders over the time from the first order to the last completion
        span = (max(t["completed"] for t in timings) - min(t["start"] for t in timings)) if timings else 0
        result["elapsed_s"] = round(span, 2)
        result["orders_per_s"] = round(done / span, 3) if span else 0.0
        pay_to_file = [t["downloaded"] - t["signed"] for t in timings]
        flow = [t["completed"] - t["start"] for t in timings]
        to_contract = [t["contract_pdf"] - t["created"] for t in timings]
        result["p95_s"] = round(pct(pay_to_file, 0.95), 3) if pay_to_file else None
        result["p50_s"] = round(pct(pay_to_file, 0.50), 3) if pay_to_file else None
        result["flow_p50_s"] = round(pct(flow, 0.50), 2) if flow else None
        result["flow_p95_s"] = round(pct(flow, 0.95), 2) if flow else None
        result["contract_wait_p50_s"] = round(pct(to_contract, 0.50), 2) if to_contract else None
        result["contract_wait_p95_s"] = round(pct(to_contract, 0.95), 2) if to_contract else None
        # where the time of an order goes: the median of each step (the request or the wait)
        steps = (("create", "start", "created"), ("contract_pdf", "created", "contract_pdf"),
                 ("sign", "contract_pdf", "signed"), ("pay", "signed", "paid"), ("delivered", "paid", "delivered"),
                 ("download", "delivered", "downloaded"), ("confirm", "downloaded", "completed"))
        result["step_p50_s"] = {name: round(pct([t[b] - t[a] for t in timings], 0.5), 3)
                                for name, a, b in steps} if timings else {}
        result["bench_client_cpu_cores"] = round((sum(os.times()[:2]) - client_cpu0) / wall, 2)

        # every document of the measured orders (warm-up ones too: they share the window) rendered?
        deadline = time.monotonic() + args.timeout
        while True:
            rows = asyncio.run(document_figures(env, since))["rows"]
            if all(r["status"] == "rendered" for r in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        rendered = [r for r in rows if r["status"] == "rendered"]
        kinds: dict[str, int] = {}
        for r in rendered:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        result["pdfs"] = len(rendered)
        result["pdf_kinds"] = kinds
        result["pdfs_pending"] = len(rows) - len(rendered)
        if rendered:
            window = (max(r["rendered_at"] for r in rendered) - min(r["created_at"] for r in rows)).total_seconds()
            result["pdf_window_s"] = round(window, 2)
            result["pdfs_per_s_total"] = round(len(rendered) / window, 3) if window > 0 else None
            result["pdfs_per_s"] = (round(len(rendered) / window / args.workers, 3) if window > 0 else None)
        else:
            result["pdfs_per_s"] = result["pdfs_per_s_total"] = None
        result["bare_rps"] = round(statistics.median([bare_before["rps"], bare_after["rps"]]), 1)
        result["bare_rps_before_after"] = [round(bare_before["rps"], 1), round(bare_after["rps"], 1)]
        # CPU each process used during the measured run, in cores (user + system seconds / wall seconds)
        result["cpu_cores"] = {name: round((cpu1[name] - cpu0[name]) / wall, 2)
                               for name in cpu0 if cpu0[name] is not None and cpu1.get(name) is not None}
        check = subprocess.run([*market, "ledger", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=300)
        result["ledger_ok"] = check.returncode == 0
        if check.returncode != 0:
            exit_code = 1
            result["ledger_check"] = (check.stdout + check.stderr).strip()[-500:]
        result["loadavg_after"] = loadavg()
        log(f"{done} orders completed in {span:.1f}s: {result['orders_per_s']} orders/s (goal ≥ {GOAL_ORDERS_PER_S}); "
            f"{result['pdfs']} PDFs {kinds}: {result['pdfs_per_s']} per second per worker "
            f"({result.get('pdfs_per_s_total')} in all); payment → file p50 {result['p50_s']}s, p95 {result['p95_s']}s "
            f"(goal ≤ {GOAL_P95_S}); whole flow p50 {result['flow_p50_s']}s p95 {result['flow_p95_s']}s; contract "
            f"PDF wait p50 {result['contract_wait_p50_s']}s; bare {result['bare_rps']} req/s; CPU cores "
            f"{result['cpu_cores']}; load {result['loadavg_during']}; ledger check "
            f"{'ok' if result['ledger_ok'] else 'FAILED'}")
    except (Exception, KeyboardInterrupt) as exc:
        exit_code = 130 if isinstance(exc, KeyboardInterrupt) else 1
        log(f"ERROR: {type(exc).__name__}: {exc}")
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        result.setdefault("orders_per_s", None)
        result.setdefault("pdfs_per_s", None)
        result.setdefault("p95_s", None)
    finally:
        for srv in reversed(servers):
            srv.stop()
        if pg:
            pg.drop(keep=args.keep)
        if args.keep:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, default=str), flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
