"""The rules an agreement must meet to be drafted: exclusivity over overlapping scopes, the maximum
term, a verified operator, a scope that exists, and the consent of departments whose shared data
would enter it. Each refusal says why and leaves nothing behind."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from agreement_factories import HEALTH, active, catalogued_asset, draft, parties
from factories import make_org, make_user
from market import runtime
from market.errors import DomainError
from market.tables import Document
from operators import _terms, service
from operators.tables import AuthorizationAgreement, SharedSource


async def _refused(code: str, coro) -> DomainError:
    agreements, docs = await AuthorizationAgreement.count(), await Document.count()
    with pytest.raises(DomainError) as exc:
        await coro
    assert exc.value.code == code, exc.value
    assert (await AuthorizationAgreement.count(), await Document.count()) == (agreements, docs)
    return exc.value


async def test_exclusive_agreements_refuse_overlapping_scopes_while_the_other_binds(job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    first = await active(p, job_runtime, exclusive=True)
    rival = await make_user(["operator"])
    other = {**p, "operator": rival}
    # over the same category, by asset id, or by a category containing it: refused, exclusive or not
    for scope in ({"asset_ids": [], "categories": [HEALTH]}, {"asset_ids": [clinic["id"]], "categories": []},
                  {"asset_ids": [], "categories": ["医疗卫生"]}):
        for exclusive in (True, False):
            err = await _refused("agreement.exclusive_overlap", draft(other, scope=scope, exclusive=exclusive))
            assert first["number"] in err.params["number"]
    # a disjoint scope, or a term after the exclusive one ends, is fine
    await draft(other, scope={"asset_ids": [], "categories": ["交通运输"]}, exclusive=True)
    after = first["ends_on"] + timedelta(days=1)
    await draft(other, starts_on=after.isoformat(), ends_on=(after + timedelta(days=30)).isoformat())
    # once the exclusive one is terminated, the scope is free again
    await service.terminate(agreement_id=first["id"], org_id=p["agency"]["org"]["id"], roles=frozenset({"agency"}),
                            reason="提前终止")
    await draft(other, exclusive=True, ends_on=(date.today() + timedelta(days=20)).isoformat())


async def test_two_non_exclusive_agreements_may_share_a_scope(job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    await active(p, job_runtime)
    await draft({**p, "operator": await make_user(["operator"])})
    assert await AuthorizationAgreement.count() == 2


async def test_the_term_is_refused_beyond_the_configured_maximum(job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    start = date(2027, 1, 1)
    err = await _refused("agreement.term_too_long", draft(p, starts_on="2027-01-01", ends_on="2032-01-02"))
    assert err.params["years"] == 5
    await draft(p, starts_on=start.isoformat(), ends_on="2032-01-01")  # exactly five years
    saved = runtime.settings()
    runtime.configure(replace(saved, authorization_max_term_years=2))
    try:
        await _refused("agreement.term_too_long", draft(p, starts_on="2027-01-01", ends_on="2029-01-02"))
    finally:
        runtime.configure(saved)
    await _refused("agreement.term_invalid", draft(p, starts_on="2027-01-01", ends_on="2027-01-01"))


@given(start=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       years=st.integers(min_value=1, max_value=8), extra=st.integers(min_value=-400, max_value=400))
@hsettings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_any_term_within_the_maximum_passes_and_any_beyond_it_is_refused(start, years, extra):
    end = _terms.add_years(start, years) + timedelta(days=extra)
    data = {"modes": ["whole"], "purposes": ["industry"], "items": [{"name": "x", "cap_fen": 1}],
            "max_revenue_fen": 1, "starts_on": start.isoformat(), "ends_on": end.isoformat()}
    if end <= start:
        expected = "agreement.term_invalid"
    elif extra > 0:
        expected = "agreement.term_too_long"
    else:
        expected = None
    try:
        _terms.normalise(data, max_term_years=years)
        assert expected is None
    except DomainError as exc:
        assert exc.code == expected


async def test_the_operator_must_be_a_verified_organization_with_an_operator(job_runtime):
    p = await parties()
    await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    pending = await make_user(["operator"], org=await make_org(verified=False))
    await _refused("agreement.operator_unverified", draft({**p, "operator": pending}))
    buyer = await make_user(["buyer"])
    await _refused("agreement.not_an_operator", draft({**p, "operator": buyer}))
    await _refused("agreement.same_party", draft({**p, "operator": p["agency"]}))


async def test_a_scope_must_name_what_exists(job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    await _refused("agreement.unknown_category", draft(p, scope={"categories": ["不存在的分类"]}))
    await _refused("agreement.unknown_asset", draft(p, scope={"asset_ids": [clinic["id"] + 999]}))
    await _refused("agreement.scope_empty", draft(p, scope={}))
    await _refused("agreement.unknown_column", draft(p, scope={"asset_ids": [clinic["id"]],
                                                               "columns": {str(clinic["id"]): ["没有这一列"]}}))
    await _refused("agreement.columns_without_asset", draft(p, scope={"categories": [HEALTH],
                                                                      "columns": {str(clinic["id"]): ["区县"]}}))
    await _refused("agreement.scenarios_required", draft(p, modes=["scenario"]))
    await _refused("agreement.items_required", draft(p, items=[]))
    await _refused("agreement.item_duplicate", draft(p, items=[{"name": "a", "cap_fen": 1}, {"name": "a", "cap_fen": 2}]))


async def test_shared_data_enters_a_scope_only_with_the_providers_consent(job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    provider = await make_user(["holder"], org=await make_org(kind="government"))
    with pytest.raises(DomainError) as exc:  # only its holder (or an agency) says where it came from
        await service.declare_shared_source(asset_id=clinic["id"], provider_org_id=provider["org"]["id"],
                                            org_id=p["operator"]["org"]["id"], roles=frozenset({"operator"}),
                                            user_id=p["operator"]["id"])
    assert exc.value.code == "consent.not_holder"
    shared = await service.declare_shared_source(asset_id=clinic["id"], provider_org_id=provider["org"]["id"],
                                                 org_id=p["holder"]["org"]["id"], roles=frozenset({"holder"}),
                                                 user_id=p["holder"]["id"])
    err = await _refused("agreement.source_consent_missing", draft(p))
    assert err.params["asset_id"] == clinic["id"] and err.params["provider"] == provider["org"]["name"]
    with pytest.raises(DomainError) as exc:  # the holder cannot consent on the provider's behalf
        await service.record_consent(shared_source_id=shared["id"], org_id=p["holder"]["org"]["id"],
                                     user_id=p["holder"]["id"], consented_on=date.today(), document_note="x")
    assert exc.value.code == "consent.not_provider"
    await service.record_consent(shared_source_id=shared["id"], org_id=provider["org"]["id"], user_id=provider["id"],
                                 consented_on=date.today(), document_note="杭卫函〔2026〕12号")
    row = await SharedSource.select().where(SharedSource.id == shared["id"]).first()
    assert row["consent_user"] == provider["id"] and row["document_note"] == "杭卫函〔2026〕12号"
    assert (await draft(p))["status"] == "draft"
