"""Pluggable SMS senders; PCLOUD_SMS_SENDER names one as `module:Class`.

A sender that can send a whole text (`send_text(phone, text)`) gets the sign-in code worded by the SMS
template whose code is SIGN_IN_TEMPLATE (短信模板, editable on its page), when there is one; otherwise,
or for a sender that only has `send_code`, the sender words the message itself.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from typing import Protocol

from flask import current_app

from pcloud.smstemplates import service as smstemplates

log = logging.getLogger("pcloud.sms")


SIGN_IN_TEMPLATE = "LOGIN"


class SmsSender(Protocol):
    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None: ...


class LogSmsSender:
    """Default: writes the code to the server log (development and single-VM setups)."""

    def send_code(self, phone: str, code: str, ttl_seconds: int) -> None:
        log.warning("SMS code for %s: %s (valid %d s)", phone, code, ttl_seconds)

    def send_text(self, phone: str, text: str) -> None:
        log.warning("SMS for %s: %s", phone, text)


def get_sender() -> SmsSender:
    spec = current_app.config["PCLOUD_SMS_SENDER"]
    if not isinstance(spec, str):
        return spec
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)()


def sign_in_code_delivery(phone: str, code: str, ttl_seconds: int) -> Callable[[], None]:
    """The send of a sign-in code, worded now (by the LOGIN template when there is one and the sender takes
    texts), to be run by the caller when it chooses."""
    sender = get_sender()
    text = smstemplates.render(SIGN_IN_TEMPLATE, code, ttl_seconds) if hasattr(sender, "send_text") else None
    if text is None:
        return lambda: sender.send_code(phone, code, ttl_seconds)
    return lambda: sender.send_text(phone, text)  # type: ignore[attr-defined]
