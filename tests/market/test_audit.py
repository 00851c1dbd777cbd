"""The audit chain: written with every change, in its transaction, and tamper-evident."""

from __future__ import annotations

import pytest

from factories import make_org, make_user
from market import audit, db, identity
from market.context import Actor, acting_as
from market.tables import AuditEvent, Organization


async def test_every_change_extends_a_valid_chain():
    await make_user(["buyer"])
    await make_user(["holder"])
    rows = await AuditEvent.select().order_by(AuditEvent.seq)
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0]["prev_hash"] == audit.GENESIS
    for prev, cur in zip(rows, rows[1:]):
        assert cur["prev_hash"] == prev["hash"]
    report = await audit.verify()
    assert report.ok and report.events == len(rows) == 4


async def test_event_records_actor_request_and_change():
    with acting_as(Actor(user_id=7, org_id=3, label="auditor@example.cn", request_id="req-1")):
        org = await make_org(verified=False)
        await identity.set_verification(org_id=org["id"], to="verified")
    event = await AuditEvent.select().where(AuditEvent.action == "org.verified").first()
    assert event["actor_user_id"] == 7 and event["actor_org_id"] == 3
    assert event["actor_label"] == "auditor@example.cn" and event["request_id"] == "req-1"
    assert event["object_type"] == "organization" and event["object_id"] == str(org["id"])
    assert event["before"] == '{"verification":"pending"}' and event["after"] == '{"verification":"verified"}'


@pytest.mark.parametrize("column,value", [("after", '{"name":"篡改后的名称"}'), ("actor_label", "someone-else"),
                                          ("action", "org.deleted")])
async def test_editing_a_row_by_hand_is_caught_and_named(column, value):
    for _ in range(3):
        await make_org()
    target = await AuditEvent.select().where(AuditEvent.seq == 2).first()
    await AuditEvent.update({getattr(AuditEvent, column): value}).where(AuditEvent.id == target["id"])
    report = await audit.verify()
    assert not report.ok
    assert report.first_bad_seq == 2
    assert "#2" in report.reason and report.events == 1


async def test_recomputing_the_hash_of_an_edited_row_breaks_the_next_link():
    for _ in range(3):
        await make_org()
    row = await AuditEvent.select().where(AuditEvent.seq == 2).first()
    row["after"] = '{"forged":true}'
    await AuditEvent.update({AuditEvent.after: row["after"], AuditEvent.hash: audit.event_hash(row)}).where(
        AuditEvent.id == row["id"])
    report = await audit.verify()
    assert not report.ok and report.first_bad_seq == 3 and "does not link" in report.reason


async def test_deleted_event_is_named_as_missing():
    for _ in range(3):
        await make_org()
    await AuditEvent.delete().where(AuditEvent.seq == 2)
    report = await audit.verify()
    assert not report.ok and report.first_bad_seq == 2 and "missing" in report.reason


async def test_change_whose_audit_write_fails_leaves_no_trace(monkeypatch):
    async def broken_insert(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    org = await make_org(verified=False)
    before_events = await AuditEvent.count()
    monkeypatch.setattr(audit.AuditEvent, "insert", broken_insert)
    with pytest.raises(RuntimeError):
        await identity.set_verification(org_id=org["id"], to="verified")
    with pytest.raises(RuntimeError):
        await identity.create_organization(name="不应存在的公司", credit_code="91330106572134901G", kind="enterprise")
    monkeypatch.undo()
    assert (await identity.get_organization(org["id"]))["verification"] == "pending"
    assert not await Organization.exists().where(Organization.credit_code == "91330106572134901G")
    assert await AuditEvent.count() == before_events
    assert (await audit.verify()).ok


async def test_concurrent_writers_keep_one_chain():
    import asyncio

    orgs = [await make_org(verified=False) for _ in range(6)]
    await asyncio.gather(*(identity.set_verification(org_id=o["id"], to="verified") for o in orgs))
    report = await audit.verify()
    assert report.ok and report.events == await AuditEvent.count()


async def test_transaction_rollback_discards_the_event_too():
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.atomic():
            await audit.record(action="test.event", object_type="thing", object_id=1)
            raise Boom
    assert await AuditEvent.count() == 0


async def test_audit_api_for_overseers(client):
    from factories import login

    regulator = await make_user(["regulator"])
    await login(client, regulator)
    events = (await client.get("/api/v1/audit/events?page_size=2")).json()
    assert events["total"] >= 3 and len(events["items"]) == 2 and events["items"][0]["seq"] > events["items"][1]["seq"]
    verify = (await client.get("/api/v1/audit/verify")).json()
    assert verify["ok"] is True and verify["head_seq"] == verify["events"]
    page = await client.get("/audit?check=1")
    assert 'data-testid="chain-ok"' in page.text
