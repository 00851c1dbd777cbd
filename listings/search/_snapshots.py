"""The per-process snapshot of every listed listing's filter, facet and sort attributes as bit masks and
id orders, patched from `listing_search_log`; and indexing, which writes a listing's document and
appends to that log."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import math
import re
import time
from array import array
from collections import Counter
from typing import Any

from listings.publication import view_cache as _view_cache
from listings.tables import Listing
from listings.tables import ListingStatus
from market import db
from listings.search import _answers, _engines, _tokens
from listings.search._constants import FACET_LIMIT, LOG_KEEP, PRICES, QUALITY_BUCKETS, REFRESH_SECONDS, SNAPSHOT_MAX_AGE


# ---- the in-memory snapshot of filter, facet and sort attributes -------------------------

_FACETS = ("tier", "update_cycle", "grade", "delivery_mode", "price", "quality", "category")
_ONE = re.compile("1")
_UNRANKED = 1 << 62


def _sort_keys(attrs: dict):
    """Sort keys by sort name; smaller comes first. An unknown update time sorts last."""
    def fresh(i):
        f = attrs[i][8]
        return -f if f is not None else math.inf

    return {
        "quality": lambda i: (-attrs[i][5], fresh(i), -i),
        "freshness": lambda i: (fresh(i), -attrs[i][5], -i),
        "price_asc": lambda i: (attrs[i][4], -attrs[i][5], -i),
        "price_desc": lambda i: (-attrs[i][4], -attrs[i][5], -i),
    }


def _mask(ids) -> int:
    """A bit mask with the given ids' bits set."""
    ids = list(ids)
    if not ids:
        return 0
    buf = bytearray((max(ids) >> 3) + 1)
    for i in ids:
        buf[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buf, "little")


def _ids(mask: int) -> list[int]:
    """The ids whose bits are set, ascending (the fastest way measured in pure Python: ~0.2 µs an id)."""
    return [m.start() for m in _ONE.finditer(bin(mask)[:1:-1])]


