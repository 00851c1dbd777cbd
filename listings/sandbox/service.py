"""The sandbox (可用不可见): a buyer's aggregate SQL over the entitled version, run where the data stays.

A query goes: entitlement checks (the buyer's, active, delivered as `sandbox`, a version it reaches) →
the daily budget → `checks.check` (shape, table, functions, personal columns) → the locked engine in a
bounded thread pool (never on the event loop) → the k rule (WHERE measured, small groups suppressed) →
the log. Every query is logged with its decision, refusals included (who, when, SQL, decision, rows,
duration), and audited; a refusal is then raised as 422. Answered results are released at once, or wait
for the holder's review when the listing's policy asks for it; the buyer downloads a released result as CSV.

Daily budget: every logged query of the entitlement that day (Asia/Shanghai) counts, refusals included,
so probing the k rule costs budget too. Queries that differ from an earlier one of the day only in
constants share a fingerprint and are flagged `near_duplicate` in the log the holder reads.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import os
import shutil
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from market import audit, db, notifications, runtime
from market.errors import DomainError, Forbidden, NotFound
from listings.entitlements import service as entitlements
from listings.sandbox import checks, engine
from listings.tables import (
    AssetVersion,
    DeliveryMode,
    Entitlement,
    Listing,
    ProfileStatus,
    ReleaseStatus,
    SandboxPolicy,
    SandboxQuery,
)

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
MAX_GROUPS = 1000  # groups shown after suppression
MAX_FETCHED = 100_000  # groups read from DuckDB before suppression (fine groupings are mostly suppressed)
IDENTIFYING = frozenset({"resident_id", "mobile", "person_name", "address", "bank_card"})
OVERSIGHT = frozenset({"admin", "regulator"})
# two queries at a time per process: the rest wait their turn instead of taking the machine
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="sandbox")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _today() -> str:
    return _now().astimezone(CHINA).date().isoformat()


# ---- the data of an entitlement -----------------------------------------------------------------------


async def _entitlement(entitlement_id: int, org_id: int) -> tuple[dict, dict]:
    """The caller's own active sandbox entitlement and its listing."""
    row = await Entitlement.select().where(Entitlement.id == entitlement_id).first()
    if row is None or row["buyer"] != org_id:
        raise NotFound("entitlement.not_found", "授权使用记录不存在")
    listing = await Listing.select().where(Listing.id == row["listing"]).first()
    if listing["delivery_mode"] != DeliveryMode.SANDBOX.value:
        raise Forbidden("sandbox.not_sandbox", "该数据以 {mode} 方式交付，不提供沙箱查询", mode=listing["delivery_mode"])
    return row, listing


async def _version(entitlement: dict, listing: dict) -> dict:
    """The newest profiled version the entitlement reaches."""
    versions = await AssetVersion.select(
        AssetVersion.number, AssetVersion.prepared_key, AssetVersion.profile, AssetVersion.row_count).where(
        (AssetVersion.asset == listing["asset"]) & (AssetVersion.profile_status == ProfileStatus.DONE.value)
    ).order_by(AssetVersion.number, ascending=False)
    for v in versions:
        if entitlements.reaches(entitlement, v["number"], listing["data_version"]) and v["prepared_key"]:
            return v
    raise Forbidden("sandbox.no_version", "该授权当前没有可查询的数据版本（未生效、已到期或已终止）")


def schema_of(profile_json: str) -> list[dict]:
    """Columns of a version as the sandbox shows them: name, type, and whether the column is personal."""
    profile = json.loads(profile_json or "{}")
    out = []
    for col, (_name, duck) in zip(profile.get("columns", []), engine.column_types(profile)):
        personal = col.get("describes") != "organisation" and bool(
            col.get("personal") or col.get("sensitive") or col.get("semantic_type") in IDENTIFYING)
        out.append({"name": col["name"], "type": duck, "profile_type": col.get("type"), "personal": personal})
    return out


