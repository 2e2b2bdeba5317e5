"""bcrypt password hashes; the original system's $2a$ hashes verify unchanged."""

from __future__ import annotations

from functools import lru_cache

import bcrypt
from flask import current_app


@lru_cache(maxsize=8)
def _dummy(rounds: int) -> str:
    """A hash to compare against when the phone is unknown, at the cost real hashes have, so the time a
    wrong answer takes does not reveal whether the phone exists."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds)).decode()


def dummy_hash() -> str:
    return _dummy(int(current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12)))


def hash_password(password: str) -> str:
    rounds = current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12)
    return bcrypt.hashpw(password.encode("utf-8")[:72], bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, hashed: str | None) -> bool:
    """Whether the password matches; always one bcrypt comparison, against a dummy hash of the configured cost
    when there is no hash (or it cannot be read), so a refusal takes as long whether or not the row exists."""
    secret = password.encode("utf-8")[:72]
    try:
        return bcrypt.checkpw(secret, (hashed or dummy_hash()).encode()) and hashed is not None
    except ValueError:  # not a bcrypt hash: the same work all the same
        bcrypt.checkpw(secret, dummy_hash().encode())
        return False
