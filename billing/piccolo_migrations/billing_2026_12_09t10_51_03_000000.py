"""Payments (issue 8): payment_idempotency, the Idempotency-Key of payment calls. Additive only."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-09T10:51:03:000000"
VERSION = "1.38.0"
DESCRIPTION = "payment_idempotency"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="billing", description=DESCRIPTION)
    manager.add_table(class_name="IdempotentCall", tablename="payment_idempotency", schema=None, columns=None)
    manager.add_column(table_class_name="IdempotentCall", tablename="payment_idempotency", column_name="id",
                       db_column_name="id", column_class_name="Serial", column_class=Serial,
                       params={"null": False, "primary_key": True, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}, schema=None)
    manager.add_column(table_class_name="IdempotentCall", tablename="payment_idempotency", column_name="scope",
                       db_column_name="scope", column_class_name="Varchar", column_class=Varchar,
                       params={"length": 300, "default": '', "null": False, "primary_key": False, "unique": True, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}, schema=None)
    manager.add_column(table_class_name="IdempotentCall", tablename="payment_idempotency", column_name="request_digest",
                       db_column_name="request_digest", column_class_name="Varchar", column_class=Varchar,
                       params={"length": 64, "default": '', "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}, schema=None)
    manager.add_column(table_class_name="IdempotentCall", tablename="payment_idempotency", column_name="result",
                       db_column_name="result", column_class_name="Text", column_class=Text,
                       params={"default": '', "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}, schema=None)
    manager.add_column(table_class_name="IdempotentCall", tablename="payment_idempotency", column_name="created_at",
                       db_column_name="created_at", column_class_name="Timestamptz", column_class=Timestamptz,
                       params={"default": TimestamptzNow(), "null": False, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}, schema=None)
    manager.add_column(table_class_name="IdempotentCall", tablename="payment_idempotency", column_name="done_at",
                       db_column_name="done_at", column_class_name="Timestamptz", column_class=Timestamptz,
                       params={"default": None, "null": True, "primary_key": False, "unique": False, "index": False, "index_method": IndexMethod.btree, "choices": None, "db_column_name": None, "secret": False}, schema=None)
    return manager
