"""The console in two languages (issue 24, docs/API.md "Languages"): how a request's language is chosen, the
English catalogues kept complete and current, and English API messages. Each module's test file renders its
own pages in English (`english_pages`, `chinese_on_page`); test_console.py walks every page."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from pcloud import create_app
from tests.conftest import ApiClient, PageClient, set_language

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = ROOT / "pcloud" / "translations" / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w*\}")
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
# the Makefile's `catalogue` target extracts the same way
EXTRACT = {"messages": ["-F", "babel.cfg", "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2"],
           "js": ["-F", "babel-js.cfg"]}


def _key(message: Any) -> Any:
    msgid = tuple(message.id) if isinstance(message.id, list) else message.id  # a plural: (singular, plural)
    return (message.context, msgid) if message.context else msgid


def _extracted(domain: str, tmp_path: Path) -> set[Any]:
    pot = tmp_path / f"{domain}.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run([str(pybabel), "-q", "extract", *EXTRACT[domain], "--no-location", "-o", str(pot), "."],
                   cwd=ROOT, check=True)
    with pot.open("rb") as fh:
        return {_key(m) for m in read_po(fh) if m.id}


def _forms(string: Any) -> tuple[str, ...]:
    return tuple(string) if isinstance(string, tuple | list) else (string,)


@pytest.mark.no_database
@pytest.mark.parametrize("domain", ["messages", "js"])
def test_the_english_catalogue_is_complete_and_current(domain: str, tmp_path: Path) -> None:
    """Every marked string has an English translation with the same placeholders and no Chinese left, nothing
    stale stays, and the compiled catalogue is the one the .po says (run `make catalogue` after a change)."""
    with (CATALOGUES / f"{domain}.po").open("rb") as fh:
        catalogue = read_po(fh)
    translations = {_key(m): m.string for m in catalogue if m.id}
    wanted = _extracted(domain, tmp_path)
    assert not sorted(wanted - set(translations)), "marked but not in the catalogue: run `make catalogue`"
    assert not sorted(set(translations) - wanted), "in the catalogue but no longer marked: run `make catalogue`"
    # a plural (ngettext) has its forms: the English singular and plural against the source's
    assert not sorted(i for i, s in translations.items() if not all(_forms(s))), "untranslated: fill their msgstr"
    assert not sorted(m.id for m in catalogue if m.id and m.fuzzy), "fuzzy: check and unmark them"

    def pairs(message: Any) -> list[tuple[str, str]]:
        if message.pluralizable:
            return list(zip(message.id, message.string, strict=True))
        return [(message.id, message.string)]

    wrong = {_key(m): m.string for m in catalogue if m.id
             if any(sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(str(english)))
                    or CJK.search(str(english)) for source, english in pairs(m))}
    assert not wrong, "a translation's placeholders differ from its source, or it keeps Chinese"
    with (CATALOGUES / f"{domain}.mo").open("rb") as fh:
        compiled = {_key(m): _forms(m.string) if m.pluralizable else m.string for m in read_mo(fh) if m.id}
    translations = {_key(m): _forms(m.string) if m.pluralizable else m.string for m in catalogue if m.id}
    assert compiled == translations, "the .mo is older than the .po: run `make catalogue`"


_ATTRIBUTE = re.compile(r'\s([\w:-]+)="((?:[^"{]|\{\{.*?\}\}|\{%.*?%\}|\{)*)"', re.S)
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_MARKED = re.compile(r"""\b_\(\s*'([^']*)'|\b_\(\s*"([^"]*)"|\bgettext\(\s*'([^']*)'""")


@pytest.mark.no_database
def test_no_english_quotation_mark_reaches_an_attribute_as_markup() -> None:
    """A template's `_()` is trusted markup, its values escaped but not its own text: an English translation with
    a quotation mark (`Delete menu "%(name)s"?`) inside an attribute ended the attribute, and the name after it (a
    phone typed at sign-in) became the tag's attributes (the XSS review). Every attribute built from such a
    translation passes it through `as_text`, which lets the autoescape escape all of it."""
    with (CATALOGUES / "messages.po").open("rb") as fh:
        quoted = {m.id for m in read_po(fh) if m.id and isinstance(m.string, str) and '"' in m.string}
    exposed, checked = [], 0
    for template in sorted((ROOT / "templates").rglob("*.html")):
        for attribute in _ATTRIBUTE.finditer(template.read_text(encoding="utf-8")):
            for expression in _EXPRESSION.finditer(attribute.group(2)):
                for marked in _MARKED.finditer(expression.group(1)):
                    checked += 1
                    msgid = next(g for g in marked.groups() if g is not None)
                    if msgid in quoted and "as_text" not in expression.group(1):
                        exposed.append(f"{template.relative_to(ROOT)}: {attribute.group(1)}={msgid}")
    assert checked > 30  # the scan finds the attributes it checks
    assert not exposed, exposed


def _lang(resp: Any) -> str:
    match = re.search(r'<html lang="([^"]+)"', resp.get_data(as_text=True))
    assert match
    return match.group(1)


def test_chinese_by_default_english_by_accept_language_and_the_cookie_wins(app: Any) -> None:
    client = app.test_client()
    assert _lang(client.get("/login")) == "zh-CN"
    assert _lang(client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})) == "en"
    assert _lang(client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})) == "zh-CN"
    assert _lang(client.get("/login", headers={"Accept-Language": "fr, de"})) == "zh-CN"
    set_language(client, "en")
    assert _lang(client.get("/login", headers={"Accept-Language": "zh-CN"})) == "en"
    set_language(client, "zh")
    assert _lang(client.get("/login", headers={"Accept-Language": "en"})) == "zh-CN"
    set_language(client, "xx")  # not a language of the console: as if there were no cookie
    assert _lang(client.get("/login")) == "zh-CN"


def test_the_deployment_default_language(app: Any) -> None:
    english = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                          "PCLOUD_DEFAULT_LANGUAGE": "en", "TESTING": True})
    client = english.test_client()
    assert _lang(client.get("/login")) == "en"
    assert _lang(client.get("/login", headers={"Accept-Language": "zh-CN"})) == "zh-CN"
    with pytest.raises(ValueError, match="PCLOUD_DEFAULT_LANGUAGE"):
        create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                    "PCLOUD_DEFAULT_LANGUAGE": "fr"})


@pytest.mark.parametrize(("target", "lands"), [
    ("/system/user/?name=a", "/system/user/?name=a"),
    ("//evil.example/x", "/"),
    ("https://evil.example/", "/"),
    ("/\\evil.example", "/"),
    ("javascript:alert(1)", "/"),
])
def test_the_language_menu_sets_the_cookie_and_goes_back_to_this_site_only(app: Any, target: str,
                                                                            lands: str) -> None:
    client = app.test_client()
    resp = client.get("/language/en", query_string={"next": target})
    assert resp.status_code == 302
    assert resp.headers["Location"] == lands
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("lang=en;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Set-Cookie" not in client.get("/language/xx").headers  # no such language: nothing remembered


def test_the_language_menu_is_on_every_page_signed_in_or_not(anon_pages: PageClient, pages: PageClient) -> None:
    for client, path in ((anon_pages, "/login"), (pages, "/")):
        html = client.get(path).get_data(as_text=True)
        assert 'data-testid="language-en"' in html and 'data-testid="language-zh"' in html


def test_api_messages_and_field_errors_follow_the_language(api: ApiClient) -> None:
    """The envelope keeps its shape; `msg` and `errors` are English on request (the schema's own messages,
    the validators' formatted ones and the domain's)."""
    headers = {"Accept-Language": "en"}
    body = api.call("POST", "/api/admin/post/create", {"code": "x" * 65}, headers=headers).get_json()
    assert body["code"] == 422 and not CJK.search(str(body)), body
    assert body["errors"]["name"] == ["This field is required."]
    assert body["errors"]["code"] == ["Length must be between 0 and 64"]
    chinese = api.call("POST", "/api/admin/post/create", {"code": "x" * 65}).get_json()
    assert chinese["errors"]["code"] == ["长度须在 0 到 64 之间"]
    anonymous = api.client.post("/api/admin/system/user/page", json={}, headers=headers).get_json()
    assert anonymous["code"] == 401 and anonymous["msg"] == "Not signed in, or the sign-in has expired"


def test_a_message_said_to_one_reader_is_stored_for_every_reader(app: Any) -> None:
    """What `gettext` says (flask_babel's, as every module calls it) remembers its source string and values, so a
    log stores a refusal said in English as its source (core.i18n.stored) and a Chinese reader reads it in Chinese;
    a domain error's default too. A lazy message, or a sentence composed otherwise (a concatenation, an
    f-string, a join), is stored as it was said, never a crash; a Said survives a copy and a pickle."""
    import copy
    import pickle

    from flask_babel import gettext, lazy_gettext

    from pcloud.core.errors import Conflict, Forbidden
    from pcloud.core.i18n import stored, translated
    from pcloud.loginlog.service import login_row

    source = "不能删除职级「%(name)s」：仍有 %(holders)s 名用户是该职级。请先为这些用户更换职级。"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        refusal = Conflict(gettext(source, name="G1", holders=2))
        assert refusal.msg.startswith("Cannot delete the grade 'G1'")
        kept = stored(refusal)
        assert translated(kept) == refusal.msg
        denied = stored(Forbidden())
        assert (Forbidden().msg, denied) == ("Permission denied", "没有权限")
        assert stored(lazy_gettext("没有权限")) == "Permission denied"  # a lazy message: as it was said
        nested = stored(gettext("%(msg)s：%(detail)s", msg=gettext("没有权限"), detail="name"))
        assert translated(nested) == "Permission denied: name"
        composed = [gettext("没有权限") + "!", f"{gettext('没有权限')}", gettext("；").join(["a", "b"]),
                    gettext("没有权限")[:4], gettext(source, name="G1", holders=2).replace("G1", "G2")]
        assert [stored(text) for text in composed] == [str(text) for text in composed]
        assert stored(Conflict(gettext("没有权限") + "!")) == "Permission denied!"
        assert login_row("login", result=1, reason=gettext("没有权限"))["reason"] == "没有权限"
        again = pickle.loads(pickle.dumps(gettext(source, name="G1", holders=2)))
        assert stored(again) == stored(copy.copy(again)) == kept
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        assert translated(kept) == "不能删除职级「G1」：仍有 2 名用户是该职级。请先为这些用户更换职级。"
        assert (translated(denied), translated(nested)) == ("没有权限", "没有权限：name")
        assert translated("Permission denied!") == "Permission denied!"  # a row stored as plain text: as stored
