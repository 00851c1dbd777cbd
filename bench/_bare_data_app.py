"""The ceiling for bench/data_api.py: a bare Litestar app with one `GET /rows` that answers the same page
of the same table from DuckDB (a cursor per call, in a worker thread, as the market does) — no
authentication, no metering, no trace. Served by the same uvicorn call as `market serve`.

    python bench/_bare_data_app.py --port 8124 --csv rows.csv
"""

from __future__ import annotations

import os
import sys

if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]  # bench/http.py would shadow the standard library's `http` (see _bare_app.py)

import argparse  # noqa: E402
import asyncio  # noqa: E402

import duckdb  # noqa: E402
from litestar import Litestar, get  # noqa: E402

CON: duckdb.DuckDBPyConnection | None = None


def _page(limit: int, offset: int) -> dict:
    cur = CON.cursor()
    try:
        total = cur.execute("SELECT count(*) FROM data").fetchone()[0]
        rel = cur.execute("SELECT * EXCLUDE (__row) FROM data ORDER BY __row LIMIT ? OFFSET ?", [limit, offset])
        names = [d[0] for d in rel.description]
        return {"items": [dict(zip(names, row)) for row in rel.fetchall()], "total": total}
    finally:
        cur.close()


@get("/rows")
async def rows(limit: int = 20, offset: int = 0) -> dict:
    return await asyncio.to_thread(_page, limit, offset)


app = Litestar(route_handlers=[rows], debug=False)


def main(argv: list[str] | None = None) -> None:
    global CON
    import uvicorn

    parser = argparse.ArgumentParser(description="bare DuckDB rows endpoint (the data API bench ceiling)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--csv", required=True)
    args = parser.parse_args(argv)
    CON = duckdb.connect(":memory:", config={"threads": 1})
    CON.execute("CREATE TABLE raw AS SELECT * FROM read_csv(?, header = true)", [args.csv])
    # materialized, as the market loads a version (a view would redo the work on every call)
    CON.execute("CREATE TABLE data AS SELECT *, rowid AS __row FROM raw ORDER BY rowid")
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
