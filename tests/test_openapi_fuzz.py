"""schemathesis over /api/openapi.json, signed in as super admin: no 5xx, every response as documented.
Then the hostile values its generated cases never produced (years 0001/9999, 20-digit numbers, CR/LF, NUL,
lone surrogates, unicode digits, long text), sent to every JSON field and to every page's filter inputs.

Modules added later are covered automatically: the schema, the routes and the filter bars are read from the
running app.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from pcloud.extensions import db
from tests.conftest import ADMIN_PHONE
from tests.factories import make_executor, make_job, make_user

pytestmark = pytest.mark.slow


@pytest.fixture
def api_schema(app: Any) -> Any:
    make_user(app, phone="13900000201", name="被测用户")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def fresh_admin_token(app: Any) -> str:
    """A new session, for the first case and after a fuzzed call revoked the last one (logout, new password)."""
    from sqlalchemy import select

    from pcloud.sessions.service import open_session
    from pcloud.users.models import User

    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.phone == ADMIN_PHONE,
                                                           User.deleted_at.is_(None))).scalar()
        # Self-delete is refused, so the administrator outlives any fuzzed call; if not, that is the bug.
        assert user_id is not None, "a fuzzed call deleted the signed-in administrator"
        token, _ = open_session("api", user_id=user_id)
        db.session.commit()
        db.session.remove()
    return token


# The operations are shared out over a few tests, so that parallel test workers (pytest -n) share the work.
SHARDS = 6


@pytest.mark.parametrize("shard", range(SHARDS))
def test_api_conforms_to_its_schema(app: Any, api_schema: Any, shard: int) -> None:
    """Every operation (this shard's share of them), 25 generated cases each; all failures are collected and
    reported together."""
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance, status_code_conformance]
    failures: list[str] = []
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 8

    token = [fresh_admin_token(app)]
    for operation in operations[shard::SHARDS]:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token[0]}"})
            if response.status_code == 401:  # an earlier case ended the session (sign-out, new password...)
                token[0] = fresh_admin_token(app)
                response = case.call(headers={"Authorization": f"Bearer {token[0]}"})
            case.validate_response(response, checks=checks)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - gather every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)


# ---------------------------------------------------------------------------------------------
# Hostile values: what the generated cases above never produced (issue 19, finding 9: years 0001/9999,
# 20-digit numbers, CR/LF...) or produced once by chance (a superscript "³", which str.isdigit() takes and int()
# refuses), sent to every page filter and every API field explicitly.

HOSTILE_TEXT = ("0001-01-01T00:00:00", "9999-12-31T23:59:59", "0001-01-01 00:00:00", "9999-12-31 23:59:59",
                "0001-01-01", "9999-12-31", "9999-12-31T23:59:59-12:00", "9" * 20, "-" + "9" * 20, "2147483648",
                "9223372036854775808", "-1", "NaN", "Infinity", "1e309", "١٢٣", "³", "1_0", " 12 ", "+5",
                "a\r\nSet-Cookie: x=1", "x" * 5000, "\ud800", "a\x00b", "%", "' OR 1=1 --", "[]")
HOSTILE_ALONE = ("0001-01-01T00:00:00", "9999-12-31 23:59:59", "9" * 20, "a\x00b", "١٢٣", "x" * 5000)
HOSTILE_NUMBERS = (2**31, 2**63, 10**20, -(10**20), 1e309)
# a JSON field's texts: the ones that reach a parser, a conversion or the database
HOSTILE_FIELD_TEXT = ("0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00", "0001-01-01", "9999-12-31", "9" * 20,
                      "a\r\nb", "x" * 5000, "\ud800", "a\x00b", "١٢٣", "³")


class _FilterInputs(HTMLParser):
    """The names of the inputs and selects of a page's GET forms (its filter bar)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self._in_get_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self._in_get_form = (values.get("method") or "get").lower() == "get"
        elif tag in ("input", "select") and self._in_get_form and values.get("name"):
            self.names.add(values["name"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_get_form = False


def _page_routes(app: Any) -> list[str]:
    """Every GET page without path arguments (the list pages, the report, the dashboard...)."""
    rules = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.arguments or rule.rule.startswith(("/api", "/static")):
            continue
        if rule.endpoint in ("auth.logout",):
            continue
        rules.append(rule.rule)
    return sorted(rules)


def _query(param: str, value: str) -> str:
    # a lone surrogate cannot be UTF-8: send the bytes a client would (ED A0 80), as werkzeug receives them
    raw = value.encode("utf-8", "surrogatepass")
    return f"{quote(param)}={quote(raw)}"


def test_page_filters_never_answer_5xx(app: Any, pages: Any) -> None:
    """Each GET page, with its filter-bar inputs (read from the page itself) and the paging and sorting
    arguments set to hostile values, all at once and one at a time: never a 5xx."""
    group = make_executor(app, "fuzz-app")
    make_job(app, group)
    failures: list[str] = []
    routes = _page_routes(app)
    assert len(routes) >= 15, routes
    for route in routes:
        first = pages.get(route)
        if first.status_code >= 500:
            failures.append(f"{route}: {first.status_code}")
        if first.mimetype != "text/html":  # a file (the user import's template): no filter bar to fuzz
            continue
        parser = _FilterInputs()
        parser.feed(first.get_data(as_text=True))
        params = sorted(parser.names | {"page", "size", "sort", "dir"})
        # every value in all the inputs at once; then each input alone with the values most likely to
        # crash it, so a filter refused early cannot hide a later one
        urls = [f"{route}?" + "&".join(_query(p, value) for p in params) for value in HOSTILE_TEXT]
        urls += [f"{route}?{_query(p, value)}" for p in params for value in HOSTILE_ALONE]
        for url in urls:
            resp = pages.get(url)
            if resp.status_code >= 500:
                failures.append(f"{url[:200]!r}: {resp.status_code}")
    assert not failures, "\n".join(failures)


def _operations(app: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, {property: schema}) of every documented operation taking a JSON body."""
    with app.test_request_context():
        spec = app.test_client().get("/api/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        if "{" in path or path.endswith("/logout"):
            continue
        for method, op in item.items():
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            if not body:
                continue
            if "$ref" in body:
                body = spec["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
            found.append((method.upper(), path, body.get("properties") or {}))
    return found


def test_api_fields_refuse_hostile_values_without_5xx(app: Any, api: Any) -> None:
    """Every JSON field of every operation, one at a time, set to each hostile value its type admits
    (numbers beyond the columns for numbers, odd texts for texts, both for untyped fields): a 4xx, never a
    5xx. On a sign-out or a changed password the next call signs in again."""
    operations = _operations(app)
    assert len(operations) >= 30
    failures: list[str] = []
    for method, path, properties in operations:
        for name, prop in properties.items():
            kind = prop.get("type")
            values: tuple[Any, ...] = (HOSTILE_NUMBERS if kind in ("integer", "number") else
                                       HOSTILE_FIELD_TEXT if kind == "string" else HOSTILE_NUMBERS + HOSTILE_FIELD_TEXT)
            if kind is None:
                values += ([HOSTILE_TEXT[0], None], [None, HOSTILE_TEXT[1]], [HOSTILE_NUMBERS[4]])
            for value in values:
                # json.dumps writes 1e309 as Infinity and "\ud800" escaped: what a hostile client sends
                resp = api.client.open(path, method=method, data=json.dumps({name: value}),
                                       content_type="application/json",
                                       headers={"Authorization": f"Bearer {api.token}"})
                if resp.status_code == 401:
                    api.token = api.sign_in()
                elif resp.status_code >= 500:
                    failures.append(f"{method} {path} {name}={str(value)[:40]!r}: {resp.status_code}")
    assert not failures, "\n".join(failures)
