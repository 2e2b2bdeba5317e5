"""the login log (sys_login_log) and a public id per session (auth_session.public_id)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 23:00:00

Issue 22 (1, 2): every sign-in attempt, sign-out, forced offline and expiry as a row of its own; the online
list names a session by an opaque public id, never its token or the token's hash. Sessions already open get
a random id here (hex of 12 random bytes, the same shape `pcloud.sessions.service.open_session` gives).
"""
from alembic import op
import sqlalchemy as sa

# The phone filter's trigram search, as migration 0008 made the operation log's (frozen copies of what
# pcloud.core.search builds for SEARCHED["sys_login_log"]).
SQLITE_UP = [
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
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS sys_login_log_fts_ai", "DROP TRIGGER IF EXISTS sys_login_log_fts_ad",
               "DROP TRIGGER IF EXISTS sys_login_log_fts_au", "DROP TABLE IF EXISTS sys_login_log_fts"]
POSTGRES_UP = ["CREATE INDEX IF NOT EXISTS ix_sys_login_log_phone_trgm ON sys_login_log USING gin (phone gin_trgm_ops)"]
POSTGRES_DOWN = ["DROP INDEX IF EXISTS ix_sys_login_log_phone_trgm"]


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sys_login_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=8), nullable=False),
        sa.Column('grant_type', sa.String(length=8), nullable=True),
        sa.Column('result', sa.SmallInteger(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=True),
        sa.Column('phone', sa.String(length=64), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('client_ip', sa.String(length=64), nullable=True),
        sa.Column('user_agent', sa.String(length=255), nullable=True),
        sa.Column('browser', sa.String(length=64), nullable=True),
        sa.Column('os', sa.String(length=64), nullable=True),
        sa.Column('signed_in_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_login_log')),
        sqlite_autoincrement=True,  # ids never reused (migration 0011)
    )
    op.create_index('ix_sys_login_log_at_id', 'sys_login_log', ['signed_in_at', 'id'])
    op.create_index('ix_sys_login_log_phone_at', 'sys_login_log', ['phone', 'signed_in_at', 'id'])
    op.create_index('ix_sys_login_log_ip_at', 'sys_login_log', ['client_ip', 'signed_in_at', 'id'])
    for statement in SQLITE_UP if op.get_bind().dialect.name == 'sqlite' else POSTGRES_UP:
        op.execute(statement)
    with op.batch_alter_table('auth_session') as batch:
        batch.add_column(sa.Column('public_id', sa.String(length=24), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        op.execute("UPDATE auth_session SET public_id = lower(hex(randomblob(12))) WHERE public_id IS NULL")
    else:
        op.execute("UPDATE auth_session SET public_id = substr(md5(random()::text || id::text), 1, 24) "
                   "WHERE public_id IS NULL")
    op.create_index('ux_auth_session_public_id', 'auth_session', ['public_id'], unique=True)


def downgrade():
    op.drop_index('ux_auth_session_public_id', table_name='auth_session')
    with op.batch_alter_table('auth_session') as batch:
        batch.drop_column('public_id')
    for statement in SQLITE_DOWN if op.get_bind().dialect.name == 'sqlite' else POSTGRES_DOWN:
        op.execute(statement)
    op.drop_index('ix_sys_login_log_ip_at', table_name='sys_login_log')
    op.drop_index('ix_sys_login_log_phone_at', table_name='sys_login_log')
    op.drop_index('ix_sys_login_log_at_id', table_name='sys_login_log')
    op.drop_table('sys_login_log')
