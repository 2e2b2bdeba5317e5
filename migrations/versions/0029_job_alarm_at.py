"""when a job's last alarm went out (job_info.alarm_at): at most one alarm per job per interval

Revision ID: 0029_job_alarm_at
Revises: 0028_sms_code_address
Create Date: 2026-12-05 23:35:00

A job failing every second with eleven outside addresses in alarmEmail sent a mail a second to each. A
worker now takes the job's alarm slot with one conditional UPDATE of this column before it sends, so every
worker on every host sees the same last alarm: within PCLOUD_ALARM_MIN_INTERVAL_SECONDS of it a failed run's
alarm is suppressed (alarmStatus 4).
"""
import sqlalchemy as sa
from alembic import op

revision = '0029_job_alarm_at'
down_revision = '0028_sms_code_address'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("job_info") as batch:
        batch.add_column(sa.Column("alarm_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_info") as batch:
        batch.drop_column("alarm_at")
