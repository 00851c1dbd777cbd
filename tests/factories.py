"""Factories call services, as the app would; nothing here writes tables directly."""

from __future__ import annotations

import itertools
import random

from stdnum.cn import uscc

from market import identity
from market.context import Actor, acting_as

PASSWORD = "correct-horse-42"
_seq = itertools.count(1)


def org_code(base8: str) -> str:
    """GB 11714 organization code: 8 characters and a check character."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(base8, weights))
    check = 11 - total % 11
    return base8 + ("X" if check == 10 else "0" if check == 11 else str(check))


def credit_code(prefix: str = "91", region: str = "330100", rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    body = prefix + region + org_code(f"{rng.randrange(10**8):08d}")
    return body + uscc.calc_check_digit(body)


async def make_org(name: str | None = None, kind: str = "enterprise", verified: bool = True) -> dict:
    n = next(_seq)
    with acting_as(Actor(label="factory")):
        return await identity.create_organization(name=name or f"测试机构{n}有限公司", credit_code=credit_code(),
                                                  kind=kind, verified=verified)


async def make_user(roles: list[str], org: dict | None = None, email: str | None = None,
                    password: str = PASSWORD) -> dict:
    org = org or await make_org()
    n = next(_seq)
    with acting_as(Actor(label="factory")):
        user = await identity.create_user(email=email or f"user{n}@example.cn", password=password,
                                          display_name=f"用户{n}", organization_id=org["id"], roles=roles)
    return {**user, "password": password, "org": org}


async def login(client, user: dict) -> str:
    """Start a cookie session through the API; returns the CSRF token for writes."""
    resp = await client.post("/api/v1/session", json={"email": user["email"], "password": user["password"]})
    assert resp.status_code == 201, resp.text
    return resp.json()["csrf_token"]
