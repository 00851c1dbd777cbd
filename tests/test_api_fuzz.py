"""Schemathesis over every operation of /schema/openapi.json, as every role (with its API key) and anonymously.

Each response must: not be a server error, have a documented status code, the documented content type,
and a body that matches the documented schema (errors included). New routes are fuzzed the day they appear:
nothing here lists operations, it walks the served document.

How it runs: the app is served by uvicorn on loopback *on the test's own event loop* (so it shares the
suite's database pool, which asyncpg binds to one loop), while schemathesis sends its requests from a
worker thread. Generation is derandomized (Hypothesis `derandomize=True`, no example database), so a CI run
is reproducible; a few examples per operation and mode keep it to about a minute on 2 cores.

Each role gets its own world made with the factories (a listed listing with a free plan and a file
delivery, an asset with its version, a buyer's entitlement and demand), and every operation with path ids
is also fuzzed with those real ids, so the 200 bodies are checked too, not only the 404s.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings as hsettings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from factories import make_listing, make_user
from order_steps import buy
from market import identity
from market.context import Actor, acting_as
from market.tables import Role

# Schemathesis draws some values with `random`; under `derandomize` Hypothesis seeds it, so runs stay
# reproducible, but it warns on every example.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")

ANON = "anonymous"
ROLES = [r.value for r in Role]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 4  # per operation, per mode (generated positive, negative, and positive with the world's real ids)

# Run last, in this order: each can take away what the calls after it need. Revoking an API key may hit the
# key in use (ids are small integers and Hypothesis likes those): after it the role's calls answer 401, still
# as documented, but nothing useful would be tested any more. Verifying an organization may suspend the
# caller's own one. Neither is excluded: they run with the same key, at the end. Logging out
# (DELETE /api/v1/session) ends only a cookie session, which these calls never have, so it runs in place.
LAST = ["POST /api/v1/organizations/{org_id}/verification", "DELETE /api/v1/api-keys/{key_id}"]


async def _world(job_runtime) -> dict:
    """Users for every role, each with an API key, and data whose ids the fuzzer also uses."""
    from listings import pricing, service

    users = {role: await make_user([role]) for role in ROLES}
    holder, buyer = users["holder"], users["buyer"]
    data = await make_listing(holder, job_runtime, delivery="file",
                              plans=[pricing.PlanSpec(kind="free", name="免费下载")])
    listing, plan = data["listing"], data["plans"][0]
    from litestar.testing import AsyncTestClient

    from market import runtime
    from market.app import create_app

    async with AsyncTestClient(app=create_app(runtime.settings(), manage_db=False),
                               base_url="http://127.0.0.1") as client:
        order = await buy(client, job_runtime, buyer=buyer, holder=holder, listing_id=listing["id"],
                          plan_id=plan["id"], finance=users["admin"])
    with acting_as(Actor(user_id=buyer["id"], org_id=buyer["org"]["id"], label=buyer["email"])):
        demand = await service.post_demand(org_id=buyer["org"]["id"], user_id=buyer["id"], title="区县常住人口数据")
    keys = {}
    for role, user in users.items():
        with acting_as(Actor(user_id=user["id"], org_id=user["org"]["id"], label=user["email"])):
            key, secret = await identity.create_api_key(user_id=user["id"], organization_id=user["org"]["id"],
                                                        name="fuzz")
        keys[role] = (key["id"], secret)
    ids = {"asset_id": listing["asset"], "listing_id": listing["id"], "entitlement_id": order["entitlement_id"],
           "order_id": order["id"],
           "demand_id": demand["demand"]["id"], "number": 1, "org_id": holder["org"]["id"]}
    return {"users": users, "keys": keys, "ids": ids, "plan_id": plan["id"]}


class _Server:
    """uvicorn on 127.0.0.1 in the running loop; no signal handlers (the test runner owns those)."""

    def __init__(self, app) -> None:
        import uvicorn

        class Quiet(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):
                yield

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.server = Quiet(uvicorn.Config(app, host="127.0.0.1", port=self.port, lifespan="on", log_level="warning",
                                           access_log=False))
        self.url = f"http://127.0.0.1:{self.port}"

    async def __aenter__(self):
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc):
        self.server.should_exit = True
        await self.task


def _operations(schema) -> list:
    ops = [result.ok() for result in schema.get_all_operations()]
    rank = {label: i for i, label in enumerate(LAST)}
    # reads first, then writes, then the few that may take the caller's access away
    return sorted(ops, key=lambda op: (rank.get(op.label, -1), op.method.upper() != "GET", op.label))


def _describe(exc: BaseException) -> str:
    """Schemathesis's own report: each distinct failure, the response, and a curl line that reproduces it."""
    text = exc.message if isinstance(exc, BaseExceptionGroup) else f"{type(exc).__name__}: {exc}"
    notes = [note for note in getattr(exc, "__notes__", ()) if "curl" in note and note not in text]
    return "\n".join([text[:4000], *notes])


def _fuzz(base_url: str, headers: dict, world: dict) -> tuple[list[str], int]:
    """Runs in a worker thread: blocking HTTP while the test's loop serves the app."""
    import requests

    schema = schemathesis.openapi.from_url(f"{base_url}/schema/openapi.json")
    session = requests.Session()
    failures: list[str] = []
    sent = 0

    def run(strategy) -> None:
        @hsettings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                   suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        @given(case=strategy)
        def check(case):
            nonlocal sent
            session.cookies.clear()  # a registration or login must not turn the next call into a session
            sent += 1
            case.call_and_validate(base_url=base_url, session=session, headers=headers, checks=CHECKS)

        check()

    for op in _operations(schema):
        names = {p.name for p in op.path_parameters}
        strategies = [op.as_strategy(GenerationMode.POSITIVE)]
        if op.path_parameters or op.query or op.body:  # else there is nothing to make invalid
            strategies.append(op.as_strategy(GenerationMode.NEGATIVE))
        if names:
            real = {name: world["ids"][name] for name in names if name in world["ids"]}
            query = {"plan_id": world["plan_id"]} if op.label.endswith("/quote") else None
            strategies.append(op.as_strategy(GenerationMode.POSITIVE, path_parameters=real, query=query))
        for strategy in strategies:
            try:
                run(strategy)
            except (Exception, BaseExceptionGroup) as exc:  # one per operation and mode; walk on
                failures.append(f"{op.label}: {_describe(exc)}")
    return failures, sent


@pytest.mark.parametrize("who", [ANON, *ROLES])
async def test_every_operation_as_every_role(who, app, job_runtime):
    world = await _world(job_runtime)
    headers = {"Authorization": f"Bearer {world['keys'][who][1]}"} if who != ANON else {}
    async with _Server(app) as server:
        failures, sent = await asyncio.to_thread(_fuzz, server.url, headers, world)
    print(f"schemathesis as {who}: {sent} requests")  # shown with -s or -rP
    assert sent > 100
    assert not failures, f"{len(failures)} failing operation(s) as {who}:\n\n" + "\n\n".join(failures)
