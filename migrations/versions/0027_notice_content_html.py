"""a notice keeps its rendered HTML (sys_notice.content_html), rendered when it is saved

Revision ID: 0027_notice_content_html
Revises: 0026_user_insert_lock_first
Create Date: 2026-12-05 23:15:00

Rendered when shown, a page of long notices (every one within the rendering bounds) cost seconds of CPU per
read, and any signed-in user could ask for it (/api/admin/notice/mine). The HTML is now rendered once, when
the notice is saved, and read as stored. The notices already there are rendered here, with the application's
own renderer. A change of what the sanitiser keeps needs a migration like this one to render them again.
"""
import sqlalchemy as sa
from alembic import op

revision = '0027_notice_content_html'
down_revision = '0026_user_insert_lock_first'
branch_labels = None
depends_on = None


def upgrade() -> None:
    from pcloud.core.markdown import render_markdown

    with op.batch_alter_table("sys_notice") as batch:
        batch.add_column(sa.Column("content_html", sa.Text(), nullable=True))
    notices = sa.table("sys_notice", sa.column("id", sa.Integer), sa.column("content", sa.Text),
                       sa.column("content_html", sa.Text))
    conn = op.get_bind()
    for row in conn.execute(sa.select(notices.c.id, notices.c.content)).all():
        conn.execute(notices.update().where(notices.c.id == row.id).values(content_html=render_markdown(row.content)))


def downgrade() -> None:
    with op.batch_alter_table("sys_notice") as batch:
        batch.drop_column("content_html")
