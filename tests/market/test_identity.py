"""Organizations, users, login protection, sessions, CSRF and API keys."""

from __future__ import annotations

import pytest

from factories import PASSWORD, credit_code, login, make_org, make_user
from market import identity
from market.errors import DomainError
from market.tables import AuditEvent, Organization, User

# ---- credit codes -----------------------------------------------------------------------------


def _vectors():
    import csv
    from pathlib import Path

    path = Path(__file__).resolve().parents[3] / "shared" / "realdata" / "cn_id_checkdigit_test_vectors.csv"
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_credit_code_vectors_from_realdata():
    rows = [r for r in _vectors() if "uscc" in (r.get("id_type") or "").lower()]
    assert rows, "test vectors file has USCC rows"
    for row in rows:
        value = row["value"]
        expected_valid = row["expected"].startswith("valid")
        try:
            check = identity.check_credit_code(value)
            verdict = check.checksum_ok
        except DomainError:
            verdict = False
        assert verdict == expected_valid, (value, row)


def test_credit_code_wrong_check_character_is_a_warning_not_a_refusal():
    good = credit_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    check = identity.check_credit_code(bad)
    assert check.checksum_ok is False
    assert identity.check_credit_code(good).checksum_ok is True
    assert identity.check_credit_code(good.lower()).code == good  # compacted, upper-cased


@pytest.mark.parametrize("raw,code", [("12345", "org.credit_code_length"), ("A1110000600037341L", "org.credit_code_format"),
                                      ("9111000060003734IL", "org.credit_code_format")])
def test_credit_code_malformed_refused(raw, code):
    with pytest.raises(DomainError) as err:
        identity.check_credit_code(raw)
    assert err.value.code == code


async def test_create_org_needs_override_for_bad_check_char_and_audits_it():
    good = credit_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(DomainError) as err:
        await identity.create_organization(name="某某科技有限公司", credit_code=bad, kind="enterprise")
    assert err.value.code == "org.credit_code_checksum"
    assert await Organization.count() == 0
    assert await AuditEvent.count() == 0  # nothing changed, nothing recorded
    org = await identity.create_organization(name="某某科技有限公司", credit_code=bad, kind="enterprise",
                                             accept_checksum_warning=True)
    assert org["credit_code_override"] is True
    assert org["region_code"] == bad[2:8]
    event = await AuditEvent.select().where(AuditEvent.action == "org.created").first()
    assert '"credit_code_override":true' in event["after"]


async def test_duplicate_credit_code_refused():
    org = await make_org()
    with pytest.raises(DomainError) as err:
        await identity.create_organization(name="另一家公司", credit_code=org["credit_code"], kind="enterprise")
    assert err.value.code == "org.credit_code_taken"


# ---- users and login ------------------------------------------------------------------------


async def test_create_user_validates_and_hashes():
    org = await make_org()
    with pytest.raises(DomainError, match="user.email_invalid"):
        await identity.create_user(email="not-an-email", password=PASSWORD, display_name="x",
                                   organization_id=org["id"], roles=["buyer"])
    with pytest.raises(DomainError, match="user.password_too_short"):
        await identity.create_user(email="a@b.cn", password="short", display_name="x",
                                   organization_id=org["id"], roles=["buyer"])
    with pytest.raises(DomainError, match="user.role_invalid"):
        await identity.create_user(email="a@b.cn", password=PASSWORD, display_name="x",
                                   organization_id=org["id"], roles=["superuser"])
    user = await identity.create_user(email="Mixed@Case.CN", password=PASSWORD, display_name="王五",
                                      organization_id=org["id"], roles=["buyer", "holder"])
    row = await User.select().where(User.id == user["id"]).first()
    assert row["email"] == "mixed@case.cn"
    assert row["password_hash"].startswith("$argon2id$") and PASSWORD not in row["password_hash"]
    assert await identity.roles_of(user["id"], org["id"]) == {"buyer", "holder"}


async def test_login_success_and_wrong_password(client):
    user = await make_user(["buyer"])
    resp = await client.post("/api/v1/session", json={"email": user["email"], "password": "wrong-password"})
    assert resp.status_code == 401
    assert resp.json()["code"] == "auth.invalid_credentials"
    assert resp.json()["message"] == "邮箱或密码错误"
    resp = await client.post("/api/v1/session", json={"email": "nobody@example.cn", "password": "whatever1"})
    assert resp.status_code == 401 and resp.json()["code"] == "auth.invalid_credentials"
    csrf = await login(client, user)
    me = (await client.get("/api/v1/me")).json()
    assert me["user"]["email"] == user["email"] and me["roles"] == ["buyer"] and me["csrf_token"] == csrf
    assert me["organization"]["credit_code"] == user["org"]["credit_code"]


