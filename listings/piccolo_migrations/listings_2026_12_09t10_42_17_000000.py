from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-09T10:42:17:000000"
VERSION = "1.38.0"
DESCRIPTION = "entitlement quantity and call quota (an order may buy several periods or packs)"

_PARAMS = {
    "null": False,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="listings", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Entitlement", tablename="entitlement", column_name="quantity",
        db_column_name="quantity", column_class_name="Integer", column_class=Integer,
        params={"default": 1, **_PARAMS}, schema=None,
    )
    manager.add_column(
        table_class_name="Entitlement", tablename="entitlement", column_name="calls",
        db_column_name="calls", column_class_name="BigInt", column_class=BigInt,
        params={"default": 0, **_PARAMS}, schema=None,
    )
    return manager
