"""segments table; hidden roles for open-platform accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 00:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sys_segment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('biz_tag', sa.String(length=128), nullable=False),
    sa.Column('max_id', sa.BigInteger(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=256), nullable=True),
    sa.Column('author', sa.String(length=64), nullable=True),
    sa.Column('create_time', sa.DateTime(), nullable=False),
    sa.Column('update_time', sa.DateTime(), nullable=False),
    sa.CheckConstraint('max_id >= 1 AND max_id <= 9223372036854775807', name=op.f('ck_sys_segment_max_id_range')),
    sa.CheckConstraint('step >= 1 AND step <= 1000000', name=op.f('ck_sys_segment_step_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_segment')),
    sa.UniqueConstraint('biz_tag', name=op.f('uq_sys_segment_biz_tag'))
    )
    with op.batch_alter_table('sys_role', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade():
    with op.batch_alter_table('sys_role', schema=None) as batch_op:
        batch_op.drop_column('hidden')
    op.drop_table('sys_segment')
