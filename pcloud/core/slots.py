"""A function a lower module needs from a module above it, plugged in by the application factory.

Packages depend in one direction (`pcloud/__init__.py` lists the order), yet a department must know how many
users it has, and a role who holds it. The lower module declares a `Slot` with the signature it needs and calls
it like a function; the factory plugs in the higher module's function (`register_module_links`). So the lower
module names no higher module, and a missing plug fails loudly instead of answering 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class Slot(Generic[F]):
    def __init__(self, name: str) -> None:
        self.name = name
        self.fn: F | None = None

    def plug(self, fn: F) -> None:
        self.fn = fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.fn is None:
            raise RuntimeError(f"{self.name}: nothing plugged in (the application factory plugs it)")
        return self.fn(*args, **kwargs)
