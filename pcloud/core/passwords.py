"""bcrypt password hashes; the original system's $2a$ hashes verify unchanged."""

from __future__ import annotations

from functools import lru_cache

import bcrypt
from flask import current_app


@lru_cache(maxsize=32)
def _dummy(rounds: int) -> str:
    """A hash to compare against when the phone is unknown (or to pad a cheaper hash), at a given cost, so the
    time a wrong answer takes does not reveal whether the phone exists."""
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds)).decode()


def dummy_hash() -> str:
    return _dummy(int(current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12)))


def hash_password(password: str) -> str:
    rounds = current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12)
    return bcrypt.hashpw(password.encode("utf-8")[:72], bcrypt.gensalt(rounds)).decode()


def _cost(hashed: str) -> int | None:
    """The cost of a `$2a$10$...` hash; None if it is not one."""
    parts = hashed.split("$")
    return int(parts[2]) if len(parts) > 3 and parts[2].isdigit() and 4 <= int(parts[2]) <= 31 else None


def verify_password(password: str, hashed: str | None) -> bool:
    """Whether the password matches. Always the bcrypt work of one comparison at the configured cost, so a
    refusal takes as long whether or not the row exists: no hash (or one that cannot be read) is replaced by a
    dummy of that cost, and a hash of a lower cost (the original system's) is padded with comparisons of its own
    cost up to it (2^configured / 2^cost of them in all). A hash of a higher cost takes longer."""
    secret = password.encode("utf-8")[:72]
    rounds = int(current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12))
    cost = _cost(hashed) if hashed else None
    if hashed is None or cost is None:
        bcrypt.checkpw(secret, _dummy(rounds).encode())
        return False
    try:
        matches = bcrypt.checkpw(secret, hashed.encode())
    except ValueError:  # a malformed hash behind a well-formed prefix: the same work all the same
        matches = False
        bcrypt.checkpw(secret, _dummy(cost).encode())
    for _ in range((1 << max(rounds - cost, 0)) - 1):
        bcrypt.checkpw(secret, _dummy(cost).encode())
    return matches
