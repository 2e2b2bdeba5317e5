"""短信模板 (SMS templates)."""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from pcloud.core.models import LIVE_ONLY, AuditMixin, Base, SoftDeleteMixin


class SmsTemplate(AuditMixin, SoftDeleteMixin, Base):
    __tablename__ = "sys_sms_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64))  # what a flow names: the sign-in's is LOGIN
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(500))  # the text, with {code} (and {minutes})

    __table_args__ = (Index("uq_sys_sms_template_code_live", "code", unique=True, **LIVE_ONLY),)
