"""data scope on roles: sys_role.data_scope and the custom departments sys_role_dept

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 00:40:00

Issue 21 (1): a role limits whose users its holders reach (1 all, 2 the listed departments, 3 own
department, 4 own department and below, 5 only oneself). Existing roles keep reaching everyone (1).
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN with a constant default: no table rebuild, so sys_role keeps its triggers.
    op.add_column('sys_role', sa.Column('data_scope', sa.Integer(), server_default='1', nullable=False))
    op.create_table(
        'sys_role_dept',
        sa.Column('role_id', sa.Integer(), nullable=False),
        sa.Column('dept_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['dept_id'], ['sys_dept.id'], name=op.f('fk_sys_role_dept_dept_id_sys_dept'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['role_id'], ['sys_role.id'], name=op.f('fk_sys_role_dept_role_id_sys_role'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('role_id', 'dept_id', name=op.f('pk_sys_role_dept')),
    )


def downgrade():
    op.drop_table('sys_role_dept')
    with op.batch_alter_table('sys_role') as batch:
        batch.drop_column('data_scope')
