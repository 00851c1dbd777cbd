"""Authorization agreements (授权运营协议): draft, sign, activate, suspend, resume, end, amend, read.

Each version is a row with its own PDF (a market Document rendered from
templates/pdf/authorization_agreement/v<N>.html) and its own two signatures, recorded in the audit
chain over the PDF's sha256 exactly as purchase contracts are. An amendment is the next version under
the same number; the version it amends stays as signed and is superseded when the amendment takes
effect. "The agreement" of a number is its effective version: the newest one that was ever signed.

Suspending, resuming and ending are published as outbox events (operators.events) so packages above
(contracts, billing) react without operators importing them.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

from market import audit, db, documents, identity, notifications, runtime
from market.errors import Conflict, DomainError, Forbidden, NotFound
from market.i18n import N_
from market.tables import DocumentKind, DocumentStatus, Membership, Role, Verification
from listings import service as listings_service
from operators import _scope, _terms, events
from operators.tables import AgreementStatus, AuthorizationAgreement

KIND = DocumentKind.AUTHORIZATION_AGREEMENT.value
PARTIES = ("agency", "operator")
OVERSEERS = frozenset({Role.ADMIN.value, Role.REGULATOR.value})
# versions that bind (or will bind) the parties: they count for exclusivity and for "the agreement"
LIVE = (AgreementStatus.DRAFT.value, AgreementStatus.SIGNED.value, AgreementStatus.ACTIVE.value,
        AgreementStatus.SUSPENDED.value)
EVER_SIGNED = (AgreementStatus.SIGNED.value, AgreementStatus.ACTIVE.value, AgreementStatus.SUSPENDED.value,
               AgreementStatus.SUPERSEDED.value, AgreementStatus.EXPIRED.value, AgreementStatus.TERMINATED.value)
JSON_FIELDS = ("modes", "scope", "purposes", "scenarios", "product_types", "preapproved_product_types", "tiers", "items", "terms")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def today() -> date:
    return _now().date()


def _not_found() -> NotFound:
    return NotFound("agreement.not_found", N_("授权运营协议不存在"))


def _decode(row: dict) -> dict:
    out = dict(row)
    for f in JSON_FIELDS:
        if f in out and isinstance(out[f], str):
            out[f] = json.loads(out[f] or ("{}" if f in ("scope", "terms") else "[]"))
    return out


async def _row(agreement_id: int) -> dict:
    row = await AuthorizationAgreement.select().where(AuthorizationAgreement.id == agreement_id).first()
    if row is None:
        raise _not_found()
    return _decode(row)


async def _versions(number: str) -> list[dict]:
    rows = await (AuthorizationAgreement.select().where(AuthorizationAgreement.number == number)
                  .order_by(AuthorizationAgreement.version))
    return [_decode(r) for r in rows]


async def effective(agreement_id: int) -> dict:
    """The version in force for the agreement that `agreement_id` (any of its versions) belongs to: the
    newest version ever signed, or the given draft when none was."""
    row = await _row(agreement_id)
    signed = [v for v in await _versions(row["number"]) if v["status"] in EVER_SIGNED]
    return signed[-1] if signed else row


# ---- drafting ---------------------------------------------------------------------------------


async def _operator_org(org_id: int) -> dict:
    org = await identity.get_organization(org_id)
    if org["verification"] != Verification.VERIFIED.value:
        raise DomainError("agreement.operator_unverified", "运营机构尚未通过平台核验：{name}", name=org["name"])
    if not await Membership.exists().where((Membership.organization == org_id)
                                           & (Membership.role == Role.OPERATOR.value)):
        raise DomainError("agreement.not_an_operator", "该机构没有运营机构角色的用户，不能作为运营机构：{name}",
                          name=org["name"])
    return org


async def _check_exclusive(*, scope: dict, assets: set[int], exclusive: bool, starts_on: date, ends_on: date,
                           number: str | None) -> None:
    """Refuse when this scope overlaps another live agreement's over the same time and either is exclusive."""
    others = await (AuthorizationAgreement.select(
        AuthorizationAgreement.id, AuthorizationAgreement.number, AuthorizationAgreement.scope,
        AuthorizationAgreement.exclusive, AuthorizationAgreement.starts_on, AuthorizationAgreement.ends_on)
        .where(AuthorizationAgreement.status.is_in(list(LIVE))))
    for other in others:
        if number and other["number"] == number:
            continue  # an amendment replaces its own agreement
        if not (exclusive or other["exclusive"]):
            continue
        if other["ends_on"] < starts_on or ends_on < other["starts_on"]:
            continue
        other_scope = json.loads(other["scope"])
        shared = assets & await _scope.resolve(other_scope)
        if shared or _scope.categories_overlap(scope["categories"], other_scope.get("categories") or []):
            raise Conflict("agreement.exclusive_overlap",
                           "授权范围与协议 {number} 重叠，且其中一份为独家授权，不能同时生效",
                           number=other["number"] or str(other["id"]))


