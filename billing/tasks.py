"""Jobs of billing's own modules that have no tasks module of their own (market.app discovers this one)."""

from billing.oversight import tasks as oversight_tasks  # noqa: F401  registers the desk's scan and event handler
