"""A User-Agent header as (operating system, browser), by the maintained ua-parser (its 1.x API, never
patterns of our own). Its matchers compile on first use, so a process that parses no agent (the job worker, a
CLI command) does not compile its hundreds of expressions. Cached: a sign-in under attack sends the same few
agents again."""

from __future__ import annotations

from functools import lru_cache

from ua_parser import OS, Parser, UserAgent, load_lazy_builtins

MAX_AGENT = 512  # what is parsed of a header; longer is no browser's
UNKNOWN = "Other"  # ua-parser's name for what it does not recognise

_parser = Parser.from_matchers(load_lazy_builtins())


def _named(found: UserAgent | OS | None) -> str:
    """ "Family major.minor.patch", what is known of it."""
    if found is None:
        return UNKNOWN
    version = ".".join(part for part in (found.major, found.minor, found.patch) if part)
    return " ".join(part for part in (found.family, version) if part)[:64]


@lru_cache(maxsize=1024)
def parse_user_agent(ua: str) -> tuple[str, str]:
    """(os, browser), each "Family version" cut to 64 characters; ("", "") for no header."""
    if not ua:
        return "", ""
    agent = ua[:MAX_AGENT]
    try:
        return _named(_parser.parse_os(agent)), _named(_parser.parse_user_agent(agent))
    except Exception:  # noqa: BLE001 - an agent the parser chokes on is shown as sent
        return "", ua[:64]
