"""The checks later enforcement points call (building, pricing, ordering): each passes within the
agreement and refuses outside it with a clear error, changing nothing; revenue above the permitted
maximum raises one alert and is carried into the next year's maximum."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from agreement_factories import HEALTH, TRANSPORT, active, catalogued_asset, draft, parties
from factories import make_user
from market.errors import DomainError
from market.tables import AuditEvent, OutboxMessage
from operators import _enforcement, service
from operators.tables import AgreementRevenue, AuthorizationAgreement, OperatorAlert

COLUMNS = "区划代码,区县,常住人口,年份\n330102,上城区,135,2024\n330105,拱墅区,118,2024\n".encode()


async def _nothing_changes(code: str, coro) -> DomainError:
    before = (await AuditEvent.count(), await OutboxMessage.count(), await AgreementRevenue.count())
    with pytest.raises(DomainError) as exc:
        await coro
    assert exc.value.code == code, exc.value
    assert exc.value.message and 400 <= exc.value.status_code < 500
    assert (await AuditEvent.count(), await OutboxMessage.count(), await AgreementRevenue.count()) == before
    return exc.value


async def _setup(job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次", content=COLUMNS)
    bus = await catalogued_asset(p["operator"], job_runtime, category=TRANSPORT + " > 公交站点", title="公交站点",
                                 content=COLUMNS)
    stray = await catalogued_asset(p["holder"], job_runtime, category="教育 > 高等教育", title="高校名录")
    row = await active(p, job_runtime, scope={"asset_ids": [bus["id"]], "categories": [HEALTH],
                                              "columns": {str(bus["id"]): ["区县", "年份"]}})
    return p, row, clinic, bus, stray


async def test_check_sources_passes_within_scope_and_refuses_outside_it(job_runtime):
    p, row, clinic, bus, stray = await _setup(job_runtime)
    op = p["operator"]["org"]["id"]
    got = await service.check_sources(operator_org_id=op, asset_ids=[clinic["id"], bus["id"]],
                                      columns={bus["id"]: ["区县"], clinic["id"]: ["常住人口"]})
    assert got["id"] == row["id"]

    err = await _nothing_changes("agreement.out_of_scope",
                                 service.check_sources(operator_org_id=op, asset_ids=[clinic["id"], stray["id"]]))
    assert err.params["asset_id"] == stray["id"]
    await _nothing_changes("agreement.column_out_of_scope",
                           service.check_sources(operator_org_id=op, asset_ids=[bus["id"]],
                                                 columns={bus["id"]: ["区县", "常住人口"]}))
    # another operator has no agreement at all
    other = await make_user(["operator"])
    await _nothing_changes("agreement.out_of_scope",
                           service.check_sources(operator_org_id=other["org"]["id"], asset_ids=[clinic["id"]]))

    await service.suspend(agreement_id=row["id"], org_id=p["agency"]["org"]["id"], roles=frozenset({"agency"}),
                          reason="检查")
    await _nothing_changes("agreement.suspended", service.check_sources(operator_org_id=op, asset_ids=[clinic["id"]]))
    await _nothing_changes("agreement.suspended", service.check_price(agreement_id=row["id"], item_name="门诊统计报告",
                                                                      price_fen=1))
    await service.resume(agreement_id=row["id"], org_id=p["agency"]["org"]["id"], roles=frozenset({"agency"}),
                         reason="恢复")

    # the term decides even before the expiry job has run
    await AuthorizationAgreement.update({AuthorizationAgreement.ends_on: date.today() - timedelta(days=1)}).where(
        AuthorizationAgreement.id == row["id"])
    for check in (service.check_sources(operator_org_id=op, asset_ids=[clinic["id"]]),
                  service.check_purpose(agreement_id=row["id"], purpose="industry"),
                  service.check_price(agreement_id=row["id"], item_name="门诊统计报告", price_fen=1)):
        await _nothing_changes("agreement.expired", check)


async def test_a_shared_source_without_consent_is_refused_even_when_filed_later(job_runtime):
    p, _row, clinic, _bus, _stray = await _setup(job_runtime)
    from factories import make_org

    provider = await make_org(kind="government")
    await service.declare_shared_source(asset_id=clinic["id"], provider_org_id=provider["id"], org_id=0,
                                        roles=frozenset({"agency"}), user_id=p["agency"]["id"])
    await _nothing_changes("agreement.source_consent_missing",
                           service.check_sources(operator_org_id=p["operator"]["org"]["id"], asset_ids=[clinic["id"]]))


async def test_check_price_purpose_and_product(job_runtime):
    p, row, *_ = await _setup(job_runtime)
    item = await service.check_price(agreement_id=row["id"], item_name="就医需求预测接口", price_fen=500_000)
    assert item["cap_fen"] == 500_000
    err = await _nothing_changes("agreement.price_above_cap",
                                 service.check_price(agreement_id=row["id"], item_name="就医需求预测接口",
                                                     price_fen=500_001))
    assert "5,000.00" in err.params["cap"]
    await _nothing_changes("agreement.item_not_listed",
                           service.check_price(agreement_id=row["id"], item_name="未列明的服务", price_fen=1))
    assert (await service.check_purpose(agreement_id=row["id"], purpose="industry"))["id"] == row["id"]
    await _nothing_changes("agreement.purpose_not_permitted",
                           service.check_purpose(agreement_id=row["id"], purpose="sector"))
    await _nothing_changes("agreement.purpose_invalid", service.check_purpose(agreement_id=row["id"], purpose="x"))
    assert (await service.check_product(agreement_id=row["id"], tier="product", product_type="api"))["id"] == row["id"]
    await _nothing_changes("agreement.tier_not_permitted", service.check_product(agreement_id=row["id"], tier="raw"))
    await _nothing_changes("agreement.product_type_not_permitted",
                           service.check_product(agreement_id=row["id"], tier="product", product_type="sandbox"))


async def test_checks_follow_the_amendment_in_force(job_runtime):
    p, row, *_ = await _setup(job_runtime)
    v2 = await service.amend(agreement_id=row["id"], agency_org_id=p["agency"]["org"]["id"], user_id=p["agency"]["id"],
                             changes={"items": [{"name": "就医需求预测接口", "cap_fen": 100}],
                                      "purposes": ["industry", "sector"]}, note="下调上限")
    from agreement_factories import sign_both

    await sign_both(p, v2["id"], job_runtime)
    await _nothing_changes("agreement.price_above_cap",
                           service.check_price(agreement_id=row["id"], item_name="就医需求预测接口", price_fen=101))
    assert (await service.check_purpose(agreement_id=row["id"], purpose="sector"))["id"] == v2["id"]


async def test_a_draft_agreement_permits_nothing(job_runtime):
    p = await parties()
    clinic = await catalogued_asset(p["holder"], job_runtime, category=HEALTH, title="门诊人次")
    row = await draft(p)
    await _nothing_changes("agreement.out_of_scope",
                           service.check_sources(operator_org_id=p["operator"]["org"]["id"], asset_ids=[clinic["id"]]))
    await _nothing_changes("agreement.not_in_force", service.check_purpose(agreement_id=row["id"], purpose="industry"))


async def test_revenue_over_the_maximum_raises_one_alert_and_is_carried_into_next_year(job_runtime):
    p, row, *_ = await _setup(job_runtime)  # max_revenue_fen 10,000,000
    year = date.today().year
    r = await service.record_revenue(agreement_id=row["id"], amount_fen=6_000_000, ref="DD-1")
    assert (r["recorded"], r["revenue_fen"], r["remaining_fen"], r["over_fen"]) == (True, 6_000_000, 4_000_000, 0)
    again = await service.record_revenue(agreement_id=row["id"], amount_fen=6_000_000, ref="DD-1")
    assert again["recorded"] is False and again["revenue_fen"] == 6_000_000
    assert await OperatorAlert.count() == 0
    r = await service.record_revenue(agreement_id=row["id"], amount_fen=5_000_000, ref="DD-2")
    assert r["over_fen"] == 1_000_000
    await service.record_revenue(agreement_id=row["id"], amount_fen=1_000, ref="DD-3")
    [alert] = await OperatorAlert.select()
    assert alert["kind"] == "revenue_over_max" and alert["agreement"] == row["id"]
    assert await OutboxMessage.count().where(OutboxMessage.actor_name == "agreement.revenue_over_max") == 1
    nxt = await service.revenue_this_year(agreement_id=row["id"], year=year + 1)
    assert (nxt["carried_over_fen"], nxt["max_fen"]) == (1_001_000, 10_000_000 - 1_001_000)
    await _nothing_changes("revenue.amount_invalid",
                           service.record_revenue(agreement_id=row["id"], amount_fen=0, ref="DD-4"))
    await _nothing_changes("revenue.ref_required",
                           service.record_revenue(agreement_id=row["id"], amount_fen=1, ref=" "))


@given(base=st.integers(min_value=0, max_value=10**9),
       revenues=st.lists(st.integers(min_value=0, max_value=2 * 10**9), min_size=1, max_size=6))
def test_each_years_maximum_is_the_base_less_last_years_excess(base, revenues):
    by_year = {2026 + i: r for i, r in enumerate(revenues)}
    previous_over = 0
    for year in by_year:
        f = _enforcement.year_figures(base_max_fen=base, revenue_by_year=by_year, first_year=2026, year=year)
        assert f["max_fen"] == max(0, base - previous_over)
        assert f["over_fen"] == max(0, by_year[year] - f["max_fen"])
        assert f["remaining_fen"] + by_year[year] - f["over_fen"] == f["max_fen"]
        previous_over = f["over_fen"]
