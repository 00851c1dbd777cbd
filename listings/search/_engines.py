"""The two text engines, the only engine-specific code: SQLite FTS5 (`listing_fts`) and a PostgreSQL
tsvector under a GIN index (`listing_search`); both only answer which ids match."""

from __future__ import annotations

import contextlib

from listings.tables import Listing
from listings.tables import ListingStatus
from market import db
from listings.search._constants import MMAP_BYTES
from listings.search import _query


# ---- the two engines ---------------------------------------------------------------------


class _SQLite:
    before_match = ""

    @staticmethod
    def expression(node: _query.Node, title: bool = False) -> str:
        """FTS5 syntax with every token quoted, so nothing the buyer types is read as an operator."""
        def render(n: _query.Node) -> str:
            if n[0] == "t":
                return '"' + n[1].replace('"', '""') + '"' + ("*" if n[2] else "")
            return "(" + (" AND " if n[0] == "&" else " OR ").join(render(c) for c in n[1]) + ")"

        return ("{title} : (" + render(node) + ")") if title else render(node)

    fresh = "round((julianday(data_updated_at) - 2440587.5) * 86400.0, 3)"  # seconds since 1970, or NULL
    # every listed listing's snapshot attributes in one string: a row per listing, category last
    records = ("SELECT group_concat(id || char(31) || tier || char(31) || update_cycle || char(31) || grade"
               " || char(31) || delivery_mode || char(31) || min_price_fen || char(31) || quality_score"
               f" || char(31) || holder || char(31) || coalesce({fresh}, '') || char(31)"
               " || replace(category_path, char(30), ' '), char(30)) AS records FROM listing WHERE status = {}")

    @staticmethod
    def matches(expressions: list[str]) -> tuple[str, list]:
        """One statement answering, per expression, its number and the comma-joined ids that match it."""
        return " UNION ALL ".join(f"SELECT {i} AS k, group_concat(rowid) AS ids FROM listing_fts "
                                  "WHERE listing_fts MATCH {}" for i in range(len(expressions))), expressions

    async def write(self, docs: list[tuple[int, str, str]]) -> None:
        for i in range(0, len(docs), 300):
            chunk = docs[i:i + 300]
            ids = [d[0] for d in chunk]
            await Listing.raw(f"DELETE FROM listing_fts WHERE rowid IN ({', '.join('{}' for _ in ids)})", *ids)
            await Listing.raw("INSERT INTO listing_fts (rowid, title, tokens) VALUES "
                              + ", ".join("({}, {}, {})" for _ in chunk), *(v for d in chunk for v in d))

    async def delete(self, listing_id: int) -> None:
        await Listing.raw("DELETE FROM listing_fts WHERE rowid = {}", listing_id)

    async def prune(self) -> None:
        await Listing.raw("DELETE FROM listing_fts WHERE rowid NOT IN (SELECT id FROM listing WHERE status = {})",
                          ListingStatus.LISTED.value)

    async def clear(self) -> None:
        await Listing.raw("DELETE FROM listing_fts")

    async def indexed(self) -> bool:
        return bool(await Listing.raw("SELECT rowid FROM listing_fts LIMIT 1"))


class _Postgres:
    # the planner prices `tsv @@ query` on a sequential scan far too low (each row's tsvector must be
    # decompressed): for a word in 25% of 30,000 listings it chose a 140 ms scan over a 40 ms GIN scan
    before_match = "SET LOCAL enable_seqscan = off"

    @staticmethod
    def expression(node: _query.Node, title: bool = False) -> tuple[str, bool]:
        """tsquery syntax with every lexeme quoted, and whether to match the title's tsvector."""
        def render(n: _query.Node) -> str:
            if n[0] == "t":
                return "'" + n[1].replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if n[2] else "")
            return "(" + (" & " if n[0] == "&" else " | ").join(render(c) for c in n[1]) + ")"

        return render(node), title

    fresh = "extract(epoch FROM data_updated_at)::float8"
    records = ("SELECT string_agg(concat_ws(chr(31), id, tier, update_cycle, grade, delivery_mode, min_price_fen,"
               f" quality_score, holder, coalesce(({fresh})::text, ''), replace(category_path, chr(30), ' ')),"
               " chr(30)) AS records FROM listing WHERE status = {}")

    @staticmethod
    def matches(expressions: list[tuple[str, bool]]) -> tuple[str, list]:
        sql = " UNION ALL ".join(f"SELECT {i} AS k, string_agg(listing_id::text, ',') AS ids FROM listing_search "
                                 f"WHERE {'title_tsv' if title else 'tsv'} @@ to_tsquery('simple', {{}})"
                                 for i, (_text, title) in enumerate(expressions))
        return sql, [text for text, _title in expressions]

    async def write(self, docs: list[tuple[int, str, str]]) -> None:
        for i in range(0, len(docs), 1000):
            chunk = docs[i:i + 1000]
            await Listing.raw("INSERT INTO listing_search (listing_id, title, tokens) "
                              "SELECT * FROM unnest({}::integer[], {}::text[], {}::text[]) "
                              "ON CONFLICT (listing_id) DO UPDATE SET title = EXCLUDED.title, tokens = EXCLUDED.tokens",
                              [d[0] for d in chunk], [d[1] for d in chunk], [d[2] for d in chunk])

    async def delete(self, listing_id: int) -> None:
        await Listing.raw("DELETE FROM listing_search WHERE listing_id = {}", listing_id)

    async def prune(self) -> None:
        await Listing.raw("DELETE FROM listing_search s WHERE NOT EXISTS (SELECT 1 FROM listing l "
                          "WHERE l.id = s.listing_id AND l.status = {})", ListingStatus.LISTED.value)

    async def clear(self) -> None:
        await Listing.raw("DELETE FROM listing_search")

    async def indexed(self) -> bool:
        return bool(await Listing.raw("SELECT listing_id FROM listing_search LIMIT 1"))


def _backend() -> _SQLite | _Postgres:
    return _SQLite() if db.is_sqlite() else _Postgres()


@contextlib.asynccontextmanager
async def _read_session():
    """A search's statements on one connection, in one read transaction (a consistent view).
    SQLite: Piccolo would open a connection per statement; the transaction is deferred, so it takes no
    write lock, and the file is memory-mapped: a new connection has an empty page cache, and copying the
    index's pages in through read() doubled the FTS time."""
    eng = db.engine()
    if eng.transaction_exists():
        yield
    elif db.is_sqlite():
        from piccolo.engine.sqlite import TransactionType

        async with eng.transaction(transaction_type=TransactionType.deferred):
            await eng.run_ddl(f"PRAGMA mmap_size = {MMAP_BYTES}")
            yield
    else:
        async with eng.transaction():
            yield


async def _match(expressions: list) -> list[list[int]]:
    """The ids matching each text-index expression, in one statement."""
    if not expressions:
        return []
    backend = _backend()
    if backend.before_match and db.engine().transaction_exists():
        await db.engine().run_ddl(backend.before_match)
    sql, args = backend.matches(expressions)
    rows = await Listing.raw(sql, *args)
    found: list[list[int]] = [[] for _ in expressions]
    for r in rows:
        if r["ids"]:
            found[r["k"]] = list(map(int, r["ids"].split(",")))
    return found
