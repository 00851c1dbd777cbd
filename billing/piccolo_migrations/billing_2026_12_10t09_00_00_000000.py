from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-10T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mandate_freeze, mandate_refund_proposal"

_CLASSES = {"Serial": Serial, "Integer": Integer, "BigInt": BigInt, "Varchar": Varchar, "Timestamptz": Timestamptz}

_TABLES = {
    ("MandateFreeze", "mandate_freeze"): [
        ("id", "Serial", {"primary_key": True}),
        ("agreement_number", "Varchar", {"length": 30, "default": "", "index": True}),
        ("object_type", "Varchar", {"length": 20, "default": ""}),
        ("object_id", "Integer", {"default": 0}),
        ("previous", "Varchar", {"length": 30, "default": ""}),
        ("frozen_at", "Timestamptz", {"default": TimestamptzNow()}),
        ("lifted_at", "Timestamptz", {"default": None, "null": True}),
    ],
    ("RefundProposal", "mandate_refund_proposal"): [
        ("id", "Serial", {"primary_key": True}),
        ("agreement_number", "Varchar", {"length": 30, "default": "", "index": True}),
        ("entitlement", "Integer", {"default": 0, "index": True}),
        ("order_id", "Integer", {"default": None, "null": True}),
        ("buyer_org", "Integer", {"default": 0}),
        ("paid_fen", "BigInt", {"default": 0}),
        ("remaining_seconds", "BigInt", {"default": 0}),
        ("term_seconds", "BigInt", {"default": 0}),
        ("amount_fen", "BigInt", {"default": 0}),
        ("status", "Varchar", {"length": 20, "default": "proposed"}),
        ("created_at", "Timestamptz", {"default": TimestamptzNow()}),
    ],
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)
    for (class_name, tablename), columns in _TABLES.items():
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
        for name, kind, extra in columns:
            params = {"null": False, "primary_key": False, "unique": False, "index": False,
                      "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False,
                      **extra}
            manager.add_column(table_class_name=class_name, tablename=tablename, column_name=name,
                               db_column_name=name, column_class_name=kind, column_class=_CLASSES[kind],
                               params=params, schema=None)
    return manager
