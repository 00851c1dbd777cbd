"""Who is acting and for which request: set by the web layer, the CLI or a job, read by audit."""

from __future__ import annotations

import contextlib
import contextvars
import itertools
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    org_id: int | None = None
    label: str = "system"  # e-mail, "api-key:<prefix>", "system", "cli"
    roles: frozenset[str] = field(default_factory=frozenset)
    request_id: str = ""

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


SYSTEM = Actor()

_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("market_actor", default=SYSTEM)


def current_actor() -> Actor:
    return _actor.get()


def set_actor(actor: Actor) -> contextvars.Token:
    return _actor.set(actor)


def reset_actor(token: contextvars.Token) -> None:
    _actor.reset(token)


@contextlib.contextmanager
def acting_as(actor: Actor):
    token = _actor.set(actor)
    try:
        yield actor
    finally:
        _actor.reset(token)


_PROCESS = uuid.uuid4().hex[:8]
_counter = itertools.count(1)


def new_request_id() -> str:
    """Unique per process start and request; cheap, because it is made on every request."""
    return f"{_PROCESS}-{next(_counter):x}"
