"""Checks a higher package adds to submitting a listing for review, without listings importing it
(listings sits below operators): operators registers its upstream co-approval of derived products here.

A guard is `async def guard(listing: dict) -> None` and refuses by raising a DomainError; it runs after
the listing's own checklist passed and before the listing moves, outside that transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

SubmitGuard = Callable[[dict], Awaitable[None]]

_submit_guards: list[SubmitGuard] = []


def register_submit_guard(guard: SubmitGuard) -> None:
    """Add a guard (once: registering the same function again does nothing, as installs repeat)."""
    if guard not in _submit_guards:
        _submit_guards.append(guard)


async def check_submit(listing: dict) -> None:
    for guard in list(_submit_guards):
        await guard(listing)