def examples(columns: list[dict]) -> list[str]:
    """Aggregate queries that pass the checks, written for this table."""
    groups = [c["name"] for c in columns if not c["personal"] and c["type"] in ("VARCHAR", "DATE")]
    numbers = [c["name"] for c in columns if not c["personal"] and c["type"] in ("BIGINT", "DOUBLE")]
    out = ["SELECT count(*) AS 行数 FROM data"]
    if groups:
        g = engine._quote(groups[0])
        out.append(f"SELECT {g}, count(*) AS 行数 FROM data GROUP BY {g} ORDER BY 行数 DESC")
        if numbers:
            n = engine._quote(numbers[0])
            out.append(f"SELECT {g}, sum({n}) AS 合计, round(avg({n}), 2) AS 平均 FROM data GROUP BY {g}")
    elif numbers:
        n = engine._quote(numbers[0])
        out.append(f"SELECT min({n}), max({n}), round(avg({n}), 2) FROM data")
    return out


async def _policy(listing_id: int) -> dict:
    row = await SandboxPolicy.select().where(SandboxPolicy.listing == listing_id).first()
    return row or {"listing": listing_id, "review_required": False}


async def _used_today(entitlement_id: int) -> int:
    return await SandboxQuery.count().where((SandboxQuery.entitlement == entitlement_id)
                                            & (SandboxQuery.day == _today())
                                            & (SandboxQuery.code != "sandbox.budget_exhausted"))


async def overview(*, entitlement_id: int, org_id: int) -> dict:
    """What the buyer's query page shows: schema, examples, k, budget left today, review policy."""
    entitlement, listing = await _entitlement(entitlement_id, org_id)
    version = await _version(entitlement, listing)
    columns = schema_of(version["profile"])
    settings = runtime.settings()
    used = await _used_today(entitlement_id)
    policy = await _policy(listing["id"])
    return {"entitlement": entitlement, "listing": listing, "version": version["number"],
            "row_count": version["row_count"], "columns": columns, "examples": examples(columns),
            "k": settings.sandbox_k, "budget": {"limit": settings.sandbox_daily_queries, "used": used,
                                                 "left": max(0, settings.sandbox_daily_queries - used)},
            "review_required": policy["review_required"]}


# ---- the prepared file, cached per process by its content hash (a version's file is never edited) ---------

_CACHE_DIR: str | None = None
_CACHE_LOCK = threading.Lock()
_CACHE_KEEP = 4


def _local_copy(key: str) -> str:
    """A local path holding the prepared CSV of `key` (runs in the worker thread)."""
    global _CACHE_DIR
    with _CACHE_LOCK:
        if _CACHE_DIR is None or not os.path.isdir(_CACHE_DIR):
            _CACHE_DIR = tempfile.mkdtemp(prefix="market-sandbox-")
    digest = runtime.storage().stat(key).sha256  # the same key in another database is other bytes
    with _CACHE_LOCK:
        path = os.path.join(_CACHE_DIR, hashlib.sha256(f"{key}:{digest}".encode()).hexdigest() + ".csv")
        if os.path.exists(path):
            os.utime(path)
            return path
        tmp = path + f".{threading.get_ident()}.part"
        with open(tmp, "wb") as out:
            for chunk in runtime.storage().open(key):
                out.write(chunk)
        os.replace(tmp, path)
        files = sorted((os.path.join(_CACHE_DIR, f) for f in os.listdir(_CACHE_DIR) if f.endswith(".csv")),
                       key=os.path.getmtime)
        for old in files[:-_CACHE_KEEP]:
            os.remove(old)
        return path


def clear_cache() -> None:
    global _CACHE_DIR
    with _CACHE_LOCK:
        if _CACHE_DIR:
            shutil.rmtree(_CACHE_DIR, ignore_errors=True)
        _CACHE_DIR = None


