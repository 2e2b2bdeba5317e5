"""An SMS sender for live-server tests: writes the last code per phone to a file the test reads."""

from __future__ import annotations

import json
import os
from pathlib import Path


def _path() -> Path:
    return Path(os.environ.get("PCLOUD_INSTANCE_DIR", "/tmp")) / "sms-codes.json"


class FileSmsSender:
    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        path = _path()
        data = json.loads(path.read_text()) if path.exists() else {}
        data[phone] = code
        path.write_text(json.dumps(data))


def last_code(phone: str) -> str | None:
    path = _path()
    return json.loads(path.read_text()).get(phone) if path.exists() else None