async def _draft(*, agency_org_id: int, operator_org_id: int, user_id: int, data: dict, number: str | None = None,
                 version: int = 1, previous: dict | None = None, note: str = "") -> dict:
    settings = runtime.settings()
    terms = _terms.normalise(data, max_term_years=settings.authorization_max_term_years)
    scope = await _scope.normalise(data.get("scope") or {})
    if operator_org_id == agency_org_id:
        raise DomainError("agreement.same_party", "实施机构不能授权给自身")
    agency = await identity.get_organization(agency_org_id)
    operator = await _operator_org(operator_org_id)
    assets = await _scope.resolve(scope)
    await _scope.require_consent(assets)
    versions = documents.template_versions(KIND)
    if not versions:
        raise DomainError("document.no_template", "文件模板不存在：{kind} 第 {version} 版", kind=KIND, version=1)
    template_version = versions[-1]
    summaries = await listings_service.asset_summaries(sorted(assets))
    async with db.atomic():
        await _check_exclusive(scope=scope, assets=assets, exclusive=terms["exclusive"],
                               starts_on=terms["starts_on"], ends_on=terms["ends_on"], number=number)
        rows = await AuthorizationAgreement.insert(AuthorizationAgreement(
            number=number or "", version=version, previous=previous["id"] if previous else None,
            agency_org=agency_org_id, operator_org=operator_org_id, created_by=user_id,
            modes=json.dumps(terms["modes"]), scope=json.dumps(scope, ensure_ascii=False),
            purposes=json.dumps(terms["purposes"]), scenarios=json.dumps(terms["scenarios"], ensure_ascii=False),
            product_types=json.dumps(terms["product_types"]), tiers=json.dumps(terms["tiers"]),
            preapproved_product_types=json.dumps(terms["preapproved_product_types"]),
            items=json.dumps(terms["items"], ensure_ascii=False), max_revenue_fen=terms["max_revenue_fen"],
            exclusive=terms["exclusive"], security_duties=terms["security_duties"], exit_terms=terms["exit_terms"],
            note=note, starts_on=terms["starts_on"], ends_on=terms["ends_on"], template_version=template_version,
        )).returning(AuthorizationAgreement.id)
        agreement_id = rows[0]["id"]
        # the id of version 1 makes the number unique without a counter to race on
        number = number or f"SQ-{today().year}-{agreement_id:06d}"
        context = _terms.document_context(
            number=number, version=version, issued_on=today(), agency=agency, operator=operator, terms=terms,
            scope=scope, assets=[summaries[i] for i in sorted(summaries)],
            previous_number=f"{number} 第 {previous['version']} 版" if previous else "", note=note)
        doc = await documents.create_document(
            kind=KIND, context=context, subject_type="authorization_agreement", subject_id=agreement_id,
            title=f"公共数据授权运营协议 {number}" + (f" 第 {version} 版" if version > 1 else ""),
            template_version=template_version,
            parties=[{"role": "agency", "org_id": agency_org_id, "name": agency["name"],
                      "credit_code": agency["credit_code"]},
                     {"role": "operator", "org_id": operator_org_id, "name": operator["name"],
                      "credit_code": operator["credit_code"]}])
        await AuthorizationAgreement.update({
            AuthorizationAgreement.number: number,
            AuthorizationAgreement.version_key: f"{number}/v{version}",
            AuthorizationAgreement.terms: json.dumps(context, ensure_ascii=False, sort_keys=True),
            AuthorizationAgreement.document: doc["id"],
        }).where(AuthorizationAgreement.id == agreement_id)
        await audit.record(
            action="agreement.amendment_drafted" if previous else "agreement.drafted",
            object_type="authorization_agreement", object_id=agreement_id,
            after={"number": number, "version": version, "previous": previous["id"] if previous else None,
                   "agency": agency_org_id, "operator": operator_org_id, "document": doc["id"],
                   "scope": scope, "exclusive": terms["exclusive"], "starts_on": terms["starts_on"].isoformat(),
                   "ends_on": terms["ends_on"].isoformat(), "max_revenue_fen": terms["max_revenue_fen"],
                   "items": terms["items"], "purposes": terms["purposes"], "modes": terms["modes"]})
        await notifications.notify(kind="agreement.to_sign", organization_id=operator_org_id,
                                   subject=f"授权运营协议 {number} 第 {version} 版待签署",
                                   link=f"/agreements/{agreement_id}")
    return await _row(agreement_id)


