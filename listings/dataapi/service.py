"""The service API of data delivered as a service: entitlement keys, rows, verification, usage.

- Keys: a buyer makes an API key for one of its entitlements from the entitlement page (shown once,
  revocable there or under API 密钥). The key's scope "entitlement:<id>" lets it call that
  entitlement's data routes and nothing else (market.web refuses it elsewhere).
- `read_rows`: the entitled version (the latest the entitlement reaches) with fields, equality and
  range filters, order and paging; personal columns masked as on the listing. Orders carry no legal
  basis for personal information (no such field exists), so masking always applies.
- `verify`: the holder's declaration says which columns are asked and what is answered.
- Both are rate limited per key and counted by `_meter.count` (its docstring states the guarantee).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from listings import pricing
from listings.dataapi import _meter, _table
from listings.dataapi.tables import ApiCall, ApiMeter, UsageAlert, VerificationRule
from listings import service as _catalogue  # noqa: F401  (loads the catalogue modules in their own order)
from listings.entitlements import service as entitlements
from listings.profiling.masking import mask
from listings.tables import AssetVersion, Entitlement, EntitlementStatus, Listing, PlanKind, PricePlan, ProfileStatus
from market import audit, db, identity, notifications, runtime
from market.errors import Conflict, DomainError, Forbidden, NotFound
from market.i18n import N_

SCOPE_KIND = "entitlement"
ALERT_MIN_CALLS = 50  # verifications in a day before the mismatch ratio means anything
ALERT_MISMATCH_RATIO = 0.8  # more misses than this looks like guessing (enumeration)


def scope_of(entitlement_id: int) -> str:
    return f"{SCOPE_KIND}:{entitlement_id}"


@dataclass(frozen=True)
class Context:
    """What a call needs to know about its entitlement, cached a few seconds (the entitlement's status
    is not: it is read in the counting transaction of every call)."""

    entitlement_id: int
    listing_id: int
    holder: int
    buyer: int
    delivery_mode: str
    kind: str
    quota: int
    included: int
    unit_fen: int
    tiers: tuple
    version: int
    prepared_key: str
    sha256: str  # of the upload: with the key, names the content (a key is never reused for other data in
    # production, but a test database that starts again from id 1 does reuse it)
    profile: dict
    personal: dict  # column → (semantic type, sensitive kinds)


# keyed by entitlement and API key (a key's prefix is random, so a new key never meets a stale entry)
_contexts: dict[tuple[int, str], tuple[float, Context]] = {}
_limiter: _meter.RateLimit | None = None


def limiter() -> _meter.RateLimit:
    global _limiter
    per_minute = runtime.settings().data_api_rate_per_minute
    if _limiter is None or _limiter.capacity != per_minute:
        _limiter = _meter.RateLimit(per_minute)
    return _limiter


def _no_entitlement() -> NotFound:
    return NotFound("entitlement.not_found", N_("授权使用记录不存在"))


async def _context(entitlement_id: int, credential: str = "") -> Context:
    hit = _contexts.get((entitlement_id, credential))
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    e = await Entitlement.select().where(Entitlement.id == entitlement_id).first()
    if e is None:
        raise _no_entitlement()
    listing = await Listing.select().where(Listing.id == e["listing"]).first()
    plan = await PricePlan.select().where(PricePlan.id == e["plan"]).first()
    version = max((v for v in range(listing["data_version"], 0, -1)
                   if entitlements.reaches(e, v, listing["data_version"])), default=0)
    row = await AssetVersion.select(AssetVersion.prepared_key, AssetVersion.profile, AssetVersion.sha256).where(
        (AssetVersion.asset == listing["asset"]) & (AssetVersion.number == version)
        & (AssetVersion.profile_status == ProfileStatus.DONE.value)).first() if version else None
    profile = json.loads(row["profile"]) if row and row["profile"] else {"columns": []}
    spec = pricing.spec_from_row(plan)
    ctx = Context(
        entitlement_id=e["id"], listing_id=listing["id"], holder=listing["holder"], buyer=e["buyer"],
        delivery_mode=listing["delivery_mode"], kind=e["kind"],
        quota=e["calls"] if e["kind"] == PlanKind.CALL_PACK.value else 0,
        included=spec.calls if e["kind"] == PlanKind.BASE_USAGE.value else 0, unit_fen=spec.unit_fen,
        tiers=spec.tiers, version=version, prepared_key=row["prepared_key"] if row else "",
        sha256=row["sha256"] if row else "", profile=profile,
        personal={c["name"]: (c.get("semantic_type"), c.get("sensitive_kind") or [])
                  for c in profile.get("columns", []) if c.get("personal") or c.get("sensitive")})
    if e["status"] == EntitlementStatus.ACTIVE.value:  # only a live one is worth remembering
        if len(_contexts) > 10_000:
            _contexts.clear()
        _contexts[(entitlement_id, credential)] = (time.monotonic() + runtime.settings().auth_cache_seconds, ctx)
    return ctx


async def _caller_context(principal, entitlement_id: int, mode: str) -> Context:
    if principal is None or principal.via != "api_key" or principal.scope != scope_of(entitlement_id):
        raise Forbidden("data_api.key_required", N_("请使用为该授权创建的 API 密钥（Authorization: Bearer …）"))
    ctx = await _context(entitlement_id, principal.label)
    if ctx.buyer != principal.org_id:
        raise _no_entitlement()
    if ctx.delivery_mode != mode:
        raise Conflict("data_api.wrong_mode", N_("该数据以 {mode} 方式交付，不提供此接口"), mode=ctx.delivery_mode)
    if not ctx.prepared_key:
        raise NotFound("delivery.version_missing", N_("该版本的数据文件不存在"))
    return ctx


async def _rate(ctx: Context, principal, mode: str, query: dict) -> None:
    wait = limiter().take(principal.credential_id)
    if wait:
        await _meter.trace_refusal(ctx, principal=principal, mode=mode, query=query, outcome="rate_limited")
        raise _meter.Refused("data_api.rate_limited", N_("调用过于频繁，请 {seconds} 秒后再试。Too many calls: retry "
                                                         "in {seconds} s."),
                             headers={"Retry-After": str(max(1, int(wait + 0.999)))}, seconds=max(1, int(wait + 0.999)))


async def _counted(ctx: Context, principal, mode: str, query: dict, **kw) -> tuple[int, dict]:
    try:
        return await _meter.count(ctx, principal=principal, mode=mode, query=query, **kw)
    except _meter.Refused as exc:
        await _meter.trace_refusal(ctx, principal=principal, mode=mode, query=query,
                                   outcome=getattr(exc, "outcome", "refused"))
        raise


def _masked(ctx: Context, fields: tuple[str, ...], rows: list[tuple]) -> list[dict]:
    personal = [(i, ctx.personal[f]) for i, f in enumerate(fields) if f in ctx.personal]
    out = []
    for row in rows:
        values = list(row)
        for i, (semantic, kinds) in personal:
            if values[i] is not None:
                values[i] = mask(str(values[i]), semantic, kinds)
        out.append(dict(zip(fields, values)))
    return out


@dataclass(frozen=True)
class Answer:
    fields: tuple[str, ...]
    items: list[dict]
    total: int
    headers: dict[str, str]
    body: bytes = b""  # the response, rendered before the call was counted


async def read_rows(*, principal, entitlement_id: int, params: list[tuple[str, str]], render=None) -> Answer:
    """A page of the entitled version, counted once when answered (the quota headers come with it).
    `render(fields, items, total) -> bytes` builds the response body before the count commits, so that
    nothing but the write is left between the commit and the answer (see _meter)."""
    ctx = await _caller_context(principal, entitlement_id, "api")
    loaded = await asyncio.to_thread(_table.table, ctx.prepared_key, ctx.profile, ctx.sha256)
    q = _table.parse(params, loaded, personal=frozenset(ctx.personal))
    await _rate(ctx, principal, "api", q.describe())
    rows, total = await asyncio.to_thread(_table.run, loaded, q)
    items = _masked(ctx, q.fields, rows)
    body = render(q.fields, items, total) if render else b""
    _seq, headers = await _counted(ctx, principal, "api", q.describe(), rows=len(items))
    return Answer(fields=q.fields, items=items, total=total, headers=headers, body=body)


# ---- verification -----------------------------------------------------------------------------


async def get_rule(*, listing_id: int) -> dict | None:
    row = await VerificationRule.select().where(VerificationRule.listing == listing_id).first()
    if row is not None:
        row["ask_columns"] = json.loads(row["ask_columns"])
    return row


async def set_rule(*, listing_id: int, org_id: int, user_id: int, ask_columns: list[str], answer_column: str = "",
                   daily_cap: int = 1000) -> dict:
    """The holder declares what its verification listing asks and answers (replacing any earlier)."""
    listing = await Listing.select().where(Listing.id == listing_id).first()
    if listing is None or listing["holder"] != org_id:
        raise NotFound("listing.not_found", N_("上架记录不存在"))
    if listing["delivery_mode"] != "verification":
        raise DomainError("verify.not_verification", N_("只有以核验方式交付的数据可以设置核验规则"))
    names = {c["name"] for c in json.loads(listing["columns"] or "[]")}
    asked = list(dict.fromkeys(c.strip() for c in ask_columns if c and c.strip()))
    if not 1 <= len(asked) <= 5:
        raise DomainError("verify.ask_invalid", N_("请选择 1 到 5 个核验字段"))
    answer_column = (answer_column or "").strip()
    unknown = [c for c in [*asked, answer_column] if c and c not in names]
    if unknown:
        raise DomainError("data_api.unknown_column", N_("没有这一列：{name}"), name=unknown[0][:100])
    if answer_column in asked:
        raise DomainError("verify.answer_is_asked", N_("回答字段不能是核验字段本身"))
    if not 1 <= daily_cap <= 1_000_000:
        raise DomainError("verify.cap_invalid", N_("每日核验上限应在 1 到 1000000 之间"))
    values = {"ask_columns": json.dumps(asked, ensure_ascii=False), "answer_column": answer_column,
              "daily_cap": daily_cap, "updated_by": user_id, "updated_at": datetime.now(timezone.utc)}
    async with db.atomic():
        before = await get_rule(listing_id=listing_id)
        if before is None:
            await VerificationRule.insert(VerificationRule(listing=listing_id, **values))
        else:
            await VerificationRule.update(values).where(VerificationRule.listing == listing_id)
        await audit.record(action="verify.rule_set", object_type="listing", object_id=listing_id,
                           before={k: before[k] for k in ("ask_columns", "answer_column", "daily_cap")} if before else None,
                           after={"ask_columns": asked, "answer_column": answer_column, "daily_cap": daily_cap})
    return await get_rule(listing_id=listing_id)


async def verify(*, principal, entitlement_id: int, values: dict) -> tuple[dict, dict[str, str]]:
    """{"match": bool} (and "answer" when the holder declared an answer column); never the row."""
    ctx = await _caller_context(principal, entitlement_id, "verification")
    rule = await get_rule(listing_id=ctx.listing_id)
    if rule is None:
        raise Conflict("verify.no_rule", N_("数据持有方尚未设置核验规则"))
    if not isinstance(values, dict) or set(values) != set(rule["ask_columns"]) or not all(
            isinstance(v, (str, int)) and not isinstance(v, bool) and len(str(v)) <= 200 for v in values.values()):
        raise DomainError("verify.values_invalid", N_("请提供且只提供这些核验字段（文本）：{columns}"),
                          columns="、".join(rule["ask_columns"]))
    # the trace keeps which columns were asked, not the values (they are personal information)
    query = {"columns": sorted(values)}
    await _rate(ctx, principal, "verification", query)
    loaded = await asyncio.to_thread(_table.table, ctx.prepared_key, ctx.profile, ctx.sha256)
    ordered = {c: values[c] for c in rule["ask_columns"]}
    matched, answer = await asyncio.to_thread(_table.lookup, loaded, ordered, rule["answer_column"])
    _seq, headers = await _counted(ctx, principal, "verification", query, rows=int(matched), matched=matched,
                                   daily_cap=rule["daily_cap"])
    await _watch(ctx)
    body = {"match": matched}
    if rule["answer_column"]:
        body["answer"] = answer if matched else None
    return body, headers


async def _watch(ctx: Context) -> None:
    """Tell the holder once a day when an entitlement's verifications look like enumeration."""
    day = datetime.now(_meter.CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    key = f"{ctx.entitlement_id}:mismatch:{day.date().isoformat()}"
    base = (ApiCall.entitlement == ctx.entitlement_id) & (ApiCall.mode == "verification") \
        & (ApiCall.outcome == "answered") & (ApiCall.created_at >= day)
    total = await ApiCall.count().where(base)
    if total < ALERT_MIN_CALLS or total % 10:  # look every 10 calls: the ratio moves slowly
        return
    misses = await ApiCall.count().where(base & (ApiCall.matched == False))  # noqa: E712
    if misses / total <= ALERT_MISMATCH_RATIO or await UsageAlert.exists().where(UsageAlert.key == key):
        return
    async with db.atomic():
        rows = await UsageAlert.insert(UsageAlert(
            key=key, entitlement=ctx.entitlement_id, kind="mismatch_ratio",
            detail=json.dumps({"calls": total, "misses": misses}))).on_conflict(
            target=UsageAlert.key, action="DO NOTHING").returning(UsageAlert.id)
        if rows:
            buyer = await identity.get_organization(ctx.buyer)
            await notifications.notify(
                kind="verify.unusual", organization_id=ctx.holder, link=f"/listings/{ctx.listing_id}/usage",
                subject=f"核验异常：{buyer['name']} 今日 {total} 次核验中 {misses} 次不匹配，疑似枚举")
            await audit.record(action="verify.alert", object_type="entitlement", object_id=ctx.entitlement_id,
                               after={"calls": total, "misses": misses})


# ---- keys -------------------------------------------------------------------------------------


async def _own_service_entitlement(entitlement_id: int, org_id: int) -> dict:
    e = await Entitlement.select().where(Entitlement.id == entitlement_id).first()
    if e is None or e["buyer"] != org_id:
        raise _no_entitlement()
    return e


async def create_key(*, entitlement_id: int, org_id: int, user_id: int, name: str = "") -> tuple[dict, str]:
    """A key that reads this entitlement's data only; the secret is returned once."""
    e = await _own_service_entitlement(entitlement_id, org_id)
    listing = await Listing.select(Listing.delivery_mode, Listing.title).where(Listing.id == e["listing"]).first()
    if listing["delivery_mode"] not in ("api", "verification"):
        raise DomainError("data_api.no_key_for_mode", N_("该数据以 {mode} 方式交付，不使用 API 密钥"),
                          mode=listing["delivery_mode"])
    if e["status"] != EntitlementStatus.ACTIVE.value:
        raise Conflict("data_api.entitlement_inactive", N_("该授权已终止、暂停或到期，密钥已停用"))
    name = (name or "").strip() or f"{listing['title'][:80]} #{entitlement_id}"
    return await identity.create_api_key(user_id=user_id, organization_id=org_id, name=name[:100],
                                         scope=scope_of(entitlement_id))


async def keys_of(*, entitlement_id: int, org_id: int) -> list[dict]:
    await _own_service_entitlement(entitlement_id, org_id)
    return [k for k in await identity.list_api_keys(organization_id=org_id) if k["scope"] == scope_of(entitlement_id)]


# ---- usage ------------------------------------------------------------------------------------


async def usage_of_entitlement(*, entitlement_id: int, org_id: int, roles: frozenset[str] = frozenset()) -> dict:
    """Usage against quota, calls per day (last 30 days) and the latest calls, for the buyer's page."""
    detail = await entitlements.detail(entitlement_id=entitlement_id, org_id=org_id, roles=roles)
    e = detail["entitlement"]
    meters = await ApiMeter.select().where(ApiMeter.entitlement == entitlement_id).order_by(ApiMeter.period)
    since = datetime.now(timezone.utc) - timedelta(days=30)
    calls = await ApiCall.select(ApiCall.created_at, ApiCall.outcome).where(
        (ApiCall.entitlement == entitlement_id) & (ApiCall.created_at >= since))
    days: dict[str, int] = {}
    for c in calls:
        if c["outcome"] == "answered":
            d = c["created_at"].astimezone(_meter.CHINA).date().isoformat()
            days[d] = days.get(d, 0) + 1
    latest = await ApiCall.select().where(ApiCall.entitlement == entitlement_id).order_by(
        ApiCall.id, ascending=False).limit(20)
    quota = e["calls"] if e["kind"] == PlanKind.CALL_PACK.value else 0
    used = sum(m["used"] for m in meters if not m["period"]) if quota else sum(m["used"] for m in meters)
    return {"quota": quota, "used": used, "remaining": max(0, quota - used) if quota else None,
            "months": [{"period": m["period"], "used": m["used"]} for m in meters if m["period"]],
            "days": sorted(days.items()), "latest": latest, "mode": detail["listing"]["delivery_mode"]}


async def trace(*, org_id: int, roles: frozenset[str], listing_id: int | None = None,
                entitlement_id: int | None = None, page: int = 1, page_size: int = 50) -> tuple[list[dict], int]:
    """The call trace: the holder's own listings, every call for regulators and admins."""
    where = []
    if not roles & {"regulator", "admin"}:
        where.append(ApiCall.listing.holder == org_id)
    if listing_id is not None:
        where.append(ApiCall.listing == listing_id)
    if entitlement_id is not None:
        where.append(ApiCall.entitlement == entitlement_id)
    query = ApiCall.select(*ApiCall.all_columns(), ApiCall.buyer.name.as_alias("buyer_name"),
                           ApiCall.listing.title.as_alias("listing_title")).order_by(ApiCall.id, ascending=False)
    counter = ApiCall.count()
    if where:
        query, counter = query.where(*where), counter.where(*where)
    return await query.limit(page_size).offset((page - 1) * page_size), await counter


async def usage_by_buyer(*, org_id: int) -> list[dict]:
    """The holder's view: answered and refused calls per listing, buyer and mode."""
    rows = await ApiCall.select(ApiCall.listing, ApiCall.listing.title.as_alias("listing_title"), ApiCall.buyer,
                                ApiCall.buyer.name.as_alias("buyer_name"), ApiCall.mode, ApiCall.outcome).where(
        ApiCall.listing.holder == org_id)
    out: dict[tuple, dict] = {}
    for r in rows:
        k = (r["listing"], r["buyer"], r["mode"])
        agg = out.setdefault(k, {"listing_id": r["listing"], "listing_title": r["listing_title"],
                                 "buyer_id": r["buyer"], "buyer_name": r["buyer_name"], "mode": r["mode"],
                                 "answered": 0, "refused": 0})
        agg["answered" if r["outcome"] == "answered" else "refused"] += 1
    return sorted(out.values(), key=lambda a: (a["listing_id"], a["buyer_id"], a["mode"]))


async def month_usage(*, entitlement_id: int, period: str) -> dict:
    """A base + usage entitlement's count for one month and what it charges (billing.usage reads it)."""
    e = await Entitlement.select().where(Entitlement.id == entitlement_id).first()
    if e is None:
        raise _no_entitlement()
    plan = await PricePlan.select().where(PricePlan.id == e["plan"]).first()
    spec = pricing.spec_from_row(plan)
    meter = await ApiMeter.select(ApiMeter.used).where(ApiMeter.key == f"{entitlement_id}:{period}").first()
    calls = meter["used"] if meter else 0
    included = spec.calls
    return {"entitlement": e, "plan": plan, "calls": calls, "included": included,
            "billable": max(0, calls - included),
            "amount_fen": _meter.usage_amount(calls, included=included, unit_fen=spec.unit_fen, tiers=spec.tiers)}


async def usage_entitlements(*, period: str) -> list[int]:
    """Base + usage entitlements with calls in a month (what the monthly invoicing visits)."""
    rows = await ApiMeter.select(ApiMeter.entitlement).where((ApiMeter.period == period) & (ApiMeter.used > 0))
    return sorted({r["entitlement"] for r in rows})
