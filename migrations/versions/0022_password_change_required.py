"""a user may be required to change the password at the next sign-in

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 02:30:00

Issue 21 item 3 / issue 22 item 5: sys_user.password_change_required, set when an administrator creates a user or
resets a password while sys.password.changeAtFirstSignIn is on, and for every user imported with a generated
password; cleared by the user's own change. Existing users are not required to change.
"""
from alembic import op
import sqlalchemy as sa

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: a batch (table copy) on SQLite would break the triggers on sys_user
# (users.tally, migration 0009). SQLite adds a NOT NULL column with a constant default in place.
def upgrade():
    op.add_column('sys_user', sa.Column('password_change_required', sa.Boolean(), server_default=sa.text('false'),
                                        nullable=False))


def downgrade():
    op.drop_column('sys_user', 'password_change_required')
