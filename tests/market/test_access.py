"""Every route, every role: who gets in. A route added without an access rule fails here."""

from __future__ import annotations

import re


from factories import login, make_user
from market.tables import Role
from market.web import access_of

ROLES = [r.value for r in Role]
ANON = "anonymous"


def _routes(app):
    for route in app.routes:
        for handler in route.route_handlers:
            methods = getattr(handler, "http_methods", None)
            if not methods:
                continue
            for method in sorted(methods):
                if method in ("HEAD", "OPTIONS"):
                    continue
                yield route.path, method, handler


def _concrete(path: str) -> str:
    path = re.sub(r"\{[^}:]+:int\}", "999999", path)
    path = re.sub(r"\{[^}:]+:path\}", "no/such/file.csv", path)
    return re.sub(r"\{[^}]+\}", "zz", path)


def _refused(resp) -> bool:
    if resp.status_code in (302, 303) and resp.headers.get("location", "").startswith("/login"):
        return True
    return resp.status_code in (401, 403) and any(
        code in resp.text for code in ("auth.required", "auth.forbidden", "auth.route_unguarded"))


def test_every_route_declares_access(app):
    missing = [f"{m} {p}" for p, m, h in _routes(app) if access_of(h) is None and not p.startswith("/schema")]
    assert not missing, f"routes without an access rule: {missing}"


async def test_walk_every_route_with_every_role(app, client):
    users = {role: await make_user([role]) for role in ROLES}
    failures = []
    checked = 0
    for who in [ANON, *ROLES]:
        client.cookies.clear()
        headers = {}
        if who != ANON:
            headers["X-CSRF-Token"] = await login(client, users[who])
        else:
            await client.get("/login")
            headers["X-CSRF-Token"] = client.cookies.get("market_csrf", "")
        for path, method, handler in _routes(app):
            if path.startswith("/schema"):
                continue
            access = access_of(handler)
            if access == "public":
                expected = True
            elif access == "authenticated":
                expected = who != ANON
            else:
                expected = who in access
            url = _concrete(path)
            if (method, url) in {("DELETE", "/api/v1/session"), ("POST", "/logout")}:
                # would end the session mid-walk; checked for refusal only
                if expected:
                    continue
            resp = await client.request(method, url, headers=headers, follow_redirects=False,
                                        **({"json": {}} if path.startswith("/api/") and method != "GET" else {}))
            checked += 1
            if _refused(resp) == expected:
                failures.append(f"{who}: {method} {url} -> {resp.status_code} (expected {'in' if expected else 'refused'})")
    assert not failures, "\n".join(failures)
    assert checked > 100


async def test_wrong_role_is_refused_with_stable_code(client):
    buyer = await make_user(["buyer"])
    csrf = await login(client, buyer)
    resp = await client.get("/api/v1/audit/events")
    assert resp.status_code == 403 and resp.json()["code"] == "auth.forbidden"
    resp = await client.post("/api/v1/organizations", json={"name": "x", "credit_code": "x", "kind": "enterprise"},
                             headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 403
    page = await client.get("/admin/organizations")
    assert page.status_code == 403 and "您的角色无权执行此操作" in page.text


async def test_anonymous_page_redirects_to_login_and_back(client):
    resp = await client.get("/account/api-keys", follow_redirects=False)
    assert resp.status_code in (302, 303)
    assert resp.headers["location"] == "/login?next=/account/api-keys"
