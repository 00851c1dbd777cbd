"""End-to-end harness: a real `market serve` on loopback (its own SQLite under a fresh temp dir, never the
test suite's database) driven by Debian's headless Chromium through Playwright's async API.

Every test under tests/e2e is marked `e2e`.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import pytest_asyncio
from playwright.async_api import async_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
STARTUP_TIMEOUT = 60.0
E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if E2E_DIR in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


# stdout/stderr files of each running `market serve`, by its fixture's name, shown when a test using it fails
_SERVER_LOGS: dict[str, list[Path]] = {}
_SERVER_ENV: dict[str, str] = {}  # the environment `market serve` runs with (see live_env)
_ENGINE_ENV: dict[str, str] = {}  # the same for engine_server (see engine_env)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    used = [name for name in getattr(item, "fixturenames", ()) if name in _SERVER_LOGS]
    if report.failed and used:
        for path in _SERVER_LOGS[used[0]]:
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            if text.strip():
                report.sections.append((f"market serve {path.suffix[1:]}", text[-8000:]))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _market_cli() -> list[str]:
    script = Path(sys.executable).with_name("market")
    if script.exists():
        return [str(script)]
    found = shutil.which("market")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from market.cli import main; sys.exit(main())"]


def _server_env(var_dir: Path, port: int) -> dict[str, str]:
    """A clean copy of the environment: no MARKET_* from the caller (no shared PostgreSQL, broker, S3 or
    Stripe), embedded defaults under a fresh var dir. Explicit empty values also beat any .env file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update({
        "MARKET_VAR_DIR": str(var_dir),
        "MARKET_PORT": str(port),
        "MARKET_HOST": "127.0.0.1",
        "MARKET_DATABASE_URL": "",
        "MARKET_BROKER_URL": "",
        "MARKET_S3_ENDPOINT": "",
        "MARKET_STRIPE_API_KEY": "",
        "MARKET_SECRET_KEY": "",
        "MARKET_BASE_URL": "",
        "MARKET_DEFAULT_LOCALE": "zh",
        "MARKET_PASSWORD_PROFILE": "cheapest",
        "MARKET_LISTING_NOTICE_DAYS": "0",  # approved listings go on sale at once in the walk-through
        # every browser test logs in from the same loopback address: the per-address login limit
        # (20 a minute by default) would refuse the later ones of a quick run
        "MARKET_LOGIN_RATE_PER_MINUTE": "1000",
        "MARKET_LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    env.pop("PICCOLO_CONF", None)
    return env


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _serve(name: str, env: dict[str, str], tmp: Path):
    """`market demo` then `market serve` in `env`; yields the base URL, stops the server after."""
    port = int(env["MARKET_PORT"])
    cli = _market_cli()
    demo = subprocess.run([*cli, "demo"], cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
    if demo.returncode != 0:
        pytest.fail(f"`market demo` failed ({demo.returncode}):\n{demo.stdout}\n{demo.stderr}")

    out_path, err_path = tmp / "serve.out", tmp / "serve.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen([*cli, "serve"], cwd=tmp, env=env, stdout=out, stderr=err,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    _SERVER_LOGS[name] = [out_path, err_path]

    def logs() -> str:
        return (f"--- stdout ---\n{out_path.read_text(errors='replace')}\n"
                f"--- stderr ---\n{err_path.read_text(errors='replace')}")

    def stop() -> None:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)

    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not _healthy(f"{base_url}/api/v1/health"):
        if proc.poll() is not None:
            pytest.fail(f"`market serve` exited with {proc.returncode} before answering:\n{logs()}")
        if time.monotonic() > deadline:
            stop()
            pytest.fail(f"`market serve` did not answer /api/v1/health within {STARTUP_TIMEOUT:.0f}s:\n{logs()}")
        time.sleep(0.2)
    try:
        yield base_url
    finally:
        stop()
        _SERVER_LOGS.pop(name, None)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def live_server():
    """`market demo` then `market serve` on a free loopback port; yields the base URL."""
    tmp = Path(tempfile.mkdtemp(prefix="market-e2e-"))
    env = _server_env(tmp / "var", _free_port())
    _SERVER_ENV.clear()
    _SERVER_ENV.update(env)
    yield from _serve("live_server", env, tmp)


def suite_postgres_url() -> str:
    """The PostgreSQL database the suite runs on (`make test`'s second pass), or '' on SQLite."""
    url = os.environ.get("MARKET_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


def _database_beside(url: str, suffix: str, *, create: bool) -> str:
    """(Re)create, or drop, a database beside the suite's (never the suite's own, which every test
    empties); its URL."""
    import asyncio

    import asyncpg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{suffix}"

    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if create:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(run())
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def engine_server():
    """Like live_server, on the database engine the suite runs on: in the PostgreSQL pass the server and
    its demo use a fresh PostgreSQL database of their own (jobs in-process); on SQLite, its own file."""
    tmp = Path(tempfile.mkdtemp(prefix="market-e2e-pg-"))
    env = _server_env(tmp / "var", _free_port())
    pg = suite_postgres_url()
    _ENGINE_ENV.clear()
    _ENGINE_ENV.update(env)
    if pg:
        # PostgreSQL has no generated secret file: give the server one of its own
        env.update({"MARKET_DATABASE_URL": _database_beside(pg, "e2e", create=True),
                    "MARKET_SECRET_KEY": secrets.token_hex(24)})
        _ENGINE_ENV.update(env)
    try:
        yield from _serve("engine_server", env, tmp)
    finally:
        if pg:
            _database_beside(pg, "e2e", create=False)


@pytest.fixture(scope="session")
def engine_env(engine_server) -> dict[str, str]:
    """The environment of the running engine_server, for a script that seeds what no page can."""
    return dict(_ENGINE_ENV)


@pytest.fixture(scope="session")
def live_env(live_server) -> dict[str, str]:
    """The environment of the running `market serve` (its var dir, hence its SQLite file), for a test
    that must put in place what no page can, e.g. money in the ledger, with a script run in it."""
    return dict(_SERVER_ENV)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser():
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser, live_server):
    context = await browser.new_context(base_url=live_server, locale="zh-CN")
    context.set_default_timeout(15_000)
    page = await context.new_page()
    try:
        yield page
    finally:
        await context.close()
