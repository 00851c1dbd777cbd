"""The register (数据资源和数据产品登记, 26号): 申请 → 受理、形式审查 → 公示 → 赋码, valid for three years.

- A **resource** registration is of an asset; its code shows on the asset and on the asset's raw and
  cleaned listings. A **product** registration is of a listing at the product tier; its code shows on
  that listing. Orders copy the listing's code when they are created, so contracts and invoices print
  the code the register gave (and keep it, as issued documents do, if the code later ends).
- The code is `SJDJ-<region>-<year>-<serial>`: the holder's GB/T 2260 region (from its credit code,
  000000 when unknown), the year the code was given, and a six-digit serial counted per region and
  year (`RegistrationCounter`, raised under its row lock), so a code is unique and never reused, and
  says where and when it was given. It is never derived from a row id.
- Filings: INITIAL and CHANGE pass a public notice (`registration_notice_days`) after the
  registration body (the platform admin) accepts them; CORRECTION and CANCEL take effect when accepted.
  A CHANGE that takes effect restarts the validity: that is how a registration is renewed. A periodic
  job ends notices, reminds holders `registration_reminder_days` before expiry (once per validity) and
  expires what was not renewed.
- A listing that passed the platform's review and its 公示 (listings.publication) is registered at
  once: that review and notice are the 受理、形式审查 and 公示 of its initial filing
  (`register_listed`), so every code a listing carries comes from this register.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from listings.publication._common import _reindex
from listings.registration.tables import (
    RecordStatus,
    RecordType,
    Registration,
    RegistrationCounter,
    RegistrationRecord,
    RegistrationStatus,
    SubjectKind,
)
from listings.tables import DataAsset, Listing, Tier
from market import audit, db, identity, notifications, runtime
from market.errors import Conflict, DomainError, Forbidden, NotFound
from market.i18n import N_

CODE_RE = re.compile(r"^SJDJ-[0-9]{6}-[0-9]{4}-[0-9]{6}$")
SERIAL_MAX = 999_999
OVERSEERS = frozenset({"admin", "regulator"})
TYPE_NAMES = {RecordType.INITIAL.value: N_("首次登记"), RecordType.CHANGE.value: N_("变更登记"),
              RecordType.CORRECTION.value: N_("更正登记"), RecordType.CANCEL.value: N_("注销登记")}
RECORD_STATUS_NAMES = {RecordStatus.APPLIED.value: N_("待受理"), RecordStatus.NOTICE.value: N_("公示中"),
                       RecordStatus.EFFECTIVE.value: N_("已生效"), RecordStatus.REJECTED.value: N_("未通过")}
STATUS_NAMES = {RegistrationStatus.PENDING.value: N_("登记中"), RegistrationStatus.ACTIVE.value: N_("有效"),
                RegistrationStatus.EXPIRED.value: N_("已过期"), RegistrationStatus.CANCELLED.value: N_("已注销")}
KIND_NAMES = {SubjectKind.RESOURCE.value: N_("数据资源"), SubjectKind.PRODUCT.value: N_("数据产品")}
# filings that pass a public notice before they take effect
NOTICED = (RecordType.INITIAL.value, RecordType.CHANGE.value)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def format_code(region_code: str, year: int, serial: int) -> str:
    region = region_code if re.fullmatch(r"[0-9]{6}", region_code or "") else "000000"
    return f"SJDJ-{region}-{year:04d}-{serial:06d}"


def _valid_years() -> int:
    return runtime.settings().registration_valid_years


def _add_years(when: datetime, years: int) -> datetime:
    try:
        return when.replace(year=when.year + years)
    except ValueError:  # 29 February
        return when.replace(year=when.year + years, day=28)


async def _next_code(region_code: str, when: datetime) -> str:
    """The next code of the region's series for the year; must run inside the caller's transaction."""
    region = format_code(region_code, when.year, 0).split("-")[1]
    series = f"{region}-{when.year}"
    await RegistrationCounter.insert(RegistrationCounter(series=series, last=0)).on_conflict(
        target=RegistrationCounter.series, action="DO NOTHING")
    # a self-assignment takes the row lock (PostgreSQL), so two transactions cannot read the same last
    rows = await (RegistrationCounter.update({RegistrationCounter.last: RegistrationCounter.last})
                  .where(RegistrationCounter.series == series).returning(RegistrationCounter.last))
    last = rows[0]["last"]
    if last >= SERIAL_MAX:
        raise Conflict("registration.series_full", "{series} 的登记编号已用完", series=series)
    moved = await (RegistrationCounter.update({RegistrationCounter.last: last + 1})
                   .where(RegistrationCounter.series == series, RegistrationCounter.last == last)
                   .returning(RegistrationCounter.last))
    if len(moved) != 1:
        raise Conflict("registration.series_moved", "登记编号序列被并发修改，请重试")
    return format_code(region, when.year, last + 1)


# ---- subjects ---------------------------------------------------------------------------------------

async def _asset(asset_id: int) -> dict:
    row = await DataAsset.select().where(DataAsset.id == asset_id).first()
    if row is None:
        raise NotFound("asset.not_found", "数据资源不存在")
    return row


async def _listing(listing_id: int) -> dict:
    row = await Listing.select().where(Listing.id == listing_id).first()
    if row is None:
        raise NotFound("listing.not_found", "上架信息不存在")
    return row


async def _subject(kind: str, subject_id: int) -> tuple[dict, dict | None]:
    """(asset, listing or None) of a subject, refusing a product that is not at the product tier."""
    if kind == SubjectKind.RESOURCE.value:
        return await _asset(subject_id), None
    if kind == SubjectKind.PRODUCT.value:
        listing = await _listing(subject_id)
        if listing["tier"] != Tier.PRODUCT.value:
            raise DomainError("registration.not_a_product", "只有数据产品层级的上架可以作为数据产品登记；原始数据和治理后数据按数据资源登记")
        return await _asset(listing["asset"]), listing
    raise DomainError("registration.kind_invalid", "登记对象只能是数据资源或数据产品")


async def _details(asset: dict, listing: dict | None) -> dict:
    """What the register says about a subject: its catalogue entry as it stands now, and its holder."""
    org = await identity.get_organization(asset["holder"])
    source = listing or asset
    out = {"title": source["title"], "summary": (source["summary"] or "")[:500],
           "category_path": source["category_path"], "grade": source["grade"],
           "update_cycle": source["update_cycle"], "sharing_type": source["sharing_type"],
           "holder_name": org["name"], "holder_credit_code": org["credit_code"], "asset_id": asset["id"]}
    if listing:
        out.update({"listing_id": listing["id"], "tier": listing["tier"], "delivery_mode": listing["delivery_mode"]})
    return out


def _subject_key(kind: str, asset: dict, listing: dict | None) -> str:
    return f"{kind}:{listing['id'] if listing else asset['id']}"


async def _show_code(reg: dict, code: str) -> None:
    """Put the code (or "" when it ended) on the subject, where listings, orders and pages read it."""
    if reg["kind"] == SubjectKind.PRODUCT.value:
        listing_ids = [reg["listing"]]
    else:
        await DataAsset.update({DataAsset.registration_code: code}).where(DataAsset.id == reg["asset"])
        rows = await Listing.select(Listing.id).where(Listing.asset == reg["asset"],
                                                      Listing.tier != Tier.PRODUCT.value)
        listing_ids = [r["id"] for r in rows]
    for listing_id in listing_ids:
        await Listing.update({Listing.registration_code: code}).where(Listing.id == listing_id)
        await _reindex(listing_id)


# ---- filing --------------------------------------------------------------------------------------

def _clean_note(note: str, *, required: bool) -> str:
    note = (note or "").strip()
    if required and len(note) < 2:
        raise DomainError("registration.note_required", "请说明登记事项（变更、更正或注销的内容和理由）")
    return note[:1000]


async def _open_filing(registration_id: int) -> dict | None:
    return await (RegistrationRecord.select(RegistrationRecord.id)
                  .where(RegistrationRecord.registration == registration_id,
                         RegistrationRecord.status.is_in([RecordStatus.APPLIED.value, RecordStatus.NOTICE.value]))
                  .first())


async def _insert_record(reg: dict, *, type_: str, details: dict, note: str, org_id: int, user_id: int | None,
                         status: str = RecordStatus.APPLIED.value, at: datetime | None = None) -> dict:
    values = dict(registration=reg["id"], type=type_, details=json.dumps(details, ensure_ascii=False), note=note,
                  applicant_org=org_id, applicant_user=user_id, status=status)
    if status == RecordStatus.EFFECTIVE.value:
        values.update(decided_at=at, effective_at=at)
    rows = await RegistrationRecord.insert(RegistrationRecord(**values)).returning(*RegistrationRecord.all_columns())
    await audit.record(action=f"registration.{type_}_filed", object_type="registration", object_id=reg["id"],
                       after={"record_id": rows[0]["id"], "type": type_, "status": status, "note": note})
    return rows[0]


async def apply(*, kind: str, subject_id: int, org_id: int, user_id: int | None, note: str = "") -> dict:
    """The holder files the initial registration of one of its resources or products."""
    asset, listing = await _subject(kind, subject_id)
    if asset["holder"] != org_id:
        raise Forbidden("registration.not_holder", "只能为本机构持有的数据资源或数据产品申请登记")
    key = _subject_key(kind, asset, listing)
    async with db.atomic():
        reg = await Registration.select().where(Registration.subject_key == key).first()
        if reg is not None and reg["status"] != RegistrationStatus.PENDING.value:
            raise Conflict("registration.exists", "该对象已登记（{number}），如需修改请申请变更、更正或注销登记",
                           number=reg["code"] or "")
        if reg is not None and await _open_filing(reg["id"]):
            raise Conflict("registration.filing_open", "该登记已有一项申请在办理中，请等待处理结果")
        details = await _details(asset, listing)
        if reg is None:
            rows = await Registration.insert(Registration(
                subject_key=key, kind=kind, asset=asset["id"], listing=listing["id"] if listing else None,
                holder=asset["holder"], title=details["title"], details=json.dumps(details, ensure_ascii=False),
            )).returning(*Registration.all_columns())
            reg = rows[0]
        record = await _insert_record(reg, type_=RecordType.INITIAL.value, details=details,
                                      note=_clean_note(note, required=False), org_id=org_id, user_id=user_id)
    return record


async def file(*, registration_id: int, type: str, org_id: int, user_id: int | None, note: str) -> dict:
    """The holder files a change (also the renewal), a correction or a cancellation of its registration."""
    if type not in (RecordType.CHANGE.value, RecordType.CORRECTION.value, RecordType.CANCEL.value):
        raise DomainError("registration.type_invalid", "登记类型只能是变更、更正或注销")
    async with db.atomic():
        reg = await _registration(registration_id)
        if reg["holder"] != org_id:
            raise Forbidden("registration.not_holder", "只能为本机构持有的数据资源或数据产品申请登记")
        allowed = {RegistrationStatus.ACTIVE.value} | (
            {RegistrationStatus.EXPIRED.value} if type in (RecordType.CHANGE.value, RecordType.CANCEL.value) else set())
        if reg["status"] not in allowed:
            raise Conflict("registration.not_active", "登记{state}，不能办理该项登记",
                           state=STATUS_NAMES.get(reg["status"], reg["status"]))
        if await _open_filing(reg["id"]):
            raise Conflict("registration.filing_open", "该登记已有一项申请在办理中，请等待处理结果")
        if type == RecordType.CANCEL.value:
            details = json.loads(reg["details"])
        else:
            asset = await _asset(reg["asset"])
            listing = await _listing(reg["listing"]) if reg["listing"] else None
            details = await _details(asset, listing)
        return await _insert_record(reg, type_=type, details=details, note=_clean_note(note, required=True),
                                    org_id=org_id, user_id=user_id)


async def _record(record_id: int) -> dict:
    row = await RegistrationRecord.select().where(RegistrationRecord.id == record_id).first()
    if row is None:
        raise NotFound("registration.record_not_found", "登记申请不存在")
    return row


async def _registration(registration_id: int) -> dict:
    row = await Registration.select().where(Registration.id == registration_id).first()
    if row is None:
        raise NotFound("registration.not_found", "登记不存在")
    return row


async def accept(*, record_id: int, note: str = "", notice_days: int | None = None) -> dict:
    """The registration body accepts a filing after its formal review: an initial or change filing goes
    to public notice, a correction or cancellation takes effect."""
    days = runtime.settings().registration_notice_days if notice_days is None else notice_days
    now = _now()
    async with db.atomic():
        record = await _record(record_id)
        if record["type"] in NOTICED and days > 0:
            row = await db.transition(RegistrationRecord, record_id, to=RecordStatus.NOTICE,
                                      action="registration.notice",
                                      extra={RegistrationRecord.notice_until: now + timedelta(days=days),
                                             RegistrationRecord.decision_note: (note or "")[:1000],
                                             RegistrationRecord.decided_at: now},
                                      audit_after={"notice_days": days})
            reg = await _registration(record["registration"])
            await notifications.notify(kind="registration.notice", organization_id=reg["holder"],
                                       subject=f"《{reg['title']}》登记申请已受理，公示 {days} 天",
                                       link=f"/registrations/{reg['id']}")
            return row
        if record["status"] != RecordStatus.APPLIED.value:
            raise Conflict("state.transition_refused", "当前状态（{current}）不能变更为（{target}）",
                           current=record["status"], target=RecordStatus.EFFECTIVE.value)
        return await _take_effect(record, now, note=note)


async def reject(*, record_id: int, reason: str) -> dict:
    """The registration body refuses a filing (before it took effect), with its reason."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise DomainError("registration.reason_required", "请填写不予登记的理由")
    async with db.atomic():
        row = await db.transition(RegistrationRecord, record_id, to=RecordStatus.REJECTED,
                                  action="registration.rejected",
                                  extra={RegistrationRecord.decision_note: reason[:1000],
                                         RegistrationRecord.decided_at: _now()},
                                  audit_after={"reason": reason[:1000]})
        reg = await _registration(row["registration"])
        await notifications.notify(kind="registration.rejected", organization_id=reg["holder"],
                                   subject=f"《{reg['title']}》登记申请未通过：{reason[:100]}",
                                   link=f"/registrations/{reg['id']}")
    return row


