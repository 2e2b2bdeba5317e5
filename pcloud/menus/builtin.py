"""The back office's own pages as built-in menus, synced by `pcloud sync`.

Each entry: code (stable key), parent code, name, path, icon, sequence. A module adds its pages
here when it adds them; sync creates, updates and removes built-ins to match this list.
"""

from __future__ import annotations

BUILTIN_MENUS: list[dict[str, object]] = [
    {"code": "system", "parent": None, "name": "系统管理", "path": "/system", "icon": "gear", "sequence": 10},
    {"code": "system.user", "parent": "system", "name": "用户管理", "path": "/system/user", "icon": "person",
     "sequence": 10},
]
