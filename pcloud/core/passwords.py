"""bcrypt password hashes; the original system's $2a$ hashes verify unchanged."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import string
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

import bcrypt
from flask import current_app

from pcloud.core.numbers import digits_only


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


def hash_passwords(passwords: list[str]) -> list[str]:
    """hash_password of each, on as many threads as there are cores (bcrypt leaves Python's lock while it
    works): an import's chosen passwords at the configured cost."""
    if not passwords:
        return []
    rounds = int(current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12))

    def one(password: str) -> str:
        return bcrypt.hashpw(password.encode("utf-8")[:72], bcrypt.gensalt(rounds)).decode()

    if len(passwords) == 1:
        return [one(passwords[0])]
    with ThreadPoolExecutor(max_workers=min(len(passwords), os.cpu_count() or 1)) as pool:
        return list(pool.map(one, passwords))


def _cost(hashed: str) -> int | None:
    """The cost of a `$2a$10$...` hash; None if it is not one."""
    parts = hashed.split("$")
    return int(parts[2]) if len(parts) > 3 and digits_only(parts[2]) and 4 <= int(parts[2]) <= 31 else None


def needs_rehash(hashed: str | None) -> bool:
    """Whether a bcrypt hash was made at another cost than the configured one (the original system's cost 10, or
    a cost changed since): the password, known at a successful sign-in, is then hashed again at the configured
    cost, so stored hashes follow the setting and a sign-in stops paying for the padding (or the higher cost)."""
    cost = _cost(hashed) if hashed and not hashed.startswith(GENERATED_PREFIX) else None
    return cost is not None and cost != int(current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12))


# A generated password (the user import's blank 初始密码) is stored as a salted SHA-256 under this prefix, not as a
# bcrypt hash: bcrypt's cost guards passwords people choose; one of GENERATED_LENGTH random letters and digits
# (about 95 bits) is out of reach of any guessing however cheap each guess, as the session tokens stored as
# SHA-256 are. A password the user sets later is bcrypt at the configured cost again.
GENERATED_PREFIX = "$pcloud-sha256$"
GENERATED_LENGTH = 16
_ALPHABET = string.ascii_letters + string.digits


def generate_password(key: bytes | None = None, seed: str = "") -> str:
    """A random password of letters and digits (so it meets the users' password rule): 95 bits written in base 62,
    GENERATED_LENGTH characters. With `key` (random, kept only in memory), the bits are HMAC-SHA256(key, seed): the
    same password can be derived again while the answer that lists it is written, so a long list of generated
    passwords need not be held in memory (users.imports)."""
    counter = 0
    while True:
        if key is None:
            number = secrets.randbits(95)
        else:
            mac = hmac.new(key, f"{seed}\0{counter}".encode(), hashlib.sha256).digest()
            number = int.from_bytes(mac[:12], "big") >> 1
        chars = []
        for _ in range(GENERATED_LENGTH):
            number, digit = divmod(number, len(_ALPHABET))
            chars.append(_ALPHABET[digit])
        password = "".join(chars)
        if any(c.isdigit() for c in password) and any(c.isalpha() for c in password):
            return password
        counter += 1


def hash_generated_password(password: str) -> str:
    """The stored form of a password from generate_password (never of one a person chose)."""
    salt = secrets.token_hex(8)
    return f"{GENERATED_PREFIX}{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def _verify_generated(secret: bytes, hashed: str) -> bool:
    salt, _, digest = hashed[len(GENERATED_PREFIX):].partition("$")
    return hmac.compare_digest(hashlib.sha256(salt.encode() + secret).hexdigest(), digest)


def verify_password(password: str, hashed: str | None) -> bool:
    """Whether the password matches. Always the bcrypt work of one comparison at the configured cost, so a
    refusal takes as long whether or not the row exists: no hash (or one that cannot be read) is replaced by a
    dummy of that cost, and a hash of a lower cost (the original system's) is padded with comparisons of its own
    cost up to it (2^configured / 2^cost of them in all). A hash of a higher cost takes longer."""
    secret = password.encode("utf-8")[:72]
    rounds = int(current_app.config.get("PCLOUD_BCRYPT_ROUNDS", 12))
    if hashed is not None and hashed.startswith(GENERATED_PREFIX):
        bcrypt.checkpw(secret, _dummy(rounds).encode())  # the same time as any other answer
        return _verify_generated(secret, hashed)
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