async def _take_effect(record: dict, now: datetime, *, note: str = "") -> dict:
    """The filing becomes what the register says; must run inside the caller's transaction."""
    reg = await _registration(record["registration"])
    extra = {RegistrationRecord.effective_at: now}
    if note:
        extra[RegistrationRecord.decision_note] = note[:1000]
    if record["decided_at"] is None:
        extra[RegistrationRecord.decided_at] = now
    details = json.loads(record["details"])
    type_ = record["type"]
    code = reg["code"]
    if type_ == RecordType.INITIAL.value:
        org = await identity.get_organization(reg["holder"])
        code = await _next_code(org["region_code"], now)
        await db.transition(Registration, reg["id"], to=RegistrationStatus.ACTIVE, action="registration.coded",
                            extra={Registration.code: code, Registration.effective_at: now,
                                   Registration.valid_until: _add_years(now, _valid_years()),
                                   Registration.details: json.dumps(details, ensure_ascii=False),
                                   Registration.title: details.get("title", reg["title"])[:200]},
                            audit_after={"code": code, "record_id": record["id"]})
        await _show_code(reg, code)
    elif type_ == RecordType.CHANGE.value:
        values = {Registration.details: json.dumps(details, ensure_ascii=False),
                  Registration.title: details.get("title", reg["title"])[:200],
                  Registration.valid_until: _add_years(now, _valid_years()), Registration.reminded_at: None}
        if reg["status"] == RegistrationStatus.EXPIRED.value:
            await db.transition(Registration, reg["id"], to=RegistrationStatus.ACTIVE, action="registration.renewed",
                                extra=values, audit_after={"record_id": record["id"]})
        else:
            await Registration.update(values).where(Registration.id == reg["id"])
            await audit.record(action="registration.changed", object_type="registration", object_id=reg["id"],
                               after={"record_id": record["id"], "valid_until": _add_years(now, _valid_years())
                                      .isoformat()})
        await _show_code(reg, code)
    elif type_ == RecordType.CORRECTION.value:
        await Registration.update({Registration.details: json.dumps(details, ensure_ascii=False),
                                   Registration.title: details.get("title", reg["title"])[:200]}).where(
            Registration.id == reg["id"])
        await audit.record(action="registration.corrected", object_type="registration", object_id=reg["id"],
                           after={"record_id": record["id"]})
    else:
        await db.transition(Registration, reg["id"], to=RegistrationStatus.CANCELLED, action="registration.cancelled",
                            extra={Registration.subject_key: None}, audit_after={"record_id": record["id"]})
        await _show_code(reg, "")
    row = await db.transition(RegistrationRecord, record["id"], to=RecordStatus.EFFECTIVE,
                              action="registration.effective", extra=extra, audit_after={"code": code or ""})
    await notifications.notify(kind="registration.effective", organization_id=reg["holder"],
                               subject=f"《{reg['title']}》{TYPE_NAMES[type_]}已生效，登记编码 {code or '—'}",
                               link=f"/registrations/{reg['id']}")
    return row


