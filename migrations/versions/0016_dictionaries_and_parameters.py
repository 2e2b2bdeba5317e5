"""dictionaries (sys_dict_type, sys_dict_data), parameters (sys_config) and their version (sys_setting_version)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 00:40:00

Every process keeps the dictionaries and parameters in memory (issue 22, items 4 and 5). A trigger on each
of the three tables moves the one version row in the writing transaction, whoever writes (a page, a job,
psql), and on PostgreSQL also NOTIFYs pcloud_settings, which every listening process of every host hears
at commit (as pcloud_caller, migration 0013). A process reloads when the signal moved and the version
differs. Frozen names.
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

CHANNEL = "pcloud_settings"
TABLES = ("sys_config", "sys_dict_type", "sys_dict_data")
_BUMP = ("INSERT INTO sys_setting_version (id, version) VALUES (1, 0) ON CONFLICT (id) DO NOTHING; "
         "UPDATE sys_setting_version SET version = version + 1 WHERE id = 1;")


def _audit() -> list[sa.Column]:
    return [sa.Column('gmt_created_date', sa.DateTime(), nullable=False),
            sa.Column('gmt_created_id', sa.Integer(), nullable=True),
            sa.Column('gmt_created_name', sa.String(length=64), nullable=True),
            sa.Column('gmt_modified_date', sa.DateTime(), nullable=False),
            sa.Column('gmt_modified_name', sa.String(length=64), nullable=True)]


def upgrade():
    op.create_table(
        'sys_setting_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_setting_version')),
        sqlite_autoincrement=True,  # as every one-integer primary key (migration 0011)
    )
    op.execute("INSERT INTO sys_setting_version (id, version) VALUES (1, 0)")
    op.create_table(
        'sys_config',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('config_key', sa.String(length=100), nullable=False),
        sa.Column('config_value', sa.Text(), nullable=False),
        *_audit(),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_config')),
        sa.UniqueConstraint('config_key', name=op.f('uq_sys_config_config_key')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'sys_dict_type',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('dict_type', sa.String(length=100), nullable=False),
        sa.Column('status', sa.SmallInteger(), nullable=False),
        sa.Column('builtin', sa.Boolean(), nullable=False),
        sa.Column('remark', sa.String(length=500), nullable=True),
        *_audit(),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_dict_type')),
        sqlite_autoincrement=True,
    )
    op.create_index('uq_sys_dict_type_code_live', 'sys_dict_type', ['dict_type'], unique=True,
                    sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_table(
        'sys_dict_data',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dict_type', sa.String(length=100), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('value', sa.String(length=100), nullable=False),
        sa.Column('sort', sa.Integer(), nullable=False),
        sa.Column('css_class', sa.String(length=32), nullable=True),
        sa.Column('is_default', sa.Boolean(), nullable=False),
        sa.Column('status', sa.SmallInteger(), nullable=False),
        sa.Column('remark', sa.String(length=500), nullable=True),
        *_audit(),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_dict_data')),
        sqlite_autoincrement=True,
    )
    op.create_index('uq_sys_dict_data_value_live', 'sys_dict_data', ['dict_type', 'value'], unique=True,
                    sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE OR REPLACE FUNCTION pcloud_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
                   f"BEGIN {_BUMP} PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$")
        for table in TABLES:
            op.execute(f"CREATE TRIGGER {table}_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION pcloud_settings_changed()")
    else:
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_settings_{event.lower()} AFTER {event} ON {table} "
                           f"BEGIN {_BUMP} END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_settings_changed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS pcloud_settings_changed()")
    op.drop_index('uq_sys_dict_data_value_live', table_name='sys_dict_data')
    op.drop_table('sys_dict_data')
    op.drop_index('uq_sys_dict_type_code_live', table_name='sys_dict_type')
    op.drop_table('sys_dict_type')
    op.drop_table('sys_config')
    op.drop_table('sys_setting_version')
