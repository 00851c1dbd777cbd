"""Revenue along lineage (issue 9 item 7): who among the holders of a derived product's sources gets what
part of a sale, recursively up the lineage.

The seller passes `bps` of its net to the distinct holders of the product's sources, in equal parts
(the 分 that do not divide go one each to the lowest organization ids, so the parts add up exactly); a
holder's part is spread equally over its sources in the product, and a source that is itself derived
passes `bps` of its part on to its own sources' holders, and so on. A holder that is its own source's
holder keeps that part; a source already on the path (a cycle) or deeper than `max_depth` passes
nothing on, so the walk always ends. Each organization gets what it received less what it passed on:
never negative, since nobody passes on more than it received.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

MAX_DEPTH = 8


@dataclass(frozen=True)
class Source:
    asset_id: int
    holder_id: int


def _equal(total: int, n: int) -> list[int]:
    base, rest = divmod(total, n)
    return [base + (1 if i < rest else 0) for i in range(n)]


def split(*, amount_fen: int, seller_org: int, asset_id: int, sources: Mapping[int, Sequence[Source]],
          bps: int, max_depth: int = MAX_DEPTH) -> dict[int, int]:
    """{organization: 分} the seller owes along the lineage of `asset_id` for a sale netting it
    `amount_fen` (what the seller pays is the sum; the seller itself is never in it)."""
    if amount_fen <= 0 or bps <= 0:
        return {}
    net: dict[int, int] = defaultdict(int)

    def walk(asset: int, payer: int, earned: int, path: frozenset[int], depth: int) -> None:
        if depth >= max_depth:
            return
        srcs = [s for s in sources.get(asset, ()) if s.holder_id != payer and s.asset_id not in path]
        share = earned * bps // 10_000  # rounded down: a part of a 分 stays with who earned it
        if not srcs or share <= 0:
            return
        holders = sorted({s.holder_id for s in srcs})
        for holder, part in zip(holders, _equal(share, len(holders))):
            if part == 0:
                continue
            net[payer] -= part
            net[holder] += part
            own = sorted({s.asset_id for s in srcs if s.holder_id == holder})
            for source_asset, piece in zip(own, _equal(part, len(own))):
                walk(source_asset, holder, piece, path | {source_asset}, depth + 1)

    walk(asset_id, seller_org, amount_fen, frozenset({asset_id}), 0)
    # what comes back round a cycle to the seller only lowers what it pays
    return {org: fen for org, fen in sorted(net.items()) if org != seller_org and fen > 0}


async def sources_graph(asset_id: int, *, max_depth: int = MAX_DEPTH) -> dict[int, list[Source]]:
    """The recorded sources of a derived asset (its latest lineage) and of its derived sources, up to
    `max_depth` levels; data no pipeline made has no entry."""
    from operators.tables import Lineage

    graph: dict[int, list[Source]] = {}
    frontier = [asset_id]
    for _ in range(max_depth):
        todo = [a for a in frontier if a not in graph]
        if not todo:
            break
        rows = await (Lineage.select(Lineage.asset, Lineage.version, Lineage.sources)
                      .where(Lineage.asset.is_in(todo)).order_by(Lineage.version))
        latest = {r["asset"]: r for r in rows}  # ordered by version: the last one wins
        frontier = []
        for asset in todo:
            row = latest.get(asset)
            graph[asset] = [] if row is None else [
                Source(asset_id=int(s["asset_id"]), holder_id=int(s["holder_id"]))
                for s in json.loads(row["sources"] or "[]")]
            frontier += [s.asset_id for s in graph[asset]]
    return {a: s for a, s in graph.items() if s}


async def shares_of_sale(*, asset_id: int, seller_org: int, amount_fen: int, bps: int) -> dict[int, int]:
    """`split` over the recorded lineage of the asset sold."""
    graph = await sources_graph(asset_id)
    if asset_id not in graph:
        return {}
    return split(amount_fen=amount_fen, seller_org=seller_org, asset_id=asset_id, sources=graph, bps=bps)