async def close_notices(*, now: datetime | None = None) -> list[int]:
    """Filings whose notice ended take effect (periodic; running it twice changes nothing)."""
    now = now or _now()
    due = await (RegistrationRecord.select(RegistrationRecord.id)
                 .where(RegistrationRecord.status == RecordStatus.NOTICE.value,
                        RegistrationRecord.notice_until <= now).order_by(RegistrationRecord.id))
    done = []
    for r in due:
        async with db.atomic():
            record = await _record(r["id"])
            if record["status"] != RecordStatus.NOTICE.value:
                continue  # another run took it
            await _take_effect(record, now)
        done.append(r["id"])
    return done


async def register_listed(*, listing_id: int, now: datetime | None = None) -> str:
    """The code of a listing that just passed review and notice: its product registration (or its asset's
    resource registration), registered now when there is none. Runs inside the caller's transaction."""
    now = now or _now()
    listing = await _listing(listing_id)
    asset = await _asset(listing["asset"])
    kind = SubjectKind.PRODUCT.value if listing["tier"] == Tier.PRODUCT.value else SubjectKind.RESOURCE.value
    key = _subject_key(kind, asset, listing if kind == SubjectKind.PRODUCT.value else None)
    reg = await Registration.select().where(Registration.subject_key == key).first()
    if reg is not None and reg["status"] == RegistrationStatus.ACTIVE.value:
        await _show_code(reg, reg["code"])
        return reg["code"]
    if reg is not None and reg["status"] == RegistrationStatus.EXPIRED.value:
        return ""  # the holder must renew it by a change filing; an expired code is not shown
    details = await _details(asset, listing if kind == SubjectKind.PRODUCT.value else None)
    if reg is None:
        rows = await Registration.insert(Registration(
            subject_key=key, kind=kind, asset=asset["id"],
            listing=listing["id"] if kind == SubjectKind.PRODUCT.value else None, holder=asset["holder"],
            title=details["title"], details=json.dumps(details, ensure_ascii=False),
        )).returning(*Registration.all_columns())
        reg = rows[0]
    open_filing = await _open_filing(reg["id"])
    if open_filing:
        record = await _record(open_filing["id"])
    else:
        record = await _insert_record(reg, type_=RecordType.INITIAL.value, details=details,
                                      note="上架审核与公示即本次登记的受理、形式审查与公示", org_id=asset["holder"],
                                      user_id=None)
    if record["status"] == RecordStatus.APPLIED.value:
        # the platform's listing review was the formal review; its notice was the public notice
        await db.transition(RegistrationRecord, record["id"], to=RecordStatus.NOTICE, action="registration.notice",
                            extra={RegistrationRecord.notice_until: now, RegistrationRecord.decided_at: now},
                            audit_after={"by": "listing_review", "listing_id": listing_id})
        record = await _record(record["id"])
    await _take_effect(record, now)
    return (await _registration(reg["id"]))["code"]


