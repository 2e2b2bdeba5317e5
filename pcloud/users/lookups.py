"""What a phone number looks like: the users' rule, asked by sign-in by SMS too."""

from __future__ import annotations

import re

from flask import current_app


def phone_is_valid(phone: str) -> bool:
    return bool(re.fullmatch(current_app.config["PCLOUD_PHONE_PATTERN"], phone or ""))