class _Snapshot:
    """Every listed listing's filter, facet and sort attributes: a bit mask per facet value (bit i is
    listing id i) and the ids in each sort order. Built from the listing table, patched from the log."""

    def __init__(self, seq: int) -> None:
        self.base = seq  # the snapshot was read after log entry `base` was written: it reflects all up to it
        self.seq = seq  # the last log entry reflected
        self.applied: set[int] = set()  # entries after `base` applied (PostgreSQL may commit them out of order)
        self.built_at = time.monotonic()
        self.checked_at = self.built_at
        # id → (tier, update_cycle, grade, delivery_mode, price, quality, holder, category, updated: epoch s)
        self.attrs: dict[int, tuple] = {}
        self.listed = 0
        self.masks: dict[str, dict[Any, int]] = {f: {} for f in _FACETS}
        self.holders: dict[int, set[int]] = {}
        self.holder_names: dict[int, str] = {}
        self.holder_of = array("i")  # listing id → holder id (0: not listed)
        self._orders: dict[str, list[int]] = {}  # made on first use, then kept up to date
        self._ranks: dict[str, array] = {}  # listing id → position in an order; remade after a change
        self.keys = _sort_keys(self.attrs)

    @staticmethod
    def _attrs(tier, cycle, grade, delivery, price, quality, holder, category, fresh) -> tuple:
        return (tier, cycle, grade, delivery, int(price or 0), max(0, min(100, int(quality or 0))), int(holder),
                category or "", float(fresh) if fresh not in (None, "") else None)

    @staticmethod
    def _values(a: tuple) -> dict[str, Any]:
        return {"tier": a[0], "update_cycle": a[1], "grade": a[2], "delivery_mode": a[3],
                "price": "free" if a[4] == 0 else "paid", "quality": a[5], "category": a[7]}

    def order(self, sort: str) -> list[int]:
        """Every listed id in the sort order."""
        if sort not in self._orders:
            self._orders[sort] = sorted(self.attrs, key=self.keys[sort])
        return self._orders[sort]

    def best(self, ids, sort: str, count: int, skip: int = 0) -> list[int]:
        """The first `count` after `skip` of these ids (unlisted ones left out) in the sort order: a
        lookup in a rank array per id, cheaper than computing sort keys."""
        rank = self._ranks.get(sort)
        if rank is None:
            rank = self._ranks[sort] = array("q", [_UNRANKED]) * len(self.holder_of)
            for position, i in enumerate(self.order(sort)):
                rank[i] = position
        size = len(rank)
        top = heapq.nsmallest(skip + count, [i for i in ids if i < size], key=rank.__getitem__)[skip:]
        return [i for i in top if rank[i] != _UNRANKED]

    def _grow(self, listing_id: int) -> None:
        if listing_id >= len(self.holder_of):
            self.holder_of.extend([0] * (listing_id + 1024 - len(self.holder_of)))

    @classmethod
    def build(cls, seq: int, records: str, holder_names: dict[int, str]) -> "_Snapshot":
        """All at once from the records string (in a worker thread): bits are set in byte arrays (an int
        mask is rebuilt by every change); the sort orders and ranks are made now, not by a request."""
        snap = cls(seq)
        snap.holder_names = holder_names
        rows = [r.split("\x1f", 9) for r in records.split("\x1e")] if records else []
        size = (max((int(r[0]) for r in rows), default=0) >> 3) + 1
        buffers: dict[str, dict[Any, bytearray]] = {f: {} for f in _FACETS}
        listed = bytearray(size)
        facets = [buffers[f] for f in _FACETS]
        for row in rows:
            i, a = int(row[0]), cls._attrs(*row[1:8], row[9], row[8])
            snap.attrs[i] = a
            byte, bit = i >> 3, 1 << (i & 7)
            listed[byte] |= bit
            for values, value in zip(facets, (a[0], a[1], a[2], a[3], "free" if a[4] == 0 else "paid", a[5], a[7])):
                buf = values.get(value)
                if buf is None:
                    buf = values[value] = bytearray(size)
                buf[byte] |= bit
            snap.holders.setdefault(a[6], set()).add(i)
        snap.listed = int.from_bytes(listed, "little")
        snap.masks = {f: {v: int.from_bytes(b, "little") for v, b in values.items()} for f, values in buffers.items()}
        snap._grow(max(snap.attrs, default=0))
        for i, a in snap.attrs.items():
            snap.holder_of[i] = a[6]
        for sort in snap.keys:
            snap.best((), sort, 0)  # makes the order and its ranks
        return snap

    def remove(self, listing_id: int) -> None:
        a = self.attrs.get(listing_id)
        if a is None:
            return
        bit = 1 << listing_id
        for name, order in self._orders.items():
            key = self.keys[name]
            at = bisect.bisect_left(order, key(listing_id), key=key)
            if at < len(order) and order[at] == listing_id:
                del order[at]
            else:
                order.remove(listing_id)
        del self.attrs[listing_id]
        self._ranks.clear()
        self.listed &= ~bit
        for facet, value in self._values(a).items():
            self.masks[facet][value] &= ~bit
        self.holders.get(a[6], set()).discard(listing_id)
        self.holder_of[listing_id] = 0

    def put(self, row: dict) -> None:
        i = row["id"]
        self.remove(i)
        a = self.attrs[i] = self._attrs(row["tier"], row["update_cycle"], row["grade"], row["delivery_mode"],
                                        row["min_price_fen"], row["quality_score"], row["holder"],
                                        row["category_path"], row["fresh"])
        bit = 1 << i
        self.listed |= bit
        for facet, value in self._values(a).items():
            self.masks[facet][value] = self.masks[facet].get(value, 0) | bit
        self.holders.setdefault(a[6], set()).add(i)
        self.holder_names[a[6]] = row["holder_name"]
        self._grow(i)
        self.holder_of[i] = a[6]
        for name, order in self._orders.items():
            bisect.insort(order, i, key=self.keys[name])
        self._ranks.clear()

    # -- questions --

    def filter(self, *, tier, category, holder_id, price, price_min_fen, price_max_fen, update_cycle, quality_min,
               grade, delivery_mode) -> int:
        f = self.listed
        for facet, value in (("tier", tier), ("update_cycle", update_cycle), ("grade", grade),
                             ("delivery_mode", delivery_mode), ("price", price)):
            if value is not None:
                f &= self.masks[facet].get(value, 0)
        if category:
            m = 0
            below = category + " > "
            for path, pm in self.masks["category"].items():
                if path == category or path.startswith(below):  # whole segments: 交通 is not 交通运输
                    m |= pm
            f &= m
        if holder_id is not None:
            f &= _mask(self.holders.get(holder_id, ()))
        if quality_min is not None:
            m = 0
            for score, qm in self.masks["quality"].items():
                if score >= quality_min:
                    m |= qm
            f &= m
        if price_min_fen is not None or price_max_fen is not None:
            order, price = self.order("price_asc"), (lambda i: self.attrs[i][4])
            lo = 0 if price_min_fen is None else bisect.bisect_left(order, price_min_fen, key=price)
            hi = len(order) if price_max_fen is None else bisect.bisect_right(order, price_max_fen, key=price)
            f &= _mask(order[lo:hi])
        return f

    def facets(self, f: int) -> dict[str, list]:
        out: dict[str, list] = {}
        for facet in ("tier", "update_cycle", "grade", "delivery_mode"):
            counts = [[v, (f & m).bit_count()] for v, m in self.masks[facet].items()]
            out[facet] = sorted((c for c in counts if c[1]), key=lambda c: (-c[1], str(c[0])))
        out["price"] = [[p, (f & self.masks["price"].get(p, 0)).bit_count()] for p in PRICES]
        buckets = dict.fromkeys((b[0] for b in QUALITY_BUCKETS), 0)
        for score, m in self.masks["quality"].items():
            n = (f & m).bit_count()
            if n:
                buckets[next(b[0] for b in QUALITY_BUCKETS if (b[1] is None or score >= b[1])
                              and (b[2] is None or score < b[2]))] += n
        out["quality"] = [[b, n] for b, n in buckets.items()]
        tops: Counter = Counter()
        for path, m in self.masks["category"].items():
            n = (f & m).bit_count()
            if n:
                tops[path.split(" > ", 1)[0].strip()] += n
        out["category"] = [[v, n] for v, n in sorted(tops.items(), key=lambda c: (-c[1], c[0]))[:FACET_LIMIT]]
        if f.bit_count() * 2 <= len(self.attrs):
            holders = Counter(map(self.holder_of.__getitem__, _ids(f)))
        else:  # most listings: count the few left out
            holders = Counter({h: len(ids) for h, ids in self.holders.items()})
            holders.subtract(Counter(map(self.holder_of.__getitem__, _ids(self.listed & ~f))))
        out["holder"] = [[self.holder_names.get(h, ""), n, h]
                         for h, n in sorted(holders.items(), key=lambda c: (-c[1], c[0]))[:FACET_LIMIT]]
        return out

    def page(self, parts: list[int], sort: str, skip: int, take: int) -> list[int]:
        """Ids `skip` to `skip + take` of the masks in `parts` taken in turn, each in the sort order."""
        out: list[int] = []
        for f in parts:
            count = f.bit_count()
            if skip >= count:
                skip -= count
                continue
            want = min(take - len(out), count - skip)
            # walk the sort order while that is expected to test fewer than ~50,000 ids; else sort the few
            if (skip + want) * len(self.attrs) > 50_000 * count:
                out.extend(self.best(_ids(f), sort, want, skip))
            else:
                bits = f.to_bytes((f.bit_length() + 7) >> 3, "little")
                for i in self.order(sort):
                    if i >> 3 < len(bits) and bits[i >> 3] >> (i & 7) & 1:
                        if skip:
                            skip -= 1
                            continue
                        out.append(i)
                        if len(out) == take:
                            break
            skip = 0
            if len(out) >= take:
                break
        return out