async def remind_and_expire(*, now: datetime | None = None) -> dict:
    """Remind holders whose registration ends within `registration_reminder_days` (once per validity) and
    expire those whose validity ended (periodic; running it twice sends nothing twice)."""
    now = now or _now()
    days = runtime.settings().registration_reminder_days
    reminded, expired = [], []
    due = await (Registration.select(Registration.id, Registration.holder, Registration.title, Registration.code,
                                     Registration.valid_until)
                 .where(Registration.status == RegistrationStatus.ACTIVE.value,
                        Registration.valid_until <= now + timedelta(days=days),
                        Registration.reminded_at.is_null()))
    for r in due:
        async with db.atomic():
            # compare-and-set on reminded_at: a second run (or process) finds it set and sends nothing
            if not await db.rowcount_update(Registration, {Registration.reminded_at: now},
                                            Registration.id == r["id"], Registration.reminded_at.is_null()):
                continue
            await audit.record(action="registration.renewal_reminded", object_type="registration", object_id=r["id"],
                               after={"valid_until": r["valid_until"].isoformat()})
            await notifications.notify(
                kind="registration.renewal", organization_id=r["holder"],
                subject=f"登记 {r['code']}（{r['title']}）将于 {r['valid_until']:%Y-%m-%d} 到期，请申请变更登记以续展",
                link=f"/registrations/{r['id']}")
        reminded.append(r["id"])
    lapsed = await (Registration.select(Registration.id)
                    .where(Registration.status == RegistrationStatus.ACTIVE.value, Registration.valid_until <= now))
    for r in lapsed:
        async with db.atomic():
            try:
                reg = await db.transition(Registration, r["id"], to=RegistrationStatus.EXPIRED,
                                          action="registration.expired")
            except Conflict:
                continue
            await _show_code(reg, "")
        expired.append(r["id"])
    return {"reminded": reminded, "expired": expired}


