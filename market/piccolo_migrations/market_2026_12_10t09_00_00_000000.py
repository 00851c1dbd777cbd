"""API keys get a scope: "" for an organization's key, "entitlement:<id>" for a key that only reads one
entitlement's data (issue 10). Additive: existing keys keep scope "" and behave as before."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-10T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "api_key.scope"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="market", description=DESCRIPTION)
    manager.add_column(
        table_class_name="ApiKey", tablename="api_key", column_name="scope", db_column_name="scope",
        column_class_name="Varchar", column_class=Varchar,
        params={"length": 60, "default": "", "null": False, "primary_key": False, "unique": False, "index": False,
                "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False},
        schema=None,
    )
    return manager
