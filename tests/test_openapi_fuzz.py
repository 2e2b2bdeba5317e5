"""schemathesis over /api/openapi.json, signed in as super admin: no 5xx, every response as documented.

Modules added later are covered automatically: the schema is read from the running app.
"""

from __future__ import annotations

from typing import Any

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
from tests.factories import make_user

pytestmark = pytest.mark.slow


@pytest.fixture
def api_schema(app: Any) -> Any:
    make_user(app, phone="13900000201", name="被测用户")
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app)


def fresh_admin_token(app: Any) -> str:
    """A new session per case: a fuzzed call may legitimately revoke the previous one (logout, new password)."""
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

    for operation in operations[shard::SHARDS]:
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case: Any) -> None:
            headers = {"Authorization": f"Bearer {fresh_admin_token(app)}"}
            case.call_and_validate(headers=headers, checks=checks)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 - gather every operation's failure
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
