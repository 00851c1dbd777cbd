"""Agreements through their life: drafted with a PDF, signed by both into the audit chain, active,
suspended and resumed with events for the packages above, amended as new versions, expired."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from agreement_factories import HEALTH, TRANSPORT, active, catalogued_asset, draft, parties, sign_both
from market import documents
from market.errors import DomainError
from market.tables import AuditEvent, OutboxMessage
from operators import service
from operators.tables import AgreementStatus, AuthorizationAgreement

AGENCY = frozenset({"agency"})


async def test_draft_sign_activate_and_the_scope_reaches_assets_through_categories(job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    bus = await catalogued_asset(p["operator"], job_runtime, category=TRANSPORT + " > 公交站点", title="公交站点")
    row = await draft(p, scope={"asset_ids": [bus["id"]], "categories": ["A0101"]})
    assert row["status"] == "draft" and row["version"] == 1 and row["number"].startswith("SQ-")
    assert row["scope"]["categories"] == ["医疗卫生 > 诊疗服务"]

    # nobody signs before the PDF exists
    with pytest.raises(DomainError) as exc:
        await service.sign(agreement_id=row["id"], org_id=p["agency"]["org"]["id"], roles=AGENCY, user_id=1)
    assert exc.value.code == "agreement.not_ready"

    row = await sign_both(p, row["id"], job_runtime)
    assert row["status"] == "active" and row["activated_at"] is not None
    doc = await documents.get_document(row["document"])
    sigs = await documents.signatures(doc["id"])
    assert {s["party_role"] for s in sigs} == {"agency", "operator"} and {s["sha256"] for s in sigs} == {doc["sha256"]}
    signed = await AuditEvent.select(AuditEvent.after).where(AuditEvent.action == "document.signed")
    assert len(signed) == 2 and all(doc["sha256"] in e["after"] for e in signed)

    got = await service.get_agreement(agreement_id=row["id"], org_id=p["operator"]["org"]["id"],
                                      roles=frozenset({"operator"}))
    assert got["asset_ids"] == sorted([clinic["id"], bus["id"]])
    text = documents.render_html(doc["template"], __import__("json").loads(doc["context"]))
    assert "门诊人次" in text and "公交站点" in text and "非独家授权" in text


async def test_a_stranger_cannot_read_or_sign(job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    row = await draft(p)
    await job_runtime.drain(timeout=120)
    for roles in ({"agency"}, {"operator"}, {"holder"}):
        with pytest.raises(DomainError) as exc:
            await service.get_agreement(agreement_id=row["id"], org_id=p["holder"]["org"]["id"],
                                        roles=frozenset(roles))
        assert exc.value.code == "agreement.not_found"
    # the operator's user without the operator role cannot sign for it
    with pytest.raises(DomainError) as exc:
        await service.sign(agreement_id=row["id"], org_id=p["operator"]["org"]["id"], roles=frozenset({"holder"}),
                           user_id=p["operator"]["id"])
    assert exc.value.code == "agreement.not_party"
    assert await documents.signatures(row["document"]) == []


async def test_a_future_term_waits_signed_until_due(job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    later = date.today() + timedelta(days=10)
    row = await active(p, job_runtime, starts_on=later.isoformat(), ends_on=(later + timedelta(days=30)).isoformat())
    assert row["status"] == "signed"
    assert await service.activate_due() == 0
    await AuthorizationAgreement.update({AuthorizationAgreement.starts_on: date.today()}).where(
        AuthorizationAgreement.id == row["id"])  # time passes
    assert await service.activate_due() == 1
    assert (await service.effective(row["id"]))["status"] == "active"


async def test_suspend_and_resume_are_audited_and_published_as_events(job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    row = await active(p, job_runtime)
    agency_org = p["agency"]["org"]["id"]
    with pytest.raises(DomainError) as exc:
        await service.suspend(agreement_id=row["id"], org_id=agency_org, roles=AGENCY, reason=" ")
    assert exc.value.code == "agreement.reason_required"
    with pytest.raises(DomainError) as exc:  # the operator may not suspend its own mandate away
        await service.suspend(agreement_id=row["id"], org_id=p["operator"]["org"]["id"],
                              roles=frozenset({"operator"}), reason="x")
    assert exc.value.code == "agreement.not_agency"

    row = await service.suspend(agreement_id=row["id"], org_id=agency_org, roles=AGENCY, reason="安全检查发现问题")
    assert row["status"] == "suspended" and row["status_reason"] == "安全检查发现问题"
    row = await service.resume(agreement_id=row["id"], org_id=0, roles=frozenset({"admin"}), reason="整改完成")
    assert row["status"] == "active"
    actions = [e["action"] for e in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)]
    assert "agreement.suspended" in actions and "agreement.resumed" in actions
    sent = [m["actor_name"] for m in await OutboxMessage.select(OutboxMessage.actor_name)]
    assert "agreement.suspended" in sent and "agreement.resumed" in sent


async def test_events_reach_the_handlers_of_packages_above(job_runtime):
    from operators import events

    seen = []

    async def handler(**payload):
        seen.append(payload)

    events.subscribe(events.SUSPENDED, handler)
    try:
        p = await parties()
        await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
        row = await active(p, job_runtime)
        await service.suspend(agreement_id=row["id"], org_id=p["agency"]["org"]["id"], roles=AGENCY, reason="检查")
        await job_runtime.drain(timeout=60)
    finally:
        events._handlers[events.SUSPENDED].remove(handler)
    assert seen == [{"agreement_id": row["id"], "number": row["number"], "operator_org_id": p["operator"]["org"]["id"],
                     "reason": "检查"}]


async def test_an_amendment_is_a_new_version_and_supersedes_the_old_one_unedited(job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    v1 = await active(p, job_runtime)
    before = await AuthorizationAgreement.select().where(AuthorizationAgreement.id == v1["id"]).first()
    agency_org = p["agency"]["org"]["id"]
    with pytest.raises(DomainError) as exc:
        await service.amend(agreement_id=v1["id"], agency_org_id=agency_org, user_id=p["agency"]["id"],
                            changes={"max_revenue_fen": 20_000_000}, note="")
    assert exc.value.code == "agreement.note_required"
    v2 = await service.amend(agreement_id=v1["id"], agency_org_id=agency_org, user_id=p["agency"]["id"],
                             changes={"max_revenue_fen": 20_000_000}, note="提高最高准许收入")
    assert (v2["number"], v2["version"], v2["status"], v2["previous"]) == (v1["number"], 2, "draft", v1["id"])
    assert v2["document"] != v1["document"] and v2["items"] == v1["items"]
    with pytest.raises(DomainError) as exc:  # one pending amendment at a time
        await service.amend(agreement_id=v1["id"], agency_org_id=agency_org, user_id=p["agency"]["id"],
                            changes={}, note="再改")
    assert exc.value.code == "agreement.amendment_pending"
    # until both sign, version 1 binds
    assert (await service.effective(v2["id"]))["id"] == v1["id"]
    v2 = await sign_both(p, v2["id"], job_runtime)
    assert v2["status"] == "active"
    old = await AuthorizationAgreement.select().where(AuthorizationAgreement.id == v1["id"]).first()
    assert old["status"] == "superseded"
    assert {k: old[k] for k in old if k not in ("status", "ended_at")} == {
        k: before[k] for k in before if k not in ("status", "ended_at")}
    assert (await service.effective(v1["id"]))["id"] == v2["id"]
    listed = await service.get_agreement(agreement_id=v2["id"], org_id=agency_org, roles=AGENCY)
    assert [(v["version"], v["status"]) for v in listed["versions"]] == [(1, "superseded"), (2, "active")]


async def test_expired_agreements_are_ended_and_published(job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    row = await active(p, job_runtime)
    await AuthorizationAgreement.update({AuthorizationAgreement.ends_on: date.today() - timedelta(days=1)}).where(
        AuthorizationAgreement.id == row["id"])
    assert await service.expire_due() == 1
    assert (await service.effective(row["id"]))["status"] == AgreementStatus.EXPIRED.value
    assert await OutboxMessage.count().where(OutboxMessage.actor_name == "agreement.ended") == 1
