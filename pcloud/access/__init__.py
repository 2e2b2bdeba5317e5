"""Access: the permission check and its per-process cache (`permissions`).

It sits above the modules whose rows it reads (roles, menus, resources) and below the front doors:
the application factory installs its checks into the core's request guard, so `core` never imports it.
"""
