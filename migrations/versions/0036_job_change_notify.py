"""PostgreSQL tells every job worker when a job, a run or an executor changes

Revision ID: 0036_job_change_notify
Revises: 0035_name_grams
Create Date: 2026-12-06 18:10:00

A job worker read the jobs and runs tables on every tick (twenty a second) to find due jobs and runs addressed
to it, which an idle deployment paid for all day. It now reads them when the database says something changed, when
the earliest next fire comes, and once a second whatever happens (pcloud.jobs.worker.runtime). On PostgreSQL a
statement trigger on each table it reads sends NOTIFY pcloud_jobs, delivered at commit to every listening worker of
every host; one notification per transaction (PostgreSQL folds equal ones). SQLite needs none: a worker sees any
commit to the file in its data version. Not on job_log_line or job_registry: a run's output lines and the nodes'
heartbeats change nothing a tick reads first (the output's line count is written on job_log). Frozen names.
"""
from alembic import op

revision = '0036_job_change_notify'
down_revision = '0035_name_grams'
branch_labels = None
depends_on = None

CHANNEL = "pcloud_jobs"
TABLES = ("job_group", "job_info", "job_log")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"CREATE OR REPLACE FUNCTION pcloud_jobs_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
               f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_jobs_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                   f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION pcloud_jobs_changed()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_jobs_changed ON {table}")
    op.execute("DROP FUNCTION IF EXISTS pcloud_jobs_changed()")
