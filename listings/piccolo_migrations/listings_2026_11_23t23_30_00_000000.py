"""Search index of listed listings (hand-written: Piccolo has no column type for either structure).

SQLite: an FTS5 table `listing_fts` whose rowid is the listing id, with the title's tokens and the rest
of the listing's tokens (jieba words, pinyin, initials) in two columns, as listings/search.py writes them.
PostgreSQL: `listing_search` with the same two columns and generated tsvectors of the whole document and
of the title, each under a GIN index; its rows go with their listing (ON DELETE CASCADE).
Both: `listing_search_log`, the change log every process reads to keep its in-memory snapshot current.
Forwards only. The index is derived data: it is dropped and recreated here, and rebuilt by
`listings.search.reindex_all()` (which `warm_up()` runs when the index is empty).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-23T23:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "search index of listed listings (FTS5 / tsvector + GIN) and its change log"

SQLITE = [
    "DROP TABLE IF EXISTS listing_fts",
    "CREATE VIRTUAL TABLE listing_fts USING fts5(title, tokens, tokenize='unicode61 remove_diacritics 0')",
    "CREATE TABLE IF NOT EXISTS listing_search_log (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " listing_id INTEGER NOT NULL)",
]

POSTGRES = [
    "DROP TABLE IF EXISTS listing_search",
    # toast_tuple_target: the texts and tsvectors are stored out of line, so the heap rows a GIN bitmap
    # scan must visit are small and share pages (listings/search.py keeps the planner off sequential scans)
    "CREATE TABLE listing_search ("
    " listing_id integer PRIMARY KEY REFERENCES listing (id) ON DELETE CASCADE,"
    " title text NOT NULL DEFAULT '',"
    " tokens text NOT NULL DEFAULT '',"
    " tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', title || ' ' || tokens)) STORED,"
    " title_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', title)) STORED)"
    " WITH (toast_tuple_target = 128)",
    "CREATE INDEX listing_search_tsv ON listing_search USING gin (tsv)",
    # title matches rank first; a weight-A query on `tsv` would make every match re-read its tsvector
    "CREATE INDEX listing_search_title_tsv ON listing_search USING gin (title_tsv)",
    "CREATE TABLE IF NOT EXISTS listing_search_log (seq bigserial PRIMARY KEY, listing_id integer NOT NULL)",
]


async def create_search_index():
    engine = engine_finder()
    for statement in SQLITE if engine.engine_type == "sqlite" else POSTGRES:
        await engine.run_ddl(statement)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="listings", description=DESCRIPTION)
    manager.add_raw(create_search_index)
    return manager
