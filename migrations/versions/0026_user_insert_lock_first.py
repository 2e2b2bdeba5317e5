"""a statement that adds users takes the kept counts' lock before its rows go in (PostgreSQL)

Revision ID: 0026_user_insert_lock_first
Revises: 0025_login_log_indexes
Create Date: 2026-12-05 13:30:00

The counts' triggers (migration 0009) take their advisory lock after the statement, when its rows, and
their phones in the unique index, are already in. An import holds that lock from its first batch on; a
create of a phone the import has yet to reach claimed the phone, then waited for the lock, while the
import's later batch waited for the create's phone: a deadlock, which PostgreSQL ends by failing one of
them (a 503 to its user). A BEFORE INSERT statement trigger now takes the same lock first, so the create
waits before claiming anything, and then finds the phone taken (a 409). The lock is the one the AFTER
trigger takes anyway; it is only held a little earlier. SQLite serialises writers: nothing to do there.
"""
from alembic import op

revision = '0026_user_insert_lock_first'
down_revision = '0025_login_log_indexes'
branch_labels = None
depends_on = None

# the advisory key of migration 0009 ("tally" in ASCII)
UP = [
    "CREATE OR REPLACE FUNCTION sys_user_tally_lock() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "PERFORM pg_advisory_xact_lock(499850701945); RETURN NULL; END $$",
    "CREATE TRIGGER sys_user_tally_user_lock BEFORE INSERT ON sys_user FOR EACH STATEMENT "
    "EXECUTE FUNCTION sys_user_tally_lock()",
]
DOWN = [
    "DROP TRIGGER IF EXISTS sys_user_tally_user_lock ON sys_user",
    "DROP FUNCTION IF EXISTS sys_user_tally_lock()",
]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        for sql in UP:
            op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for sql in DOWN:
            op.execute(sql)
