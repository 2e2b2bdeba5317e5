"""The console's two languages (docs/API.md, "Languages"): Simplified Chinese, the default, and English.

Source strings are the Chinese the console always spoke: code marks them (`gettext` / `_`, `lazy_gettext`
for module-level constants, `N_` for data written by setup), templates wrap them in `_()`, and the English
catalogue (pcloud/translations/en) translates them. A Chinese request reads no catalogue at all.

The language of a request: the `lang` cookie (set by the language menu, `/language/<code>`), else the
best of `Accept-Language`, else PCLOUD_DEFAULT_LANGUAGE. Outside a request (worker, CLI) it is the
default, so what those write (run log lines, setup's names) is in the deployment's language.

`make catalogue` extracts the strings and updates the catalogue; tests/test_i18n.py fails on a missing
or stale translation and on Chinese left on any page rendered in English.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import read_mo
from flask import Blueprint, Flask, current_app, has_request_context, redirect, request
from flask_babel import Babel, get_locale, gettext, lazy_gettext
from markupsafe import Markup
from werkzeug.wrappers import Response

from pcloud.core.messages import N_
from pcloud.core.routing import is_back_path
from pcloud.core.security import public

LANGUAGES = ("zh", "en")  # the first is the source language of every string
LANGUAGE_NAMES = {"zh": "简体中文", "en": "English"}  # each in its own language, as language menus do
COOKIE = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"

__all__ = ["LANGUAGES", "N_", "gettext", "lazy_gettext", "language", "translated", "init_app", "bp"]

babel = Babel()
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


def translated(text: Any) -> Any:
    """A stored built-in text (a resource's or parameter's name written by setup) in the request's
    language: its catalogue entry when it has one, else as stored. Anything else passes unchanged."""
    if not isinstance(text, str) or not text:
        return text
    return gettext(text)


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