# ---- reading -------------------------------------------------------------------------------------

def _decode(row: dict) -> dict:
    return {**row, "details": json.loads(row["details"] or "{}")}


def _may_see(reg: dict, org_id: int | None, roles: frozenset[str]) -> bool:
    return bool(roles & OVERSEERS) or (org_id is not None and reg["holder"] == org_id)


async def get_registration(*, registration_id: int, org_id: int | None, roles: frozenset[str]) -> dict:
    """One registration with its filings, oldest first (its holder, admins and regulators)."""
    reg = await _registration(registration_id)
    if not _may_see(reg, org_id, roles):
        raise NotFound("registration.not_found", "登记不存在")
    records = await (RegistrationRecord.select().where(RegistrationRecord.registration == registration_id)
                     .order_by(RegistrationRecord.id))
    org = await identity.get_organization(reg["holder"])
    return {**_decode(reg), "holder_name": org["name"], "records": [_decode(r) for r in records]}


async def list_registrations(*, org_id: int | None, roles: frozenset[str], status: str | None = None,
                             limit: int = 500) -> list[dict]:
    """Registrations the caller may see, newest first: its own, or all for admins and regulators."""
    query = Registration.select(*Registration.all_columns(), Registration.holder.name.as_alias("holder_name"))
    if not roles & OVERSEERS:
        if org_id is None:
            return []
        query = query.where(Registration.holder == org_id)
    if status:
        query = query.where(Registration.status == status)
    rows = await query.order_by(Registration.id, ascending=False).limit(limit)
    return [_decode(r) for r in rows]


