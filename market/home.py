"""The home page (工作台): what needs the caller, as counts with the page that deals with each.

`market` may not import the packages above it (listings, operators, contracts, billing), yet those
packages know what waits for a holder, a buyer or an agency. So each one hands its panels to the
composition root (`market.app.create_app`), which registers them in a `HomePanels` kept in the app
state; the home page asks every panel whose roles meet the caller's. Nothing here is global: each
app has its own registry.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from market.i18n import N_
from market.identity import Principal


@dataclass(frozen=True)
class Item:
    """One thing waiting: how many, and where to deal with them."""

    key: str  # stable name (the page's data-testid)
    label: str  # Chinese msgid, translated when shown: mark it with N_()
    count: int
    href: str
    examples: tuple[tuple[str, str], ...] = ()  # a few (title, href) of the newest, to go straight there


Provider = Callable[[Principal], Awaitable[list[Item]]]


@dataclass(frozen=True)
class Panel:
    key: str
    title: str  # Chinese msgid (N_)
    roles: frozenset[str]
    provider: Provider = field(compare=False)


class HomePanels:
    """The panels of one app, in the order they were registered."""

    def __init__(self) -> None:
        self._panels: list[Panel] = []

    def register(self, *, key: str, title: str, roles: tuple[str, ...] | frozenset[str], provider: Provider) -> None:
        if any(p.key == key for p in self._panels):
            raise ValueError(f"home panel {key!r} is registered twice")
        self._panels.append(Panel(key=key, title=title, roles=frozenset(roles), provider=provider))

    def keys(self) -> list[str]:
        return [p.key for p in self._panels]

    async def for_principal(self, principal: Principal) -> list[tuple[Panel, list[Item]]]:
        """The panels this caller's roles may see, each with its items (computed now)."""
        out = []
        for panel in self._panels:
            if panel.roles & principal.roles:
                out.append((panel, await panel.provider(principal)))
        return out


# ---- market's own panels ----------------------------------------------------------------------


async def _platform_items(principal: Principal) -> list[Item]:
    from market.tables import Organization

    pending = await Organization.count().where(Organization.verification == "pending")
    return [Item("orgs_pending", N_("待审核的机构"), pending, "/admin/organizations")]


async def _oversight_items(principal: Principal) -> list[Item]:
    from market.tables import AuditEvent

    # the head's sequence number is the chain's length (no gaps), read through the unique index
    head = await AuditEvent.select(AuditEvent.seq).order_by(AuditEvent.seq, ascending=False).first()
    return [Item("audit_events", N_("审计链事件（点击核验）"), head["seq"] if head else 0, "/audit?check=1")]


def register(panels: HomePanels) -> None:
    """market's panels: organizations waiting for the admin, the audit chain for overseers."""
    panels.register(key="platform", title=N_("平台待办"), roles=("admin",), provider=_platform_items)
    panels.register(key="oversight", title=N_("监管"), roles=("regulator", "admin"), provider=_oversight_items)
