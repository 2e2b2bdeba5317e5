"""Pluggable SMS senders; PCLOUD_SMS_SENDER names one as `module:Class`."""

from __future__ import annotations

import importlib
import logging
from typing import Protocol

from flask import current_app

log = logging.getLogger("pcloud.sms")


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None: ...


class LogSmsSender:
    """Default: writes the code to the server log (development and single-VM setups)."""

    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        log.warning("SMS code for %s: %s (valid %d s)", phone, code, ttl_seconds)


class MemorySmsSender:
    """Keeps the last code per phone in memory; used by tests and demos."""

    sent: dict[str, str] = {}

    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        MemorySmsSender.sent[phone] = code


def get_sender() -> SmsSender:
    spec = current_app.config["PCLOUD_SMS_SENDER"]
    if not isinstance(spec, str):
        return spec
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()
