"""Access: who may do what.

- `models`: the grant tables (a role's menus and resources) and the permission version stamp.
- `permissions`: the permission check and its per-process cache, and the reach rule (nobody hands out more
  than they hold).
- `service`: grants (replace a role's grants, the parent-menu rule) and what a principal sees (the menu tree of
  the sidebar and adminInfo).

It sits above the modules whose rows it reads (resources, menus) and below roles, which resolve a role and
call in here. Menus and resources, below it, reach it through the core's port (`core.security.access_rules()`);
the application factory installs it there and into the core's request guard, so `core` never imports it.
"""
