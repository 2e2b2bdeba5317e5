"""What a phone number looks like: the users' rule, asked by sign-in by SMS too."""

from __future__ import annotations

import re

from flask import current_app


def phone_is_valid(phone: str) -> bool:
    # re.ASCII: `\d` is 0-9, as a person types a phone; else it also takes every script's digits, such as the
    # mathematical bold "𝟎", a phone that looks like another's in a list
    return bool(re.fullmatch(current_app.config["PCLOUD_PHONE_PATTERN"], phone or "", re.ASCII))
