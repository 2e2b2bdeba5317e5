"""The ceiling every list bench is compared with: a minimal Flask app that answers any POST or GET with
one constant JSON body (the bytes in CEILING_BODY_FILE: a real response of the measured route, so the
size is the same), served by the same gunicorn settings. No database, no authentication: what the
machine, gunicorn and Flask cost by themselves."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response

with open(os.environ["CEILING_BODY_FILE"], "rb") as fh:
    BODY = fh.read()

app = Flask(__name__)


@app.route("/", defaults={"path": ""}, methods=["GET", "POST"])
@app.route("/<path:path>", methods=["GET", "POST"])
def constant(path: str) -> Any:
    return Response(BODY, mimetype="application/json")
