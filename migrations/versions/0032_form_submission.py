"""create forms' one-time tokens (sys_form_submission): a form posted twice creates one record

Revision ID: 0032_form_submission
Revises: 0031_deleted_managers
Create Date: 2026-12-06 02:05:00

A review posted the same new-notice, new-job or new-mail form twice at once and got two rows each (a job made
twice runs twice). A create form now carries a token, stored with the record it saves; the same token posted
again is recognised (core.views). Rows older than a day are deleted by sessionCleanHandler.
"""
import sqlalchemy as sa
from alembic import op

revision = '0032_form_submission'
down_revision = '0031_deleted_managers'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sys_form_submission',
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.Column('submitted_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('token', name=op.f('pk_sys_form_submission')),
    )
    op.create_index(op.f('ix_sys_form_submission_submitted_at'), 'sys_form_submission', ['submitted_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_sys_form_submission_submitted_at'), table_name='sys_form_submission')
    op.drop_table('sys_form_submission')
