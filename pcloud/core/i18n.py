"""The console's two languages (docs/API.md, "Languages"): Simplified Chinese, the default, and English.

Source strings are the Chinese the console always spoke: code marks them (`gettext` / `_`, `lazy_gettext`
for module-level constants, `N_` for data written by setup), templates wrap them in `_()`, and the English
catalogue (pcloud/translations/en) translates them. A Chinese request reads no catalogue at all.

The language of a request: the `lang` cookie (set by the language menu, `/language/<code>`), else the
best of `Accept-Language`, else PCLOUD_DEFAULT_LANGUAGE. Outside a request (worker, CLI) it is the
default, so what those write (run log lines, setup's names) is in the deployment's language.

What a request is told and a log keeps to be read later (the operation log's `msg`, a login-log reason) is
stored as its source string and values (`said`), read in each reader's language (`translated`): `gettext` (in
code, flask_babel's) returns a `Said`, the text said that remembers them, and `stored` turns it (or a domain error,
or a lazy message) into what to store; a sentence composed otherwise (a concatenation, an f-string) is stored as
it was said.

`make catalogue` extracts the strings and updates the catalogue; tests/test_i18n.py fails on a missing
or stale translation and on Chinese left on any page rendered in English.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from babel.messages.mofile import read_mo
from flask import Blueprint, Flask, current_app, has_request_context, redirect, request
from flask_babel import Babel, Domain, get_locale, gettext, lazy_gettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from pcloud.core.errors import PCloudError
from pcloud.core.messages import N_, Said, said_as, said_now
from pcloud.core.routing import is_back_path
from pcloud.core.security import public

LANGUAGES = ("zh", "en")  # the first is the source language of every string
LANGUAGE_NAMES = {"zh": "简体中文", "en": "English"}  # each in its own language, as language menus do
COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

__all__ = ["LANGUAGES", "N_", "gettext", "lazy_gettext", "language", "translated", "said", "joined", "clipped",
           "stored", "Said", "said_now", "init_app", "bp"]


class _SayingDomain(Domain):
    """The messages domain, whose `gettext` returns a `Said`: the text in the request's language that remembers
    its source string and values (every `gettext(...)` in code, flask_babel's own, and what `lazy_gettext`
    says). Templates' `_()` read the catalogue directly and are not concerned."""

    def gettext(self, string: str, **variables: Any) -> str:
        return said_as(super().gettext(string, **variables), string, variables)


class _Babel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _SayingDomain(domain=self.domain)


babel = _Babel()
bp = Blueprint("i18n", __name__)


def select_language() -> str:
    """The `lang` cookie, else Accept-Language, else the configured default."""
    default = current_app.config.get("PCLOUD_DEFAULT_LANGUAGE", "zh")
    if not has_request_context():
        return default
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or default


def language() -> str:
    """The language of this request (or of the process, outside one): "zh" or "en"."""
    locale = get_locale()
    return locale.language if locale is not None else current_app.config.get("PCLOUD_DEFAULT_LANGUAGE", "zh")


def as_text(text: Any) -> Any:
    """A template's `_()` result as plain text, for an attribute (a confirm dialog's `data-confirm`). Jinja marks a
    translation safe markup, trusting its author, so a quotation mark the English puts in (`Delete menu "%(name)s"?`)
    would end the attribute, and the name after it (typed by anyone: a phone tried at sign-in) would be read as
    attributes of the tag (`onmouseover=...`). Unescaped back to text, the autoescape escapes every character."""
    return text.unescape() if isinstance(text, Markup) else text


# A sentence stored with its words to fill in (a run's "脚本退出码 N"): SAID, then the JSON list of its parts, each a
# source string or [source string, {name: value}], said in the reader's language by `translated`. SAID is a control
# character, which no form or API field accepts (docs/API.md), so no typed text starts with it.
SAID = "\x1f"
_PART_SEPARATOR = N_("；")  # between the parts of a joined sentence ("；" in Chinese, "; " in English)
_SAID_PARAM_MAX = 1000  # a value filled in (an exception's text, a remark) is kept to this many characters


def said(source: str, **params: Any) -> str:
    """What to store for a sentence that a page shows later (a run's result, a version's remark): its source string
    and the values it names, said in each reader's language by `translated` (the Chinese source as it was, English
    on an English page), never the words of whoever happened to write it. Without values, the source string itself
    (what `N_` stores). Values are kept as text or numbers, a long text cut (… marks the cut)."""
    if not params:
        return source
    kept = {name: value if isinstance(value, int | float) and not isinstance(value, bool) else _cut(str(value))
            for name, value in params.items()}
    return SAID + json.dumps([[source, kept]], ensure_ascii=False, separators=(",", ":"))


def stored(message: Any) -> str | None:
    """What a log stores of a message said to someone (the operation log's `msg`, a login-log reason), for each
    reader to read it in their own language (`translated`): a domain error's `source_msg` where it has one, else its
    message; a message `gettext` said (a `Said`) as its source string and values (`said`), a value
    said the same way kept so; any other text (composed by concatenation or an f-string, typed, a handler's) as
    it was said."""
    if message is None:
        return None
    if isinstance(message, PCloudError):
        return message.source_msg or stored(message.msg)
    message = said_now(message)
    if not isinstance(message, Said):
        return message
    return said(message.source, **{name: stored(value) if isinstance(value, Said) else value
                                   for name, value in message.params.items()})


