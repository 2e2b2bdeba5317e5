"""the address each SMS code was asked from (auth_sms_code.ip), to limit the sends of one address

Revision ID: 0028_sms_code_address
Revises: 0027_notice_content_html
Create Date: 2026-12-05 23:20:00

One client, without signing in, asked for codes for thousands of phones at once (one per phone per cooldown
was the only limit), which texts every employee whose phone it tries. The sends of one address within the
last hour are now counted (参数设置 sys.sms.maxPerAddress): the address of each code is kept, with an index
for that count. Rows from before have none and count for nobody.
"""
import sqlalchemy as sa
from alembic import op

revision = '0028_sms_code_address'
down_revision = '0027_notice_content_html'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("auth_sms_code") as batch:
        batch.add_column(sa.Column("ip", sa.String(64), nullable=True))
    op.create_index("ix_auth_sms_code_ip_created", "auth_sms_code", ["ip", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_auth_sms_code_ip_created", table_name="auth_sms_code")
    with op.batch_alter_table("auth_sms_code") as batch:
        batch.drop_column("ip")
