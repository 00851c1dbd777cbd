"""Counting calls: the per-key rate limit, the compare-and-set on the meter, the trace row, tier prices.

The guarantee ("every answered call counted exactly once"): a call is counted by the transaction that
decides it may be answered. In one transaction the entitlement is checked active, the meter is
advanced by a compare-and-set (`used = used + 1 WHERE used < quota`, RETURNING the new count, which is
the call's number) and the call's trace row is inserted; the answer is built before that transaction
and sent only after it commits, with nothing but the response write between the commit and the
socket. So:
- a call refused (over quota, revoked, a bad query, a crash before commit) is never counted;
- a call answered was counted, once: its trace row carries its number, unique on its meter;
- the one window is a crash after the commit and before the response reaches the socket (no await
  in between that yields to real I/O): that call is counted and the client sees a broken connection.
The response body is rendered before the counting transaction (service.read_rows' `render`), so only
the ASGI send is left after the commit. The crash test (tests/listings/test_data_api_crash.py) kills
the server with SIGKILL while every client has a call inside its counting transaction and compares the
counts with the answers received; under a kill at a random instant the window above was hit about
once in a few hundred calls on PostgreSQL (counted, not received: never the other way).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from listings import pricing
from listings.dataapi.tables import ApiCall, ApiMeter
from listings.tables import Entitlement, EntitlementStatus, PlanKind
from market import db
from market.errors import DomainError, Forbidden
from market.i18n import N_

CHINA = ZoneInfo("Asia/Shanghai")


class Refused(DomainError):
    """429 with headers: over quota (X-Quota-*), over the rate (Retry-After), over a daily cap."""

    status_code = 429

    def __init__(self, code: str, message: str, *, headers: dict[str, str], **params):
        super().__init__(code, message, **params)
        self.headers = headers


def period_of(when: datetime) -> str:
    return when.astimezone(CHINA).strftime("%Y-%m")


def call_price(n: int, *, kind: str, included: int, unit_fen: int, tiers: tuple) -> int:
    """What the n-th call (1-based, on its meter) costs: its tier's unit for a tiered call pack; for a
    base + usage plan nothing up to the calls included in the month, then its tier (or the unit price).
    The prices of calls 1..n add up to what the plan charges for n calls (the Hypothesis test's rule)."""
    if kind == PlanKind.CALL_PACK.value:
        return pricing.tiered_amount(n, tiers) - pricing.tiered_amount(n - 1, tiers) if tiers else 0
    if kind == PlanKind.BASE_USAGE.value:
        return usage_amount(n, included=included, unit_fen=unit_fen, tiers=tiers) - \
            usage_amount(n - 1, included=included, unit_fen=unit_fen, tiers=tiers)
    return 0


def usage_amount(calls: int, *, included: int, unit_fen: int, tiers: tuple) -> int:
    """A month's usage charge for `calls` calls of a base + usage plan (the base fee is the order's)."""
    over = max(0, calls - included)
    return pricing.tiered_amount(over, tiers) if tiers else over * unit_fen


class RateLimit:
    """Calls per minute per API key, a token bucket per process (refills continuously)."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.buckets: dict[int, tuple[float, float]] = {}

    def take(self, key_id: int, now: float | None = None) -> float:
        """0 when the call may go, else the seconds until one token is back."""
        now = time.monotonic() if now is None else now
        tokens, at = self.buckets.get(key_id, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - at) * self.rate)
        if tokens < 1:
            self.buckets[key_id] = (tokens, now)
            return (1 - tokens) / self.rate
        if len(self.buckets) > 100_000:
            self.buckets.clear()
        self.buckets[key_id] = (tokens - 1, now)
        return 0.0


def quota_headers(quota: int, used: int) -> dict[str, str]:
    if not quota:
        return {}
    return {"X-Quota-Limit": str(quota), "X-Quota-Remaining": str(max(0, quota - used))}


def over_quota(quota: int, used: int) -> Refused:
    return Refused("data_api.quota_exhausted",
                   N_("调用次数已用完（共 {quota} 次）；请续购调用次数包。Call quota exhausted ({quota} calls); "
                      "buy another call pack."), headers=quota_headers(quota, used), quota=quota)


def _inactive() -> Forbidden:
    return Forbidden("data_api.entitlement_inactive", N_("该授权已终止、暂停或到期，密钥已停用"))


async def _entitlement_live(entitlement_id: int, now: datetime) -> dict:
    """The entitlement as of this transaction: active and in term, its listing not suspended or
    delisted, its buyer organization not suspended. Read on every call, never cached: ending any of
    them stops the entitlement's keys at the next call."""
    row = await Entitlement.select(
        Entitlement.status, Entitlement.ends_at, Entitlement.listing.status.as_alias("listing_status"),
        Entitlement.buyer.verification.as_alias("buyer_verification")).where(Entitlement.id == entitlement_id).first()
    if row is None or row["status"] != EntitlementStatus.ACTIVE.value or (
            row["ends_at"] is not None and row["ends_at"] <= now):
        raise _inactive()
    if row["listing_status"] in ("suspended", "delisted") or row["buyer_verification"] == "suspended":
        raise _inactive()
    return row


async def _advance(key: str, quota: int) -> int | None:
    """The compare-and-set: the meter's new count, or None when the quota is used up."""
    where = [ApiMeter.key == key]
    if quota:
        where.append(ApiMeter.used < quota)
    rows = await ApiMeter.update({ApiMeter.used: ApiMeter.used + 1}).where(*where).returning(ApiMeter.used)
    return rows[0]["used"] if rows else None


async def count(ctx, *, principal, mode: str, query: dict, rows: int, matched: bool | None = None,
                daily_cap: int = 0, now: datetime | None = None) -> tuple[int, dict[str, str]]:
    """Count one answered call (see the module's guarantee); returns its number and the quota headers.
    Raises Forbidden when the entitlement is no longer active, Refused when the quota or the daily cap
    is used up (the refusal is traced, not counted).

    Calls arriving together are counted in one transaction (group commit): each still has its own
    check, compare-and-set and trace row, and each caller resumes only after that transaction has
    committed, so the guarantee is the same, at the cost of one commit per group instead of per call."""
    if db.engine().transaction_exists():  # inside a caller's transaction: count in it
        return await _count_one(ctx, principal=principal, mode=mode, query=query, rows=rows, matched=matched,
                                daily_cap=daily_cap, now=now)
    future = asyncio.get_running_loop().create_future()
    _pending.append((future, ctx, dict(principal=principal, mode=mode, query=query, rows=rows, matched=matched,
                                       daily_cap=daily_cap, now=now)))
    global _writer
    if _writer is None or _writer.done():
        _writer = asyncio.get_running_loop().create_task(_write_groups())
    return await future


_pending: list = []
_writer: "asyncio.Task | None" = None
GROUP_MAX = 64


async def _write_groups() -> None:
    while _pending:
        group = _pending[:GROUP_MAX]
        del _pending[:GROUP_MAX]
        results: list = []
        try:
            async with db.atomic():
                for _future, ctx, kw in group:
                    try:
                        results.append(await _count_one(ctx, **kw))
                    except DomainError as exc:  # refused before anything of this call was written
                        results.append(exc)
        except BaseException as exc:  # the transaction failed: nothing of the group was counted
            for future, _ctx, _kw in group:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            continue
        for (future, _ctx, _kw), result in zip(group, results):  # only now, after the commit
            if future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)


