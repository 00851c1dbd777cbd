"""HTTP throughput of an authenticated JSON endpoint against a bare Litestar ceiling, in one run.

    cd /work/main && .venv/bin/python bench/http.py [--duration 10] [--connections 64] [--threads 2]

What it does, all on 127.0.0.1 with free ports, in a throw-away MARKET_VAR_DIR:

1. `market demo` (demo users, password demo-2026), then `market serve` (uvicorn, one worker).
2. `bench/_bare_app.py`: a bare Litestar app with `GET /bare`, served by the same uvicorn call.
3. Logs in as buyer@demo.cn (`POST /api/v1/session`), creates an API key (`POST /api/v1/api-keys`),
   and checks that `GET /api/v1/me` answers 200 with that user for the cookie and for the key (and
   401 without either) before any load.
4. --rounds (at least 3) interleaved rounds (bench/_rounds.py): in each, every target (bare, session
   cookie, API key) back to back, the order reversed every other round, each a warm-up of `--warmup`
   seconds then `wrk -t<threads> -c<connections> -d<duration>s --latency` (or, without wrk, a Python
   asyncio keep-alive load loop; "tool" in the JSON says which). The ceiling swings with whatever
   else the machine does (8.2k to 5.2k req/s between idle runs here), so a ratio is taken within
   each round, where both sides saw the same seconds of machine weather, and the median is reported.
5. Stops everything it started (process groups), even on error or Ctrl-C.

Human-readable progress goes to stderr; the last stdout line is one JSON object:
ratio (median over the rounds of session_rps / bare_rps; goal >= 0.6), ratio_spread (max - min of the
per-round ratios), ratios (each round's), the same as api_key_ratio*, cpu_ratio* (bare / session
server CPU µs per request), bare_rps, session_rps, api_key_rps and p50/p99 latencies (medians over
the rounds), non_2xx (over every load run, warm-ups included), the server's CPU use, "db".

MARKET_DATABASE_URL, if set, is passed through (PostgreSQL; a MARKET_SECRET_KEY is made up when
missing or too short) and "db" says "postgres".
"""

from __future__ import annotations

import os
import sys

# Run as a script, bench/ is sys.path[0] and this very file would shadow the standard library's
# `http` package for everything imported below. Drop it before importing anything else.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import http.client  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from http.cookies import SimpleCookie  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlparse  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BARE_APP = Path(__file__).resolve().parent / "_bare_app.py"


def _bench_module(name: str):
    """A sibling bench module by path (bench/ is no package; this file's name rules out sys.path)."""
    spec = importlib.util.spec_from_file_location(f"bench{name}", Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


rounds_lib = _bench_module("_rounds")
HOST = "127.0.0.1"
EMAIL = "buyer@demo.cn"
DEFAULT_PASSWORD = "demo-2026"
SESSION_COOKIE = "market_session"
ME = "/api/v1/me"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---- processes ---------------------------------------------------------------------------


class Server:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], port: int, logdir: Path) -> None:
        self.name, self.port = name, port
        self.log_path = logdir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, path: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} before serving:\n"
                                   f"{self.log_tail()}")
            try:
                fetch(self.port, "GET", path, timeout=2)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.name} not answering on port {self.port} after {timeout:.0f}s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the server process so far (Linux /proc), None elsewhere."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            # the leader is gone; make sure nothing it started is left in its group
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._log.close()


def market_command() -> list[str]:
    script = Path(sys.executable).parent / "market"
    if script.exists():
        return [str(script)]
    found = shutil.which("market")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from market.cli import main; sys.argv[0] = 'market'; main()"]


# ---- one-off HTTP requests ---------------------------------------------------------------


def fetch(port: int, method: str, path: str, headers: dict[str, str] | None = None, body: object = None,
          timeout: float = 30.0) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def fetch_json(port: int, method: str, path: str, expect: int, **kw) -> dict:
    status, headers, raw = fetch(port, method, path, **kw)
    if status != expect:
        raise RuntimeError(f"{method} {path}: expected {expect}, got {status}: {raw[:300]!r}")
    return json.loads(raw) if raw else {}


def check_me(port: int, headers: dict[str, str], auth: str) -> dict:
    me = fetch_json(port, "GET", ME, 200, headers=headers)
    email = (me.get("user") or {}).get("email")
    if email != EMAIL or me.get("auth") != auth:
        raise RuntimeError(f"GET {ME} ({auth}) answered for {email!r} / auth={me.get('auth')!r}, "
                           f"expected {EMAIL!r} / {auth!r}")
    return me


# ---- load generators ---------------------------------------------------------------------

