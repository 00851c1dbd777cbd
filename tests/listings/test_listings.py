"""Listings from draft to sale: tier rules, caps, review checklist, notice, objections, versions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from factories import login, make_asset, make_listing, make_org, make_user
from listings import pricing, service
from listings.registration.tables import Registration
from listings.tables import Listing, PricePlan
from market.errors import DomainError, NotFound
from market.tables import AuditEvent, Notification


async def test_listing_goes_through_review_notice_and_gets_a_registration_code(job_runtime):
    holder = await make_user(["holder"], org=await make_org(kind="enterprise"))
    data = await make_listing(holder, job_runtime, price_fen=50_000)
    listing = data["listing"]
    assert listing["status"] == "listed"
    region = holder["org"]["region_code"]
    # the year of registration, not of the clock now (a run across New Year's midnight must pass)
    listed_at = (await Listing.select(Listing.listed_at).where(Listing.id == listing["id"]).first())["listed_at"]
    # the code is the register's: region, year of registration, and the region's next serial that year
    assert listing["registration_code"] == f"SJDJ-{region}-{listed_at:%Y}-000001"
    reg = await Registration.select().where(Registration.code == listing["registration_code"]).first()
    assert reg["kind"] == "product" and reg["listing"] == listing["id"] and reg["status"] == "active"
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).where(
        AuditEvent.object_id == str(listing["id"])).where(AuditEvent.object_type == "listing")
        .order_by(AuditEvent.seq)]  # the chain's order, not the table's
    assert actions == ["listing.created", "listing.submitted", "listing.approved", "listing.listed"]


async def test_public_data_paid_plan_needs_a_cap_and_stays_under_it(job_runtime):
    gov = await make_org(kind="government")
    holder = await make_user(["holder"], org=gov)
    draft = await make_listing(holder, job_runtime, price_fen=80_000, listed=False)
    assert draft["public_data"] is True
    await service.submit(listing_id=draft["id"], org_id=gov["id"])  # the cap is set during review
    with pytest.raises(DomainError) as err:
        await service.approve(listing_id=draft["id"])
    assert err.value.code == "listing.checklist_failed" and "上限收费标准" in err.value.params["problems"]
    agency = await make_org(kind="government")
    # a cap below the plan withdraws the plan and tells the holder
    await service.set_cap(listing_id=draft["id"], agency_org_id=agency["id"], cap_fen=60_000, basis="杭发改价格〔2026〕1号")
    plans = await PricePlan.select().where(PricePlan.listing == draft["id"])
    assert [p["active"] for p in plans] == [False]
    assert await Notification.exists().where(Notification.kind == "listing.plans_withdrawn")
    with pytest.raises(DomainError) as err:
        await service.add_plan(listing_id=draft["id"], org_id=gov["id"],
                               spec=pricing.PlanSpec(kind="one_time", name="高价", price_fen=60_001))
    assert err.value.code == "price.above_cap"
    plan_id = await service.add_plan(listing_id=draft["id"], org_id=gov["id"],
                                     spec=pricing.PlanSpec(kind="one_time", name="按次", price_fen=60_000))
    assert (await service.quote(listing_id=draft["id"], plan_id=plan_id, purpose="industry")).amount == 60_000
    assert (await service.quote(listing_id=draft["id"], plan_id=plan_id, purpose="public_welfare")).amount == 0
    listed = await service.approve(listing_id=draft["id"], notice_days=0)
    assert listed["status"] == "listed"


async def test_raw_tier_never_leaves_the_domain(job_runtime):
    holder = await make_user(["holder"])
    asset = await make_asset(holder, job_runtime)
    with pytest.raises(DomainError) as err:
        await service.create_listing(asset_id=asset["id"], org_id=holder["org"]["id"], tier="raw", delivery_mode="file",
                                     title="t", summary="s", category_path="", tags=[], update_cycle="yearly",
                                     sharing_type="unconditional", open_type="unconditional",
                                     plans=[pricing.PlanSpec(kind="free", name="免费")])
    assert err.value.code == "listing.delivery_not_for_tier"
    assert await Listing.count() == 0


async def test_not_shared_and_core_cannot_be_listed(job_runtime):
    holder = await make_user(["holder"])
    asset = await make_asset(holder, job_runtime)
    kwargs = dict(asset_id=asset["id"], org_id=holder["org"]["id"], tier="product", delivery_mode="api", title="t",
                  summary="s", category_path="", tags=[], update_cycle="yearly", open_type="conditional",
                  plans=[pricing.PlanSpec(kind="one_time", name="x", price_fen=100)])
    with pytest.raises(DomainError) as err:
        await service.create_listing(sharing_type="not_shared", **kwargs)
    assert err.value.code == "listing.not_listable"
    await service.correct_grade(asset_id=asset["id"], org_id=holder["org"]["id"], grade="core", reason="涉及核心数据")
    with pytest.raises(DomainError) as err:
        await service.create_listing(sharing_type="conditional", **kwargs)
    assert err.value.code == "listing.not_listable"


async def test_empty_asset_cannot_be_listed(job_runtime):
    holder = await make_user(["holder"])
    with pytest.raises(AssertionError):  # a header and no rows: profiling fails with read.no_rows
        await make_asset(holder, job_runtime, content="列1,列2\n".encode(), filename="空表.csv")
    from listings.tables import DataAsset

    asset = await DataAsset.select().where(DataAsset.holder == holder["org"]["id"]).first()
    with pytest.raises(DomainError) as err:
        await service.create_listing(asset_id=asset["id"], org_id=holder["org"]["id"], tier="product",
                                     delivery_mode="api", title="t", summary="s", category_path="", tags=[],
                                     update_cycle="yearly", sharing_type="unconditional", open_type="unconditional",
                                     plans=[pricing.PlanSpec(kind="one_time", name="x", price_fen=100)])
    assert err.value.code == "listing.no_data"


async def test_objection_holds_the_notice_and_upheld_rejects(job_runtime):
    holder = await make_user(["holder"])
    draft = await make_listing(holder, job_runtime, listed=False)
    await service.submit(listing_id=draft["id"], org_id=holder["org"]["id"])
    await service.approve(listing_id=draft["id"], notice_days=1)
    other = await make_user(["buyer"])
    with pytest.raises(DomainError):
        await service.file_objection(listing_id=draft["id"], org_id=other["org"]["id"], user_id=other["id"], reason="短")
    oid = await service.file_objection(listing_id=draft["id"], org_id=other["org"]["id"], user_id=other["id"],
                                       reason="数据来源于我单位，未经授权")
    later = datetime.now(timezone.utc) + timedelta(days=2)
    assert await service.close_notices(now=later) == []  # an open objection holds the listing
    await service.resolve_objection(objection_id=oid, upheld=True, resolution="核实属实")
    row = await Listing.select().where(Listing.id == draft["id"]).first()
    assert row["status"] == "rejected" and row["status_reason"] == "核实属实"


async def test_compatible_new_version_goes_on_sale_and_freshness_is_watched(job_runtime):
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime)
    listing = data["listing"]
    import io

    from market import runtime

    v2 = "区划代码,区县,常住人口,年份,面积\n330102,上城区,136,2025,26.1\n".encode()
    await service.upload(storage=runtime.storage(), holder_org_id=holder["org"]["id"], user_id=holder["id"],
                         stream=io.BytesIO(v2), filename="区县人口.csv", asset_id=listing["asset"])
    await job_runtime.drain(timeout=120)
    row = await Listing.select().where(Listing.id == listing["id"]).first()
    assert row["data_version"] == 2 and row["row_count"] == 1
    # two years later with no new upload: flagged overdue once and the holder told
    later = datetime.now(timezone.utc) + timedelta(days=800)
    result = await service.check_freshness(now=later)
    assert result["overdue"] == [listing["id"]]
    assert (await service.check_freshness(now=later))["overdue"] == []
    assert await Notification.exists().where(Notification.kind == "listing.overdue")


async def test_dead_source_is_suspended(job_runtime):
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime)
    from listings.tables import AssetVersion
    from market import runtime

    version = await AssetVersion.select().where(AssetVersion.asset == data["listing"]["asset"]).first()
    runtime.storage().delete(version["prepared_key"])
    result = await service.check_freshness()
    assert result["dead"] == [data["listing"]["id"]]
    row = await Listing.select().where(Listing.id == data["listing"]["id"]).first()
    assert row["status"] == "suspended" and "数据源不可用" in row["status_reason"]


async def test_listing_api_and_pages_by_role(client, job_runtime):
    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime)
    lid = data["listing"]["id"]
    # anonymous buyers see a listed listing and its quote
    resp = await client.get(f"/api/v1/listings/{lid}")
    assert resp.status_code == 200 and resp.json()["status"] == "listed" and "checklist" not in resp.json()
    plan_id = resp.json()["plans"][0]["id"]
    quote = (await client.get(f"/api/v1/listings/{lid}/quote?plan_id={plan_id}&purpose=public_welfare")).json()
    assert quote["amount_fen"] == 0 and quote["free_by_rule"] is True
    quote = (await client.get(f"/api/v1/listings/{lid}/quote?plan_id={plan_id}&purpose=industry")).json()
    assert quote["amount_fen"] == 50_000 and quote["formatted"] == "¥500.00"
    html = (await client.get(f"/listings/{lid}?purpose=public_governance")).text
    assert "依规免费" in html and data["listing"]["registration_code"] in html
    # a buyer cannot approve; a draft is invisible to others
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    resp = await client.post(f"/api/v1/listings/{lid}/approve", json={}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    draft = await make_listing(holder, job_runtime, listed=False, content="a,b\n1,2\n".encode())
    assert (await client.get(f"/api/v1/listings/{draft['id']}")).status_code == 404


async def test_listing_view_cache_follows_changes_here_and_in_other_processes(job_runtime):
    import math

    from listings import search
    from market import db

    holder = await make_user(["holder"])
    data = await make_listing(holder, job_runtime)
    lid = data["listing"]["id"]
    anyone = dict(viewer_org_id=None, viewer_roles=frozenset())
    first = await service.get_listing(listing_id=lid, **anyone)
    assert (await service.get_listing(listing_id=lid, **anyone)) is first  # served from this process's cache
    # another process renames it: it writes the row and the change log, this process has not read the log yet
    async with db.atomic():
        await Listing.update({Listing.title: "改名后的标题"}).where(Listing.id == lid)
        await search._snapshots._log(lid)
    assert (await service.get_listing(listing_id=lid, **anyone))["listing"]["title"] == first["listing"]["title"]
    search._snapshots._snapshot.checked_at = -math.inf  # REFRESH_SECONDS later
    assert (await service.get_listing(listing_id=lid, **anyone))["listing"]["title"] == "改名后的标题"
    # a change made here shows at once: suspended, the public no longer sees it
    await service.suspend(listing_id=lid, reason="核查数据来源", org_id=None)
    with pytest.raises(NotFound):
        await service.get_listing(listing_id=lid, **anyone)
    # and a new plan appears at once on the holder's view
    await service.resume(listing_id=lid, org_id=None)
    await service.add_plan(listing_id=lid, org_id=holder["org"]["id"],
                           spec=pricing.PlanSpec(kind="subscription", name="月度订阅", price_fen=9_900, months=1))
    names = [p["name"] for p in (await service.get_listing(listing_id=lid, **anyone))["plans"]]
    assert "月度订阅" in names
