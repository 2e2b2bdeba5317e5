"""Baseline for bench/segment_ids.py: the smallest Flask app, answering a constant JSON envelope.
No authentication, no database: the floor an HTTP id route is compared with under the same gunicorn."""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/baseline/id")
def constant() -> Any:
    return jsonify({"code": 200, "msg": "success", "timestamp": 0, "data": "1000000", "total": 0})