async def create_agreement(*, agency_org_id: int, user_id: int, operator_org_id: int, data: dict) -> dict:
    """An agency drafts an agreement with an operator; its PDF is rendered by a job, then both sign."""
    return await _draft(agency_org_id=agency_org_id, operator_org_id=operator_org_id, user_id=user_id, data=data)


AMENDABLE = ("modes", "scope", "purposes", "scenarios", "product_types", "preapproved_product_types", "tiers", "starts_on", "ends_on",
             "exclusive", "items", "max_revenue_fen", "security_duties", "exit_terms")


async def amend(*, agreement_id: int, agency_org_id: int, user_id: int, changes: dict, note: str) -> dict:
    """Draft the next version of an agreement in force: the given terms replace the current ones, the
    rest is carried over. The current version binds until the amendment is signed by both."""
    note = (note or "").strip()
    if not note:
        raise DomainError("agreement.note_required", "请说明本次变更的内容和理由")
    current = await effective(agreement_id)
    if current["agency_org"] != agency_org_id:
        raise _not_found() if current["operator_org"] != agency_org_id else Forbidden(
            "agreement.not_agency", N_("只有授权的实施机构可以变更协议"))
    if current["status"] not in (AgreementStatus.ACTIVE.value, AgreementStatus.SIGNED.value):
        raise Conflict("agreement.not_amendable", "协议当前状态（{status}）不能变更；已暂停的协议须先恢复",
                       status=current["status"])
    versions = await _versions(current["number"])
    if any(v["status"] == AgreementStatus.DRAFT.value for v in versions):
        raise Conflict("agreement.amendment_pending", "该协议已有一份待签署的变更，请先签署或撤回")
    data = {k: current[k] for k in AMENDABLE}
    data.update({k: v for k, v in changes.items() if k in AMENDABLE and v is not None})
    return await _draft(agency_org_id=agency_org_id, operator_org_id=current["operator_org"], user_id=user_id,
                        data=data, number=current["number"], version=versions[-1]["version"] + 1,
                        previous=current, note=note[:2000])


# ---- signing and taking effect ---------------------------------------------------------------


async def _touch(agreement_id: int) -> None:
    changed = await db.rowcount_update(AuthorizationAgreement, {AuthorizationAgreement.updated_at: _now()},
                                       AuthorizationAgreement.id == agreement_id)
    if not changed:
        raise _not_found()


async def _take_effect(row: dict) -> dict:
    """A version signed by both (or due) becomes active; the version it amends is superseded."""
    previous = None
    if row["previous"]:
        previous = await _row(row["previous"])
        if previous["status"] == AgreementStatus.SUSPENDED.value:
            # an amendment must not lift a suspension by the back door: it waits for the resumption
            return row
        if previous["status"] in (AgreementStatus.ACTIVE.value, AgreementStatus.SIGNED.value):
            await db.transition(AuthorizationAgreement, previous["id"], to=AgreementStatus.SUPERSEDED,
                                action="agreement.superseded", extra={AuthorizationAgreement.ended_at: _now()},
                                audit_after={"by": row["id"], "version": row["version"]})
    await db.transition(AuthorizationAgreement, row["id"], to=AgreementStatus.ACTIVE, action="agreement.activated",
                        extra={AuthorizationAgreement.activated_at: _now()},
                        audit_after={"number": row["number"], "version": row["version"]})
    return await _row(row["id"])


