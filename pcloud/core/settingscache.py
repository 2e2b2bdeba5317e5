"""What every process keeps of small tables read on every page (dictionaries, parameters), and when to
read them again: one version row the database moves itself (triggers, whoever writes), watched through the
database's change signal (`core.database.change_signal`: NOTIFY on PostgreSQL, the data version of an
SQLite file). While the signal holds, nothing is read; when it moved, the version is read (one small
query) and the whole set reloaded only if the version moved too. Nothing is kept per host that another
host would not see: every host hears the same NOTIFY and reads the same version row."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from flask import Flask, current_app
from sqlalchemy import text

from pcloud.core.database import ChangeSignal, change_signal
from pcloud.extensions import db

T = TypeVar("T")
CHANNEL = "pcloud_settings"
_SIGNAL = "pcloud.settings_signal"
_VERSION = text("SELECT version FROM sys_setting_version WHERE id = 1")
_UNKNOWN = object()


def install_settings_signal(app: Flask) -> None:
    """This app's one listener for the settings' channel (one connection per process), made with the app so
    that it counts this process's own commits from the first (its engine events are in place before any
    connection is made)."""
    with app.app_context():
        app.extensions[_SIGNAL] = [change_signal(db.engine, CHANNEL)]


def _signal() -> ChangeSignal | None:
    holder = current_app.extensions.get(_SIGNAL)
    if holder is None:  # an app made without the factory's steps: every read checks the version
        return None
    return holder[0]


def current_version() -> int:
    from pcloud.core.database import read_outside_transaction

    rows = read_outside_transaction(_VERSION, {})
    return int(rows[0][0]) if rows else 0


class VersionedCache(Generic[T]):
    """One value loaded by `load` and kept per app while the settings' signal and version hold."""

    def __init__(self, name: str, load: Callable[[], T]) -> None:
        self._key = f"pcloud.settings_cache.{name}"
        self._load = load

    def get(self) -> T:
        state: dict[str, Any] = current_app.extensions.setdefault(
            self._key, {"mark": _UNKNOWN, "version": None, "value": _UNKNOWN, "lock": threading.Lock()})
        signal = _signal()
        mark = signal.current() if signal is not None else None  # before any read: a later change moves it
        if mark is not None and mark == state["mark"] and state["value"] is not _UNKNOWN:
            return state["value"]
        version = current_version()
        with state["lock"]:
            if state["value"] is not _UNKNOWN and version == state["version"]:
                state["mark"] = mark
                return state["value"]
        value = self._load()
        with state["lock"]:
            state.update(mark=mark, version=version, value=value)
        return value

    def forget(self) -> None:
        """Drop what this process keeps (tests, and a service right after its own write)."""
        current_app.extensions.pop(self._key, None)
