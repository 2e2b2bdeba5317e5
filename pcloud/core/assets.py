"""Static files addressed by a fingerprint of their content, so that a browser keeps them.

`url_for('static', filename=...)` (and Bootstrap-Flask's `bootstrap.static`) gains `?v=<fingerprint>`, and the
answer to a URL whose fingerprint is the file's own may be kept for a year: the next page takes its stylesheets,
scripts and icons from the browser's cache. Without it every page asked again for each of its seven files, and
the page's first paint waited for the stylesheet's answer. A new release changes the fingerprint, hence the URL.
The fingerprint is of the content, not of the file's time, so hosts serving one release give the same URLs.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from typing import Any

from flask import Flask, request
from werkzeug.security import safe_join

FINGERPRINTED_ENDPOINTS = frozenset({"static", "bootstrap.static"})
VERSION_ARG = "v"
KEPT_FOR = "public, max-age=31536000, immutable"


@lru_cache(maxsize=512)
def _fingerprint(folder: str, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256; None for no such file (the URL is left as asked)."""
    path = safe_join(folder, filename)
    if path is None or not os.path.isfile(path):
        return None
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()[:12]


def _folder(app: Flask, endpoint: str) -> str | None:
    if endpoint == "static":
        return app.static_folder
    blueprint = app.blueprints.get(endpoint.rsplit(".", 1)[0])
    return blueprint.static_folder if blueprint is not None else None


def fingerprint(app: Flask, endpoint: str, filename: str) -> str | None:
    folder = _folder(app, endpoint)
    return _fingerprint(folder, filename) if folder else None


def init_app(app: Flask) -> None:
    @app.url_defaults
    def _add_fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint in FINGERPRINTED_ENDPOINTS and "filename" in values and VERSION_ARG not in values:
            found = fingerprint(app, endpoint, values["filename"])
            if found:
                values[VERSION_ARG] = found

    @app.after_request
    def _keep_fingerprinted(response: Any) -> Any:
        # only when the fingerprint is the file's own: an older page's URL gets today's file, revalidated
        asked = request.args.get(VERSION_ARG)
        if (asked and request.endpoint in FINGERPRINTED_ENDPOINTS and response.status_code in (200, 304)
                and request.view_args and asked == fingerprint(app, request.endpoint,
                                                               request.view_args.get("filename", ""))):
            response.headers["Cache-Control"] = KEPT_FOR
        return response