async def sign(*, agreement_id: int, org_id: int, roles: frozenset[str], user_id: int | None, ip: str = "",
               expected_sha256: str | None = None) -> dict:
    """The agency or the operator signs a draft's issued PDF; the second signature completes it, and it
    takes effect at once if its term has begun (else when due)."""
    async with db.atomic():
        await _touch(agreement_id)
        row = await _row(agreement_id)
        if org_id not in (row["agency_org"], row["operator_org"]):
            raise _not_found()
        sides = [p for p, role in (("agency", Role.AGENCY.value), ("operator", Role.OPERATOR.value))
                 if row[f"{p}_org"] == org_id and role in roles]
        if not sides:
            raise Forbidden("agreement.not_party", N_("您的机构不是本协议的该签署方"))
        if row["status"] != AgreementStatus.DRAFT.value:
            raise Conflict("agreement.not_draft", "协议当前状态（{status}）不能签署", status=row["status"])
        doc = await documents.get_document(row["document"])
        if doc["status"] != DocumentStatus.RENDERED.value:
            raise Conflict("agreement.not_ready", N_("协议文本正在生成，生成后才能签署，请稍后再试"))
        signature = await documents.sign(document_id=row["document"], party_role=sides[0], org_id=org_id,
                                         user_id=user_id, ip=ip, method="in_app", expected_sha256=expected_sha256)
        signed = {s["party_role"] for s in await documents.signatures(row["document"])}
        if not signed.issuperset(PARTIES):
            return await _row(agreement_id)
        # both signed: what was true at drafting must still hold when it binds
        await _check_exclusive(scope=row["scope"], assets=await _scope.resolve(row["scope"]),
                               exclusive=row["exclusive"], starts_on=row["starts_on"], ends_on=row["ends_on"],
                               number=row["number"])
        if row["previous"]:
            previous = await _row(row["previous"])
            if previous["status"] not in (AgreementStatus.ACTIVE.value, AgreementStatus.SIGNED.value):
                raise Conflict("agreement.previous_not_in_force", "被变更的协议版本当前状态（{status}）不能再变更",
                               status=previous["status"])
        await db.transition(AuthorizationAgreement, agreement_id, to=AgreementStatus.SIGNED, action="agreement.signed",
                            extra={AuthorizationAgreement.signed_at: _now()},
                            audit_after={"sha256": signature["sha256"], "number": row["number"],
                                         "version": row["version"]})
        row = await _row(agreement_id)
        if row["starts_on"] <= today():
            row = await _take_effect(row)
        return row


async def activate_due() -> int:
    """Signed versions whose term has begun take effect (periodic)."""
    due = await (AuthorizationAgreement.select(AuthorizationAgreement.id)
                 .where(AuthorizationAgreement.status == AgreementStatus.SIGNED.value,
                        AuthorizationAgreement.starts_on <= today()))
    done = 0
    for r in due:
        try:
            async with db.atomic():
                row = await _row(r["id"])
                if row["status"] == AgreementStatus.SIGNED.value and row["ends_on"] >= today():
                    done += (await _take_effect(row))["status"] == AgreementStatus.ACTIVE.value
        except Conflict:
            continue  # another process moved it meanwhile
    return done


async def expire_due() -> int:
    """Versions whose term is over expire (periodic); packages above are told."""
    due = await (AuthorizationAgreement.select(AuthorizationAgreement.id)
                 .where(AuthorizationAgreement.status.is_in([AgreementStatus.SIGNED.value, AgreementStatus.ACTIVE.value,
                                                             AgreementStatus.SUSPENDED.value]),
                        AuthorizationAgreement.ends_on < today()))
    done = 0
    for r in due:
        try:
            async with db.atomic():
                row = await db.transition(AuthorizationAgreement, r["id"], to=AgreementStatus.EXPIRED,
                                          action="agreement.expired", extra={AuthorizationAgreement.ended_at: _now()})
                await events.publish(events.ENDED, agreement_id=r["id"], number=row["number"],
                                     operator_org_id=row["operator_org"], reason="expired")
            done += 1
        except Conflict:
            continue
    return done