_snapshot: _Snapshot | None = None


async def _log(listing_id: int) -> int:
    """Append to the change log (0: everything changed); returns the entry's number."""
    rows = await Listing.raw("INSERT INTO listing_search_log (listing_id) VALUES ({}) RETURNING seq", listing_id)
    seq = rows[0]["seq"]
    if seq % 1000 == 0:
        await Listing.raw("DELETE FROM listing_search_log WHERE seq < {}", seq - LOG_KEEP)
    return seq


async def _build_snapshot() -> _Snapshot:
    """Read every listed listing's attributes as one string (Python objects for 100,000 rows through the
    driver cost seconds; one string costs a split), and the holders' names."""
    listed = ListingStatus.LISTED.value
    _view_cache.clear()  # a rebuild means changes may have been missed: forget every listing view
    seq = (await Listing.raw("SELECT coalesce(max(seq), 0) AS seq FROM listing_search_log"))[0]["seq"]
    records = (await Listing.raw(_engines._backend().records, listed))[0]["records"]
    names = await Listing.raw("SELECT holder, max(holder_name) AS name FROM listing WHERE status = {} GROUP BY holder",
                              listed)
    return await asyncio.to_thread(_Snapshot.build, seq, records, {r["holder"]: r["name"] for r in names})


async def _refresh(snap: _Snapshot) -> _Snapshot:
    """Apply the log entries this process has not seen; rebuild when too far behind or told to."""
    rows = await Listing.raw("SELECT seq, listing_id FROM listing_search_log WHERE seq > {} ORDER BY seq LIMIT 5001",
                             snap.seq - 100)  # look back: PostgreSQL may commit a lower seq later
    oldest = (await Listing.raw("SELECT min(seq) AS seq FROM listing_search_log"))[0]["seq"]
    fresh = [r for r in rows if r["seq"] > snap.base and r["seq"] not in snap.applied]
    if (len(rows) > 5000 or (oldest is not None and oldest > snap.seq + 1 and snap.seq > 0)
            or any(r["listing_id"] == 0 for r in fresh) or time.monotonic() - snap.built_at > SNAPSHOT_MAX_AGE):
        return await _build_snapshot()
    if fresh:
        ids = sorted({r["listing_id"] for r in fresh})
        found = {r["id"]: r for r in await Listing.raw(
            "SELECT id, tier, update_cycle, grade, delivery_mode, min_price_fen, quality_score, holder, holder_name, "
            f"category_path, {_engines._backend().fresh} AS fresh FROM listing WHERE status = {{}} "
            f"AND id IN ({', '.join('{}' for _ in ids)})", ListingStatus.LISTED.value, *ids)}
        _view_cache.forget(ids)
        for i in ids:
            if i in found:
                snap.put(found[i])
            else:
                snap.remove(i)
        snap.applied.update(r["seq"] for r in fresh)
        snap.seq = max(snap.seq, max(r["seq"] for r in fresh))
        if len(snap.applied) > 10_000:
            snap.applied = {s for s in snap.applied if s > snap.seq - 200}
        _answers.forget_answers()
    snap.checked_at = time.monotonic()
    return snap


