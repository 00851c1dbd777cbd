"""Search index of listed listings (hand-written: Piccolo has no column type for either structure).

SQLite: an FTS5 table `listing_fts` whose rowid is the listing id and whose one column holds the
space-joined tokens (jieba words, pinyin, initials) that listings/search.py writes.
PostgreSQL: `listing_search` with the same tokens and a generated tsvector under a GIN index; its rows
go with their listing (ON DELETE CASCADE).
Forwards only: the index is derived data, rebuilt by `listings.search.reindex_all()`.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search index of listed listings (FTS5 / tsvector + GIN)"

SQLITE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS listing_fts USING fts5(tokens, tokenize='unicode61 remove_diacritics 0')",
]

POSTGRES = [
    "CREATE TABLE IF NOT EXISTS listing_search ("
    " listing_id integer PRIMARY KEY REFERENCES listing (id) ON DELETE CASCADE,"
    " tokens text NOT NULL DEFAULT '',"
    " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', tokens)) STORED)",
    "CREATE INDEX IF NOT EXISTS listing_search_tsv ON listing_search USING gin (tsv)",
]


async def create_search_index():
    engine = engine_finder()
    for statement in SQLITE if engine.engine_type == "sqlite" else POSTGRES:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="listings", description=DESCRIPTION)
    manager.add_raw(create_search_index)
    return manager
