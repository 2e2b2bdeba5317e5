"""the login log's phone keyword through its distinct phones, and an index for one outcome over a time range

Revision ID: 0025_login_log_indexes
Revises: 0024_dict_item_label_en
Create Date: 2026-12-05 04:00:00

Issue 22 item 8 (the login log's lists hold at a million rows as the operation log's do):
- sys_login_log_phone: every distinct phone (or secureId) of the log, kept by triggers on sys_login_log (so every
  writer keeps it, bulk loads included) and filled here from the rows already there. The phone keyword
  ("contains") is matched among these few values, then the log is read through ix_sys_login_log_phone_at.
  The trigram index over the log's phone (migration 0014) goes: a few thousand phones of digits repeated over a
  million rows make every trigram common, so it intersected long lists (the bench: 0.11 of the 10k rate).
- ix_sys_login_log_result_at (result, signed_in_at, id): a day's failures read from their own index range
  instead of every row of the day.
"""
from alembic import op
import sqlalchemy as sa

revision = '0025_login_log_indexes'
down_revision = '0024_dict_item_label_en'
branch_labels = None
depends_on = None

# SQLite: row triggers (writers are serialised). NOT EXISTS rather than INSERT OR IGNORE: an outer statement's
# conflict clause would override the trigger's.
SQLITE_UP = [
    "CREATE TRIGGER sys_login_log_phone_ai AFTER INSERT ON sys_login_log WHEN new.phone IS NOT NULL BEGIN "
    "INSERT INTO sys_login_log_phone (phone) SELECT new.phone WHERE NOT EXISTS "
    "(SELECT 1 FROM sys_login_log_phone WHERE phone = new.phone); END",
    "CREATE TRIGGER sys_login_log_phone_au AFTER UPDATE OF phone ON sys_login_log WHEN new.phone IS NOT NULL BEGIN "
    "INSERT INTO sys_login_log_phone (phone) SELECT new.phone WHERE NOT EXISTS "
    "(SELECT 1 FROM sys_login_log_phone WHERE phone = new.phone); END",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS sys_login_log_phone_ai", "DROP TRIGGER IF EXISTS sys_login_log_phone_au"]
# PostgreSQL: statement triggers over the transition table (a bulk INSERT ... SELECT of a million rows costs one
# DISTINCT, not a million upserts); ON CONFLICT: two sign-ins of a new phone at once. Sorted: concurrent
# multi-row writers take the same keys in the same order.
_PG_KEEP = ("INSERT INTO sys_login_log_phone (phone) SELECT DISTINCT phone FROM new_rows WHERE phone IS NOT NULL "
            "ORDER BY phone ON CONFLICT (phone) DO NOTHING")
POSTGRES_UP = [
    "CREATE OR REPLACE FUNCTION sys_login_log_phone_keep() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"{_PG_KEEP}; RETURN NULL; END $$",
    "CREATE TRIGGER sys_login_log_phone_ins AFTER INSERT ON sys_login_log REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION sys_login_log_phone_keep()",
    "CREATE TRIGGER sys_login_log_phone_upd AFTER UPDATE ON sys_login_log REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION sys_login_log_phone_keep()",
]
POSTGRES_DOWN = ["DROP TRIGGER IF EXISTS sys_login_log_phone_ins ON sys_login_log",
                 "DROP TRIGGER IF EXISTS sys_login_log_phone_upd ON sys_login_log",
                 "DROP FUNCTION IF EXISTS sys_login_log_phone_keep()"]

# Migration 0014's trigram search over the log's phone (frozen copies), dropped here, made again on downgrade.
OLD_SQLITE_UP = [
    "CREATE VIRTUAL TABLE sys_login_log_fts USING fts5(phone, content='sys_login_log', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER sys_login_log_fts_ai AFTER INSERT ON sys_login_log BEGIN INSERT INTO "
    "sys_login_log_fts(rowid, phone) VALUES (new.id, new.phone); END",
    "CREATE TRIGGER sys_login_log_fts_ad AFTER DELETE ON sys_login_log BEGIN INSERT INTO "
    "sys_login_log_fts(sys_login_log_fts, rowid, phone) VALUES ('delete', old.id, old.phone); END",
    "CREATE TRIGGER sys_login_log_fts_au AFTER UPDATE OF phone ON sys_login_log BEGIN INSERT INTO "
    "sys_login_log_fts(sys_login_log_fts, rowid, phone) VALUES ('delete', old.id, old.phone); "
    "INSERT INTO sys_login_log_fts(rowid, phone) VALUES (new.id, new.phone); END",
    "INSERT INTO sys_login_log_fts(sys_login_log_fts) VALUES ('rebuild')",
]
OLD_SQLITE_DOWN = ["DROP TRIGGER IF EXISTS sys_login_log_fts_ai", "DROP TRIGGER IF EXISTS sys_login_log_fts_ad",
                   "DROP TRIGGER IF EXISTS sys_login_log_fts_au", "DROP TABLE IF EXISTS sys_login_log_fts"]
OLD_POSTGRES_UP = ["CREATE INDEX IF NOT EXISTS ix_sys_login_log_phone_trgm ON sys_login_log USING gin "
                   "(phone gin_trgm_ops)"]
OLD_POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_sys_login_log_phone_trgm"]


def upgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.create_table(
        'sys_login_log_phone',
        sa.Column('phone', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('phone', name=op.f('pk_sys_login_log_phone')),
    )
    op.execute("INSERT INTO sys_login_log_phone (phone) SELECT DISTINCT phone FROM sys_login_log "
               "WHERE phone IS NOT NULL")
    for statement in SQLITE_UP if sqlite else POSTGRES_UP:
        op.execute(statement)
    for statement in OLD_SQLITE_DOWN if sqlite else OLD_POSTGRES_DOWN:
        op.execute(statement)
    op.create_index('ix_sys_login_log_result_at', 'sys_login_log', ['result', 'signed_in_at', 'id'])


def downgrade():
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.drop_index('ix_sys_login_log_result_at', table_name='sys_login_log')
    for statement in OLD_SQLITE_UP if sqlite else OLD_POSTGRES_UP:
        op.execute(statement)
    for statement in SQLITE_DOWN if sqlite else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_table('sys_login_log_phone')
