"""The back office's own pages as built-in menus, synced by `pcloud sync`.

Each entry: code (stable key), parent code, name, name_en (its English label), path, icon (a Bootstrap Icons
name, see icons.py), sequence, and optionally `component`. A module adds its pages here when it adds them; sync creates,
updates and removes built-ins to match this list.

`component` is what the original PCloud front end renders for a menu (API.md, "Clients of the original
PCloud"): "Layout" for a top menu, else its view path under src/views, such as "system/user/index".
Sync fills a built-in's empty component from the entry, else from CLIENT_VIEWS, else "Layout" for a top
menu.
"""

from __future__ import annotations

BUILTIN_MENUS: list[dict[str, object]] = [
    {"code": "system", "parent": None, "name": "系统管理", "name_en": "System", "path": "/system", "icon": "gear",
     "sequence": 10},
    {"code": "system.user", "parent": "system", "name": "用户管理", "name_en": "Users", "path": "/system/user",
     "icon": "person", "sequence": 10},
    {"code": "system.role", "parent": "system", "name": "角色管理", "name_en": "Roles", "path": "/system/role",
     "icon": "shield-lock", "sequence": 20},
    {"code": "system.dept", "parent": "system", "name": "部门管理", "name_en": "Departments", "path": "/system/dept",
     "icon": "diagram-3", "sequence": 30},
    {"code": "system.post", "parent": "system", "name": "岗位管理", "name_en": "Posts", "path": "/system/post",
     "icon": "briefcase", "sequence": 40},
    {"code": "system.grade", "parent": "system", "name": "职级管理", "name_en": "Grades", "path": "/system/grade",
     "icon": "bar-chart-steps", "sequence": 50},
    {"code": "system.menu", "parent": "system", "name": "菜单管理", "name_en": "Menus", "path": "/system/menu",
     "icon": "list", "sequence": 60},
    {"code": "system.resource", "parent": "system", "name": "访问资源", "name_en": "Access resources",
     "path": "/system/resource", "icon": "key", "sequence": 70},
    {"code": "system.log", "parent": "system", "name": "操作日志", "name_en": "Operation log", "path": "/system/log",
     "icon": "journal-text", "sequence": 80},
    {"code": "system.notice", "parent": "system", "name": "通知公告", "name_en": "Notices", "path": "/system/notice",
     "icon": "megaphone", "sequence": 97},
    {"code": "system.dict", "parent": "system", "name": "字典管理", "name_en": "Dictionaries", "path": "/system/dict",
     "icon": "book", "sequence": 90},
    {"code": "system.config", "parent": "system", "name": "参数设置", "name_en": "Parameters", "path": "/system/config",
     "icon": "sliders", "sequence": 95},
    {"code": "monitor", "parent": None, "name": "系统监控", "name_en": "Monitoring", "path": "/monitor",
     "icon": "activity", "sequence": 15},
    {"code": "monitor.online", "parent": "monitor", "name": "在线用户", "name_en": "Online users",
     "path": "/monitor/online", "icon": "people", "sequence": 10},
    {"code": "monitor.loginlog", "parent": "monitor", "name": "登录日志", "name_en": "Login log",
     "path": "/monitor/loginlog", "icon": "box-arrow-in-right", "sequence": 20},
    {"code": "open", "parent": None, "name": "开放平台", "name_en": "Open platform", "path": "/open", "icon": "plug",
     "sequence": 20},
    {"code": "open.account", "parent": "open", "name": "开放账号", "name_en": "Open accounts", "path": "/open/account",
     "icon": "person-badge", "sequence": 10},
    {"code": "open.resource", "parent": "open", "name": "接口目录", "name_en": "API catalogue",
     "path": "/open/resource", "icon": "list-check", "sequence": 20},
    {"code": "integration", "parent": None, "name": "号段管理", "name_en": "Segments", "path": "/integration",
     "icon": "123", "sequence": 30},
    {"code": "integration.segment", "parent": "integration", "name": "号段列表", "name_en": "Segment list",
     "path": "/integration/segment", "icon": "hash", "sequence": 10},
    {"code": "job", "parent": None, "name": "定时任务", "name_en": "Scheduled jobs", "path": "/job",
     "icon": "clock-history", "sequence": 40},
    {"code": "job.report", "parent": "job", "name": "运行报表", "name_en": "Run report", "path": "/job/report",
     "icon": "graph-up", "sequence": 10},
    {"code": "job.info", "parent": "job", "name": "任务管理", "name_en": "Jobs", "path": "/job/info",
     "icon": "list-task", "sequence": 20},
    {"code": "job.log", "parent": "job", "name": "调度日志", "name_en": "Run log", "path": "/job/log",
     "icon": "journal-code", "sequence": 30},
    {"code": "job.group", "parent": "job", "name": "执行器管理", "name_en": "Executors", "path": "/job/group",
     "icon": "hdd-network", "sequence": 40},
    {"code": "personalized", "parent": None, "name": "个性化服务", "name_en": "Personal services",
     "path": "/personalized", "icon": "star", "sequence": 50},
    {"code": "personalized.mail", "parent": "personalized", "name": "站内信", "name_en": "Mail",
     "path": "/personalized/mail", "icon": "envelope", "sequence": 10},
    {"code": "personalized.sms", "parent": "personalized", "name": "短信模板", "name_en": "SMS templates",
     "path": "/personalized/sms", "icon": "chat-dots", "sequence": 20},
    {"code": "personalized.upload", "parent": "personalized", "name": "云上传", "name_en": "Cloud upload",
     "path": "/personalized/upload", "icon": "cloud-upload", "sequence": 30},
]

# The original front end's view for each built-in page (its src/views folder).
CLIENT_VIEWS: dict[str, str] = {
    "system.user": "system/user/index", "system.role": "system/role/index", "system.dept": "system/dept/index",
    "system.post": "system/post/index", "system.grade": "system/grade/index", "system.menu": "system/menu/index",
    "system.resource": "system/resource/index", "system.log": "system/log/index",
    "open.account": "open/application/index", "open.resource": "open/interface/index",
    "integration.segment": "segment/center/index",
    "job.report": "job/statistics/index", "job.info": "job/task/index", "job.log": "job/log/index",
    "job.group": "job/execution/index", "personalized.mail": "personalized/mail/index",
    "personalized.sms": "personalized/sms/index", "personalized.upload": "personalized/upload/index",
}
