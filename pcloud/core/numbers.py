"""Text that holds a whole number as a person types one."""

from __future__ import annotations


def digits_only(text: str) -> bool:
    """True when `text` is one or more of 0-9 and nothing else. `str.isdigit()` also takes superscripts and
    circled digits ('³', '①'), which `int()` then refuses with an error instead of the refusal a user should
    read; `str.isdecimal()` takes other scripts' digits, which no number field here is meant to."""
    return text.isascii() and text.isdigit()
