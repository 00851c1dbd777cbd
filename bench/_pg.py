"""A throw-away PostgreSQL database for a bench run, on the server MARKET_DATABASE_URL names.

A bench seeds 100,000 listings: it must never do that in the database the URL points at (a developer's
data, or the test database). So it creates `market_bench_<what>_<random>` beside it, points
MARKET_DATABASE_URL of its child processes there, and drops it at the end, even after an error.

    pg = _pg.ThrowAway.from_env(env, "listing", log)   # None on SQLite
    if pg:
        pg.create(env)        # CREATE DATABASE, env["MARKET_DATABASE_URL"] and a MARKET_SECRET_KEY set
    ...
    finally:
        if pg:
            pg.drop(keep=args.keep)

Import it by path (bench/ is no package, and bench/http.py shadows the standard library's `http`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from urllib.parse import urlparse, urlunparse


def is_postgres(url: str) -> bool:
    return urlparse(url.strip()).scheme in ("postgres", "postgresql")


def pg_url(url: str, dbname: str) -> str:
    """The same server and credentials, another database."""
    parts = urlparse(url)
    return urlunparse(parts._replace(path="/" + dbname))


async def pg_admin(url: str, sql: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE refuse to run inside one)."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class ThrowAway:
    """One throw-away database: `create` it, `drop` it."""

    def __init__(self, admin_url: str, what: str, log: Callable[[str], None]):
        self.admin_url = admin_url  # the configured URL: the server and an account allowed to create databases
        self.name = f"market_bench_{what}_{secrets.token_hex(4)}"
        self.url = pg_url(admin_url, self.name)
        self._log = log
        self.created = False

    @classmethod
    def from_env(cls, env: dict, what: str, log: Callable[[str], None]) -> ThrowAway | None:
        url = env.get("MARKET_DATABASE_URL", "").strip()
        return cls(url, what, log) if is_postgres(url) else None

    def create(self, env: dict) -> None:
        """Create the database and point `env` (the children's environment) at it."""
        asyncio.run(pg_admin(self.admin_url, f'CREATE DATABASE "{self.name}"'))
        self.created = True
        env["MARKET_DATABASE_URL"] = self.url
        if len(env.get("MARKET_SECRET_KEY", "").strip()) < 32:  # required with PostgreSQL
            env["MARKET_SECRET_KEY"] = secrets.token_urlsafe(48)
        self._log(f"PostgreSQL database {self.name} created for this run")

    def drop(self, *, keep: bool = False) -> None:
        """Drop it (FORCE: a server still connected would block it); report, never raise, on failure."""
        if not self.created:
            return
        if keep:
            self._log(f"kept PostgreSQL database {self.name}")
            return
        try:
            asyncio.run(pg_admin(self.admin_url, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        except Exception as exc:  # noqa: BLE001 - the run's figures stand
            self._log(f"could not drop database {self.name}: {exc}")