def joined(*texts: str | None) -> str | None:
    """Stored sentences (from `said`, or plain text) as one, said part after part ("；" between them in Chinese)."""
    parts = [part for text in texts if text for part in _parts(text)]
    if not parts:
        return None
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    return SAID + json.dumps(parts, ensure_ascii=False, separators=(",", ":"))


def clipped(text: str | None, limit: int) -> str | None:
    """A stored sentence cut to fit `limit` characters: plain text is cut; a sentence from `said` keeps its shape (a
    cut would leave it unreadable), its values cut shorter, else it is said in the process's language and cut."""
    if not text or len(text) <= limit:
        return text or None
    if text.startswith(SAID) and (parts := _decoded(text)) is not None:
        for keep in (200, 50, 10):
            shorter = SAID + json.dumps([p if isinstance(p, str) else [p[0], {k: _cut(v, keep)
                                                                            for k, v in p[1].items()}]
                                         for p in parts], ensure_ascii=False, separators=(",", ":"))
            if len(shorter) <= limit:
                return shorter
        text = translated(text)
    return text[:limit]


def _cut(value: Any, keep: int = _SAID_PARAM_MAX) -> Any:
    if not isinstance(value, str) or len(value) <= keep:
        return value
    if value.startswith(SAID):  # a stored sentence as a value (a remark quoted in a remark): said, then cut
        value = translated(value)
    return value if len(value) <= keep else value[:keep - 1] + "…"


def _decoded(text: str) -> list[Any] | None:
    """The parts of a sentence from `said`/`joined`, or None for anything else (then it is shown as stored)."""
    try:
        parts = json.loads(text[len(SAID):])
    except ValueError:
        return None
    if not isinstance(parts, list) or not parts or not all(
            isinstance(p, str) or (isinstance(p, list) and len(p) == 2 and isinstance(p[0], str)
                                   and isinstance(p[1], dict)) for p in parts):
        return None
    return parts


def _parts(text: str) -> list[Any]:
    return (_decoded(text) or [text[len(SAID):]]) if text.startswith(SAID) else [text]


def _say(part: Any) -> str:
    if isinstance(part, str):
        return gettext(part)
    source, params = part
    # a value that is itself a stored text (a remark quoted in a rollback's remark) is said in the same language
    params = {name: translated(value) if isinstance(value, str) else value for name, value in params.items()}
    try:
        return gettext(source, **params)
    except (KeyError, ValueError, TypeError):  # a catalogue entry naming other values: the source, filled in
        try:
            return source % params
        except (KeyError, ValueError, TypeError):
            return source


def translated(text: Any) -> Any:
    """A stored text in the request's language: a sentence stored by `said` (a run's result) said with its values;
    a built-in text (a resource's or parameter's name written by setup, a fixed message) by its catalogue entry
    when it has one, else as stored. Anything else passes unchanged."""
    if not isinstance(text, str) or not text:
        return text
    if text.startswith(SAID):
        return gettext(_PART_SEPARATOR).join(_say(part) for part in _parts(text))
    return gettext(text)


def shown_containing(stored: Iterable[str], text: str) -> list[str]:
    """The stored texts whose shown form (`translated`) contains `text`, in any case: a page's name filter finds a
    built-in row (a dictionary type, a role, setup's storage) by the name the page shows for it."""
    wanted = text.casefold()
    return [name for name in stored if wanted in str(translated(name)).casefold()]


@cache
def _js_catalogue(code: str) -> dict[str, str]:
    path = TRANSLATIONS_DIR / code / "LC_MESSAGES" / "js.mo"
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        catalogue = read_mo(fh)
    return {message.id: message.string for message in catalogue if message.id and message.string}


def js_texts() -> dict[str, str]:
    """The scripts' strings (pcloud/static/js, the `js` catalogue) in the request's language, for the page to
    hand to app.js's `gettext()`: a few dozen entries, not the pages' catalogue."""
    code = language()
    return {} if code == LANGUAGES[0] else _js_catalogue(code)


@bp.get("/language/<code>")
@public
def choose(code: str) -> Response:
    """The language menu: remember the choice for a year and go back to the page it was chosen on."""
    back = request.args.get("next", "/")
    resp = redirect(back if is_back_path(back, "/") else "/")  # a page of this site, never another's
    if code in LANGUAGES:
        resp.set_cookie(COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return resp


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LANGUAGES[0])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    babel.init_app(app, locale_selector=select_language)
    app.jinja_env.globals.update(language=language, js_texts=js_texts, LANGUAGES=LANGUAGES,
                                 LANGUAGE_NAMES=LANGUAGE_NAMES)
    app.jinja_env.filters["translated"] = translated
    app.jinja_env.filters["as_text"] = as_text
    app.register_blueprint(bp)
