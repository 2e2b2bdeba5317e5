"""job dependencies (job_dependency) and the cluster-wide route state (job_route_state)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 00:40:00

Issue 23 (3, 5): a job's parents (it runs once all have succeeded since its last run), and the counters of
the ROUND, LFU and LRU route strategies shared by every scheduler instead of kept per worker process.
"""
from alembic import op
import sqlalchemy as sa


revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_dependency',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('parent_job_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['job_info.id'], name=op.f('fk_job_dependency_job_id_job_info')),
        sa.ForeignKeyConstraint(['parent_job_id'], ['job_info.id'],
                                name=op.f('fk_job_dependency_parent_job_id_job_info')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_dependency')),
        sa.UniqueConstraint('job_id', 'parent_job_id', name='uq_job_dependency'),
        sqlite_autoincrement=True,
    )
    op.create_index('ix_job_dependency_parent', 'job_dependency', ['parent_job_id'])
    op.create_table(
        'job_route_state',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('node', sa.String(length=128), nullable=False),
        sa.Column('use_count', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('used_seq', sa.BigInteger(), server_default='0', nullable=False),
        sa.Column('counted_since', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_route_state')),
        sa.UniqueConstraint('job_id', 'node', name='uq_job_route_state'),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table('job_route_state')
    op.drop_index('ix_job_dependency_parent', table_name='job_dependency')
    op.drop_table('job_dependency')
