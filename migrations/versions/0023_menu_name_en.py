"""a menu's optional English label

Revision ID: 0023_menu_name_en
Revises: 0022
Create Date: 2026-12-05 03:50:00

Issue 24 item 10 (docs/API.md, Languages): sys_menu.name_en, shown instead of the Chinese name on an English
page when set. `pcloud sync` fills it for the built-in menus where it is empty.
"""
from alembic import op
import sqlalchemy as sa

revision = '0023_menu_name_en'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('sys_menu', sa.Column('name_en', sa.String(length=64), nullable=True))


def downgrade():
    op.drop_column('sys_menu', 'name_en')