async def _fresh_snapshot() -> _Snapshot:
    """The snapshot, checked against the log if REFRESH_SECONDS have passed (or this process changed
    something); one refresh at a time however many requests arrive."""
    snap = _snapshot
    if snap is not None and time.monotonic() - snap.checked_at < REFRESH_SECONDS:
        return snap

    async def load() -> _Snapshot:
        global _snapshot
        async with _engines._read_session():
            new = await (_refresh(snap) if snap is not None else _build_snapshot())
        if new is not snap:
            _answers.forget_answers()
        _snapshot = new
        return new

    return await _answers._single_flight(("snapshot",), load)


def invalidate() -> None:
    """Make the next search read the change log (this process changed something) and forget answers."""
    if _snapshot is not None:
        _snapshot.checked_at = -math.inf
    _answers.forget_answers(bundles=True)


# ---- indexing ----------------------------------------------------------------------------

_DOC_COLUMNS = (Listing.id, Listing.status, Listing.title, Listing.summary, Listing.columns, Listing.tags,
                Listing.holder_name, Listing.category_path)


async def index_listing(listing_id: int) -> None:
    """Put a listing's document in the index if it is listed, take it out otherwise, and record the
    change for every process's snapshot (idempotent; call after any change of a listing)."""
    await _tokens._ready_async()
    row = await Listing.select(*_DOC_COLUMNS).where(Listing.id == listing_id).first()
    listed = row is not None and row["status"] == ListingStatus.LISTED.value
    doc = _tokens.document(row) if listed else None
    backend = _engines._backend()
    async with db.atomic():
        if listed:
            await backend.write([(listing_id, *doc)])
        else:
            await backend.delete(listing_id)
        await _log(listing_id)
    invalidate()
    _view_cache.forget([listing_id])


async def reindex_all(*, batch_size: int = 2000) -> int:
    """Rebuild the index from every listed listing, in batches (searches keep working meanwhile);
    returns how many were indexed."""
    await _tokens._ready_async()
    backend = _engines._backend()
    last, total = 0, 0
    while True:
        rows = await (Listing.select(*_DOC_COLUMNS)
                      .where((Listing.status == ListingStatus.LISTED.value) & (Listing.id > last))
                      .order_by(Listing.id).limit(batch_size))
        if not rows:
            break
        docs = await asyncio.to_thread(lambda: [(r["id"], *_tokens.document(r)) for r in rows])
        async with db.atomic():
            await backend.write(docs)
        last, total = rows[-1]["id"], total + len(rows)
    async with db.atomic():
        await backend.prune()
        await _log(0)
    invalidate()
    return total


async def clear_index() -> None:
    """Empty the index and make every process rebuild its snapshot (tests; a rebuild from scratch)."""
    global _snapshot
    async with db.atomic():
        await _engines._backend().clear()
        await _log(0)
    _snapshot = None
    invalidate()
    _view_cache.clear()