async def _count_one(ctx, *, principal, mode: str, query: dict, rows: int, matched: bool | None = None,
                     daily_cap: int = 0, now: datetime | None = None) -> tuple[int, dict[str, str]]:
    now = now or datetime.now(timezone.utc)
    period = period_of(now)
    key = f"{ctx.entitlement_id}:{period}" if ctx.kind == PlanKind.BASE_USAGE.value else str(ctx.entitlement_id)
    quota = ctx.quota
    async with db.atomic():
        await _entitlement_live(ctx.entitlement_id, now)
        if daily_cap:
            day = now.astimezone(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
            today = await ApiCall.count().where((ApiCall.entitlement == ctx.entitlement_id)
                                                & (ApiCall.mode == mode) & (ApiCall.outcome == "answered")
                                                & (ApiCall.created_at >= day))
            if today >= daily_cap:
                refused = Refused("verify.daily_cap", N_("今日核验次数已达上限（{cap} 次），请明天再试。Daily "
                                                         "verification cap reached ({cap})."),
                                  headers={"Retry-After": str(max(1, int((day + timedelta(days=1) - now)
                                                                         .total_seconds())))}, cap=daily_cap)
                refused.outcome = "over_daily_cap"
                raise refused
        seq = await _advance(key, quota)
        if seq is None:
            inserted = await ApiMeter.insert(ApiMeter(key=key, entitlement=ctx.entitlement_id, period=period
                                                      if key != str(ctx.entitlement_id) else "", quota=quota)
                                             ).on_conflict(target=ApiMeter.key, action="DO NOTHING"
                                                           ).returning(ApiMeter.id)
            seq = await _advance(key, quota) if inserted else None
            if seq is None:
                used = quota  # the meter existed and the compare-and-set failed: the quota is used up
                refused = over_quota(quota, used)
                refused.outcome = "over_quota"
                raise refused
        price = call_price(seq, kind=ctx.kind, included=ctx.included, unit_fen=ctx.unit_fen, tiers=ctx.tiers)
        await ApiCall.insert(ApiCall(
            entitlement=ctx.entitlement_id, listing=ctx.listing_id, buyer=ctx.buyer, user=principal.user_id,
            api_key=principal.credential_id, mode=mode, outcome="answered", seq=seq, price_fen=price,
            query=json.dumps(query, ensure_ascii=False, default=str)[:4000], rows=rows, matched=matched,
            period=period, created_at=now))
    return seq, quota_headers(quota, seq)


async def trace_refusal(ctx, *, principal, mode: str, query: dict, outcome: str) -> None:
    """A refused call leaves a trace too (not counted): the holder sees who knocked and why."""
    now = datetime.now(timezone.utc)
    await ApiCall.insert(ApiCall(
        entitlement=ctx.entitlement_id, listing=ctx.listing_id, buyer=ctx.buyer, user=principal.user_id,
        api_key=principal.credential_id, mode=mode, outcome=outcome, query=json.dumps(query, ensure_ascii=False,
                                                                                      default=str)[:4000],
        period=period_of(now), created_at=now))