def _execute(key: str, types: list[tuple[str, str]], plan: checks.Plan, limits: engine.Limits) -> engine.Outcome:
    return engine.execute(_local_copy(key), types, plan, limits)


# ---- running a query ------------------------------------------------------------------------------------


def _text(error: DomainError) -> str:
    try:
        return error.message.format(**error.params)
    except (KeyError, IndexError, ValueError):
        return error.message


async def _log(*, entitlement: dict, listing: dict, user_id: int, via: str, version: int, sql: str,
               fingerprint: str, started: datetime, error: DomainError | None = None, columns=(), rows=(),
               suppressed: int = 0, k: int = 0) -> dict:
    """One row of the query log and its audit event, in one transaction."""
    day = _today()
    near = bool(fingerprint) and await SandboxQuery.exists().where(
        (SandboxQuery.entitlement == entitlement["id"]) & (SandboxQuery.day == day)
        & (SandboxQuery.fingerprint == fingerprint) & (SandboxQuery.sql != sql))
    if error is not None:
        release = ReleaseStatus.WITHHELD
    else:
        release = ReleaseStatus.PENDING if (await _policy(listing["id"]))["review_required"] \
            else ReleaseStatus.RELEASED
    duration = int((_now() - started).total_seconds() * 1000)
    async with db.atomic():
        inserted = await SandboxQuery.insert(SandboxQuery(
            entitlement=entitlement["id"], listing=listing["id"], buyer=entitlement["buyer"], user=user_id, via=via,
            version=version, sql=sql[:checks.MAX_SQL_CHARS + 100], fingerprint=fingerprint, near_duplicate=near,
            day=day, decision="refused" if error else "answered", code=error.code if error else "",
            message=_text(error) if error else "", columns=json.dumps(list(columns), ensure_ascii=False),
            rows=json.dumps(list(rows), ensure_ascii=False), row_count=len(rows), suppressed=suppressed, k=k,
            duration_ms=duration, release=release.value)).returning(*SandboxQuery.all_columns())
        row = inserted[0]
        await audit.record(action="sandbox.query", object_type="sandbox_query", object_id=row["id"],
                           after={"entitlement": entitlement["id"], "decision": row["decision"], "code": row["code"],
                                  "rows": row["row_count"], "suppressed": suppressed, "release": release.value,
                                  "near_duplicate": near})
        if release is ReleaseStatus.PENDING:
            await notifications.notify(kind="sandbox.review", organization_id=listing["holder"],
                                       subject=f"《{listing['title']}》有沙箱查询结果等待审核",
                                       link="/my/sandbox")
    return row


