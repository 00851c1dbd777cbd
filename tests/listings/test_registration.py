"""The register (登记): filings through notice to a code, changes, corrections, cancellation, unique codes,
the renewal reminder and expiry, and who may do what."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factories import login, make_asset, make_org, make_user
from listings.registration import service
from listings.registration.tables import Registration, RegistrationRecord
from listings.tables import DataAsset
from market.context import Actor, acting_as
from market.errors import Conflict, DomainError, Forbidden
from market.tables import AuditEvent, Notification


def _later(days: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(days=days)


async def _asset_code(asset_id: int) -> str:
    return (await DataAsset.select(DataAsset.registration_code).where(DataAsset.id == asset_id).first())[
        "registration_code"]


async def _registered(holder: dict, job_runtime) -> tuple[dict, dict]:
    """An asset with an initial filing accepted into notice and taken effect."""
    asset = await make_asset(holder, job_runtime)
    with acting_as(Actor(user_id=holder["id"], org_id=holder["org"]["id"], label="holder")):
        record = await service.apply(kind="resource", subject_id=asset["id"], org_id=holder["org"]["id"],
                                     user_id=holder["id"], note="首次登记")
        await service.accept(record_id=record["id"], notice_days=5)
        await service.close_notices(now=_later(5.1))
    return asset, await Registration.select().where(Registration.id == record["registration"]).first()


async def test_an_initial_filing_waits_out_its_notice_then_gets_a_code(job_runtime):
    holder = await make_user(["holder"], org=await make_org(kind="government"))
    asset = await make_asset(holder, job_runtime)
    org_id = holder["org"]["id"]
    record = await service.apply(kind="resource", subject_id=asset["id"], org_id=org_id, user_id=holder["id"])
    assert record["status"] == "applied"
    accepted = await service.accept(record_id=record["id"], notice_days=5)
    assert accepted["status"] == "notice"
    assert [n["title"] for n in await service.public_notices()] == [asset["title"]]
    # the notice has not ended: nothing takes effect, the asset has no code
    assert await service.close_notices(now=_later(4.9)) == []
    assert await _asset_code(asset["id"]) == ""
    assert await service.close_notices(now=_later(5.1)) == [record["id"]]
    reg = await Registration.select().where(Registration.id == record["registration"]).first()
    region = holder["org"]["region_code"]
    assert re.fullmatch(rf"SJDJ-{region}-\d{{4}}-000001", reg["code"]) and reg["status"] == "active"
    assert await _asset_code(asset["id"]) == reg["code"]
    # valid three years from the day it was given
    assert (reg["valid_until"] - reg["effective_at"]).days in (365 * 3, 365 * 3 + 1)
    assert await service.public_notices() == []
    assert await service.close_notices(now=_later(6)) == []  # running the job again changes nothing
    # a second initial filing of the same subject is refused
    with pytest.raises(Conflict) as exc:
        await service.apply(kind="resource", subject_id=asset["id"], org_id=org_id, user_id=holder["id"])
    assert exc.value.code == "registration.exists"
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action)
               .where(AuditEvent.object_type.is_in(["registration", "registration_record"])).order_by(AuditEvent.seq)]
    assert actions == ["registration.initial_filed", "registration.notice", "registration.coded",
                       "registration.effective"]
    found = await service.by_code(reg["code"])
    assert found["status"] == "active" and found["title"] == asset["title"]


async def test_change_correction_and_cancel(job_runtime):
    holder = await make_user(["holder"])
    asset, reg = await _registered(holder, job_runtime)
    org_id, code = holder["org"]["id"], reg["code"]
    # a change needs words, passes notice and restarts the validity
    with pytest.raises(DomainError):
        await service.file(registration_id=reg["id"], type="change", org_id=org_id, user_id=holder["id"], note="")
    change = await service.file(registration_id=reg["id"], type="change", org_id=org_id, user_id=holder["id"],
                                note="更新摘要")
    with pytest.raises(Conflict):  # one filing at a time
        await service.file(registration_id=reg["id"], type="correction", org_id=org_id, user_id=holder["id"],
                           note="更正名称")
    assert (await service.accept(record_id=change["id"], notice_days=5))["status"] == "notice"
    await service.close_notices(now=_later(5.1))
    changed = await Registration.select().where(Registration.id == reg["id"]).first()
    assert changed["code"] == code and changed["valid_until"] > reg["valid_until"]
    # a correction takes effect when accepted; the validity stays
    correction = await service.file(registration_id=reg["id"], type="correction", org_id=org_id,
                                    user_id=holder["id"], note="更正分类")
    assert (await service.accept(record_id=correction["id"]))["status"] == "effective"
    assert (await Registration.select().where(Registration.id == reg["id"]).first())["valid_until"] == \
        changed["valid_until"]
    # a rejected filing changes nothing
    rejected = await service.file(registration_id=reg["id"], type="cancel", org_id=org_id, user_id=holder["id"],
                                  note="不再提供")
    await service.reject(record_id=rejected["id"], reason="材料不全")
    assert await _asset_code(asset["id"]) == code
    # cancelling ends the code; registering again gives a new one, never the old
    cancel = await service.file(registration_id=reg["id"], type="cancel", org_id=org_id, user_id=holder["id"],
                                note="不再提供")
    await service.accept(record_id=cancel["id"])
    assert (await Registration.select().where(Registration.id == reg["id"]).first())["status"] == "cancelled"
    assert await _asset_code(asset["id"]) == ""
    again = await service.apply(kind="resource", subject_id=asset["id"], org_id=org_id, user_id=holder["id"])
    await service.accept(record_id=again["id"], notice_days=0)
    new_code = await _asset_code(asset["id"])
    assert new_code and new_code != code and new_code.endswith("-000002")
    with pytest.raises(Conflict):  # a cancelled registration takes no more filings
        await service.file(registration_id=reg["id"], type="change", org_id=org_id, user_id=holder["id"], note="恢复")


async def test_only_the_holder_files_and_a_product_must_be_product_tier(job_runtime):
    holder = await make_user(["holder"])
    other = await make_user(["holder"])
    asset = await make_asset(holder, job_runtime)
    with pytest.raises(Forbidden):
        await service.apply(kind="resource", subject_id=asset["id"], org_id=other["org"]["id"], user_id=other["id"])
    with pytest.raises(DomainError) as exc:
        await service.apply(kind="thing", subject_id=asset["id"], org_id=holder["org"]["id"], user_id=holder["id"])
    assert exc.value.code == "registration.kind_invalid"


async def test_codes_are_unique_per_region_and_year_under_concurrent_filings(job_runtime):
    holder = await make_user(["holder"])
    assets = [await make_asset(holder, job_runtime) for _ in range(4)]
    records = [await service.apply(kind="resource", subject_id=a["id"], org_id=holder["org"]["id"],
                                   user_id=holder["id"]) for a in assets]
    await asyncio.gather(*(service.accept(record_id=r["id"], notice_days=0) for r in records))
    codes = [r["code"] for r in await Registration.select(Registration.code)]
    assert len(set(codes)) == 4
    assert sorted(c[-6:] for c in codes) == ["000001", "000002", "000003", "000004"]


@given(region=st.text(max_size=8), year=st.integers(2000, 2999), serial=st.integers(1, service.SERIAL_MAX))
def test_every_code_has_the_documented_shape(region, year, serial):
    code = service.format_code(region, year, serial)
    assert service.CODE_RE.match(code)
    assert code.split("-")[1] == (region if re.fullmatch(r"[0-9]{6}", region) else "000000")


async def test_renewal_reminder_is_sent_once_then_the_code_expires_and_a_change_renews_it(job_runtime):
    holder = await make_user(["holder"])
    asset, reg = await _registered(holder, job_runtime)
    valid_until = reg["valid_until"]
    assert (await service.remind_and_expire(now=valid_until - timedelta(days=61))) == {"reminded": [], "expired": []}
    assert await service.remind_and_expire(now=valid_until - timedelta(days=59)) == {"reminded": [reg["id"]],
                                                                                    "expired": []}
    assert (await service.remind_and_expire(now=valid_until - timedelta(days=30)))["reminded"] == []
    sent = await Notification.select().where(Notification.kind == "registration.renewal")
    assert len(sent) == 1 and reg["code"] in sent[0]["subject"] and sent[0]["organization"] == holder["org"]["id"]
    assert await service.remind_and_expire(now=valid_until + timedelta(seconds=1)) == {"reminded": [],
                                                                                      "expired": [reg["id"]]}
    assert await _asset_code(asset["id"]) == ""
    # a change filing renews the expired registration under the same code
    change = await service.file(registration_id=reg["id"], type="change", org_id=holder["org"]["id"],
                                user_id=holder["id"], note="续展")
    await service.accept(record_id=change["id"], notice_days=0)
    renewed = await Registration.select().where(Registration.id == reg["id"]).first()
    assert renewed["status"] == "active" and renewed["reminded_at"] is None
    assert await _asset_code(asset["id"]) == reg["code"]


async def test_wrong_roles_are_refused_on_every_registration_route(client, job_runtime):
    holder = await make_user(["holder"])
    asset, reg = await _registered(holder, job_runtime)
    record = await RegistrationRecord.select(RegistrationRecord.id).where(
        RegistrationRecord.registration == reg["id"]).first()
    rid, fid = reg["id"], record["id"]
    routes = [
        ("post", "/api/v1/data-registrations", {"kind": "resource", "subject_id": asset["id"]}, {"holder", "operator"}),
        ("get", "/api/v1/data-registrations", None, {"holder", "operator", "admin", "regulator"}),
        ("get", f"/api/v1/data-registrations/{rid}", None, {"holder", "operator", "admin", "regulator"}),
        ("post", f"/api/v1/data-registrations/{rid}/records", {"type": "change", "note": "x"}, {"holder", "operator"}),
        ("post", f"/api/v1/data-registration-records/{fid}/accept", {}, {"admin"}),
        ("post", f"/api/v1/data-registration-records/{fid}/reject", {"note": "x"}, {"admin"}),
        ("get", "/registrations", None, {"holder", "operator", "admin", "regulator"}),
        ("post", "/registrations/apply", {"subject": f"resource:{asset['id']}"}, {"holder", "operator"}),
        ("get", f"/registrations/{rid}", None, {"holder", "operator", "admin", "regulator"}),
        ("post", f"/registrations/{rid}/records", {"type": "change", "note": "x"}, {"holder", "operator"}),
        ("post", f"/registration-records/{fid}/decide", {"action": "accept"}, {"admin"}),
    ]
    for role in ("holder", "buyer", "agency", "operator", "regulator", "admin"):
        user = await make_user([role])
        client.cookies.clear()
        token = await login(client, user)
        for method, url, payload, allowed in routes:
            if role in allowed:
                continue
            if url.startswith("/api/"):
                kw = {"json": payload, "headers": {"X-CSRF-Token": token}} if method == "post" else {}
            else:
                kw = {"data": {**payload, "_csrf": token}} if method == "post" else {}
            resp = await getattr(client, method)(url, **kw)
            assert resp.status_code == 403, (role, method, url, resp.status_code)
    client.cookies.clear()
    for method, url, payload, _allowed in routes:
        if url.startswith("/api/"):
            resp = await getattr(client, method)(url, **({"json": payload} if method == "post" else {}))
            assert resp.status_code in (401, 403), (method, url)
    # public: the notices and a code lookup; another holder learns nothing of this registration
    assert (await client.get("/api/v1/data-registration-notices")).status_code == 200
    assert (await client.get("/registrations/notices")).status_code == 200
    looked = await client.get("/api/v1/data-registration-codes", params={"code": reg["code"]})
    assert looked.status_code == 200 and looked.json()["status"] == "active"
    await login(client, await make_user(["holder"]))
    assert (await client.get(f"/api/v1/data-registrations/{rid}")).status_code == 404
    # the regulator reads it, and the page shows the code
    await login(client, await make_user(["regulator"]))
    assert (await client.get(f"/api/v1/data-registrations/{rid}")).json()["code"] == reg["code"]
    assert reg["code"] in (await client.get(f"/registrations/{rid}")).text


async def test_the_holder_applies_and_the_registrar_accepts_through_the_api(client, job_runtime):
    holder = await make_user(["holder"])
    asset = await make_asset(holder, job_runtime)
    token = await login(client, holder)
    resp = await client.post("/api/v1/data-registrations", json={"kind": "resource", "subject_id": asset["id"]},
                             headers={"X-CSRF-Token": token})
    assert resp.status_code == 201, resp.text
    record_id = resp.json()["id"]
    client.cookies.clear()
    token = await login(client, await make_user(["admin"]))
    resp = await client.post(f"/api/v1/data-registration-records/{record_id}/accept", json={"note": "形式审查通过"},
                             headers={"X-CSRF-Token": token})
    assert resp.json()["status"] == "notice"
    notices = (await client.get("/api/v1/data-registration-notices")).json()["items"]
    assert [n["record_id"] for n in notices] == [record_id]
    assert asset["title"] in (await client.get("/registrations/notices")).text
