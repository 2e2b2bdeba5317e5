"""bcrypt password hashes; the original system's $2a$ hashes verify unchanged."""

from __future__ import annotations

import bcrypt
from flask import current_app

# A hash to compare against when the phone is unknown, so timing does not reveal which was wrong.
_DUMMY = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(4)).decode()


def hash_password(password: str) -> str:
    rounds = current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12)
    return bcrypt.hashpw(password.encode("utf-8")[:72], bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, hashed: str | None) -> bool:
    try:
        return bcrypt.checkpw(password.encode("utf-8")[:72], (hashed or _DUMMY).encode()) and hashed is not None
    except ValueError:
        return False
