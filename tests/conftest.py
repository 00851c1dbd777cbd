"""Test harness: one database per run (SQLite file by default, PostgreSQL when MARKET_DATABASE_URL
is set, as `make test` does for its second pass), migrated once, emptied before every test."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import pytest
import pytest_asyncio

from market import db, identity
from market.config import Settings

logging.getLogger("httpx").setLevel(logging.WARNING)
_TMP = Path(tempfile.mkdtemp(prefix="market-test-"))
TEST_SECRET = "test-secret-key-0123456789abcdef-0123456789"


def _test_settings() -> Settings:
    env = {k: v for k, v in os.environ.items() if k.startswith("MARKET_")}
    env.setdefault("MARKET_VAR_DIR", str(_TMP / "var"))
    env.setdefault("MARKET_SECRET_KEY", TEST_SECRET)
    env["MARKET_PASSWORD_PROFILE"] = "cheapest"  # argon2 at full strength would dominate the run time
    env.setdefault("MARKET_OUTBOX_POLL_SECONDS", "0.05")
    env.setdefault("MARKET_LOGIN_RATE_PER_MINUTE", "60")  # the role walk logs in often
    return Settings.from_env(env, env_file=None)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return _test_settings()


@pytest_asyncio.fixture(scope="session", autouse=True)
async def database(settings):
    os.environ["PICCOLO_CONF"] = "market.piccolo_conf"
    db.bind(settings)
    identity.configure(settings)
    from market import jobs, runtime

    runtime.configure(settings)
    from market.app import TASK_MODULES

    jobs.discover(TASK_MODULES)
    if not settings.is_sqlite:
        await db.start(settings)
        # a dedicated test database: start from an empty schema so migrations run from scratch
        await db.engine().run_ddl("DROP SCHEMA public CASCADE")
        await db.engine().run_ddl("CREATE SCHEMA public")
        await db.stop()
    from market.cli import migrate

    await migrate(settings, quiet=True)
    await db.start(settings)
    if settings.broker_kind == "redis":
        import redis

        redis.Redis.from_url(settings.broker_url).flushdb()
    yield
    await db.stop()


@pytest_asyncio.fixture(autouse=True)
async def clean(database):
    """Every test starts from empty tables (the migration table excepted)."""
    tables = [t for t in db.all_tables()]
    names = [t._meta.tablename for t in tables]
    if db.is_sqlite():
        for name in reversed(names):
            await db.engine().run_ddl(f'DELETE FROM "{name}"')
    else:
        await db.engine().run_ddl("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE")
    identity.clear_auth_cache()
    from listings import search

    await search.clear_index()  # the FTS tables are not Piccolo tables, and listing ids are reused
    yield


@pytest.fixture
def app(settings):
    from market.app import create_app

    return create_app(settings, manage_db=False)


@pytest_asyncio.fixture
async def client(app):
    from litestar.testing import AsyncTestClient

    async with AsyncTestClient(app=app, base_url="http://127.0.0.1") as c:
        yield c


@pytest_asyncio.fixture
async def job_runtime(settings):
    """A worker and dispatcher on the test's event loop, against the configured broker."""
    from market import jobs

    runtime = jobs.JobRuntime(settings, with_worker=True, with_dispatcher=False)
    await runtime.start()
    yield runtime
    await runtime.stop()