async def filings(*, status: str, limit: int = 500) -> list[dict]:
    """Filings in one status with their registration, oldest first (the registration body's queue, and
    the public notice list)."""
    rows = await (RegistrationRecord.select(
        *RegistrationRecord.all_columns(), RegistrationRecord.registration.code.as_alias("code"),
        RegistrationRecord.registration.kind.as_alias("kind"), RegistrationRecord.registration.title.as_alias("title"),
        RegistrationRecord.registration.holder.name.as_alias("holder_name"))
        .where(RegistrationRecord.status == status).order_by(RegistrationRecord.id).limit(limit))
    return [_decode(r) for r in rows]


async def public_notices() -> list[dict]:
    """Filings in public notice: what anyone may read and object to."""
    return await filings(status=RecordStatus.NOTICE.value)


async def subjects_of(*, org_id: int) -> dict:
    """The holder's assets and product listings, for its application form."""
    assets = await (DataAsset.select(DataAsset.id, DataAsset.title, DataAsset.registration_code)
                    .where(DataAsset.holder == org_id).order_by(DataAsset.id, ascending=False).limit(500))
    products = await (Listing.select(Listing.id, Listing.title, Listing.registration_code)
                      .where(Listing.holder == org_id, Listing.tier == Tier.PRODUCT.value)
                      .order_by(Listing.id, ascending=False).limit(500))
    return {"resources": assets, "products": products}


async def by_code(code: str) -> dict:
    """The public facts of a code: what it registers, whose, and whether it is valid."""
    code = (code or "").strip().upper()
    if not CODE_RE.match(code):
        raise DomainError("registration.code_invalid", "登记编码格式应为 SJDJ-地区代码-年份-序号，例如 SJDJ-330100-2026-000001")
    reg = await Registration.select().where(Registration.code == code).first()
    if reg is None:
        raise NotFound("registration.code_unknown", "未找到该登记编码")
    org = await identity.get_organization(reg["holder"])
    return {"code": reg["code"], "kind": reg["kind"], "title": reg["title"], "holder_name": org["name"],
            "status": reg["status"], "effective_at": reg["effective_at"], "valid_until": reg["valid_until"]}