# ---- suspending, resuming, ending --------------------------------------------------------------


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("agreement.reason_required", "请填写原因")
    return reason[:2000]


async def _governed(agreement_id: int, org_id: int, roles: frozenset[str]) -> dict:
    """The effective version, if the caller is its agency or a platform admin."""
    row = await effective(agreement_id)
    if Role.ADMIN.value in roles:
        return row
    if Role.AGENCY.value in roles and row["agency_org"] == org_id:
        return row
    if org_id in (row["agency_org"], row["operator_org"]) or roles & OVERSEERS:
        raise Forbidden("agreement.not_agency", N_("只有授权的实施机构或平台管理员可以执行此操作"))
    raise _not_found()


async def suspend(*, agreement_id: int, org_id: int, roles: frozenset[str], reason: str) -> dict:
    """Freeze an agreement in force, with a reason; packages above are told (agreement.suspended)."""
    reason = _reason(reason)
    row = await _governed(agreement_id, org_id, roles)
    async with db.atomic():
        await db.transition(AuthorizationAgreement, row["id"], to=AgreementStatus.SUSPENDED,
                            action="agreement.suspended", extra={AuthorizationAgreement.status_reason: reason},
                            audit_after={"reason": reason, "number": row["number"]})
        await events.publish(events.SUSPENDED, agreement_id=row["id"], number=row["number"],
                             operator_org_id=row["operator_org"], reason=reason)
        await notifications.notify(kind="agreement.suspended", organization_id=row["operator_org"],
                                   subject=f"授权运营协议 {row['number']} 已暂停", body=reason,
                                   link=f"/agreements/{row['id']}")
    return await _row(row["id"])


async def resume(*, agreement_id: int, org_id: int, roles: frozenset[str], reason: str) -> dict:
    """Lift a suspension, with a reason; packages above are told (agreement.resumed)."""
    reason = _reason(reason)
    row = await _governed(agreement_id, org_id, roles)
    if row["status"] == AgreementStatus.SUSPENDED.value and row["ends_on"] < today():
        raise Conflict("agreement.expired", "协议已于 {ends_on} 到期，不能恢复", ends_on=row["ends_on"].isoformat())
    async with db.atomic():
        await db.transition(AuthorizationAgreement, row["id"], to=AgreementStatus.ACTIVE, action="agreement.resumed",
                            extra={AuthorizationAgreement.status_reason: ""},
                            audit_after={"reason": reason, "number": row["number"]})
        await events.publish(events.RESUMED, agreement_id=row["id"], number=row["number"],
                             operator_org_id=row["operator_org"], reason=reason)
        await notifications.notify(kind="agreement.resumed", organization_id=row["operator_org"],
                                   subject=f"授权运营协议 {row['number']} 已恢复", body=reason,
                                   link=f"/agreements/{row['id']}")
    return await _row(row["id"])


async def terminate(*, agreement_id: int, org_id: int, roles: frozenset[str], reason: str) -> dict:
    """End an agreement early, with a reason (exit terms apply); packages above are told (agreement.ended)."""
    reason = _reason(reason)
    row = await _governed(agreement_id, org_id, roles)
    async with db.atomic():
        await db.transition(AuthorizationAgreement, row["id"], to=AgreementStatus.TERMINATED,
                            action="agreement.terminated",
                            extra={AuthorizationAgreement.status_reason: reason, AuthorizationAgreement.ended_at: _now()},
                            audit_after={"reason": reason, "number": row["number"]})
        await events.publish(events.ENDED, agreement_id=row["id"], number=row["number"],
                             operator_org_id=row["operator_org"], reason=reason)
    return await _row(row["id"])


