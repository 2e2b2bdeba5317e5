"""PostgreSQL tells every listening process when an open-platform account changes, as it does for users

Revision ID: 0030_open_account_notify
Revises: 0029_job_alarm_at
Create Date: 2026-12-06 01:40:00

The caller lookup (`auth.service.load_principal`) now reads whether a session's open account is still live and
enabled, so an account disabled or deleted around the app (psql, another tool) is refused at the next request,
as a user is; a review found its tokens kept working, since nothing told the processes' kept lookups. The same
statement trigger as migration 0013's, on `sys_open_account`. Frozen names: a test checks 0013's and these
tables together against the lookup's.
"""
from alembic import op

revision = '0030_open_account_notify'
down_revision = '0029_job_alarm_at'
branch_labels = None
depends_on = None

TABLES = ("sys_open_account",)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:  # the function is migration 0013's
        op.execute(f"CREATE TRIGGER {table}_caller_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION pcloud_caller_changed()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_caller_changed ON {table}")
