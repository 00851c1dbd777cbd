"""The entitled version as a DuckDB table, and the one way a query is built against it.

A version's prepared CSV (object store) is loaded once per process into an in-memory DuckDB table,
all text (`raw`, as the file says it: what verification compares), and as `data`, where the columns
the profile found numeric are cast once, so ranges and order compare numbers. Tables are kept in a small LRU.

Queries are built from validated parts only: column names must be the profile's own (and are quoted),
every value is a bound parameter, never interpolated into the SQL.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass

import duckdb

from market import runtime
from market.errors import DomainError

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_OFFSET = 2**31 - 1
RANGE_OPS = {"gte": ">=", "lte": "<=", "gt": ">", "lt": "<"}
_CAST = {"integer": "BIGINT", "decimal": "DOUBLE"}
_CACHE_SIZE = 8
ROW = "__market_row"  # the file's row order, kept in the view: a stable order when none is asked


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Loaded:
    con: duckdb.DuckDBPyConnection
    columns: tuple[str, ...]
    types: dict[str, str]  # column → profile type (integer, decimal, text, date, …)


_tables: OrderedDict[str, Loaded] = OrderedDict()
_lock = threading.Lock()


def _load(prepared_key: str, profile: dict) -> Loaded:
    columns = tuple(c["name"] for c in profile.get("columns", []))
    types = {c["name"]: c.get("type") or "text" for c in profile.get("columns", [])}
    con = duckdb.connect(":memory:", config={"threads": 1})
    fd, path = tempfile.mkstemp(suffix=".csv", dir=str(runtime.settings().var_dir))
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in runtime.storage().open(prepared_key):
                out.write(chunk)
        con.execute("CREATE TABLE raw AS SELECT * FROM read_csv(?, header = true, all_varchar = true)", [path])
    finally:
        os.unlink(path)
    found = [r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'raw' "
                                       "ORDER BY column_index").fetchall()]
    if tuple(found) != columns:
        columns = tuple(c for c in found)  # the file is the truth of what can be read
    select = ", ".join(f"TRY_CAST({quote(c)} AS {_CAST[types.get(c)]}) AS {quote(c)}" if types.get(c) in _CAST
                       else quote(c) for c in columns)
    # typed once at load (a view would cast every row again on every call)
    con.execute(f"CREATE TABLE data AS SELECT {select}, rowid AS {quote(ROW)} FROM raw ORDER BY rowid")
    # the entitled data is all this connection needs: no files, no network from here on
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return Loaded(con=con, columns=columns, types=types)


def table(prepared_key: str, profile: dict, content: str = "") -> Loaded:
    """The loaded version (sync: call from a worker thread); `content` tells versions apart beside the key."""
    cache_key = f"{prepared_key}#{content}"
    with _lock:
        hit = _tables.get(cache_key)
        if hit is not None:
            _tables.move_to_end(cache_key)
            return hit
    loaded = _load(prepared_key, profile)
    with _lock:
        _tables[cache_key] = loaded
        while len(_tables) > _CACHE_SIZE:
            _tables.popitem(last=False)[1].con.close()
    return loaded


@dataclass(frozen=True)
class RowsQuery:
    fields: tuple[str, ...]
    filters: tuple[tuple[str, str, object], ...]  # (column, operator, value)
    order: tuple[tuple[str, bool], ...]  # (column, descending)
    limit: int
    offset: int

    def describe(self) -> dict:
        """What the trace keeps of the query (the values too: the holder may audit what was asked)."""
        return {"fields": list(self.fields), "filters": [[c, op, v] for c, op, v in self.filters],
                "order": [("-" if d else "") + c for c, d in self.order], "limit": self.limit, "offset": self.offset}


def _column(name: str, loaded: Loaded) -> str:
    if name not in loaded.columns:
        raise DomainError("data_api.unknown_column", "没有这一列：{name}", name=name[:100])
    return name


def _value(column: str, raw: str, loaded: Loaded):
    kind = loaded.types.get(column)
    try:
        if kind == "integer":
            return int(raw)
        if kind == "decimal":
            return float(raw)
    except ValueError:
        raise DomainError("data_api.bad_value", "列 {name} 的取值应为数字：{value}", name=column,
                          value=raw[:100]) from None
    return raw


RESERVED = frozenset({"fields", "limit", "offset", "order", "format"})


def parse(params: list[tuple[str, str]], loaded: Loaded, *, personal: frozenset[str]) -> RowsQuery:
    """A rows query from the request's query parameters, every name checked against the table."""
    values = dict(params)
    fields = tuple(_column(f.strip(), loaded) for f in values.get("fields", "").split(",") if f.strip()) \
        or loaded.columns
    filters = []
    for name, raw in params:
        if name in RESERVED:
            continue
        column, _, op = name.rpartition("__")
        if not column or op not in RANGE_OPS:
            column, op = name, "eq"
        _column(column, loaded)
        if column in personal:
            # a filter on a masked column would answer "is this person in the data?": that is what
            # verification sells, metered and capped; the rows API does not do it
            raise DomainError("data_api.personal_filter", "个人信息列 {name} 不能用作筛选或排序条件", name=column)
        filters.append((column, "=" if op == "eq" else RANGE_OPS[op], _value(column, raw, loaded)))
    order = []
    for part in (p.strip() for p in values.get("order", "").split(",")):
        if part:
            desc = part.startswith("-")
            column = _column(part.lstrip("-"), loaded)
            if column in personal:
                raise DomainError("data_api.personal_filter", "个人信息列 {name} 不能用作筛选或排序条件", name=column)
            order.append((column, desc))
    try:
        limit = int(values.get("limit", DEFAULT_LIMIT))
        offset = int(values.get("offset", 0))
    except ValueError:
        raise DomainError("data_api.bad_paging", "limit 和 offset 应为整数") from None
    if not 1 <= limit <= MAX_LIMIT or not 0 <= offset <= MAX_OFFSET:
        raise DomainError("data_api.bad_paging", "limit 应在 1 到 {max} 之间，offset 不能为负", max=MAX_LIMIT)
    return RowsQuery(fields=fields, filters=tuple(filters), order=tuple(order), limit=limit, offset=offset)