async def withdraw(*, agreement_id: int, org_id: int, roles: frozenset[str], reason: str) -> dict:
    """Abandon a draft (or a draft amendment) before both parties signed it."""
    reason = _reason(reason)
    row = await _row(agreement_id)
    if not (Role.ADMIN.value in roles or (Role.AGENCY.value in roles and row["agency_org"] == org_id)):
        if org_id in (row["agency_org"], row["operator_org"]) or roles & OVERSEERS:
            raise Forbidden("agreement.not_agency", N_("只有授权的实施机构或平台管理员可以执行此操作"))
        raise _not_found()
    return _decode(await db.transition(AuthorizationAgreement, agreement_id, to=AgreementStatus.WITHDRAWN,
                                       action="agreement.withdrawn",
                                       extra={AuthorizationAgreement.status_reason: reason},
                                       audit_after={"reason": reason}))


# ---- reading ---------------------------------------------------------------------------------


def _may_see(row: dict, org_id: int | None, roles: frozenset[str]) -> bool:
    return bool(roles & OVERSEERS) or (org_id is not None and org_id in (row["agency_org"], row["operator_org"]))


async def get_agreement(*, agreement_id: int, org_id: int | None, roles: frozenset[str]) -> dict:
    """One version with its resolved scope, PDF, signatures and the other versions of its number."""
    row = await _row(agreement_id)
    if not _may_see(row, org_id, roles):
        raise _not_found()
    asset_ids = sorted(await _scope.resolve(row["scope"]))
    doc = await documents.get_document(row["document"]) if row["document"] else None
    versions = await _versions(row["number"])
    orgs = {o["id"]: o for o in [await identity.get_organization(row["agency_org"]),
                                 await identity.get_organization(row["operator_org"])]}
    return {**row, "asset_ids": asset_ids, "assets": await listings_service.asset_summaries(asset_ids),
            "document_row": doc, "signatures": await documents.signatures(doc["id"]) if doc else [],
            "versions": [{k: v[k] for k in ("id", "version", "status", "created_at", "signed_at", "note")}
                         for v in versions],
            "agency_name": orgs[row["agency_org"]]["name"], "operator_name": orgs[row["operator_org"]]["name"]}


async def list_agreements(*, org_id: int | None, roles: frozenset[str], status: str | None = None) -> list[dict]:
    """The versions the caller may see, newest first: its agency's, its operator's, or all for overseers."""
    query = AuthorizationAgreement.select(
        *AuthorizationAgreement.all_columns(),
        AuthorizationAgreement.agency_org.name.as_alias("agency_name"),
        AuthorizationAgreement.operator_org.name.as_alias("operator_name"))
    if not roles & OVERSEERS:
        if org_id is None:
            return []
        query = query.where((AuthorizationAgreement.agency_org == org_id)
                            | (AuthorizationAgreement.operator_org == org_id))
    if status:
        query = query.where(AuthorizationAgreement.status == status)
    rows = await query.order_by(AuthorizationAgreement.id, ascending=False)
    out = []
    for r in rows:
        r = _decode(r)
        r["asset_ids"] = sorted(await _scope.resolve(r["scope"]))
        out.append(r)
    return out


async def agreement_pdf(*, agreement_id: int, org_id: int | None, roles: frozenset[str]) -> tuple[str, bytes]:
    """(file name, the exact PDF bytes issued) for a party or an overseer."""
    row = await _row(agreement_id)
    if not _may_see(row, org_id, roles):
        raise _not_found()
    data = await documents.pdf_bytes(row["document"])
    return f"授权运营协议-{row['number']}-v{row['version']}.pdf", data


async def operator_choices() -> list[dict]:
    """Verified organizations with an operator, for the agency's form."""
    rows = await (Membership.select(Membership.organization, Membership.organization.name.as_alias("name"),
                                    Membership.organization.verification.as_alias("verification"))
                  .where(Membership.role == Role.OPERATOR.value))
    seen = {r["organization"]: r["name"] for r in rows if r["verification"] == Verification.VERIFIED.value}
    return [{"id": k, "name": v} for k, v in sorted(seen.items(), key=lambda kv: kv[1])]
