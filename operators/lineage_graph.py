"""The lineage of a derived product as a graph the regulator can look at: the product on the right, its
sources to the left, their own sources further left, laid out in columns on the server (an SVG in the
page, no script), so a product built on products shows every holder it rests on."""

from __future__ import annotations

import json

from listings import service as listings_service
from operators.tables import Lineage

MAX_DEPTH = 8  # as far as revenue shares walk (operators._shares): a cycle or a deeper chain stops here
COLUMN_W, ROW_H, BOX_W, BOX_H, PAD = 240, 70, 200, 48, 16


async def _latest_sources(asset_id: int) -> list[dict] | None:
    row = await (Lineage.select(Lineage.sources).where(Lineage.asset == asset_id)
                 .order_by(Lineage.version, ascending=False).first())
    return None if row is None else json.loads(row["sources"])


async def graph(asset_id: int) -> dict:
    """{nodes: [{id, title, holder_name, depth, derived, x, y}], edges: [{source, target, x1, y1, x2, y2}],
    width, height}: each asset once, at the greatest depth it is reached from the product."""
    depth: dict[int, int] = {asset_id: 0}
    derived: set[int] = set()
    edges: set[tuple[int, int]] = set()
    frontier = [asset_id]
    for level in range(1, MAX_DEPTH + 1):
        nxt = []
        for node in frontier:
            sources = await _latest_sources(node)
            if sources is None:
                continue
            derived.add(node)
            for s in sources:
                src = int(s["asset_id"])
                if (src, node) in edges:
                    continue
                edges.add((src, node))
                if depth.get(src, -1) < level and src != asset_id:
                    depth[src] = level
                    nxt.append(src)
        frontier = nxt
        if not frontier:
            break
    info = await listings_service.asset_summaries(list(depth))
    columns: dict[int, list[int]] = {}
    for node in sorted(depth, key=lambda n: (depth[n], info.get(n, {}).get("title", ""), n)):
        columns.setdefault(depth[node], []).append(node)
    deepest = max(columns)
    tallest = max(len(c) for c in columns.values())
    place = {}
    for d, nodes in columns.items():
        offset = (tallest - len(nodes)) * ROW_H / 2  # centre short columns
        for i, node in enumerate(nodes):
            place[node] = (PAD + (deepest - d) * COLUMN_W, PAD + offset + i * ROW_H)
    nodes = [{"id": n, "title": info.get(n, {}).get("title") or f"#{n}",
              "holder_name": info.get(n, {}).get("holder_name", ""), "depth": depth[n], "derived": n in derived,
              "x": place[n][0], "y": place[n][1]} for n in depth]
    lines = [{"source": s, "target": t, "x1": place[s][0] + BOX_W, "y1": place[s][1] + BOX_H / 2,
              "x2": place[t][0], "y2": place[t][1] + BOX_H / 2} for s, t in sorted(edges) if s in place and t in place]
    return {"asset_id": asset_id, "nodes": nodes, "edges": lines, "box_w": BOX_W, "box_h": BOX_H,
            "width": PAD * 2 + deepest * COLUMN_W + BOX_W, "height": PAD * 2 + (tallest - 1) * ROW_H + BOX_H}


async def derived_assets_by_agreement() -> dict[str, list[dict]]:
    """Agreement number → the derived assets built under any of its versions ({id, title}), for the desk."""
    rows = await (Lineage.select(Lineage.asset, Lineage.agreement.number.as_alias("number"))
                  .order_by(Lineage.asset))
    by_number: dict[str, list[int]] = {}
    for r in rows:
        ids = by_number.setdefault(r["number"], [])
        if r["asset"] not in ids:
            ids.append(r["asset"])
    info = await listings_service.asset_summaries([a for ids in by_number.values() for a in ids])
    return {number: [{"id": a, "title": info.get(a, {}).get("title") or f"#{a}"} for a in ids]
            for number, ids in by_number.items()}

