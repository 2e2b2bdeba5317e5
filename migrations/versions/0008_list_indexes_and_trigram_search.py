"""list indexes without a misleading one, and trigram keyword search

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-29 00:50:00

- sys_user: drop ix_sys_user_deleted_at (without statistics SQLite chose it for the first page and
  sorted every live user); add the live (state, created, id) index for the state filter; the live
  indexes carry deleted_at so SQLite reads them as covering (no table row per entry).
- sys_user_role: (role_id, user_id), so a role's members come from the index alone.
- sys_action_log: (created, id) and (user_id, created, id), so newest-first pages, unfiltered or by
  operator and time range, are read in index order.
- Keyword search (issue 12): SQLite FTS5 `trigram` tables kept in step by triggers; PostgreSQL
  pg_trgm GIN indexes. Frozen SQL (pcloud.core.search builds the same statements).
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0006'
branch_labels = None
depends_on = None

LIVE = {"sqlite_where": sa.text('deleted_at IS NULL'), "postgresql_where": sa.text('deleted_at IS NULL')}

SQLITE_UP = [
    "CREATE VIRTUAL TABLE sys_user_fts USING fts5(name, phone, content='sys_user', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER sys_user_fts_ai AFTER INSERT ON sys_user BEGIN INSERT INTO sys_user_fts(rowid, name, phone) "
    "VALUES (new.id, new.name, new.phone); END",
    "CREATE TRIGGER sys_user_fts_ad AFTER DELETE ON sys_user BEGIN INSERT INTO sys_user_fts(sys_user_fts, rowid, "
    "name, phone) VALUES ('delete', old.id, old.name, old.phone); END",
    "CREATE TRIGGER sys_user_fts_au AFTER UPDATE OF name, phone ON sys_user BEGIN INSERT INTO "
    "sys_user_fts(sys_user_fts, rowid, name, phone) VALUES ('delete', old.id, old.name, old.phone); "
    "INSERT INTO sys_user_fts(rowid, name, phone) VALUES (new.id, new.name, new.phone); END",
    "INSERT INTO sys_user_fts(sys_user_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE sys_action_log_fts USING fts5(name, path, content='sys_action_log', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER sys_action_log_fts_ai AFTER INSERT ON sys_action_log BEGIN INSERT INTO "
    "sys_action_log_fts(rowid, name, path) VALUES (new.id, new.name, new.path); END",
    "CREATE TRIGGER sys_action_log_fts_ad AFTER DELETE ON sys_action_log BEGIN INSERT INTO "
    "sys_action_log_fts(sys_action_log_fts, rowid, name, path) VALUES ('delete', old.id, old.name, old.path); END",
    "CREATE TRIGGER sys_action_log_fts_au AFTER UPDATE OF name, path ON sys_action_log BEGIN INSERT INTO "
    "sys_action_log_fts(sys_action_log_fts, rowid, name, path) VALUES ('delete', old.id, old.name, old.path); "
    "INSERT INTO sys_action_log_fts(rowid, name, path) VALUES (new.id, new.name, new.path); END",
    "INSERT INTO sys_action_log_fts(sys_action_log_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS sys_user_fts_ai", "DROP TRIGGER IF EXISTS sys_user_fts_ad",
    "DROP TRIGGER IF EXISTS sys_user_fts_au", "DROP TABLE IF EXISTS sys_user_fts",
    "DROP TRIGGER IF EXISTS sys_action_log_fts_ai", "DROP TRIGGER IF EXISTS sys_action_log_fts_ad",
    "DROP TRIGGER IF EXISTS sys_action_log_fts_au", "DROP TABLE IF EXISTS sys_action_log_fts",
]
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_sys_user_name_trgm ON sys_user USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_sys_user_phone_trgm ON sys_user USING gin (phone gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_sys_action_log_name_trgm ON sys_action_log USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_sys_action_log_path_trgm ON sys_action_log USING gin (path gin_trgm_ops)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_sys_user_name_trgm", "DROP INDEX IF EXISTS ix_sys_user_phone_trgm",
    "DROP INDEX IF EXISTS ix_sys_action_log_name_trgm", "DROP INDEX IF EXISTS ix_sys_action_log_path_trgm",
]


def upgrade():
    with op.batch_alter_table('sys_user', schema=None) as batch_op:
        batch_op.drop_index('ix_sys_user_deleted_at')
        batch_op.drop_index('ix_sys_user_live_created', **LIVE)
        batch_op.drop_index('ix_sys_user_live_dept_created', **LIVE)
        batch_op.create_index('ix_sys_user_live_created', ['gmt_created_date', 'id', 'deleted_at'], unique=False,
                              **LIVE)
        batch_op.create_index('ix_sys_user_live_dept_created', ['dept_id', 'gmt_created_date', 'id', 'deleted_at'],
                              unique=False, **LIVE)
        batch_op.create_index('ix_sys_user_live_state_created', ['state', 'gmt_created_date', 'id', 'deleted_at'],
                              unique=False, **LIVE)
    with op.batch_alter_table('sys_user_role', schema=None) as batch_op:
        batch_op.drop_index('ix_sys_user_role_role_id')
        batch_op.create_index('ix_sys_user_role_role_user', ['role_id', 'user_id'], unique=False)
    with op.batch_alter_table('sys_action_log', schema=None) as batch_op:
        batch_op.drop_index('ix_sys_action_log_created')
        batch_op.drop_index('ix_sys_action_log_user_created')
        batch_op.create_index('ix_sys_action_log_created_id', ['gmt_created_date', 'id'], unique=False)
        batch_op.create_index('ix_sys_action_log_user_created_id', ['user_id', 'gmt_created_date', 'id'],
                              unique=False)
    for sql in (SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP):
        op.execute(sql)


def downgrade():
    # The extension stays: other objects may use it, and dropping it needs more rights than creating.
    for sql in (SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN):
        op.execute(sql)
    with op.batch_alter_table('sys_action_log', schema=None) as batch_op:
        batch_op.drop_index('ix_sys_action_log_user_created_id')
        batch_op.drop_index('ix_sys_action_log_created_id')
        batch_op.create_index('ix_sys_action_log_user_created', ['user_id', 'gmt_created_date'], unique=False)
        batch_op.create_index('ix_sys_action_log_created', ['gmt_created_date'], unique=False)
    with op.batch_alter_table('sys_user_role', schema=None) as batch_op:
        batch_op.drop_index('ix_sys_user_role_role_user')
        batch_op.create_index('ix_sys_user_role_role_id', ['role_id'], unique=False)
    with op.batch_alter_table('sys_user', schema=None) as batch_op:
        batch_op.drop_index('ix_sys_user_live_state_created', **LIVE)
        batch_op.drop_index('ix_sys_user_live_dept_created', **LIVE)
        batch_op.drop_index('ix_sys_user_live_created', **LIVE)
        batch_op.create_index('ix_sys_user_live_dept_created', ['dept_id', 'gmt_created_date', 'id'], unique=False,
                              **LIVE)
        batch_op.create_index('ix_sys_user_live_created', ['gmt_created_date', 'id'], unique=False, **LIVE)
        batch_op.create_index('ix_sys_user_deleted_at', ['deleted_at'], unique=False)
