"""localstripe (a stateful fake Stripe API) on loopback for tests: ``from stripe_server import localstripe``.

``localstripe()`` is a context manager yielding the base URL (``http://127.0.0.1:PORT``) of a fresh
localstripe subprocess and stopping it on exit. Its own CLI binds every interface and keeps its state
in /tmp/localstripe.pickle (shared by every run on the machine), so it is started here through aiohttp
on 127.0.0.1 with the pickle disabled: each server starts empty and leaves nothing behind.
``register_webhook(base, url, secret)`` points localstripe's signed webhooks at a URL.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator

from s3servers import free_port, wait_for_port

_SCRIPT = """
import sys
from aiohttp import web
from localstripe.resources import Store
Store.dump_to_disk = lambda self: None  # no shared /tmp/localstripe.pickle: state lives and dies here
from localstripe.server import app
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""


@contextlib.contextmanager
def localstripe() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT, str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_for_port(port, timeout=30, proc=proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


def register_webhook(base: str, url: str, secret: str, hook_id: str = "market") -> None:
    body = urllib.parse.urlencode({"url": url, "secret": secret}).encode()
    req = urllib.request.Request(f"{base}/_config/webhooks/{hook_id}", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.status == 200, resp.read()


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """A Stripe-Signature header as Stripe computes it (for replays and forgeries in tests)."""
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(event_id: str, event_type: str, obj: dict) -> bytes:
    return json.dumps({"id": event_id, "object": "event", "type": event_type, "data": {"object": obj}}).encode()
