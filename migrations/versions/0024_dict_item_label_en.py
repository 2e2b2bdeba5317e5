"""a dictionary item's optional English label

Revision ID: 0024_dict_item_label_en
Revises: 0023_menu_name_en
Create Date: 2026-12-05 03:45:00

Issue 24 item 10 (docs/API.md, Languages): sys_dict_data.label_en, shown instead of the label on an English
page when set. `pcloud init`/`sync` fills it for the built-in items where it is empty.
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_dict_item_label_en'
down_revision = '0023_menu_name_en'
branch_labels = None
depends_on = None


# Plain ALTER TABLE on both databases: a batch (table copy) on SQLite would drop the triggers on sys_dict_data
# that move the settings' version (core.settingscache). A nullable column is added in place.
def upgrade():
    op.add_column('sys_dict_data', sa.Column('label_en', sa.String(64), nullable=True))


def downgrade():
    op.drop_column('sys_dict_data', 'label_en')
