"""notices (sys_notice, audiences, read receipts) and cloud storage settings (sys_storage)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 01:10:00

通知公告 (issue 22 item 6): a notice with its audience (everyone, roles, departments with their subtrees) and
one read receipt per user. Every page's bell counts the caller's unread published notices, so the published
live notices are indexed by (status, published_at, deleted_at) and receipts by (user_id, notice_id).
云上传 settings (issue 25): named storages of an allow-listed type and bucket; the one storage there is, the
database, is created by setup (`pcloud init`: uploads.service.ensure_default_storage).
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def _audit():
    return [
        sa.Column('gmt_created_date', sa.DateTime(), nullable=False),
        sa.Column('gmt_created_id', sa.Integer(), nullable=True),
        sa.Column('gmt_created_name', sa.String(length=64), nullable=True),
        sa.Column('gmt_modified_date', sa.DateTime(), nullable=False),
        sa.Column('gmt_modified_name', sa.String(length=64), nullable=True),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
    ]


def upgrade():
    op.create_table(
        'sys_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=100), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('notice_type', sa.Integer(), server_default='1', nullable=False),
        sa.Column('status', sa.Integer(), server_default='0', nullable=False),
        sa.Column('audience_all', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('published_at', sa.DateTime(), nullable=True),
        *_audit(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_notice')),
        sqlite_autoincrement=True,  # ids never reused (migration 0011)
    )
    op.create_index('ix_sys_notice_status_published', 'sys_notice', ['status', 'published_at', 'deleted_at'])
    op.create_table(
        'sys_notice_role',
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('role_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['notice_id'], ['sys_notice.id'], name=op.f('fk_sys_notice_role_notice_id_sys_notice'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('notice_id', 'role_id', name=op.f('pk_sys_notice_role')),
    )
    op.create_index('ix_sys_notice_role_role', 'sys_notice_role', ['role_id', 'notice_id'])
    op.create_table(
        'sys_notice_dept',
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('dept_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['notice_id'], ['sys_notice.id'], name=op.f('fk_sys_notice_dept_notice_id_sys_notice'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('notice_id', 'dept_id', name=op.f('pk_sys_notice_dept')),
    )
    op.create_index('ix_sys_notice_dept_dept', 'sys_notice_dept', ['dept_id', 'notice_id'])
    op.create_table(
        'sys_notice_read',
        sa.Column('notice_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['notice_id'], ['sys_notice.id'], name=op.f('fk_sys_notice_read_notice_id_sys_notice'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('notice_id', 'user_id', name=op.f('pk_sys_notice_read')),
    )
    op.create_index('ix_sys_notice_read_user', 'sys_notice_read', ['user_id', 'notice_id'])
    op.create_table(
        'sys_storage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('type', sa.String(length=16), nullable=False),
        sa.Column('bucket_name', sa.String(length=64), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_storage')),
        sqlite_autoincrement=True,  # ids never reused (migration 0011)
    )
    op.create_index('uq_sys_storage_name_live', 'sys_storage', ['name'], unique=True,
                    sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade():
    op.drop_index('uq_sys_storage_name_live', table_name='sys_storage')
    op.drop_table('sys_storage')
    op.drop_index('ix_sys_notice_read_user', table_name='sys_notice_read')
    op.drop_table('sys_notice_read')
    op.drop_index('ix_sys_notice_dept_dept', table_name='sys_notice_dept')
    op.drop_table('sys_notice_dept')
    op.drop_index('ix_sys_notice_role_role', table_name='sys_notice_role')
    op.drop_table('sys_notice_role')
    op.drop_index('ix_sys_notice_status_published', table_name='sys_notice')
    op.drop_table('sys_notice')