async def test_wrong_password_burst_locks_account(client, settings):
    user = await make_user(["buyer"])
    for _ in range(settings.login_max_failures):
        resp = await client.post("/api/v1/session", json={"email": user["email"], "password": "bad-password"})
        assert resp.status_code == 401
    assert resp.json()["code"] == "auth.locked"
    # even the right password is refused while locked
    resp = await client.post("/api/v1/session", json={"email": user["email"], "password": PASSWORD})
    assert resp.status_code == 401 and resp.json()["code"] == "auth.locked"
    assert await AuditEvent.count().where(AuditEvent.action == "user.locked") == 1
    # an expired lock lets the user in again
    await User.update({User.locked_until: None}).where(User.id == user["id"])
    identity.clear_auth_cache()
    await login(client, user)


async def test_login_rate_limited_per_client(client, settings):
    statuses = []
    for _ in range(settings.login_rate_per_minute + 3):
        resp = await client.post("/api/v1/session", json={"email": "ghost@example.cn", "password": "x" * 8})
        statuses.append(resp.status_code)
    assert 429 in statuses
    assert statuses[0] == 401


async def test_logout_ends_session(client):
    user = await make_user(["holder"])
    csrf = await login(client, user)
    resp = await client.delete("/api/v1/session", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 204
    assert (await client.get("/api/v1/me")).status_code == 401


# ---- CSRF -----------------------------------------------------------------------------------


async def test_state_change_in_cookie_session_needs_csrf(client):
    user = await make_user(["buyer"])
    csrf = await login(client, user)
    resp = await client.post("/api/v1/api-keys", json={"name": "no token"})
    assert resp.status_code == 403 and resp.json()["code"] == "auth.csrf_failed"
    resp = await client.post("/api/v1/api-keys", json={"name": "forged"}, headers={"X-CSRF-Token": "forged" + csrf})
    assert resp.status_code == 403 and resp.json()["code"] == "auth.csrf_failed"
    assert await identity.list_api_keys(organization_id=user["org"]["id"]) == []
    resp = await client.post("/api/v1/api-keys", json={"name": "ok"}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201


async def test_html_form_post_needs_csrf_field(client):
    user = await make_user(["buyer"])
    csrf = await login(client, user)
    resp = await client.post("/account/api-keys", data={"name": "web", "_csrf": "forged"})
    assert resp.status_code == 403 and "auth.csrf_failed" in resp.text
    resp = await client.post("/account/api-keys", data={"name": "web", "_csrf": csrf})
    assert resp.status_code == 200 and "pdm_" in resp.text


async def test_login_form_uses_double_submit_cookie(client):
    user = await make_user(["buyer"])
    page = await client.get("/login")
    assert page.status_code == 200
    token = client.cookies.get("market_csrf")
    assert token and token in page.text
    resp = await client.post("/login", data={"email": user["email"], "password": PASSWORD, "_csrf": "x"})
    assert resp.status_code == 403
    resp = await client.post("/login", data={"email": user["email"], "password": PASSWORD, "_csrf": token,
                                              "next": "https://evil.example/"}, follow_redirects=False)
    assert resp.status_code in (302, 303) and resp.headers["location"] == "/"  # no open redirect
    home = await client.get("/")
    assert "欢迎" in home.text


# ---- API keys ---------------------------------------------------------------------------------


async def test_api_key_lifecycle(client):
    user = await make_user(["holder", "buyer"])
    csrf = await login(client, user)
    resp = await client.post("/api/v1/api-keys", json={"name": "核保系统"}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201
    created = resp.json()
    secret = created["secret"]
    assert secret.startswith("pdm_") and created["key"]["roles"] == ["buyer", "holder"]
    listing = (await client.get("/api/v1/api-keys")).json()
    assert secret not in str(listing) and listing[0]["prefix"] == created["key"]["prefix"]
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {secret}"}
    me = await client.get("/api/v1/me", headers=bearer)
    assert me.status_code == 200 and me.json()["auth"] == "api_key" and me.json()["csrf_token"] is None
    # API-key calls change state without a CSRF token
    resp = await client.post("/api/v1/api-keys", json={"name": "second"}, headers=bearer)
    assert resp.status_code == 201
    rows = await identity.list_api_keys(organization_id=user["org"]["id"])
    assert any(r["last_used_at"] is not None for r in rows)
    # revoke the first key: refused at once
    resp = await client.delete(f"/api/v1/api-keys/{created['key']['id']}", headers=bearer)
    assert resp.status_code == 204
    resp = await client.get("/api/v1/me", headers=bearer)
    assert resp.status_code == 401 and resp.json()["code"] == "auth.invalid_api_key"
    resp = await client.get("/api/v1/me", headers={"Authorization": "Bearer pdm_deadbeef_nonsense"})
    assert resp.status_code == 401


async def test_cannot_revoke_another_organizations_key(client):
    owner = await make_user(["buyer"])
    key, _ = await identity.create_api_key(user_id=owner["id"], organization_id=owner["org"]["id"], name="k")
    other = await make_user(["buyer"])
    csrf = await login(client, other)
    resp = await client.delete(f"/api/v1/api-keys/{key['id']}", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 404
    rows = await identity.list_api_keys(organization_id=owner["org"]["id"])
    assert rows[0]["revoked_at"] is None


async def test_api_key_keeps_creator_roles_at_creation():
    user = await make_user(["holder", "buyer"])
    key, secret = await identity.create_api_key(user_id=user["id"], organization_id=user["org"]["id"], name="k")
    await identity.revoke_role(user_id=user["id"], organization_id=user["org"]["id"], role="holder")
    principal = await identity.resolve_api_key(secret)
    assert principal.roles == {"buyer"}  # never more than the creator still holds


async def test_org_verification_transitions(client):
    admin = await make_user(["admin"])
    target = await make_org(verified=False)
    csrf = await login(client, admin)
    resp = await client.post(f"/api/v1/organizations/{target['id']}/verification", json={"to": "verified"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 200 and resp.json()["verification"] == "verified"
    resp = await client.post(f"/api/v1/organizations/{target['id']}/verification", json={"to": "rejected"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 409 and resp.json()["code"] == "state.transition_refused"
    events = await AuditEvent.select().where(AuditEvent.action == "org.verified")
    assert len(events) == 1 and events[0]["actor_label"] == admin["email"]


async def test_errors_speak_english_when_asked(client):
    client.cookies.set("lang", "en")
    resp = await client.post("/api/v1/session", json={"email": "nobody@example.cn", "password": "whatever1"})
    assert resp.json()["code"] == "auth.invalid_credentials"
    assert resp.json()["message"] != "邮箱或密码错误" and resp.json()["message"].isascii()


async def test_bad_json_body_gets_clear_error(client):
    resp = await client.post("/api/v1/session", content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert resp.json()["code"] == "request.invalid"


async def test_self_registration_with_checksum_override(client):
    good = credit_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    await client.get("/register")
    token = client.cookies.get("market_csrf")
    form = {"_csrf": token, "org_name": "杭州新注册科技有限公司", "credit_code": bad, "kind": "enterprise",
            "role": "buyer", "display_name": "孙七", "email": "sun@example.cn", "password": "long-enough-1"}
    resp = await client.post("/register", data=form)
    assert resp.status_code == 400 and "确认代码无误" in resp.text and 'name="accept_checksum_warning"' in resp.text
    assert await Organization.count() == 0 and await User.count() == 0
    resp = await client.post("/register", data={**form, "accept_checksum_warning": "on"}, follow_redirects=False)
    assert resp.status_code in (302, 303)
    me = (await client.get("/api/v1/me")).json()
    assert me["roles"] == ["buyer"] and me["organization"]["verification"] == "pending"
    assert me["organization"]["credit_code_override"] is True
    home = (await client.get("/")).text
    assert "机构未认证" in home


async def test_self_registration_cannot_pick_a_privileged_role(client):
    resp = await client.post("/api/v1/registrations", json={
        "org_name": "想当监管的公司", "credit_code": credit_code(), "kind": "enterprise", "email": "x@example.cn",
        "password": "long-enough-1", "display_name": "x", "role": "regulator"})
    assert resp.status_code == 400 and resp.json()["code"] == "user.role_not_self_service"
    assert await Organization.count() == 0
