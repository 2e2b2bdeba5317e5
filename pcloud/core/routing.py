"""What every blueprint shares about routes: the id converter, the HTTP methods a grant names, and how a
Flask rule's arguments are written."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.routing import IntegerConverter, Map

# The methods an access resource or an open-platform grant names; "*" stands for all four.
HTTP_METHODS = ("GET", "POST", "PUT", "DELETE")
GRANT_METHODS = (*HTTP_METHODS, "*")

# An argument of a Flask rule, `<int:id>` or `<name>`; group 1 is its name.
ROUTE_ARG = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")


def render_rule(rule: str) -> str:
    """A Flask rule as the API documents it: `/api/admin/role/<int:id>/delete` -> `/api/admin/role/{id}/delete`."""
    return ROUTE_ARG.sub(r"{\1}", rule)


# Entity ids are INTEGER columns (32-bit on PostgreSQL); a larger id can name no row.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:id>` bounded to the id column's range: a larger number matches no route (404), never an overflow."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, 0 if min is None else min, MAX_ID if max is None else max, signed)


def id_param_schema(_converter: Any) -> dict[str, Any]:
    return {"type": "integer", "format": "int32", "minimum": 0, "maximum": MAX_ID}