async def run_query(*, entitlement_id: int, sql: str, org_id: int, user_id: int, via: str = "session") -> dict:
    """Check, run and log one query; returns the log row (answered), or raises the logged refusal (422)."""
    entitlement, listing = await _entitlement(entitlement_id, org_id)
    if entitlement["status"] != "active":
        raise Forbidden("sandbox.not_active", "该授权未生效或已终止，不能查询")
    version = await _version(entitlement, listing)
    settings = runtime.settings()
    sql = sql or ""
    started = _now()
    base = {"entitlement": entitlement, "listing": listing, "user_id": user_id, "via": via,
            "version": version["number"], "sql": sql, "started": started}
    if await _used_today(entitlement_id) >= settings.sandbox_daily_queries:
        error = checks.refuse(DomainError("sandbox.budget_exhausted", "今日查询次数已用完（每个授权每天 {n} 次），"
                                          "请明天再试", n=settings.sandbox_daily_queries))
        await _log(**base, fingerprint="", error=error)
        raise error
    columns = schema_of(version["profile"])
    fingerprint = ""
    try:
        plan = checks.check(sql, columns=[c["name"] for c in columns],
                            personal={c["name"] for c in columns if c["personal"]})
        fingerprint = plan.fingerprint
        limits = engine.Limits(seconds=settings.sandbox_seconds, memory_mb=settings.sandbox_memory_mb,
                               threads=settings.sandbox_threads, max_rows=MAX_FETCHED)
        types = [(c["name"], c["type"]) for c in columns]
        outcome = await asyncio.get_running_loop().run_in_executor(
            _POOL, _execute, version["prepared_key"], types, plan, limits)
        k = settings.sandbox_k
        if outcome.where_kept is not None:
            left_out = outcome.where_total - outcome.where_kept
            if outcome.where_kept < k:
                raise checks.refuse(DomainError("sandbox.filter_too_narrow", "筛选条件只选中了不到 {k} 行，可能识别到"
                                                "个人或单个对象，查询被拒绝", k=k))
            if 0 < left_out < k:
                raise checks.refuse(DomainError("sandbox.filter_excludes_few", "筛选条件只排除了不到 {k} 行，与全表"
                                                "结果相减即可识别被排除者，查询被拒绝", k=k))
        names, rows, suppressed = engine.apply_k(outcome, k)
        if len(rows) > MAX_GROUPS:
            raise checks.refuse(DomainError("sandbox.too_many_groups", "结果超过 {n} 组，请减少分组或加上 LIMIT",
                                            n=MAX_GROUPS))
    except DomainError as error:
        error.status_code = 422 if error.status_code == 400 else error.status_code
        await _log(**base, fingerprint=fingerprint, error=error)
        raise
    return _loaded(await _log(**base, fingerprint=fingerprint, columns=names, rows=rows, suppressed=suppressed, k=k))


# ---- reading the log -------------------------------------------------------------------------------------


def _select():
    return SandboxQuery.select(*SandboxQuery.all_columns(), SandboxQuery.listing.title.as_alias("listing_title"),
                               SandboxQuery.buyer.name.as_alias("buyer_name"),
                               SandboxQuery.user.email.as_alias("user_email"))


def _loaded(row: dict) -> dict:
    return {**row, "columns": json.loads(row["columns"] or "[]"), "rows": json.loads(row["rows"] or "[]")}


async def queries_of_entitlement(*, entitlement_id: int, org_id: int, roles: frozenset[str] = frozenset(),
                                 limit: int = 50) -> list[dict]:
    """The log of one entitlement's sandbox, newest first (its buyer, the listing's holder, oversight)."""
    await entitlements._visible_entitlement(entitlement_id, org_id, roles)
    rows = await _select().where(SandboxQuery.entitlement == entitlement_id).order_by(
        SandboxQuery.id, ascending=False).limit(limit)
    return [_loaded(r) for r in rows]


async def log(*, org_id: int, roles: frozenset[str], release: str | None = None, limit: int = 200) -> list[dict]:
    """The query log the holder reads for its listings; regulators and admins read every listing's."""
    query = _select()
    if not roles & OVERSIGHT:
        query = query.where(SandboxQuery.listing.holder == org_id)
    if release:
        query = query.where(SandboxQuery.release == release)
    return [_loaded(r) for r in await query.order_by(SandboxQuery.id, ascending=False).limit(limit)]


async def get_query(*, query_id: int, org_id: int, roles: frozenset[str] = frozenset()) -> dict:
    """One logged query, to its buyer, the listing's holder and oversight."""
    row = await _select().where(SandboxQuery.id == query_id).first()
    if row is None:
        raise NotFound("sandbox.query_not_found", "查询记录不存在")
    holder = await Listing.select(Listing.holder).where(Listing.id == row["listing"]).first()
    if row["buyer"] != org_id and holder["holder"] != org_id and not roles & OVERSIGHT:
        raise NotFound("sandbox.query_not_found", "查询记录不存在")
    return _loaded(row)


# ---- release ---------------------------------------------------------------------------------------------


