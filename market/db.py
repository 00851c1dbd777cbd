"""The database engine, transactions and the one status-transition helper.

One engine per process, bound to every table at start-up (`bind`), so settings are never read at
import time. `atomic()` is the only way services open a transaction: on SQLite it takes the write
lock up front (IMMEDIATE), which avoids `database is locked` when concurrent tasks read-then-write;
a nested `atomic()` joins the outer transaction, so service functions compose.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Mapping
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from market.config import Settings
from market.errors import Conflict, NotFound

_engine: Engine | None = None


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: wait for the write lock instead of failing at once under concurrent writers
        return SQLiteEngine(path=str(path), timeout=30, check_same_thread=False)
    return PostgresEngine(config={"dsn": settings.database_url}, log_queries=False)


def all_tables() -> list[type[Table]]:
    from market.piccolo_conf import APP_REGISTRY

    tables: list[type[Table]] = []
    for app_config in APP_REGISTRY.app_configs.values():
        tables.extend(app_config.table_classes)
    return tables


def bind(settings: Settings) -> Engine:
    """Create the process's engine from settings and point every table at it."""
    global _engine
    _engine = make_engine(settings)
    for table in all_tables():
        table._meta.db = _engine
    return _engine


def engine() -> Engine:
    if _engine is None:
        # piccolo's own CLI (migrations) lands here; read the environment as the entry point would
        return bind(Settings.from_env())
    return _engine


def is_sqlite() -> bool:
    return isinstance(engine(), SQLiteEngine)


async def start(settings: Settings) -> None:
    """Open the connection pool (PostgreSQL) or set WAL mode (SQLite) on the running loop."""
    eng = engine()
    if isinstance(eng, PostgresEngine):
        if eng.pool is None:
            await eng.start_connection_pool(min_size=1, max_size=10)
    else:
        # WAL lets readers run while one writer commits; it is a property of the file, set once
        await eng.run_ddl("PRAGMA journal_mode=WAL")


async def stop() -> None:
    eng = engine()
    if isinstance(eng, PostgresEngine) and eng.pool is not None:
        await eng.close_connection_pool()


def atomic():
    """A transaction that joins an enclosing one."""
    eng = engine()
    if isinstance(eng, SQLiteEngine):
        if eng.transaction_exists():
            return contextlib.nullcontext()
        return eng.transaction(transaction_type=TransactionType.immediate)
    if eng.transaction_exists():
        return contextlib.nullcontext()
    return eng.transaction()


def reading():
    """Several reads on one connection. On SQLite Piccolo opens a connection (and a thread) per
    statement outside a transaction, ~2 ms each; a deferred transaction takes no write lock and
    shares one connection, and gives the reads one consistent view. PostgreSQL's pool makes each
    statement cheap already, so there it adds nothing (and no BEGIN/COMMIT round trips)."""
    eng = engine()
    if isinstance(eng, SQLiteEngine) and not eng.transaction_exists():
        return eng.transaction(transaction_type=TransactionType.deferred)
    return contextlib.nullcontext()


async def rowcount_update(table: type[Table], values: Mapping, *where) -> int:
    """Run an UPDATE and return how many rows it changed (via RETURNING, portable on both engines)."""
    rows = await table.update(dict(values)).where(*where).returning(table._meta.primary_key)
    return len(rows)


class StatusEnum(str, enum.Enum):
    """A status value; subclasses define TRANSITIONS = {from: {to, ...}}."""

    @classmethod
    def allowed(cls, current: "StatusEnum", target: "StatusEnum") -> bool:
        table = getattr(cls, "_transitions", None) or {}
        return target in table.get(current, ())


async def transition(table: type[Table], row_id: Any, *, to: StatusEnum, action: str,
                     status_column: str = "status", extra: Mapping | None = None,
                     audit_after: Mapping | None = None) -> dict:
    """Move a row to a new status: checks the transition table, compare-and-sets, audits; nothing
    else in the code base assigns a status column."""
    from market import audit

    enum_cls = type(to)
    col = getattr(table, status_column)
    async with atomic():
        row = await table.select().where(table._meta.primary_key == row_id).first()
        if row is None:
            raise NotFound()
        current = enum_cls(row[status_column])
        if not enum_cls.allowed(current, to):
            raise Conflict("state.transition_refused", "当前状态（{current}）不能变更为（{target}）",
                           current=current.value, target=to.value)
        values = {col: to.value, **(extra or {})}
        changed = await rowcount_update(table, values, table._meta.primary_key == row_id,
                                        col == current.value)
        if changed != 1:
            raise Conflict("state.concurrent_change", "该对象刚被他人修改，请刷新后重试")
        await audit.record(action=action, object_type=table._meta.tablename, object_id=str(row_id),
                           before={status_column: current.value},
                           after={status_column: to.value, **(audit_after or {})})
        row[status_column] = to.value
        return row


def set_transitions(enum_cls: type[StatusEnum], table: dict) -> None:
    """Attach a transition table to a status enum (class attributes can't hold enum members)."""
    enum_cls._transitions = {k: frozenset(v) for k, v in table.items()}
