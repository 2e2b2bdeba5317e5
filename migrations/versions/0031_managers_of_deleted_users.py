"""departments managed by a deleted user have no manager

Revision ID: 0031_deleted_managers
Revises: 0030_open_account_notify
Create Date: 2026-12-06 01:50:00

Deleting a user now takes them off the departments they managed. Before, the department kept the deleted
user's id: the org chart showed a manager with no name, and the department's edit form refused every save
(负责人不存在) until its manager was cleared by hand. This clears those left by earlier deletes.
"""
from alembic import op

revision = '0031_deleted_managers'
down_revision = '0030_open_account_notify'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE sys_dept SET manager_id = NULL WHERE manager_id IN "
               "(SELECT id FROM sys_user WHERE deleted_at IS NOT NULL)")


def downgrade() -> None:
    pass  # which deleted user managed what is not kept: nothing to put back