async def set_policy(*, listing_id: int, org_id: int, user_id: int, review_required: bool) -> dict:
    """The holder decides whether its listing's sandbox results wait for its review."""
    listing = await Listing.select(Listing.id, Listing.holder).where(Listing.id == listing_id).first()
    if listing is None or listing["holder"] != org_id:
        raise NotFound("listing.not_found", "数据不存在")
    async with db.atomic():
        if await SandboxPolicy.exists().where(SandboxPolicy.listing == listing_id):
            await SandboxPolicy.update({SandboxPolicy.review_required: review_required,
                                        SandboxPolicy.updated_by: user_id, SandboxPolicy.updated_at: _now()}).where(
                SandboxPolicy.listing == listing_id)
        else:
            await SandboxPolicy.insert(SandboxPolicy(listing=listing_id, review_required=review_required,
                                                     updated_by=user_id))
        await audit.record(action="sandbox.policy", object_type="listing", object_id=listing_id,
                           after={"review_required": review_required})
    return await _policy(listing_id)


async def policies(*, org_id: int) -> list[dict]:
    """The holder's sandbox listings with their review flag."""
    listings = await Listing.select(Listing.id, Listing.title).where(
        (Listing.holder == org_id) & (Listing.delivery_mode == DeliveryMode.SANDBOX.value)).order_by(Listing.id)
    flags = {p["listing"]: p["review_required"] for p in await SandboxPolicy.select().where(
        SandboxPolicy.listing.is_in([row["id"] for row in listings] or [0]))}
    return [{**row, "review_required": flags.get(row["id"], False)} for row in listings]


async def review(*, query_id: int, org_id: int, user_id: int, approve: bool, note: str = "") -> dict:
    """The holder releases a pending result, or rejects it with a note."""
    row = await get_query(query_id=query_id, org_id=org_id)
    holder = await Listing.select(Listing.holder, Listing.title).where(Listing.id == row["listing"]).first()
    if holder["holder"] != org_id:
        raise Forbidden("sandbox.not_holder", "只有数据持有方可以审核沙箱结果")
    note = (note or "").strip()
    if not approve and len(note) < 2:
        raise DomainError("listing.reason_required", "请填写理由")
    to = ReleaseStatus.RELEASED if approve else ReleaseStatus.REJECTED
    async with db.atomic():
        await db.transition(SandboxQuery, query_id, to=to, status_column="release", action=f"sandbox.{to.value}",
                            extra={SandboxQuery.review_note: note[:2000], SandboxQuery.reviewed_by: user_id,
                                   SandboxQuery.reviewed_at: _now()}, audit_after={"note": note[:2000]})
        await notifications.notify(
            kind=f"sandbox.{to.value}", organization_id=row["buyer"],
            subject=(f"《{holder['title']}》的沙箱查询结果已放行，可以下载" if approve
                     else f"《{holder['title']}》的沙箱查询结果未获放行：{note}"),
            link=f"/my/entitlements/{row['entitlement']}/sandbox")
    return await get_query(query_id=query_id, org_id=org_id)


async def open_result(*, query_id: int, org_id: int) -> tuple[str, bytes]:
    """The buyer's released result as CSV (UTF-8 with BOM, for spreadsheet programs); counts the download."""
    row = await get_query(query_id=query_id, org_id=org_id)
    if row["buyer"] != org_id:
        raise NotFound("sandbox.query_not_found", "查询记录不存在")
    if row["release"] != ReleaseStatus.RELEASED.value:
        raise Forbidden("sandbox.not_released", "该结果尚未放行（{release}），不能下载", release=row["release"])
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(row["columns"])
    writer.writerows(row["rows"])
    async with db.atomic():
        await SandboxQuery.update({SandboxQuery.downloads: SandboxQuery.downloads + 1}).where(
            SandboxQuery.id == query_id)
        await audit.record(action="sandbox.downloaded", object_type="sandbox_query", object_id=query_id,
                           after={"rows": row["row_count"]})
    return f"sandbox-{query_id}.csv", ("\ufeff" + out.getvalue()).encode()
