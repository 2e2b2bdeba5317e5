"""in-site mail (sys_mail) and SMS templates (sys_sms_template)

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-04 23:00:00

站内信 of the original front end (issue 25): a title and text from one user to another, read or not.
The recipient's unread count is asked on every page, so (recipient_id, read_at, deleted_at) is indexed.
短信模板: the wording of the SMS a flow sends, by the code the flow names (sign-in: LOGIN), unique among
live templates.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sys_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sender_id', sa.Integer(), nullable=True),
        sa.Column('recipient_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=2000), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=True),
        sa.Column('gmt_created_date', sa.DateTime(), nullable=False),
        sa.Column('gmt_created_id', sa.Integer(), nullable=True),
        sa.Column('gmt_created_name', sa.String(length=64), nullable=True),
        sa.Column('gmt_modified_date', sa.DateTime(), nullable=False),
        sa.Column('gmt_modified_name', sa.String(length=64), nullable=True),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['recipient_id'], ['sys_user.id'], name=op.f('fk_sys_mail_recipient_id_sys_user')),
        sa.ForeignKeyConstraint(['sender_id'], ['sys_user.id'], name=op.f('fk_sys_mail_sender_id_sys_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_mail')),
        sqlite_autoincrement=True,  # ids never reused (migration 0011)
    )
    op.create_index('ix_sys_mail_recipient_read', 'sys_mail', ['recipient_id', 'read_at', 'deleted_at'])
    op.create_index('ix_sys_mail_created', 'sys_mail', ['gmt_created_date'])
    op.create_table(
        'sys_sms_template',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('description', sa.String(length=500), nullable=False),
        sa.Column('gmt_created_date', sa.DateTime(), nullable=False),
        sa.Column('gmt_created_id', sa.Integer(), nullable=True),
        sa.Column('gmt_created_name', sa.String(length=64), nullable=True),
        sa.Column('gmt_modified_date', sa.DateTime(), nullable=False),
        sa.Column('gmt_modified_name', sa.String(length=64), nullable=True),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sys_sms_template')),
        sqlite_autoincrement=True,  # ids never reused (migration 0011)
    )
    op.create_index('uq_sys_sms_template_code_live', 'sys_sms_template', ['code'], unique=True,
                    sqlite_where=sa.text('deleted_at IS NULL'), postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade():
    op.drop_index('uq_sys_sms_template_code_live', table_name='sys_sms_template')
    op.drop_table('sys_sms_template')
    op.drop_index('ix_sys_mail_created', table_name='sys_mail')
    op.drop_index('ix_sys_mail_recipient_read', table_name='sys_mail')
    op.drop_table('sys_mail')
