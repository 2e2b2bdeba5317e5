"""executor permissions: the executors each role reaches (sys_role_job_group)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05 00:45:00

Issue 23 (1): a role's `jobGroupIds`. No row for a role: every executor (for a role granted the job routes).
A link table with a two-column key, as the grant tables are (no id of its own to keep from reuse).
"""
from alembic import op
import sqlalchemy as sa

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sys_role_job_group',
        sa.Column('role_id', sa.Integer(), nullable=False),
        sa.Column('job_group_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['role_id'], ['sys_role.id'], name=op.f('fk_sys_role_job_group_role_id_sys_role'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['job_group_id'], ['job_group.id'],
                                name=op.f('fk_sys_role_job_group_job_group_id_job_group'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('role_id', 'job_group_id', name=op.f('pk_sys_role_job_group')),
    )


def downgrade():
    op.drop_table('sys_role_job_group')
