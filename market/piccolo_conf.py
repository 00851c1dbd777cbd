"""Piccolo's configuration module (PICCOLO_CONF=market.piccolo_conf).

`DB` is resolved lazily from the engine the process bound at start-up, so importing this module
reads no settings; the app registry lists one Piccolo app per domain package, in dependency order.
"""

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(
    apps=[
        "market.piccolo_app",
        "listings.piccolo_app",
        "operators.piccolo_app",
        "contracts.piccolo_app",
        "billing.piccolo_app",
    ]
)


def __getattr__(name: str):
    if name == "DB":
        from market import db

        return db.engine()
    raise AttributeError(name)
