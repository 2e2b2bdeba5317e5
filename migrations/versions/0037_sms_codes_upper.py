"""the letters of live SMS template codes in capitals

Revision ID: 0037_sms_codes_upper
Revises: 0036_job_change_notify
Create Date: 2026-12-07 00:50:00

A template code is now saved and looked up with its letters a-z in capitals (pcloud.smstemplates.service
normal_code): a template saved as `login` was never used for the sign-in SMS, which looks up LOGIN, and could live
beside `LOGIN`. This writes the live codes saved before so. Where live codes differ only by case, the one already
in capitals (the one in use) keeps them, else the oldest; each other gets the suffix _DUP_<id>, as 0006 did for
menu paths, so an administrator sees it on 短信模板 and fixes it. Deleted templates are left as they were. ASCII
letters only, in Python: SQLite's and PostgreSQL's upper() differ beyond ASCII. Nothing to undo: the case each
code was typed in is not kept.
"""
import string

import sqlalchemy as sa
from alembic import op

revision = '0037_sms_codes_upper'
down_revision = '0036_job_change_notify'
branch_labels = None
depends_on = None

CODE_MAX = 64
_CAPITALS = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, code FROM sys_sms_template WHERE deleted_at IS NULL ORDER BY id")).all()
    # those already in capitals first: they keep their codes
    rows.sort(key=lambda row: (row.code != row.code.translate(_CAPITALS), row.id))
    taken = {row.code for row in rows if row.code == row.code.translate(_CAPITALS)}
    kept: set[str] = set()
    for template_id, code in rows:
        target = code.translate(_CAPITALS)
        if target in kept:
            suffix, n = f"_DUP_{template_id}", 1
            target = target[:CODE_MAX - len(suffix)] + suffix
            while target in taken:
                n += 1
                suffix = f"_DUP_{template_id}_{n}"
                target = code.translate(_CAPITALS)[:CODE_MAX - len(suffix)] + suffix
        kept.add(target)
        taken.add(target)
        if target != code:
            conn.execute(sa.text("UPDATE sys_sms_template SET code = :code WHERE id = :id"),
                         {"code": target, "id": template_id})


def downgrade() -> None:
    pass  # the case each code was typed in is not kept: nothing to put back
