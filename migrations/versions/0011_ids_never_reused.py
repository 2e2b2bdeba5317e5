"""ids are never reused: SQLite AUTOINCREMENT on every table with a surrogate id

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 22:10:00

Without AUTOINCREMENT SQLite hands out max(id) + 1, so deleting the newest rows (clearLog deleting
runs 6 and 7) gives their ids to the next rows, and an alarm mail quoting run 7 later points at
another run (issue 19, finding 13). PostgreSQL's serial columns never reuse an id: nothing to do there.

Each table is rebuilt the way SQLite's documentation describes for a change ALTER TABLE cannot make:
its own CREATE TABLE text with `id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT` in place of the
table-level primary key, the rows copied with their ids, then its indexes and triggers recreated
from the exact SQL they had (the FTS and sys_user_tally triggers of sys_user, sys_user_role's are
untouched; sys_action_log's FTS triggers). Foreign keys are off meanwhile (a DROP TABLE with them on
would cascade to the referring rows), and legacy_alter_table is on so the RENAME does not re-check
triggers of other tables that name the table while it is being replaced.
"""
import re

from alembic import op


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLES = ('auth_session', 'auth_sms_code', 'job_group', 'job_info', 'job_log', 'job_registry', 'job_report',
          'sys_action_log', 'sys_dept', 'sys_grade', 'sys_menu', 'sys_open_account', 'sys_perm_version',
          'sys_post', 'sys_resource', 'sys_role', 'sys_segment', 'sys_user')
_PLAIN_ID = '\n\tid INTEGER NOT NULL, '
_AUTO_ID = '\n\tid INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, '


def _with_autoincrement(table, sql):
    pk = re.compile(r',\s*CONSTRAINT \w+ PRIMARY KEY \(id\)')
    if sql.count(_PLAIN_ID) != 1 or len(pk.findall(sql)) != 1:
        raise RuntimeError(f'{table}: unexpected table definition, not rebuilt: {sql}')
    return pk.sub('', sql.replace(_PLAIN_ID, _AUTO_ID))


def _without_autoincrement(table, sql):
    if sql.count(_AUTO_ID) != 1 or not sql.endswith('\n)'):
        raise RuntimeError(f'{table}: unexpected table definition, not rebuilt: {sql}')
    return sql.replace(_AUTO_ID, _PLAIN_ID)[:-2] + f', \n\tCONSTRAINT pk_{table} PRIMARY KEY (id)\n)'


def _rebuild(bind, table, change, wanted):
    row = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).first()
    if row is None or (' AUTOINCREMENT' in row[0]) == wanted:
        return
    new_sql = re.sub(r'^CREATE TABLE "?' + table + r'"?', f'CREATE TABLE "{table}__new"', change(table, row[0]))
    kept = [sql for (sql,) in bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND tbl_name = ? AND sql IS NOT NULL "
        "ORDER BY type, name", (table,))]
    bind.exec_driver_sql(new_sql)
    bind.exec_driver_sql(f'INSERT INTO "{table}__new" SELECT * FROM "{table}"')
    bind.exec_driver_sql(f'DROP TABLE "{table}"')
    bind.exec_driver_sql(f'ALTER TABLE "{table}__new" RENAME TO "{table}"')
    for sql in kept:
        bind.exec_driver_sql(sql)


def _rebuild_all(change, wanted):
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    context = op.get_context()
    with context.autocommit_block():  # PRAGMA foreign_keys is ignored inside a transaction
        enforced = bind.exec_driver_sql('PRAGMA foreign_keys').scalar()
        bind.exec_driver_sql('PRAGMA foreign_keys=OFF')
        if bind.exec_driver_sql('PRAGMA foreign_keys').scalar():
            raise RuntimeError('foreign keys could not be switched off: tables not rebuilt')
    broken_before = set(bind.exec_driver_sql('PRAGMA foreign_key_check').fetchall())
    bind.exec_driver_sql('PRAGMA legacy_alter_table=ON')
    bind.exec_driver_sql('BEGIN')  # one transaction for every table: the driver would commit DDL at once
    for table in TABLES:
        _rebuild(bind, table, change, wanted)
    broken = set(bind.exec_driver_sql('PRAGMA foreign_key_check').fetchall()) - broken_before
    if broken:
        raise RuntimeError(f'foreign keys broken by the rebuild: {sorted(broken)[:5]}')
    bind.exec_driver_sql('PRAGMA legacy_alter_table=OFF')
    with context.autocommit_block():  # commits the rebuild first
        bind.exec_driver_sql(f'PRAGMA foreign_keys={"ON" if enforced else "OFF"}')


def upgrade():
    _rebuild_all(_with_autoincrement, wanted=True)


def downgrade():
    _rebuild_all(_without_autoincrement, wanted=False)
