"""菜单管理 rules, and the sync of built-in menus."""

from __future__ import annotations

from sqlalchemy import select

from pcloud.core import permissions
from pcloud.extensions import db
from pcloud.menus.builtin import BUILTIN_MENUS
from pcloud.menus.models import Menu
from pcloud.roles.models import role_menu


def sync_builtin_menus() -> dict[str, int]:
    """Create or update the built-in menus by code; retire built-ins no longer in the list."""
    existing = {m.code: m for m in db.session.execute(select(Menu).where(Menu.built_in.is_(True))).scalars()}
    created = updated = 0
    by_code: dict[str, Menu] = {}
    for entry in BUILTIN_MENUS:
        code = str(entry["code"])
        menu = existing.get(code)
        if menu is None:
            menu = Menu(code=code, built_in=True, router=True, hidden=False)
            db.session.add(menu)
            created += 1
        parent = by_code.get(str(entry["parent"])) if entry["parent"] else None
        if parent is not None and parent.id is None:
            db.session.flush()
        values = {"name": entry["name"], "path": entry["path"], "icon": entry["icon"],
                  "sequence": entry["sequence"], "parent_id": parent.id if parent else 0, "deleted_at": None}
        if menu.id is not None and any(getattr(menu, k) != v for k, v in values.items()):
            updated += 1
        for key, value in values.items():
            setattr(menu, key, value)
        by_code[code] = menu
        db.session.flush()
    retired = 0
    wanted = {str(e["code"]) for e in BUILTIN_MENUS}
    for code, menu in existing.items():
        if code not in wanted and menu.deleted_at is None:
            menu.soft_delete()
            db.session.execute(role_menu.delete().where(role_menu.c.menu_id == menu.id))
            retired += 1
    if created or updated or retired:
        permissions.bump_version()
    db.session.commit()
    return {"created": created, "updated": updated, "retired": retired}
