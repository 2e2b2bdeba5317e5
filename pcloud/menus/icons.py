"""One menu icon name, shown by two front ends.

A menu stores one `icon`. Our pages draw Bootstrap Icons (the package's sprite); the original PCloud
front end draws its own svg sprite, whose names are the keys of CLIENT_TO_BOOTSTRAP. Either vocabulary
may be stored (the built-ins use Bootstrap names; an administrator using the original front end picks
its names); each front end gets the name it can draw.
"""

from __future__ import annotations

# The original front end's svg names (src/icons/svg) -> the closest Bootstrap Icons name.
CLIENT_TO_BOOTSTRAP: dict[str, str] = {
    "404": "exclamation-triangle", "bug": "bug", "chart": "bar-chart", "clipboard": "clipboard",
    "component": "gear", "dashboard": "speedometer2", "documentation": "journal-text", "drag": "arrows-move",
    "edit": "pencil", "email": "envelope", "example": "grid", "excel": "file-earmark-excel", "eye": "eye",
    "form": "ui-checks", "guide": "signpost", "icon": "emoji-smile", "international": "globe",
    "language": "translate", "link": "link-45deg", "list": "list", "lock": "lock", "message": "chat-dots",
    "money": "currency-yen", "nested": "diagram-2", "password": "key", "people": "person-badge",
    "peoples": "people", "qq": "chat", "shopping": "cart", "size": "arrows-angle-expand", "star": "star",
    "tab": "window-stack", "table": "table", "theme": "palette", "tree": "diagram-3", "user": "person",
    "wechat": "wechat", "zip": "file-zip",
}

# Bootstrap names the back office uses -> the original front end's closest svg name.
BOOTSTRAP_TO_CLIENT: dict[str, str] = {
    **{bootstrap: client for client, bootstrap in CLIENT_TO_BOOTSTRAP.items()},
    "gear": "component", "person": "user", "people": "peoples", "shield-lock": "lock", "diagram-3": "tree",
    "briefcase": "people", "bar-chart-steps": "chart", "key": "password", "journal-text": "documentation",
    "plug": "link", "cloud": "link", "hash": "size", "123": "size", "clock": "guide",
    "calendar-check": "guide", "list-ol": "list", "person-badge": "people", "list-check": "list",
    "clock-history": "guide", "graph-up": "chart", "list-task": "list", "journal-code": "documentation",
    "hdd-network": "component", "cloud-upload": "zip", "activity": "chart", "box-arrow-in-right": "documentation",
    "megaphone": "message",
    "book": "documentation", "sliders": "component",
}


def for_pages(name: str | None) -> str | None:
    """The Bootstrap Icons name our pages draw for a stored icon."""
    if not name:
        return None
    return CLIENT_TO_BOOTSTRAP.get(name, name)


def for_client(name: str | None) -> str | None:
    """The svg name the original front end draws for a stored icon."""
    if not name:
        return None
    if name in CLIENT_TO_BOOTSTRAP:
        return name
    return BOOTSTRAP_TO_CLIENT.get(name, name)
