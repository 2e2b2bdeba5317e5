"""The back office's own pages as built-in menus, synced by `pcloud sync`.

Each entry: code (stable key), parent code, name, path, icon, sequence. A module adds its pages
here when it adds them; sync creates, updates and removes built-ins to match this list.
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
    {"code": "job", "parent": None, "name": "定时任务", "path": "/job", "icon": "clock-history", "sequence": 40},
    {"code": "job.report", "parent": "job", "name": "运行报表", "path": "/job/report", "icon": "graph-up",
     "sequence": 10},
    {"code": "job.info", "parent": "job", "name": "任务管理", "path": "/job/info", "icon": "list-task",
     "sequence": 20},
    {"code": "job.log", "parent": "job", "name": "调度日志", "path": "/job/log", "icon": "journal-code",
     "sequence": 30},
    {"code": "job.group", "parent": "job", "name": "执行器管理", "path": "/job/group", "icon": "hdd-network",
     "sequence": 40},
]
