"""The back office's own pages as built-in menus, synced by `pcloud sync`.

Each entry: code (stable key), parent code, name, path, icon (a Bootstrap Icons name, see icons.py),
sequence, and optionally `component`. A module adds its pages here when it adds them; sync creates,
updates and removes built-ins to match this list.

`component` is what the original PCloud front end renders for a menu (API.md, "Clients of the original
PCloud"): "Layout" for a top menu, else its view path under src/views, such as "system/user/index".
Sync fills a built-in's empty component from the entry, else from CLIENT_VIEWS, else "Layout" for a top
menu.
"""

from __future__ import annotations

BUILTIN_MENUS: list[dict[str, object]] = [
    {"code": "system", "parent": None, "name": "系统管理", "path": "/system", "icon": "gear", "sequence": 10},
    {"code": "system.user", "parent": "system", "name": "用户管理", "path": "/system/user", "icon": "person",
     "sequence": 10},
    {"code": "system.role", "parent": "system", "name": "角色管理", "path": "/system/role", "icon": "shield-lock",
     "sequence": 20},
    {"code": "system.dept", "parent": "system", "name": "部门管理", "path": "/system/dept", "icon": "diagram-3",
     "sequence": 30},
    {"code": "system.post", "parent": "system", "name": "岗位管理", "path": "/system/post", "icon": "briefcase",
     "sequence": 40},
    {"code": "system.grade", "parent": "system", "name": "职级管理", "path": "/system/grade", "icon": "bar-chart-steps",
     "sequence": 50},
    {"code": "system.menu", "parent": "system", "name": "菜单管理", "path": "/system/menu", "icon": "list",
     "sequence": 60},
    {"code": "system.resource", "parent": "system", "name": "访问资源", "path": "/system/resource", "icon": "key",
     "sequence": 70},
    {"code": "system.log", "parent": "system", "name": "操作日志", "path": "/system/log", "icon": "journal-text",
     "sequence": 80},
]

# The original front end's view for each built-in page (its src/views folder).
CLIENT_VIEWS: dict[str, str] = {
    "system.user": "system/user/index", "system.role": "system/role/index", "system.dept": "system/dept/index",
    "system.post": "system/post/index", "system.grade": "system/grade/index", "system.menu": "system/menu/index",
    "system.resource": "system/resource/index", "system.log": "system/log/index",
}
