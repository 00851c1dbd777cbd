from enum import Enum

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-12-10T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sandbox: per-listing review policy and the query log"


def _stub(name: str, tablename: str) -> type[Table]:
    return type(name, (Table,), {"id": Serial(primary_key=True)}, tablename=tablename)


Entitlement = _stub("Entitlement", "entitlement")
Listing = _stub("Listing", "listing")
Organization = _stub("Organization", "organization")
User = _stub("User", "market_user")


def _params(**overrides) -> dict:
    return {"null": False, "primary_key": False, "unique": False, "index": False,
            "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False,
            **overrides}


def _fk(references: type[Table], **overrides) -> tuple:
    return ForeignKey, _params(references=references, on_delete=OnDelete.cascade, on_update=OnUpdate.cascade,
                               target_column=None, **overrides)


POLICY = {
    "id": (Serial, _params(primary_key=True)),
    "listing": _fk(Listing, unique=True),
    "review_required": (Boolean, _params(default=False)),
    "updated_by": _fk(User, null=True),
    "updated_at": (Timestamptz, _params(default=TimestamptzNow())),
}

QUERY = {
    "id": (Serial, _params(primary_key=True)),
    "entitlement": _fk(Entitlement, index=True),
    "listing": _fk(Listing, index=True),
    "buyer": _fk(Organization, index=True),
    "user": _fk(User),
    "via": (Varchar, _params(length=10, default="session")),
    "version": (Integer, _params(default=0)),
    "sql": (Text, _params(default="")),
    "fingerprint": (Varchar, _params(length=40, default="", index=True)),
    "near_duplicate": (Boolean, _params(default=False)),
    "day": (Varchar, _params(length=10, default="", index=True)),
    "decision": (Varchar, _params(length=20, default="")),
    "code": (Varchar, _params(length=60, default="")),
    "message": (Text, _params(default="")),
    "columns": (Text, _params(default="[]")),
    "rows": (Text, _params(default="[]")),
    "row_count": (Integer, _params(default=0)),
    "suppressed": (Integer, _params(default=0)),
    "k": (Integer, _params(default=0)),
    "duration_ms": (Integer, _params(default=0)),
    "release": (Varchar, _params(length=20, default="withheld", index=True, choices=Enum("ReleaseStatus", {
        "WITHHELD": "withheld", "PENDING": "pending", "RELEASED": "released", "REJECTED": "rejected"}))),
    "review_note": (Text, _params(default="")),
    "reviewed_by": _fk(User, null=True),
    "reviewed_at": (Timestamptz, _params(null=True, default=None)),
    "downloads": (Integer, _params(default=0)),
    "created_at": (Timestamptz, _params(default=TimestamptzNow())),
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="listings", description=DESCRIPTION)
    for class_name, tablename, columns in (("SandboxPolicy", "sandbox_policy", POLICY),
                                           ("SandboxQuery", "sandbox_query", QUERY)):
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, (column_class, params) in columns.items():
            manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name,
                               db_column_name=name, column_class_name=column_class.__name__,
                               column_class=column_class, params=params, schema=None)
    return manager
