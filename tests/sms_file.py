"""The tests' SMS senders (PCLOUD_SMS_SENDER): in memory for the test process, in a file for live servers."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path


def _path() -> Path:
    return Path(os.environ.get("PCLOUD_INSTANCE_DIR", "/tmp")) / "sms-codes.json"


class MemorySmsSender:
    """Keeps the last code and the last text per phone in this process. A text worded by a template carries the
    code: read back from it, as the person receiving it would."""

    sent: dict[str, str] = {}
    texts: dict[str, str] = {}

    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        MemorySmsSender.sent[phone] = code

    def send_text(self, phone: str, text: str) -> None:
        MemorySmsSender.texts[phone] = text
        found = re.search(r"(?<!\d)\d{6}(?!\d)", text)
        if found:
            MemorySmsSender.sent[phone] = found.group()


class FileSmsSender:
    """Writes the last code per phone to a file the test reads (live servers are other processes)."""

    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        path = _path()
        data = json.loads(path.read_text()) if path.exists() else {}
        data[phone] = code
        path.write_text(json.dumps(data))


def last_code(phone: str) -> str | None:
    path = _path()
    return json.loads(path.read_text()).get(phone) if path.exists() else None
