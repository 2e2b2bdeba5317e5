"""The tests' SMS senders (PCLOUD_SMS_SENDER): in memory for the test process, in files for live servers.

PCloud sends a code beside its answer (pcloud.core.background), so a test reads it as a person would: it waits
for the message, and takes it out of the inbox, so that the next wait is for the next message.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

WAIT_SECONDS = 10.0


def _inbox(instance_dir: Path | None = None) -> Path:
    return (instance_dir or Path(os.environ.get("PCLOUD_INSTANCE_DIR", "/tmp"))) / "sms-inbox"


def _await(read: object, phone: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while (code := read()) is None:  # type: ignore[operator]
        assert time.monotonic() < deadline, f"no SMS reached {phone}"
        time.sleep(0.01)
    return code


class MemorySmsSender:
    """Keeps the codes and the last text per phone in this process. A text worded by a template carries the
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


def received_code(phone: str) -> str:
    """The code this process sent to `phone`, once it has arrived; taken out of the inbox."""
    code = _await(lambda: MemorySmsSender.sent.get(phone), phone)
    del MemorySmsSender.sent[phone]
    return code


class FileSmsSender:
    """Writes each code to a file of the phone's (live servers are other processes); written whole, then
    renamed into place, so a reader never sees half of it."""

    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        inbox = _inbox()
        inbox.mkdir(exist_ok=True)
        partial = inbox / f".{phone}.{os.getpid()}"
        partial.write_text(code)
        partial.replace(inbox / phone)


class SlowFileSmsSender(FileSmsSender):
    """A gateway that takes SLOW_SECONDS to answer, as a real one may."""

    SLOW_SECONDS = 3.0

    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        time.sleep(self.SLOW_SECONDS)
        super().send_code(phone, code, ttl_seconds)


def last_code(phone: str, instance_dir: Path | None = None) -> str:
    """The code a live server (of `instance_dir`, else this process's) sent to `phone`, once it has arrived;
    taken out of the inbox."""
    path = _inbox(instance_dir) / phone

    def read() -> str | None:
        try:
            return path.read_text()
        except FileNotFoundError:
            return None

    code = _await(read, phone)
    path.unlink(missing_ok=True)
    return code
