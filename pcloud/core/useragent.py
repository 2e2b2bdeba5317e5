"""A User-Agent header as (operating system, browser), by the maintained `user-agents` parser (ua-parser's
regexes), never by patterns of our own. Cached: a sign-in under attack sends the same few agents again."""

from __future__ import annotations

from functools import lru_cache

from user_agents import parse

MAX_AGENT = 512  # what is parsed of a header; longer is no browser's


@lru_cache(maxsize=1024)
def parse_user_agent(ua: str) -> tuple[str, str]:
    """(os, browser), each "Family version" cut to 64 characters; ("", "") for no header."""
    if not ua:
        return "", ""
    try:
        agent = parse(ua[:MAX_AGENT])
        os_name = " ".join(x for x in (agent.os.family, agent.os.version_string) if x)
        browser = " ".join(x for x in (agent.browser.family, agent.browser.version_string) if x)
        return os_name[:64], browser[:64]
    except Exception:  # noqa: BLE001 - an agent the parser chokes on is shown as sent
        return "", ua[:64]
