"""What every blueprint shares about routes: the id converter, the HTTP methods a grant names, how a
Flask rule's arguments are written, and which addresses are a way back to a page of this site."""

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


# Where PCloud serves its uploads (uploads.api), and the names the upload store gives them (uploads.service: 16 random
# bytes in URL-safe base64, then the type's extension). Written here because core.markdown keeps a notice's image
# only at such an address; matched whole (`fullmatch`), so nothing may come before or after a name.
UPLOAD_URL = "/api/oss/files/"
UPLOAD_NAME = re.compile(r"[A-Za-z0-9_-]{22}\.(?:png|jpg|gif|webp)")
UPLOAD_PATH = re.compile(re.escape(UPLOAD_URL) + UPLOAD_NAME.pattern)


# Entity ids are INTEGER columns (32-bit on PostgreSQL); a larger id can name no row.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:id>` bounded to the id column's range: a larger number matches no route (404), never an overflow."""

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = None, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, 0 if min is None else min, MAX_ID if max is None else max, signed)


def id_param_schema(_converter: Any) -> dict[str, Any]:
    return {"type": "integer", "format": "int32", "minimum": 0, "maximum": MAX_ID}


# `back` is the list page the button was on (`request.full_path`): a path of this site and its query, by
# allow-list: `/`, segments of URL characters (never `.`/`..`, `//` or a backslash), then an optional
# query of URL characters (percent-encoded as browsers send it). No scheme, no host, no space, CR, LF or
# other control character: it goes into the Location header after the action has run.
_BACK_SEGMENT = r"[A-Za-z0-9_~%-][A-Za-z0-9._~%-]*"
_BACK = re.compile(rf"^(/(?:{_BACK_SEGMENT}(?:/{_BACK_SEGMENT})*/?)?)(?:\?[A-Za-z0-9._~%!$&'()*+,;=:@/?-]*)?$")
BACK_MAX = 2000


def is_back_path(target: str, back_prefix: str) -> bool:
    """Is `target` a URL of this site under `back_prefix` (`/job/info`: that page or below it)?"""
    match = _BACK.fullmatch(target) if len(target) <= BACK_MAX else None
    if match is None or any(seg in (".", "..") for seg in match.group(1).split("/")):
        return False
    path = match.group(1)
    prefix = back_prefix.rstrip("/")
    return not prefix or path == prefix or path.startswith(prefix + "/")
