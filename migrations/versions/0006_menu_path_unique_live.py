"""one live menu per path

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 01:15:00.000000

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

LIVE_ONLY = {"sqlite_where": sa.text("deleted_at IS NULL"), "postgresql_where": sa.text("deleted_at IS NULL")}


def upgrade():
    # Live duplicates from before paths were unique: the oldest keeps the path, the others get a suffix
    # (an administrator sees them on 菜单管理 and fixes them), so the index can be built.
    conn = op.get_bind()
    seen = set()
    for menu_id, path in conn.execute(sa.text(
            "SELECT id, path FROM sys_menu WHERE deleted_at IS NULL ORDER BY id")).all():
        if path in seen:
            conn.execute(sa.text("UPDATE sys_menu SET path = :p WHERE id = :id"),
                         {"p": f"{(path or '')[:230]}-dup-{menu_id}", "id": menu_id})
        else:
            seen.add(path)
    with op.batch_alter_table('sys_menu', schema=None) as batch_op:
        batch_op.create_index('uq_sys_menu_path_live', ['path'], unique=True, **LIVE_ONLY)


def downgrade():
    with op.batch_alter_table('sys_menu', schema=None) as batch_op:
        batch_op.drop_index('uq_sys_menu_path_live', **LIVE_ONLY)
