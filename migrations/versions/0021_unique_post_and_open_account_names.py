"""one live post of a name under one parent, one live open-platform account of a name

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 01:30:00

Issue 24 item 5: posts (within a parent) and open accounts refuse a duplicate name with 409, as departments,
grades and roles do; the partial unique indexes make the refusal hold when two creates race.
"""
from alembic import op
import sqlalchemy as sa

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

LIVE_ONLY = {"sqlite_where": sa.text("deleted_at IS NULL"), "postgresql_where": sa.text("deleted_at IS NULL")}


def _rename_live_duplicates(table, key_columns):
    """Live duplicates from before names were unique: the oldest keeps the name, the others get a suffix (an
    administrator sees them on the list and renames them), so the index can be built."""
    conn = op.get_bind()
    keys = ", ".join(key_columns)
    seen = set()
    for row in conn.execute(sa.text(
            f"SELECT id, {keys} FROM {table} WHERE deleted_at IS NULL ORDER BY id")).all():
        row_id, key = row[0], tuple(row[1:])
        if key in seen:
            name = row[-1] or ""
            suffix = f"-dup-{row_id}"
            conn.execute(sa.text(f"UPDATE {table} SET name = :n WHERE id = :id"),
                         {"n": name[:64 - len(suffix)] + suffix, "id": row_id})
        else:
            seen.add(key)


def upgrade():
    _rename_live_duplicates("sys_post", ["parent_id", "name"])
    _rename_live_duplicates("sys_open_account", ["name"])
    with op.batch_alter_table('sys_post', schema=None) as batch_op:
        batch_op.create_index('uq_sys_post_parent_name_live', ['parent_id', 'name'], unique=True, **LIVE_ONLY)
    with op.batch_alter_table('sys_open_account', schema=None) as batch_op:
        batch_op.create_index('uq_sys_open_account_name_live', ['name'], unique=True, **LIVE_ONLY)


def downgrade():
    with op.batch_alter_table('sys_open_account', schema=None) as batch_op:
        batch_op.drop_index('uq_sys_open_account_name_live', **LIVE_ONLY)
    with op.batch_alter_table('sys_post', schema=None) as batch_op:
        batch_op.drop_index('uq_sys_post_parent_name_live', **LIVE_ONLY)
