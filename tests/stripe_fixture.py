"""The app configured for Stripe, served on loopback next to a fresh localstripe whose signed webhooks
reach it: ``from stripe_fixture import stripe_app, wait_for`` (importing the fixture makes it usable in
the importing test module)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest_asyncio
import uvicorn

from market import runtime
from s3servers import free_port
from stripe_server import localstripe, register_webhook

SECRET = "whsec_test_market_0123456789"


@pytest_asyncio.fixture
async def stripe_app(settings, job_runtime):
    """localstripe + the app (configured for Stripe) served by uvicorn on this test's event loop, so
    it shares the database pool; localstripe's webhooks go to it."""
    from market.app import create_app

    with localstripe() as base:
        configured = replace(settings, stripe_api_key="sk_test_market", stripe_webhook_secret=SECRET,
                             stripe_api_base=base)
        app = create_app(configured, manage_db=False)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{port}"
        register_webhook(base, f"{url}/api/v1/payments/stripe/webhook", SECRET)
        try:
            yield SimpleNamespace(app=app, url=url, settings=configured, jobs=job_runtime)
        finally:
            server.should_exit = True
            await task
            runtime.configure(settings)


async def wait_for(predicate, timeout: float = 30.0) -> None:
    """Wait for something another process does (localstripe posts its webhooks ~1 s after the event)."""
    deadline = time.monotonic() + timeout
    while not await predicate():
        assert time.monotonic() < deadline, "the awaited event never happened"
        await asyncio.sleep(0.05)
