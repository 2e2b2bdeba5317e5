"""a notice's table column alignment as a class (text-start / text-center / text-end), not a style attribute

Revision ID: 0034_notice_cell_align
Revises: 0033_mail_notice_trigram
Create Date: 2026-12-06 11:00:00

The pages' Content-Security-Policy now refuses every style attribute (markup that got into a page cannot restyle
it), and markdown-it wrote an aligned column's cells as style="text-align:...". The renderer now writes Bootstrap's
class (core.markdown.ALIGN_CLASSES); the notices already stored are rendered again here, as 0027 did, with the
application's own renderer. Downgrade writes the cells back as the style attributes the older renderer kept.
"""
import sqlalchemy as sa
from alembic import op

revision = '0034_notice_cell_align'
down_revision = '0033_mail_notice_trigram'
branch_labels = None
depends_on = None

# the cells the older renderer wrote, and the classes it knew (as frozen here: this migration's own copy)
OLD_STYLES = {'style="text-align:left"': 'class="text-start"', 'style="text-align:center"': 'class="text-center"',
              'style="text-align:right"': 'class="text-end"'}


def _notices() -> sa.TableClause:
    return sa.table("sys_notice", sa.column("id", sa.Integer), sa.column("content", sa.Text),
                    sa.column("content_html", sa.Text))


def upgrade() -> None:
    from pcloud.core.markdown import render_markdown

    notices, conn = _notices(), op.get_bind()
    for row in conn.execute(sa.select(notices.c.id, notices.c.content)
                            .where(notices.c.content_html.like('%style="text-align:%'))).all():
        conn.execute(notices.update().where(notices.c.id == row.id).values(content_html=render_markdown(row.content)))


def downgrade() -> None:
    notices, conn = _notices(), op.get_bind()
    for row in conn.execute(sa.select(notices.c.id, notices.c.content_html)
                            .where(notices.c.content_html.like('%class="text-%'))).all():
        html = row.content_html
        for style, cls in OLD_STYLES.items():
            html = html.replace(f"<td {cls}>", f"<td {style}>").replace(f"<th {cls}>", f"<th {style}>")
        conn.execute(notices.update().where(notices.c.id == row.id).values(content_html=html))
