"""the login log (sys_login_log) and a public id per session (auth_session.public_id)

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-04 23:00:00

Issue 22 (1, 2): every sign-in attempt, sign-out, forced offline and expiry as a row of its own; the online
list names a session by an opaque public id, never its token or the token's hash. Sessions already open get
a random id here (hex of 12 random bytes, the same shape `pcloud.sessions.service.open_session` gives).
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0010'
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
    )
    op.create_index('ix_sys_login_log_at_id', 'sys_login_log', ['signed_in_at', 'id'])
    op.create_index('ix_sys_login_log_phone_at', 'sys_login_log', ['phone', 'signed_in_at', 'id'])
    op.create_index('ix_sys_login_log_ip_at', 'sys_login_log', ['client_ip', 'signed_in_at', 'id'])
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
    op.drop_index('ix_sys_login_log_ip_at', table_name='sys_login_log')
    op.drop_index('ix_sys_login_log_phone_at', table_name='sys_login_log')
    op.drop_index('ix_sys_login_log_at_id', table_name='sys_login_log')
    op.drop_table('sys_login_log')