def run(loaded: Loaded, q: RowsQuery) -> tuple[list[tuple], int]:
    """The page of rows and the total matching (sync: call from a worker thread)."""
    where = " AND ".join(f"{quote(c)} {op} ?" for c, op, _v in q.filters) or "TRUE"
    args = [v for _c, _op, v in q.filters]
    # a stable order when none is asked: the file's own row order (paging must not repeat rows)
    order = ", ".join(f"{quote(c)} {'DESC' if d else 'ASC'} NULLS LAST" for c, d in q.order)
    order = f"{order}, {quote(ROW)}" if order else quote(ROW)
    cols = ", ".join(quote(c) for c in q.fields)
    cur = loaded.con.cursor()
    try:
        total = cur.execute(f"SELECT count(*) FROM data WHERE {where}", args).fetchone()[0]
        rows = cur.execute(f"SELECT {cols} FROM data WHERE {where} ORDER BY {order} "
                           f"LIMIT ? OFFSET ?", [*args, q.limit, q.offset]).fetchall()
    finally:
        cur.close()
    return rows, total


def lookup(loaded: Loaded, values: dict[str, str], answer_column: str) -> tuple[bool, object]:
    """Verification: whether a row has exactly these text values, and its answer column (sync)."""
    where = " AND ".join(f"trim({quote(c)}) = ?" for c in values)
    select = quote(answer_column) if answer_column else "1"
    cur = loaded.con.cursor()
    try:
        row = cur.execute(f"SELECT {select} FROM raw WHERE {where} LIMIT 1",
                          [str(v).strip() for v in values.values()]).fetchone()
    finally:
        cur.close()
    return (row is not None), (row[0] if row is not None and answer_column else None)