_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNIT_MS[unit]


def parse_wrk(out: str) -> dict:
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"cannot read wrk's output:\n{out}")
    res: dict = {"rps": float(m.group(1))}
    m = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h)", out)
    if m:
        res["requests"] = int(m.group(1))
        res["elapsed_s"] = _ms(m.group(2), m.group(3)) / 1e3
    m = re.search(r"^\s*Latency\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)", out, re.M)
    if m:
        res["avg_ms"] = _ms(m.group(1), m.group(2))
        res["max_ms"] = _ms(m.group(5), m.group(6))
    for pct, value, unit in re.findall(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", out, re.M):
        res[f"p{pct}_ms"] = _ms(value, unit)
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    res["non_2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = sum(int(x) for x in m.groups()) if m else 0
    return res


def run_wrk(wrk: str, port: int, path: str, headers: dict[str, str], duration: float, connections: int,
            threads: int) -> dict:
    cmd = [wrk, f"-t{min(threads, connections)}", f"-c{connections}", f"-d{max(1, round(duration))}s",
           "--latency", "--timeout", "10s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    cmd.append(f"http://{HOST}:{port}{path}")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked, close = None, False, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection" and value == "close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, close


async def _python_load(port: int, path: str, headers: dict[str, str], duration: float,
                       connections: int) -> dict:
    request = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
               + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode("latin-1")
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    counts = {"non_2xx": 0, "errors": 0}
    deadline = loop.time() + duration

    async def client() -> None:
        writer = None
        try:
            while loop.time() < deadline:
                if writer is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                t0 = time.perf_counter()
                try:
                    writer.write(request)
                    status, close = await asyncio.wait_for(_read_response(reader), 10)
                except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
                    counts["errors"] += 1
                    writer.close()
                    writer = None
                    continue
                latencies.append(time.perf_counter() - t0)
                if not 200 <= status < 400:
                    counts["non_2xx"] += 1
                if close:
                    writer.close()
                    writer = None
        finally:
            if writer is not None:
                writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1e3 if latencies else 0.0

    return {"rps": len(latencies) / elapsed, "requests": len(latencies), "elapsed_s": elapsed,
            "avg_ms": statistics.fmean(latencies) * 1e3 if latencies else 0.0,
            "max_ms": latencies[-1] * 1e3 if latencies else 0.0,
            "p50_ms": pct(0.50), "p75_ms": pct(0.75), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "non_2xx": counts["non_2xx"], "socket_errors": counts["errors"]}


def run_python(port: int, path: str, headers: dict[str, str], duration: float, connections: int) -> dict:
    try:
        import uvloop  # same loop as the servers, if available: less client overhead
        return uvloop.run(_python_load(port, path, headers, duration, connections))
    except ImportError:
        return asyncio.run(_python_load(port, path, headers, duration, connections))


# ---- the run -----------------------------------------------------------------------------


def _terminate(signum, frame):  # SIGTERM/SIGHUP: unwind through the finally blocks
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10, help="seconds of load per target (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per target (default 2)")
    parser.add_argument("--rounds", type=int, default=rounds_lib.MIN_ROUNDS,
                        help=f"interleaved rounds of bare/session/api-key; the ratio is the median of the "
                             f"per-round ratios (at least {rounds_lib.MIN_ROUNDS}, the default)")
    parser.add_argument("--tool", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk if installed (auto), or the Python asyncio loop")
    parser.add_argument("--keep", action="store_true", help="keep the temporary var dir and server logs")
    args = parser.parse_args(argv)
    if args.duration <= 0 or args.connections <= 0 or args.threads <= 0 or args.warmup < 0:
        parser.error("--duration, --connections and --threads must be positive, --warmup >= 0")
    if args.rounds < rounds_lib.MIN_ROUNDS:
        parser.error(f"--rounds must be at least {rounds_lib.MIN_ROUNDS}: one round is at the mercy of the machine")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _terminate)

    wrk = shutil.which("wrk") or ("/usr/bin/wrk" if os.access("/usr/bin/wrk", os.X_OK) else None)
    if args.tool == "wrk" and not wrk:
        parser.error("wrk is not installed")
    tool = "wrk" if wrk and args.tool != "python" else "python-asyncio"
    if tool != "wrk" and args.tool == "auto":
        log("wrk not found: falling back to the Python asyncio load loop (lower ceiling, client shares the CPU)")

    env = dict(os.environ)
    db_url = env.get("MARKET_DATABASE_URL", "").strip()
    db = "postgres" if urlparse(db_url).scheme in ("postgres", "postgresql") else "sqlite"
    if db == "postgres" and len(env.get("MARKET_SECRET_KEY", "").strip()) < 32:
        env["MARKET_SECRET_KEY"] = secrets.token_urlsafe(48)
    password = env.get("MARKET_DEMO_PASSWORD") or DEFAULT_PASSWORD

    result: dict = {"bench": "http", "tool": tool, "duration_s": args.duration, "connections": args.connections,
                    "threads": args.threads if tool == "wrk" else None, "warmup_s": args.warmup,
                    "rounds": args.rounds, "db": db,
                    "uvicorn_loop": "uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
                    "uvicorn_http": "httptools" if importlib.util.find_spec("httptools") else "h11",
                    "cpus": os.cpu_count()}
    tmp = Path(tempfile.mkdtemp(prefix="market-bench-http-"))
    servers: list[Server] = []
    market_port, bare_port = free_port(), free_port()
    cleanup: list = []  # (callable) run before the servers are stopped, best effort
    exit_code = 0
    try:
        env["MARKET_VAR_DIR"] = str(tmp / "var")
        env["MARKET_PORT"] = str(market_port)
        env["MARKET_HOST"] = HOST
        env.pop("MARKET_BASE_URL", None)
        market = market_command()

        log(f"[http] {db}, var dir {tmp / 'var'}; loading demo data…")
        t0 = time.monotonic()
        demo = subprocess.run([*market, "demo"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=600)
        if demo.returncode != 0:
            tail = "\n".join((demo.stdout + demo.stderr).strip().splitlines()[-12:])
            raise RuntimeError(f"`market demo` failed ({demo.returncode}):\n{tail}")
        log(f"[http] demo loaded in {time.monotonic() - t0:.1f}s; starting market serve on :{market_port} "
            f"and the bare app on :{bare_port}")

        servers.append(Server("market", [*market, "serve"], env, market_port, tmp))
        bare_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
        servers.append(Server("bare", [sys.executable, str(BARE_APP), "--host", HOST, "--port", str(bare_port)],
                              bare_env, bare_port, tmp))
        market_srv, bare_srv = servers
        market_srv.wait_ready(ME)
        bare_srv.wait_ready("/bare")

        # ---- correctness before load ----
        status, _, _ = fetch(market_port, "GET", ME)
        if status != 401:
            raise RuntimeError(f"GET {ME} without credentials answered {status}, expected 401")
        status, headers, raw = fetch(market_port, "POST", "/api/v1/session",
                                     body={"email": EMAIL, "password": password})
        if status != 201:
            raise RuntimeError(f"login as {EMAIL} failed: {status} {raw[:300]!r}")
        token = None
        for value in headers.get_all("set-cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            if SESSION_COOKIE in jar:
                token = jar[SESSION_COOKIE].value
        if not token:
            raise RuntimeError(f"login response set no {SESSION_COOKIE} cookie")
        session_headers = {"Cookie": f"{SESSION_COOKIE}={token}"}
        me = check_me(market_port, session_headers, "session")
        csrf = me.get("csrf_token") or json.loads(raw).get("csrf_token")
        cleanup.append(lambda: fetch(market_port, "DELETE", "/api/v1/session",
                                     headers={**session_headers, "X-CSRF-Token": csrf}))
        created = fetch_json(market_port, "POST", "/api/v1/api-keys", 201, body={"name": "bench"},
                             headers={**session_headers, "X-CSRF-Token": csrf})
        secret, key_id = created["secret"], (created.get("key") or {}).get("id")
        if key_id is not None:
            cleanup.insert(0, lambda: fetch(market_port, "DELETE", f"/api/v1/api-keys/{key_id}",
                                            headers={**session_headers, "X-CSRF-Token": csrf}))
        key_headers = {"Authorization": f"Bearer {secret}"}
        check_me(market_port, key_headers, "api_key")
        bare_body = fetch_json(bare_port, "GET", "/bare", 200)
        log(f"[http] verified: {ME} → 200 {EMAIL} ({me.get('organization', {}).get('name')}, roles "
            f"{me.get('roles')}) by session cookie and by API key; 401 without; /bare → {bare_body}")
        result["me_bytes"] = len(fetch(market_port, "GET", ME, headers=session_headers)[2])
        result["bare_bytes"] = len(fetch(bare_port, "GET", "/bare")[2])

        # ---- load ----
        targets = [("bare", bare_srv, "/bare", {}),
                   ("session", market_srv, ME, session_headers),
                   ("api_key", market_srv, ME, key_headers)]

        def load(srv: Server, path: str, headers: dict[str, str], seconds: float) -> dict:
            if tool == "wrk":
                return run_wrk(wrk, srv.port, path, headers, seconds, args.connections, args.threads)
            return run_python(srv.port, path, headers, seconds, args.connections)

        counts = {"non_2xx": 0, "socket_errors": 0}
        runs_done = [0]  # for the progress lines: round = runs so far // targets

        def measure(name: str, srv: Server, path: str, headers: dict[str, str]):
            def run() -> dict:
                if args.warmup > 0:
                    w = load(srv, path, headers, args.warmup)
                    counts["non_2xx"] += w["non_2xx"]
                    counts["socket_errors"] += w["socket_errors"]
                cpu0, t_0 = srv.cpu_seconds(), time.monotonic()
                r = load(srv, path, headers, args.duration)
                cpu1, t_1 = srv.cpu_seconds(), time.monotonic()
                if cpu0 is not None and cpu1 is not None:
                    r["server_cpu_pct"] = 100 * (cpu1 - cpu0) / (t_1 - t_0)
                    if r.get("requests"):
                        r["server_cpu_us_per_req"] = 1e6 * (cpu1 - cpu0) / r["requests"]
                counts["non_2xx"] += r["non_2xx"]
                counts["socket_errors"] += r["socket_errors"]
                runs_done[0] += 1
                log(f"[http] round {(runs_done[0] - 1) // len(targets) + 1}/{args.rounds} {name:8s} {r['rps']:9.1f} req/s  "
                    f"p50 {r.get('p50_ms', float('nan')):7.2f} ms  p99 {r.get('p99_ms', float('nan')):7.2f} ms  "
                    f"server cpu {r.get('server_cpu_pct', float('nan')):5.1f}%  "
                    f"({r.get('server_cpu_us_per_req', float('nan')):.0f} µs/req)  "
                    f"non-2xx {r['non_2xx']}  socket errors {r['socket_errors']}")
                for s in servers:
                    if s.proc.poll() is not None:
                        raise RuntimeError(f"{s.name} died during the load:\n{s.log_tail()}")
                return r
            return run

        rounds = rounds_lib.interleave(args.rounds, **{name: measure(name, srv, path, headers)
                                                        for name, srv, path, headers in targets})
        result["round_rps"] = [{name: round(rnd[name]["rps"], 1) for name, *_ in targets} for rnd in rounds]
        for name, *_ in targets:
            result[f"{name}_rps"] = rounds_lib.median_of(rounds, name, "rps")
            for key in ("p50_ms", "p99_ms", "server_cpu_pct", "server_cpu_us_per_req"):
                values = [rnd[name].get(key) for rnd in rounds]
                result[f"{name}_{key}"] = (round(statistics.median(values), 3)
                                           if all(v is not None for v in values) else None)
        result.update(rounds_lib.summarize(rounds, ours="session", bare="bare", key="rps"))
        result.update(rounds_lib.summarize(rounds, ours="api_key", bare="bare", key="rps", prefix="api_key_"))
        # the same comparison in server CPU time per request: steadier than req/s on a busy machine
        if all(rnd[name].get("server_cpu_us_per_req") for rnd in rounds for name in ("bare", "session")):
            result.update(rounds_lib.summarize(rounds, ours="session", bare="bare", key="server_cpu_us_per_req",
                                               lower_is_better=True, prefix="cpu_"))
        else:
            result["cpu_ratio"] = None
        non_2xx, socket_errors = counts["non_2xx"], counts["socket_errors"]
        result["non_2xx"] = non_2xx
        result["socket_errors"] = socket_errors
        result["goal_ratio"] = 0.6
        if non_2xx:
            log(f"[http] WARNING: {non_2xx} non-2xx responses under load — the figures are not trustworthy")
            exit_code = 1
        log(f"[http] ratio session/bare {result['ratio']} (median of {result['ratios']}, spread "
            f"{result['ratio_spread']}), api-key/bare {result['api_key_ratio']} (spread "
            f"{result['api_key_ratio_spread']}) over {args.rounds} interleaved rounds (goal ≥ 0.6)")
    except (Exception, KeyboardInterrupt) as exc:
        exit_code = 130 if isinstance(exc, KeyboardInterrupt) else 1
        log(f"[http] ERROR: {type(exc).__name__}: {exc}")
        result["error"] = f"{type(exc).__name__}: {exc}"[:2000]
        result.setdefault("ratio", None)
    finally:
        for action in cleanup:
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - best effort: the var dir is thrown away anyway
                log(f"[http] cleanup request failed: {exc}")
        for srv in reversed(servers):
            srv.stop()
        if args.keep:
            log(f"[http] kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False), flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
