"""The ceiling for bench/http.py: a bare Litestar app with one `GET /bare` returning a small dict.

Served by the same uvicorn as `market serve` (market/cli.py cmd_serve): one worker, access log off,
lifespan on, default (auto) loop and HTTP implementations — so the only difference between the two
measurements is what the market app does per request.

    python bench/_bare_app.py --port 8123
"""

from __future__ import annotations

import os
import sys

# Run as a script, this file's directory is sys.path[0], and bench/http.py there would shadow the
# standard library's `http` package (which uvicorn imports). Drop it before importing anything.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse  # noqa: E402

from litestar import Litestar, get  # noqa: E402


@get("/bare")
async def bare() -> dict:
    return {"ok": True, "name": "bare", "n": 1}


app = Litestar(route_handlers=[bare], debug=False)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="bare Litestar app (the HTTP bench ceiling)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    print(f"bare Litestar app serving on http://{args.host}:{args.port}/bare", flush=True)
    # the same call as market/cli.py cmd_serve
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False, lifespan="on")


if __name__ == "__main__":
    main()
