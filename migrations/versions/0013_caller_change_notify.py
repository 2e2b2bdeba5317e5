"""PostgreSQL tells every listening process when a table of the caller lookup changes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 22:10:00

A statement trigger on each table `auth.service.load_principal` reads sends NOTIFY pcloud_caller; it is
delivered at commit to every process (of every host) listening, whose `CallerCache` then drops what it
kept (issue 20). One notification per transaction (PostgreSQL folds equal ones). SQLite needs none: a
process sees any commit to the file in its data version. Frozen names: a test checks them against
the lookup's tables.
"""
from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

CHANNEL = "pcloud_caller"
TABLES = ("auth_session", "sys_perm_version", "sys_role", "sys_user", "sys_user_role")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE OR REPLACE FUNCTION pcloud_caller_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_caller_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION pcloud_caller_changed()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_caller_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS pcloud_caller_changed()")
