"""script jobs (GLUE): the source on job_info, and every saved version in job_glue_version

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 01:00:00

Issue 23 (2): a job's glue_type is BEAN (a registered handler, what every job so far is), GLUE_PYTHON or
GLUE_SHELL; glue_source is the script the worker runs, each save kept as a version with its remark and author.
"""
from alembic import op
import sqlalchemy as sa

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_info') as batch:
        batch.add_column(sa.Column('glue_type', sa.String(length=16), server_default='BEAN', nullable=False))
        batch.add_column(sa.Column('glue_source', sa.Text(), nullable=True))
        batch.add_column(sa.Column('glue_remark', sa.String(length=128), nullable=True))
        batch.add_column(sa.Column('glue_updated_at', sa.DateTime(), nullable=True))
    op.create_table(
        'job_glue_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('glue_type', sa.String(length=16), nullable=False),
        sa.Column('glue_source', sa.Text(), nullable=False),
        sa.Column('glue_remark', sa.String(length=128), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['job_info.id'], name=op.f('fk_job_glue_version_job_id_job_info')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_job_glue_version')),
        sqlite_autoincrement=True,  # ids never reused (migration 0011)
    )
    op.create_index('ix_job_glue_version_job', 'job_glue_version', ['job_id', 'id'])


def downgrade():
    op.drop_index('ix_job_glue_version_job', table_name='job_glue_version')
    op.drop_table('job_glue_version')
    with op.batch_alter_table('job_info') as batch:
        batch.drop_column('glue_updated_at')
        batch.drop_column('glue_remark')
        batch.drop_column('glue_source')
        batch.drop_column('glue_type')
