"""the mail's and the notices' title keywords through the trigram search of 0008

Revision ID: 0033_mail_notice_trigram
Revises: 0032_form_submission
Create Date: 2026-12-06 06:40:00

An outside review found the 站内信 list's title filter ("contains") reading the whole mail table: a title that
matches nothing reads every row to count them, then every row again for the page. sys_mail grows with every
mail sent, sys_notice with every notice, and neither is pruned. Both titles join pcloud.core.search.SEARCHED,
as the users' name and phone and the operation log's name and path did in 0008:
- SQLite: an FTS5 `trigram` table per table (external content), kept in step by triggers and filled here from
  the rows already there ('rebuild').
- PostgreSQL: a pg_trgm GIN index per title (built from the rows already there), which serves LIKE '%kw%' itself.
  The extension comes from 0008.
Frozen SQL (pcloud.core.search builds the same statements).

Both lists are read newest first (creation time, then id): sys_notice had no index on its creation time (every
page sorted the whole table) and sys_mail's held the time alone (PostgreSQL sorted each page's ties by id). Both now
have (gmt_created_date, id), as the operation log's ix_sys_action_log_created_id (0008).

A later SQLite batch migration that rebuilds sys_mail or sys_notice drops these triggers with the table: re-run
the SQL sqlite_master held for them, as 0011 does for sys_user's.
"""
from alembic import op

revision = '0033_mail_notice_trigram'
down_revision = '0032_form_submission'
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE sys_mail_fts USING fts5(name, content='sys_mail', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER sys_mail_fts_ai AFTER INSERT ON sys_mail BEGIN INSERT INTO sys_mail_fts(rowid, name) "
    "VALUES (new.id, new.name); END",
    "CREATE TRIGGER sys_mail_fts_ad AFTER DELETE ON sys_mail BEGIN INSERT INTO sys_mail_fts(sys_mail_fts, rowid, "
    "name) VALUES ('delete', old.id, old.name); END",
    "CREATE TRIGGER sys_mail_fts_au AFTER UPDATE OF name ON sys_mail BEGIN INSERT INTO sys_mail_fts(sys_mail_fts, "
    "rowid, name) VALUES ('delete', old.id, old.name); INSERT INTO sys_mail_fts(rowid, name) "
    "VALUES (new.id, new.name); END",
    "INSERT INTO sys_mail_fts(sys_mail_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE sys_notice_fts USING fts5(title, content='sys_notice', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER sys_notice_fts_ai AFTER INSERT ON sys_notice BEGIN INSERT INTO sys_notice_fts(rowid, title) "
    "VALUES (new.id, new.title); END",
    "CREATE TRIGGER sys_notice_fts_ad AFTER DELETE ON sys_notice BEGIN INSERT INTO sys_notice_fts(sys_notice_fts, "
    "rowid, title) VALUES ('delete', old.id, old.title); END",
    "CREATE TRIGGER sys_notice_fts_au AFTER UPDATE OF title ON sys_notice BEGIN INSERT INTO "
    "sys_notice_fts(sys_notice_fts, rowid, title) VALUES ('delete', old.id, old.title); "
    "INSERT INTO sys_notice_fts(rowid, title) VALUES (new.id, new.title); END",
    "INSERT INTO sys_notice_fts(sys_notice_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS sys_mail_fts_ai", "DROP TRIGGER IF EXISTS sys_mail_fts_ad",
    "DROP TRIGGER IF EXISTS sys_mail_fts_au", "DROP TABLE IF EXISTS sys_mail_fts",
    "DROP TRIGGER IF EXISTS sys_notice_fts_ai", "DROP TRIGGER IF EXISTS sys_notice_fts_ad",
    "DROP TRIGGER IF EXISTS sys_notice_fts_au", "DROP TABLE IF EXISTS sys_notice_fts",
]
POSTGRES_UP = [
    "CREATE INDEX IF NOT EXISTS ix_sys_mail_name_trgm ON sys_mail USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS ix_sys_notice_title_trgm ON sys_notice USING gin (title gin_trgm_ops)",
]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_sys_mail_name_trgm", "DROP INDEX IF EXISTS ix_sys_notice_title_trgm"]


def upgrade():
    op.drop_index('ix_sys_mail_created', table_name='sys_mail')
    op.create_index('ix_sys_mail_created_id', 'sys_mail', ['gmt_created_date', 'id'], unique=False)
    op.create_index('ix_sys_notice_created_id', 'sys_notice', ['gmt_created_date', 'id'], unique=False)
    for sql in (SQLITE_UP if op.get_bind().dialect.name == "sqlite" else POSTGRES_UP):
        op.execute(sql)


def downgrade():
    for sql in (SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else POSTGRES_DOWN):
        op.execute(sql)
    op.drop_index('ix_sys_notice_created_id', table_name='sys_notice')
    op.drop_index('ix_sys_mail_created_id', table_name='sys_mail')
    op.create_index('ix_sys_mail_created', 'sys_mail', ['gmt_created_date'], unique=False)
