"""Idempotency-Key for payment calls: the same key returns the same result, and the money moves once.

A call with a key first claims it (a row committed before the call runs), so a retry arriving while
the first attempt still runs is refused instead of running twice (a refund may already be on its
way through Stripe). The call then runs as it would without a key, and its result (ids, a small
JSON object) is kept on the row; the same key with the same request gets that result back, with
another request a refusal. A call that fails releases its claim: the key may be tried again, as
nothing was recorded. Keys are scoped by operation and by the caller's organization.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from billing.payments.tables import IdempotentCall
from market import db
from market.errors import Conflict, DomainError

MAX_KEY = 200


def check_key(key: str | None) -> str | None:
    """The key as sent (None when the header was not given); refuses an empty or unprintable one."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise DomainError("payment.idempotency_key_invalid",
                          "请求头 Idempotency-Key 须为 1 到 200 个可见字符")
    return key


def _digest(request: dict) -> str:
    return hashlib.sha256(json.dumps(request, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


async def _kept(scope: str, digest: str) -> dict | None:
    row = await IdempotentCall.select().where(IdempotentCall.scope == scope).first()
    if row is None:
        return None
    if row["request_digest"] != digest:
        raise Conflict("payment.idempotency_mismatch", "幂等键已用于另一笔不同的付款请求")
    if row["done_at"] is None:
        raise Conflict("payment.idempotency_in_progress", "使用该幂等键的请求正在处理，请稍后重试")
    return json.loads(row["result"])


async def once(*, operation: str, org_id: int | None, key: str | None, request: dict,
               run: Callable[[], Awaitable[dict]]) -> tuple[dict, bool]:
    """Run `run` once per key; (its result, replayed). Without a key it simply runs."""
    key = check_key(key)
    if key is None:
        return await run(), False
    scope = f"{operation}:{org_id if org_id is not None else '-'}:{key}"
    digest = _digest(request)
    kept = await _kept(scope, digest)
    if kept is not None:
        return kept, True
    async with db.atomic():
        claimed = await IdempotentCall.insert(IdempotentCall(scope=scope, request_digest=digest)).on_conflict(
            target=IdempotentCall.scope, action="DO NOTHING").returning(IdempotentCall.id)
    if not claimed:  # another request with this key got here first
        kept = await _kept(scope, digest)
        if kept is None:  # and failed meanwhile, releasing the key: nothing was recorded, the client retries
            raise Conflict("payment.idempotency_in_progress", "使用该幂等键的请求正在处理，请稍后重试")
        return kept, True
    row_id = claimed[0]["id"]
    try:
        result = await run()
    except BaseException:
        async with db.atomic():
            await IdempotentCall.delete().where(IdempotentCall.id == row_id)
        raise
    async with db.atomic():
        await IdempotentCall.update({IdempotentCall.result: json.dumps(result, sort_keys=True),
                                     IdempotentCall.done_at: datetime.now(timezone.utc)}).where(
            IdempotentCall.id == row_id)
    return result, False
