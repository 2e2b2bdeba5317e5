"""uploaded images stored in the database (sys_upload)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 22:30:00

Uploads were files on each host's disk (PCLOUD_UPLOAD_DIR), so with several hosts an avatar was served
only by the host that took it. They now live in this table, with who uploaded each and whose avatar it
is (issue 19.8: only that user's change may remove it). The files an earlier version left on a host's
disk are imported by `pcloud init` on that host (pcloud.uploads.service.import_folder), not here: each
host has its own disk, and a migration runs on one host only.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sys_upload',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('owner_kind', sa.String(length=8), nullable=True),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('content_type', sa.String(length=32), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_sys_upload')),
    )


def downgrade():
    op.drop_table('sys_upload')
